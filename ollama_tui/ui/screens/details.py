"""Where one reply's time went: the waterfall of `core.waterfall`, drawn as text bars.

Opened for the last reply by a key of the chat, or for any reply by Enter or a click
on its figures line. Names from the server (the model) are shown as text, never markup.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.dom import DOMNode
from textual.geometry import Size
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Static

from ollama_tui.core.sanitize import clean
from ollama_tui.core.waterfall import LABEL_WIDTH, VALUE_WIDTH, Waterfall
from ollama_tui.ui.widgets.chat_message import AssistantMessage


class WaterfallView(Widget):
    """The bars, drawn for the width the widget has."""

    def __init__(self, waterfall: Waterfall) -> None:
        super().__init__(id="waterfall")
        self.waterfall = waterfall

    def render(self) -> Content:
        lines = []
        for row in self.waterfall.rows(self.size.width):
            if row.heading:
                lines.append(Content.styled(row.label, "bold"))
                continue
            lines.append(
                Content.assemble(
                    (f"  {row.label}".ljust(LABEL_WIDTH), "$text-muted"),
                    row.value.rjust(VALUE_WIDTH),
                    "  ",
                    (row.bar, "$accent"),
                )
            )
        return Content("\n").join(lines)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.waterfall.rows(width))


class DetailsScreen(ModalScreen[None]):
    CSS_PATH = "details.tcss"
    BINDINGS = [Binding("escape,f8,q", "dismiss(None)", "Close")]

    def __init__(self, waterfall: Waterfall, transport: str, model: str) -> None:
        super().__init__()
        self.waterfall = waterfall
        self.transport = transport
        self.model = model

    def compose(self) -> ComposeResult:
        w = self.waterfall
        about = " · ".join(clean(p) for p in (self.transport, self.model, w.outcome) if p)
        with VerticalScroll(classes="dialog details") as dialog:
            dialog.border_title = "Where the time went"
            dialog.border_subtitle = "Esc closes · F1 explains each line"
            yield Static(Content(about), id="details-about")
            yield WaterfallView(w)
            yield Static(Content(w.rates()), id="details-rates")
            notes = w.notes()
            if notes:
                yield Static(Content("\n".join(notes)), id="details-notes")


def open_details(screen: Screen[None], reply: DOMNode | None) -> None:
    """Show where `reply`'s time went, or say there is no finished reply to show."""
    if not isinstance(reply, AssistantMessage) or reply.waterfall is None:
        screen.notify("No finished reply yet.", severity="warning")
        return
    screen.app.push_screen(DetailsScreen(reply.waterfall, reply.transport, reply.model))
