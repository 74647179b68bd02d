"""Which built-in reply answers a prompt: keywords in it choose a :class:`Route`.

The first route of :data:`ROUTES` with one of its words in the prompt wins, so "Write a
markdown table" gets the table; a prompt with none of them gets :data:`DEFAULT`, which
lists the words. Words match whole and in any case ("list" is not in "listen"); CJK
words match anywhere, since CJK text has no spaces between words. Same prompt, same reply.

The first reply of a conversation starts with :data:`NOTICE`, which says what answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import replies as text
from .replies import CJK

# Around a keyword: no letter or digit, though CJK may touch it ("用python写").
_BEFORE = rf"(?<![^\W{CJK}])"
_AFTER = rf"(?![^\W{CJK}])"
_CJK_CHAR = re.compile(f"[{CJK}]")

NOTICE = (
    "*This is the built-in demo server of ollama-tui, not a real model: run `ollama-tui` "
    "without `--demo` to talk to Ollama at `OLLAMA_HOST`.*"
)


@dataclass(frozen=True)
class Route:
    """A built-in reply, its reasoning, and the words in a prompt that choose it."""

    name: str
    label: str  # what the reply shows, as the menu of words says it
    words: tuple[str, ...]  # listed in the menu
    reply: str
    thinking: str
    also: tuple[str, ...] = ()  # more forms of the words (plurals...), not listed
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        alternatives = [_word_pattern(w) for w in (*self.words, *self.also)] or ["(?!)"]
        object.__setattr__(self, "pattern", re.compile("|".join(alternatives), re.IGNORECASE))

    def matches(self, prompt: str) -> bool:
        return self.pattern.search(prompt) is not None


def _word_pattern(word: str) -> str:
    escaped = re.escape(word).replace(r"\ ", r"\s+")
    if _CJK_CHAR.search(word):
        return escaped  # a substring: CJK words are not set apart by spaces
    return f"{_BEFORE}{escaped}{_AFTER}"


def _menu(routes: tuple[Route, ...]) -> str:
    return "\n".join(f"- {r.label}: " + ", ".join(f"`{w}`" for w in r.words) for r in routes)


# In priority order: the first that matches answers.
_SHOWN: tuple[Route, ...] = (
    Route(
        "faults",
        "how to make the server fail",
        ("error", "fault"),
        text.FAULTS,
        text.FAULTS_THINKING,
        also=("errors", "faults"),
    ),
    Route(
        "table",
        "a table",
        ("table", "compare"),
        text.TABLE,
        text.TABLE_THINKING,
        also=("tables", "comparison"),
    ),
    Route("rust", "Rust code", ("rust",), text.RUST_CODE, text.RUST_THINKING),
    Route(
        "code",
        "Python code",
        ("code", "python", "function"),
        text.PYTHON_CODE,
        text.PYTHON_THINKING,
        also=("functions", "program"),
    ),
    Route(
        "list",
        "a numbered list of steps",
        ("list", "steps", "install"),
        text.SETUP_STEPS,
        text.STEPS_THINKING,
        also=("lists", "setup", "bash", "shell"),
    ),
    Route(
        "cjk",
        "Chinese text and emoji",
        ("chinese", "中文", "emoji", "unicode"),
        text.CJK_AND_EMOJI,
        text.CJK_THINKING,
        also=("emojis", "cjk", "汉字", "漢字", "你好"),
    ),
    Route(
        "markdown",
        "headings, emphasis, a quote and links",
        ("markdown", "format"),
        text.MARKDOWN,
        text.MARKDOWN_THINKING,
        also=("formatting", "formatted"),
    ),
    Route(
        "think",
        "reasoning, step by step",
        ("think", "reason", "why"),
        text.REASONING,
        text.REASONING_THINKING,
        also=("thinking", "reasoning"),
    ),
    Route(
        "long",
        "a long answer",
        ("long", "essay", "story", "streaming"),
        text.LONG_ANSWER,
        text.LONG_THINKING,
        also=("longer", "stream"),
    ),
)
_INTRO_WORDS = ("hello", "hi", "help", "what are you")
_INTRO_LABEL = "this introduction"
MENU = _menu(_SHOWN) + f"\n- {_INTRO_LABEL}: " + ", ".join(f"`{w}`" for w in _INTRO_WORDS)

INTRO = Route(
    "intro",
    _INTRO_LABEL,
    _INTRO_WORDS,
    "Hello! 👋 I'm a canned model of ollama-tui's built-in demo server. I don't read your "
    "message: I pick a ready-made reply by the words in it and stream it token by token, "
    "in Ollama's own wire format. Try a message with one of these words (the first in "
    "this list wins):\n\n" + MENU,
    text.INTRO_THINKING,
    also=("hey", "who are you"),
)
ROUTES: tuple[Route, ...] = (*_SHOWN, INTRO)
DEFAULT = Route(
    "default",
    "anything else",
    (),
    "I'm only the demo, so I have no real answer to that. I can show how ollama-tui renders "
    "a model's reply, though: put one of these words in your message (the first in this "
    "list wins).\n\n" + MENU,
    text.DEFAULT_THINKING,
)


def route_for(prompt: str) -> Route:
    """The route that answers this prompt: the first that matches, or DEFAULT."""
    return next((r for r in ROUTES if r.matches(prompt)), DEFAULT)


def choose_reply(prompt: str) -> str:
    """The built-in reply for a prompt: the same prompt always gets the same reply."""
    return route_for(prompt).reply


def choose_thinking(prompt: str) -> str:
    """The built-in reasoning text sent before the reply when thinking is on."""
    return route_for(prompt).thinking


def with_notice(reply: str) -> str:
    """A conversation's first reply: the notice, a blank line, then the reply."""
    return f"{NOTICE}\n\n{reply}"
