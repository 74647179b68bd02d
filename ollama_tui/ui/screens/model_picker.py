"""Choose a model from the server's `/api/tags`."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from ollama_tui.core.format import human_bytes
from ollama_tui.core.models import ModelInfo
from ollama_tui.core.sanitize import clean

__all__ = ["ModelInfo", "ModelPicker", "option_label"]  # ModelInfo: the app imports it from here


def option_label(model: ModelInfo) -> Content:
    """The picker's line for a model: name, then parameters, quantization and size."""
    size = human_bytes(model.size) if model.size else ""
    extra = "  ".join(x for x in (model.parameter_size, model.quantization, size) if x)
    return Content.assemble(f"{clean(model.name):<28} ", (clean(extra), "$text-muted"))


class ModelPicker(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, models: list[ModelInfo], current: str | None) -> None:
        super().__init__()
        self.models = models
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Choose a model", classes="title")
            options = [Option(option_label(m), id=m.name) for m in self.models]
            yield OptionList(*options, id="models")
            yield Label("Enter chooses · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        names = [m.name for m in self.models]
        options.highlighted = names.index(self.current) if self.current in names else 0
        options.focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
