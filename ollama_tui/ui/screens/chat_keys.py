"""The chat screen's keys (each with an id, for `[keys]` in the settings file) and the
words for its think flag."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from ollama_tui.core.protocol import Think


def think_label(think: Think | None) -> str:
    if isinstance(think, str):
        return think  # a level: low, medium, high
    return {None: "model default", True: "on", False: "off"}[think]


CHAT_BINDINGS: list[BindingType] = [
    Binding(
        "escape",
        "stop",
        "Stop",
        id="stop",
        tooltip="Stop the reply being streamed (or give up an edit)",
    ),
    Binding(
        "ctrl+t",
        "cycle_transport",
        "Transport",
        id="transport",
        tooltip="Switch to the next HTTP transport",
    ),
    Binding("ctrl+l", "app.pick_model", "Model", id="model", tooltip="Choose the model"),
    Binding(
        "ctrl+r",
        "regenerate",
        "Regenerate",
        id="regenerate",
        tooltip="Ask for the last reply again",
    ),
    Binding(
        "ctrl+g",
        "regenerate_next",
        "Regen. on next",
        id="regenerate_next",
        show=False,
        tooltip="Ask again on the next transport",
    ),
    Binding("ctrl+n", "new_chat", "New chat", id="new_chat", show=False, tooltip="Start over"),
    Binding(
        "f5",
        "settings",
        "Settings",
        id="settings",
        show=False,
        tooltip="System prompt and options of this conversation",
    ),
    Binding(
        "f4",
        "edit_last",
        "Edit last",
        id="edit_last",
        show=False,
        tooltip="Edit your last message and send it again",
    ),
    Binding(
        "f10",
        "attach_image",
        "Image",
        id="attach_image",
        show=False,
        tooltip="Attach an image (or paste or drop its file)",
    ),
    Binding("ctrl+o", "copy_reply", "Copy", id="copy", show=False, tooltip="Copy the last reply"),
    Binding(
        "ctrl+b",
        "copy_code",
        "Copy code",
        id="copy_code",
        show=False,
        tooltip="Copy the last code block of the last reply",
    ),
    Binding(
        "ctrl+f",
        "toggle_think",
        "Think",
        id="think",
        show=False,
        tooltip="Ask thinking models to think (or not)",
    ),
    Binding(
        "ctrl+s",
        "toggle_thinking_block",
        "Show thinking",
        id="thinking_block",
        show=False,
        tooltip="Show or hide the last reply's thinking",
    ),
    Binding(
        # ^w would be the prompt box's delete-word; F6/F7 are its too, F10-F12 terminals'.
        "f8",
        "details",
        "Timing",
        id="details",
        show=False,
        tooltip="Where the last reply's time went (Enter or a click on any reply's figures)",
    ),
    Binding(
        "ctrl+down",
        "follow",
        "Jump to latest",
        id="follow",
        show=False,
        tooltip="Scroll to the newest text and follow it",
    ),
]
