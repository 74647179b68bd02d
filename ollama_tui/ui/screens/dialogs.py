"""Small modal screens: help and yes/no confirmation."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Label, Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss(None)", "Close")]

    def __init__(
        self, rows: list[tuple[str, str]], figures: list[tuple[str, str]] | None = None
    ) -> None:
        super().__init__()
        self.rows = rows
        self.figures = figures or []

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Label("Keys (^t is Ctrl+T)", classes="title")
            yield _table(("Key", "What it does"), self.rows)
            if self.figures:
                yield Label("Figures", classes="title")
                yield _table(("Figure", "What it measures"), self.figures)
            yield Label("Esc closes", classes="hint")


def _table(header: tuple[str, str], rows: list[tuple[str, str]]) -> DataTable[str]:
    table: DataTable[str] = DataTable(cursor_type="none", zebra_stripes=True)
    table.add_columns(*header)
    for left, right in rows:
        table.add_row(left, right)
    return table


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "dismiss(True)", "Yes"),
        Binding("n,escape", "dismiss(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content(self.question), classes="question")
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="primary")
                yield Button("No (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
