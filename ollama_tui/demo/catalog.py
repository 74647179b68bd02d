"""The demo server's models: what is installed, what can be pulled, and what is loaded.

Everything here is fake but shaped like Ollama's answers (``/api/tags``, ``/api/ps``,
``/api/show``, pull progress), so the client sees the same fields as with a real server.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

_LLAMA_TEMPLATE = (
    "<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>"
    "<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>"
)
_CHATML_TEMPLATE = (
    "{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
    "<|im_start|>user\n{{ .Prompt }}<|im_end|>\n<|im_start|>assistant\n{{ .Response }}"
)
_GEMMA_TEMPLATE = (
    "<start_of_turn>user\n{{ .Prompt }}<end_of_turn>\n<start_of_turn>model\n{{ .Response }}"
)
_TEMPLATES = {"llama": _LLAMA_TEMPLATE, "qwen3": _CHATML_TEMPLATE, "gemma3": _GEMMA_TEMPLATE}
_STOPS = {"llama": "<|eot_id|>", "qwen3": "<|im_end|>", "gemma3": "<end_of_turn>"}


@dataclass(frozen=True)
class CatalogModel:
    """One model as the demo server knows it; ``name`` is normalized (``name:tag``)."""

    name: str
    family: str
    parameter_size: str
    parameter_count: int
    size: int
    capabilities: tuple[str, ...]
    context_length: int
    quantization_level: str = "Q4_K_M"

    @property
    def digest(self) -> str:
        # Stable per name, so the same model always shows the same digest.
        return hashlib.sha256(f"demo-model:{self.name}".encode()).hexdigest()

    def details(self) -> dict[str, object]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": self.family,
            "families": [self.family],
            "parameter_size": self.parameter_size,
            "quantization_level": self.quantization_level,
        }

    def layers(self) -> list[tuple[str, int]]:
        """(sha256 hex, size) of the blobs a pull downloads: weights, template, params."""
        small = [("template", 1_482), ("license", 7_712), ("params", 96)]
        blobs = [
            (hashlib.sha256(f"{self.name}:{kind}".encode()).hexdigest(), n) for kind, n in small
        ]
        weights = self.size - sum(n for _, n in blobs)
        return [(hashlib.sha256(f"{self.name}:weights".encode()).hexdigest(), weights), *blobs]


_DAY = 86_400.0
# Fixed times so listings are reproducible; newest first, as Ollama lists them.
_BASE_TIME = 1_758_000_000.0  # 2025-09-16

DEFAULT_MODELS: tuple[CatalogModel, ...] = (
    CatalogModel(
        "demo:latest", "llama", "1.2B", 1_235_814_432, 807_694_350, ("completion",), 131_072
    ),
    CatalogModel(
        "demo-think:latest",
        "qwen3",
        "2.0B",
        2_031_739_904,
        1_359_293_440,
        ("completion", "tools", "thinking"),
        40_960,
    ),
    CatalogModel(
        "demo-large:8b",
        "llama",
        "8.0B",
        8_030_261_248,
        4_920_753_328,
        ("completion", "tools"),
        131_072,
    ),
    CatalogModel(
        "demo-vision:latest",
        "gemma3",
        "4.3B",
        4_300_079_472,
        3_338_801_804,
        ("completion", "vision"),
        131_072,
    ),
)

PULLABLE_MODELS: tuple[CatalogModel, ...] = (
    CatalogModel(
        "qwen3:1.7b",
        "qwen3",
        "2.0B",
        2_031_739_904,
        1_359_293_440,
        ("completion", "tools", "thinking"),
        40_960,
    ),
    CatalogModel(
        "llama3.2:3b",
        "llama",
        "3.2B",
        3_212_749_888,
        2_019_393_189,
        ("completion", "tools"),
        131_072,
    ),
    CatalogModel(
        "gemma3:1b", "gemma3", "999.89M", 999_885_952, 815_319_791, ("completion",), 32_768
    ),
)

_REGISTRY_PREFIXES = ("registry.ollama.ai/library/", "registry.ollama.ai/", "library/")


def normalize_name(name: str) -> str:
    """Ollama's matching: case-insensitive, default registry/namespace, ``:latest`` if untagged."""
    name = name.strip().lower()
    for prefix in _REGISTRY_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name


def rfc3339(timestamp: float) -> str:
    """UTC time as Go's RFC3339Nano writes it: up to 9 fraction digits, trailing zeros cut."""
    whole = int(timestamp)
    nanos = round((timestamp - whole) * 1e9)
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    fraction = f"{nanos:09d}".rstrip("0")
    return f"{text}.{fraction}Z" if fraction else f"{text}Z"


def show_payload(model: CatalogModel, modified_at: float) -> dict[str, object]:
    """The body of ``/api/show`` for a model."""
    template = _TEMPLATES.get(model.family, _LLAMA_TEMPLATE)
    stop = _STOPS.get(model.family, "<|eot_id|>")
    parameters = f'{"stop":<30} "{stop}"\n{"temperature":<30} 0.6'
    arch = model.family
    return {
        "license": "Demo license: these weights do not exist.",
        "modelfile": (
            '# Modelfile generated by "ollama show"\n'
            "# To build a new Modelfile based on this, replace FROM with:\n"
            f"# FROM {model.name}\n\n"
            f"FROM /usr/share/ollama/.ollama/models/blobs/sha256-{model.digest}\n"
            f'TEMPLATE """{template}"""\n'
            f'PARAMETER stop "{stop}"\nPARAMETER temperature 0.6\n'
        ),
        "parameters": parameters,
        "template": template,
        "details": model.details(),
        "model_info": {
            "general.architecture": arch,
            "general.basename": model.name.split(":")[0],
            "general.file_type": 15,
            "general.parameter_count": model.parameter_count,
            "general.quantization_version": 2,
            f"{arch}.attention.head_count": 32,
            f"{arch}.block_count": 28,
            f"{arch}.context_length": model.context_length,
            f"{arch}.embedding_length": 2048,
            "tokenizer.ggml.model": "gpt2",
        },
        "capabilities": list(model.capabilities),
        "modified_at": rfc3339(modified_at),
    }


@dataclass
class _Installed:
    model: CatalogModel
    modified_at: float


class ModelStore:
    """Installed and loaded models. Used only from the server's event loop thread."""

    def __init__(self) -> None:
        self._installed: dict[str, _Installed] = {}
        self._expires: dict[str, float] = {}  # name -> wall-clock time it unloads
        self.reset()

    def reset(self) -> None:
        self._installed = {
            m.name: _Installed(m, _BASE_TIME - i * _DAY) for i, m in enumerate(DEFAULT_MODELS)
        }
        self._expires = {}

    def find(self, name: str) -> CatalogModel | None:
        entry = self._installed.get(normalize_name(name))
        return entry.model if entry else None

    def modified_at(self, model: CatalogModel) -> float:
        return self._installed[model.name].modified_at

    @staticmethod
    def pullable(name: str) -> CatalogModel | None:
        wanted = normalize_name(name)
        return next((m for m in (*DEFAULT_MODELS, *PULLABLE_MODELS) if m.name == wanted), None)

    def add(self, model: CatalogModel) -> None:
        self._installed[model.name] = _Installed(model, time.time())

    def delete(self, name: str) -> bool:
        key = normalize_name(name)
        self._expires.pop(key, None)
        return self._installed.pop(key, None) is not None

    def keep_loaded(self, model: CatalogModel, keep_alive: float) -> None:
        """Mark a model used now; keep_alive 0 unloads it, a negative one keeps it forever."""
        if keep_alive == 0:
            self._expires.pop(model.name, None)
        elif keep_alive < 0:
            self._expires[model.name] = float("inf")
        else:
            self._expires[model.name] = time.time() + keep_alive

    def installed(self) -> list[tuple[CatalogModel, float]]:
        """(model, modified_at) of each installed model, newest first as Ollama lists them."""
        entries = sorted(self._installed.values(), key=lambda e: e.modified_at, reverse=True)
        return [(e.model, e.modified_at) for e in entries]

    def tags(self) -> list[dict[str, object]]:
        return [_tag_entry(model, modified_at) for model, modified_at in self.installed()]

    def running(self) -> list[dict[str, object]]:
        now = time.time()
        self._expires = {k: v for k, v in self._expires.items() if v > now}
        result = []
        for name, expires in sorted(self._expires.items(), key=lambda kv: kv[1], reverse=True):
            model = self._installed[name].model
            entry = _tag_entry(model, self._installed[name].modified_at)
            del entry["modified_at"]
            # Ollama shows "forever" as a date centuries ahead.
            entry["expires_at"] = rfc3339(expires if expires != float("inf") else 1e10)
            entry["size_vram"] = model.size
            entry["context_length"] = min(model.context_length, 4096)
            result.append(entry)
        return result


def _tag_entry(model: CatalogModel, modified_at: float) -> dict[str, object]:
    return {
        "name": model.name,
        "model": model.name,
        "modified_at": rfc3339(modified_at),
        "size": model.size,
        "digest": model.digest,
        "details": model.details(),
    }
