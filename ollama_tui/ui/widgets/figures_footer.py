"""A reply's figures line, which opens where the reply's time went (Enter or a click)."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static


class FiguresFooter(Static, can_focus=True):
    """The line of figures under a reply. Asking for details posts `DetailsRequested`;
    the screen shows them for the reply this line belongs to (its parent)."""

    BINDINGS = [Binding("enter", "details", "Where the time went", show=False)]

    class DetailsRequested(Message):
        def __init__(self, footer: FiguresFooter) -> None:
            super().__init__()
            self.footer = footer

    def action_details(self) -> None:
        self.post_message(self.DetailsRequested(self))

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.action_details()
