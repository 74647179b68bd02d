"""Chips above the prompt box: the images that go with the next message, each
removable before it is sent (a click on ✕, or Delete when the chip has the focus)."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalGroup
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from ollama_tui.core.images import Attachment
from ollama_tui.core.sanitize import clean
from ollama_tui.session.attachments import Attachments


class Chip(Static, can_focus=True):
    """One attached image: "🖼 name · PNG 800×600 · 120 KB ✕"."""

    BINDINGS = [
        Binding("delete,backspace", "remove", "Remove", tooltip="Remove this image"),
    ]

    class Removed(Message):
        def __init__(self, digest: str) -> None:
            super().__init__()
            self.digest = digest

    def __init__(self, attachment: Attachment) -> None:
        super().__init__(Content(f"🖼 {clean(attachment.label())} ✕"), classes="chip")
        self.digest = attachment.digest
        self.tooltip = "Delete or a click removes it"

    def action_remove(self) -> None:
        self.post_message(self.Removed(self.digest))

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.action_remove()


class AttachmentChips(HorizontalGroup):
    """The attachments waiting for the next message; hidden when there are none."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.attachments = Attachments()

    def compose(self) -> ComposeResult:
        for attachment in self.attachments.items:
            yield Chip(attachment)

    async def add(self, attachments: list[Attachment]) -> list[Attachment]:
        """The ones not attached already (same bytes), now shown."""
        added = [a for a in attachments if self.attachments.add(a)]
        if added:
            await self._show()
        return added

    async def replace(self, attachments: list[Attachment]) -> None:
        """These instead of the ones waiting (an edit takes its question's back)."""
        self.attachments.take()
        self.attachments.extend(attachments)
        await self._show()

    async def take(self) -> tuple[Attachment, ...]:
        """All of them, for the message being sent."""
        taken = self.attachments.take()
        await self._show()
        return taken

    async def on_chip_removed(self, event: Chip.Removed) -> None:
        self.attachments.remove(event.digest)
        await self._show()

    async def _show(self) -> None:
        await self.recompose()
        self.set_class(bool(self.attachments), "some")
