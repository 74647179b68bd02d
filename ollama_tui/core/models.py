"""What the server says about its models: `/api/tags`, `/api/ps` and `/api/show`, read once.

Lenient on purpose: Ollama adds and changes fields from release to release, so a
field that is missing or of another type gives its default, never an exception, and
an entry without a name is skipped. Pure: the JSON in, dataclasses out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _count(value: object) -> int:
    """A size or count: a whole number of at least zero, else 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if isinstance(value, float) and not math.isfinite(value):
        return 0
    return max(0, int(value))


def _table(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _entries(data: object) -> list[dict[str, Any]]:
    """The objects of `data["models"]`, whatever else `data` holds."""
    models = _table(data).get("models")
    return [m for m in models if isinstance(m, dict)] if isinstance(models, list) else []


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One model of `/api/tags`; `/api/ps` gives the same plus `size_vram`, `expires_at`."""

    name: str
    parameter_size: str = ""
    """As the server writes it: "1.2B", "8.0B"."""
    quantization: str = ""
    """The details' `quantization_level`: "Q4_K_M"."""
    size: int = 0
    """Bytes on disk (in memory, for a running model); 0 if not given."""
    family: str = ""
    digest: str = ""
    modified_at: str = ""
    """RFC 3339, as sent: `format.human_time` words it."""
    size_vram: int = 0
    expires_at: str = ""

    @property
    def short_id(self) -> str:
        """The digest's first 12 hex digits, as `ollama list` shows the ID."""
        return self.digest.removeprefix("sha256:")[:12]

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> ModelInfo | None:
        """One entry of the `models` list; None if it names no model."""
        # Older servers and some proxies fill only one of the two.
        name = _text(entry.get("name")) or _text(entry.get("model"))
        if not name:
            return None
        details = _table(entry.get("details"))
        return cls(
            name=name,
            parameter_size=_text(details.get("parameter_size")),
            quantization=_text(details.get("quantization_level")),
            size=_count(entry.get("size")),
            family=_text(details.get("family")),
            digest=_text(entry.get("digest")),
            modified_at=_text(entry.get("modified_at")),
            size_vram=_count(entry.get("size_vram")),
            expires_at=_text(entry.get("expires_at")),
        )

    @classmethod
    def from_tags(cls, data: object) -> list[ModelInfo]:
        """The models of an `/api/tags` (or `/api/ps`) reply, in the server's order."""
        found = (cls.from_entry(entry) for entry in _entries(data))
        return [model for model in found if model is not None]


def is_model_list(data: object) -> bool:
    """Whether `data` has the shape of an `/api/tags` reply at all (an object whose
    `models`, if any, is a list), as opposed to some other service's answer."""
    return isinstance(data, dict) and isinstance(data.get("models") or [], list)


@dataclass(frozen=True, slots=True)
class ModelDetails:
    """The parts of `/api/show` a person choosing a model wants."""

    context_length: int = 0
    """0: not given."""
    capabilities: tuple[str, ...] = field(default_factory=tuple)
    parameters: str = ""
    template: str = ""
    license: str = ""

    @classmethod
    def from_show(cls, data: object) -> ModelDetails:
        show = _table(data)
        info = _table(show.get("model_info"))
        # The key carries the architecture's name: "llama.context_length".
        context = next((v for k, v in info.items() if k.endswith(".context_length")), None)
        capabilities = show.get("capabilities")
        return cls(
            context_length=_count(context),
            capabilities=tuple(str(c) for c in capabilities)
            if isinstance(capabilities, list)
            else (),
            parameters=_text(show.get("parameters")),
            template=_text(show.get("template")),
            license=_text(show.get("license")),
        )
