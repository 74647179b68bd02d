"""Per-conversation request settings: system prompt, model options, keep_alive, think.

Pure: parsed from what a person typed, sent with each request, kept with the
conversation as a plain dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from ollama_tui.core.protocol import Think

# name → (type, low, high): Ollama's documented ranges, loosely.
OPTIONS: dict[str, tuple[type, float, float]] = {
    "temperature": (float, 0.0, 2.0),
    "top_p": (float, 0.0, 1.0),
    "top_k": (int, 1, 1000),
    "num_ctx": (int, 256, 1_048_576),
    "seed": (int, -(2**31), 2**31 - 1),
    "num_predict": (int, -2, 1_048_576),
}


@dataclass(frozen=True, slots=True)
class ChatSettings:
    system: str = ""
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    num_ctx: int | None = None
    seed: int | None = None
    num_predict: int | None = None
    keep_alive: str | None = None
    """Ollama's duration ("5m", "1h", "-1" for ever, "0" to unload at once)."""
    think: Think | None = None

    def keep_alive_value(self) -> str | float | None:
        """As Ollama reads it: a bare number is seconds, anything else a Go duration."""
        if self.keep_alive is None:
            return None
        try:
            return float(self.keep_alive)
        except ValueError:
            return self.keep_alive

    def options(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in OPTIONS if getattr(self, name) is not None}

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ChatSettings:
        """Lenient: what does not fit (an older or hand-edited row) is left out."""
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        found: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                continue
            if key in OPTIONS:
                kind, low, high = OPTIONS[key]
                if isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                if not low <= value <= high or (kind is int and value != int(value)):
                    continue
                found[key] = kind(value)
            elif isinstance(value, bool if key == "think" else str):
                found[key] = value  # think: on/off here (the app has no level setting)
        return cls(**found)


@dataclass(frozen=True, slots=True)
class ChatDefaults:
    """What a new conversation starts with, for any model and for some."""

    common: Mapping[str, Any] = field(default_factory=dict)
    models: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def for_model(self, model: str | None) -> ChatSettings:
        """The settings of a new conversation with `model` (its own over the common)."""
        name = model or ""
        # "qwen3" and "qwen3:latest" name one model, as Ollama reads them.
        for candidate in (name, name.removesuffix(":latest"), f"{name}:latest"):
            if candidate in self.models:
                return ChatSettings.from_dict({**self.common, **self.models[candidate]})
        return ChatSettings.from_dict(self.common)


def parse(
    typed: Mapping[str, str], base: ChatSettings | None = None
) -> tuple[ChatSettings, dict[str, str]]:
    """Settings from text fields (blank = the model's default), and an error per bad field."""
    settings = base or ChatSettings()
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, text in typed.items():
        text = text.strip()
        if name in OPTIONS:
            kind, low, high = OPTIONS[name]
            if not text:
                values[name] = None
                continue
            try:
                number = kind(text)
            except ValueError:
                errors[name] = f"{name}: a{'n integer' if kind is int else ' number'}, please"
                continue
            if not low <= number <= high:
                errors[name] = f"{name}: between {kind(low)} and {kind(high)}"
                continue
            values[name] = number
        elif name == "keep_alive":
            values[name] = text or None
        elif name == "system":
            values[name] = typed[name]  # kept as typed: spacing may matter to the model
    return replace(settings, **values), errors
