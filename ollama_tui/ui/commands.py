"""The command palette's entries beyond Textual's own: every action, by name."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from ollama_tui.transports import TRANSPORT_NAMES

if TYPE_CHECKING:
    from ollama_tui.ui.app import OllamaApp


def commands(app: OllamaApp) -> Iterable[SystemCommand]:
    chat = app.chat
    for name in TRANSPORT_NAMES:
        yield SystemCommand(
            f"Transport: {name}",
            f"Stream with {name}",
            lambda name=name: app.set_transport(name),
        )
        yield SystemCommand(
            f"Regenerate with {name}",
            f"Ask for the last reply again over {name}",
            lambda name=name: app.regenerate_with(name),
        )
    yield SystemCommand("Choose model", "Pick from the server's models", app.action_pick_model)
    yield SystemCommand("Stop", "Stop the reply being streamed", chat.action_stop)
    yield SystemCommand("Regenerate", "Ask for the last reply again", chat.action_regenerate)
    yield SystemCommand("New chat", "Clear the conversation", chat.action_new_chat)
    yield SystemCommand(
        "Conversation settings", "System prompt, options, think", chat.action_settings
    )
    yield SystemCommand(
        "Edit last message", "Change your last message and send it again", chat.action_edit_last
    )
    yield SystemCommand("Copy last reply", "To the clipboard", chat.action_copy_reply)
    yield SystemCommand("Copy last code block", "To the clipboard", chat.action_copy_code)
    yield SystemCommand("Toggle thinking", "think on/off", chat.action_toggle_think)
    yield SystemCommand(
        "Show thinking",
        "Open or fold the last reply's thinking",
        chat.action_toggle_thinking_block,
    )
    yield SystemCommand("Jump to latest", "Follow the newest text", chat.action_follow)
    yield SystemCommand(
        "Compare transports", "One prompt, transports side by side", app.action_compare
    )
    yield SystemCommand("Models", "Details, pull, delete", app.action_models)
    yield SystemCommand("Conversations", "Search, open, rename or delete", app.action_conversations)
    yield SystemCommand(
        "Save choices", "Theme, transport, model to the settings file", app.action_save_choices
    )
    yield SystemCommand("Help", "Every key", app.action_help)
