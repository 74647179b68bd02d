"""Choose a model from the server's `/api/tags`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from ollama_tui.core.sanitize import clean


@dataclass(frozen=True, slots=True)
class ModelInfo:
    name: str
    parameter_size: str = ""
    quantization: str = ""
    size: int = 0

    @classmethod
    def from_tags(cls, tags: Any) -> list[ModelInfo]:
        """Read leniently: Ollama adds fields often, and a missing one is no reason to fail."""
        models = tags.get("models") if isinstance(tags, dict) else None
        found = []
        for entry in models if isinstance(models, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            details = entry.get("details") if isinstance(entry.get("details"), dict) else {}
            size = entry.get("size")
            found.append(
                cls(
                    name=entry["name"],
                    parameter_size=str(details.get("parameter_size") or ""),
                    quantization=str(details.get("quantization_level") or ""),
                    size=size if isinstance(size, int) else 0,
                )
            )
        return found

    def label(self) -> Content:
        gib = f"{self.size / 2**30:.1f} GiB" if self.size else ""
        extra = "  ".join(x for x in (self.parameter_size, self.quantization, gib) if x)
        return Content.assemble(f"{clean(self.name):<28} ", (clean(extra), "$text-muted"))


class ModelPicker(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, models: list[ModelInfo], current: str | None) -> None:
        super().__init__()
        self.models = models
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Choose a model", classes="title")
            yield OptionList(*[Option(m.label(), id=m.name) for m in self.models], id="models")
            yield Label("Enter chooses · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        names = [m.name for m in self.models]
        options.highlighted = names.index(self.current) if self.current in names else 0
        options.focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
