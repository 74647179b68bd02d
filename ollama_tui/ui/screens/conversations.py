"""Kept conversations: newest first, full-text search, open, rename, delete.

It only renders and asks: the store is the app's `AsyncHistory`, whose calls run on
its own thread, so a large history never blocks the screen.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from ollama_tui.core.format import ago
from ollama_tui.core.sanitize import clean
from ollama_tui.files import write_private
from ollama_tui.ui.screens.dialogs import ConfirmScreen
from ollama_tui.ui.widgets.keys import TypingInput

if TYPE_CHECKING:
    from ollama_tui.history.aio import AsyncHistory
    from ollama_tui.history.store import ConversationSummary


class RenameScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Rename the conversation", classes="title")
            # The old title to edit, cursor at its end: the first key does not wipe it.
            yield TypingInput(self.title_text, id="new-title", select_on_focus=False)
            yield Label("Enter renames · Esc cancels", classes="hint")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)


class ConversationsScreen(ModalScreen[int | None]):
    """Returns the id of the conversation to open, or None."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        # F-keys: the search box takes the usual Ctrl combinations for editing.
        Binding(
            "f2",
            "rename",
            "Rename",
            id="history_rename",
            tooltip="Rename the highlighted conversation",
        ),
        Binding(
            "f8",
            "delete",
            "Delete",
            id="history_delete",
            tooltip="Delete the highlighted conversation",
        ),
        Binding(
            "f6",
            "export",
            "Export",
            id="history_export",
            tooltip="Save it as Markdown and JSON files",
        ),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]

    def __init__(
        self,
        history: AsyncHistory,
        clock: Callable[[], float] = time.time,
        save_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.history = history
        self.clock = clock
        self.save_dir = save_dir or Path.cwd()
        """Where exports are written."""
        self.shown: list[ConversationSummary] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog conversations"):
            yield Label("Conversations", classes="title")
            yield TypingInput(placeholder="Search every message…", id="search")
            yield OptionList(id="conversation-list")
            yield Label(
                "Type to search · ↑↓ Enter open · F2 rename · F6 export · F8 delete · Esc close",
                classes="hint",
            )

    def on_mount(self) -> None:
        self.refresh_list("")

    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        self.refresh_list(event.value)

    @work(exclusive=True, group="conversations", exit_on_error=False)
    async def refresh_list(self, query: str) -> None:
        query = query.strip()
        found = await (self.history.search(query) if query else self.history.list_conversations())
        self.show(found, query)

    def show(self, found: list[ConversationSummary], query: str) -> None:
        # The highlight stays on the same conversation, wherever the new list puts it
        # (a rename moves it to the top).
        was = self.highlighted()
        self.shown = found
        options = self.query_one("#conversation-list", OptionList)
        options.clear_options()
        now = self.clock()
        for item in found:
            # At least 0: with the clock set back, a write would seem to be in the future.
            when = ago(max(0.0, now - item.updated_at))
            line = Content.assemble(
                (f"#{item.id} ", "$text-muted"),
                (clean(item.title) or "(untitled)", "bold"),
                ("  " + clean(item.model or ""), "$text-muted"),
                (f"  {item.message_count} messages · {when}", "$text-muted"),
            )
            if query and item.snippet:
                line = Content("\n").join([line, Content.styled(clean(item.snippet), "italic")])
            options.add_option(Option(line, id=str(item.id)))
        if not found:
            text = "Nothing matches." if query else "No conversations yet."
            options.add_option(Option(Content(text), disabled=True))
        else:
            ids = [item.id for item in found]
            options.highlighted = ids.index(was.id) if was is not None and was.id in ids else 0

    def highlighted(self) -> ConversationSummary | None:
        options = self.query_one("#conversation-list", OptionList)
        index = options.highlighted
        if index is None or index >= len(self.shown):
            return None
        return self.shown[index]

    def action_move(self, step: int) -> None:
        """↑/↓ from the search box move through the list."""
        options = self.query_one("#conversation-list", OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    @on(Input.Submitted, "#search")
    def open_highlighted(self) -> None:
        item = self.highlighted()
        if item is not None:
            self.dismiss(item.id)

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.dismiss(int(event.option.id))

    def action_rename(self) -> None:
        item = self.highlighted()
        if item is None:
            return

        async def rename() -> None:
            title = await self.app.push_screen_wait(RenameScreen(item.title))
            if title:
                await self.history.rename(item.id, title)
                self.refresh_list(self.query_one("#search", Input).value)

        self.run_worker(rename(), exit_on_error=False)

    def action_export(self) -> None:
        item = self.highlighted()
        if item is None:
            return

        async def export() -> None:
            from ollama_tui.history.export import to_json, to_markdown

            conversation = await self.history.load(item.id)
            base = self.save_dir / f"ollama-tui-conversation-{item.id}"
            try:
                write_private(base.with_suffix(".md"), to_markdown(conversation))
                text = json.dumps(to_json(conversation), indent=2, ensure_ascii=False)
                write_private(base.with_suffix(".json"), text)
            except OSError as error:
                self.notify(f"Not exported: {error}", severity="error", markup=False)
                return
            self.notify(f"Exported to {base}.md and .json", markup=False)

        self.run_worker(export(), exit_on_error=False)

    def action_delete(self) -> None:
        item = self.highlighted()
        if item is None:
            return

        async def delete() -> None:
            question = f"Delete “{clean(item.title)}” and its {item.message_count} messages?"
            if await self.app.push_screen_wait(ConfirmScreen(question)):
                await self.history.delete(item.id)
                self.notify(f"Deleted “{clean(item.title)}”.", markup=False)
                app: Any = self.app
                if app.recorder.is_current(item.id):
                    app.chat.action_new_chat()  # its rows are gone: start afresh
                self.refresh_list(self.query_one("#search", Input).value)

        self.run_worker(delete(), exit_on_error=False)
