"""This conversation's request settings: system prompt, options, keep_alive, think."""

from __future__ import annotations

from dataclasses import replace

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from ollama_tui.core.chat_settings import OPTIONS, ChatSettings, parse
from ollama_tui.ui.widgets.keys import TypingInput

THINK_CHOICES: list[tuple[str, str]] = [("model default", "default"), ("on", "on"), ("off", "off")]
THINK_VALUE = {None: "default", True: "on", False: "off"}
THINK_FROM = {"default": None, "on": True, "off": False}


class SettingsScreen(ModalScreen[ChatSettings | None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(
        self, settings: ChatSettings, model: str, unsent: frozenset[str] = frozenset()
    ) -> None:
        """`unsent`: settings the server's API cannot carry (shown as not sent)."""
        super().__init__()
        self.settings = settings
        self.model = model
        self.unsent = unsent

    def hint(self, name: str, usual: str) -> str:
        return "not sent over /v1" if name in self.unsent else usual

    def compose(self) -> ComposeResult:
        # Scrolls when the terminal is short: Save and Cancel stay reachable (Tab, or ^s, esc).
        with VerticalScroll(classes="dialog settings"):
            yield Label(Content(f"Settings of this conversation · {self.model}"), classes="title")
            yield Label("System prompt", classes="field")
            yield TextArea(self.settings.system, id="system", soft_wrap=True)
            with Grid(id="options"):
                for name in OPTIONS:
                    value = getattr(self.settings, name)
                    yield Label(name, classes="field")
                    yield TypingInput(
                        "" if value is None else str(value),
                        placeholder=self.hint(name, "model default"),
                        id=name,
                    )
                yield Label("keep_alive", classes="field")
                yield TypingInput(
                    self.settings.keep_alive or "",
                    placeholder=self.hint("keep_alive", "e.g. 5m, 1h, -1"),
                    id="keep_alive",
                )
                yield Label("think", classes="field")
                think = self.settings.think
                yield Select(
                    THINK_CHOICES,
                    value=THINK_VALUE.get(think if isinstance(think, bool) else None, "default"),
                    allow_blank=False,
                    id="think",
                )
            yield Static(id="errors", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save (^s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_resize(self) -> None:
        # Narrow: the options two a row instead of four, each still wide enough to read.
        self.query_one("#options", Grid).set_class(self.size.width < 84, "narrow")

    def typed(self) -> dict[str, str]:
        values = {name: self.query_one(f"#{name}", Input).value for name in OPTIONS}
        values["keep_alive"] = self.query_one("#keep_alive", Input).value
        values["system"] = self.query_one("#system", TextArea).text
        return values

    def action_save(self) -> None:
        settings, errors = parse(self.typed(), self.settings)
        if errors:
            self.query_one("#errors", Static).update(Content("\n".join(errors.values())))
            return
        think = self.query_one("#think", Select).value
        self.dismiss(replace(settings, think=THINK_FROM.get(str(think))))

    @on(Button.Pressed, "#save")
    def save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.dismiss(None)
