"""What F1 shows: every key, written as the footer writes keys, and what each figure means."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding

from ollama_tui.ui.screens.chat_keys import CHAT_BINDINGS

if TYPE_CHECKING:
    from ollama_tui.ui.app import OllamaApp

FIGURES_HELP = [
    ("TTFC", "Time to first chunk: request sent → the reply's first line arrived"),
    ("TTFT", "Time to first token: sent → the first line with text (or thinking)"),
    ("total", "Sent → the reply's last line (Ollama's done line)"),
    ("tok", "Tokens received: Ollama sends one a line"),
    ("tok/s", "Tokens after the first, over the time they took, by this app's clock"),
    (
        "server",
        "The server's own tok/s (eval_count / eval_duration): if equal, the model sets the pace",
    ),
    ("load", "The server loading the model (load_duration); F8's model load"),
    ("chunks", "Lines received, the done line included (in the saved JSON)"),
    # Where the time went (F8, or Enter / a click on a reply's figures line); "load" above.
    ("prompt", "F8's prompt: the server reading the prompt (prompt_eval_duration)"),
    ("network", "F8's network, queue, client: TTFC minus the server's load and prompt"),
    ("eval", "F8's server eval: the server generating (eval_duration)"),
    ("receive", "F8's client receive: this app's clock, first chunk → done line"),
    ("added", "F8's client added: client receive minus server eval"),
    ("!", "F8: a server figure above this app's: the clocks disagree (shown 0)"),
]
"""What each figure of the status bar and the reply footers means (F1)."""


def key_rows(app: OllamaApp) -> list[tuple[str, str]]:
    """Every key, written as the footer writes keys (^t is Ctrl+T)."""
    rows = [
        ("enter", "Send the message"),
        ("^j", "New line in the message"),
        ("↑ ↓", "Earlier messages, when the box is empty"),
    ]
    for binding in [*CHAT_BINDINGS, *app.BINDINGS]:
        assert isinstance(binding, Binding)
        rows.append((app.get_key_display(binding), binding.tooltip or binding.description))
    rows.append(("^p", "Command palette: every action, themes"))
    return rows
