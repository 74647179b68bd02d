"""What the parent hands a worker (`CellSpec`) and what the worker hands back (`CellResult`).

Both cross a process boundary as JSON, so they are plain dataclasses of plain values.
Only the standard library is imported here: the parent never loads an HTTP library.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

BARE_PREFIX = "bare:"
"""Client names that start with this are bare-library baselines, e.g. "bare:requests"."""


def baseline_of(transport: str) -> str:
    """The bare-library baseline that a project transport is compared against."""
    return BARE_PREFIX + transport


def is_baseline(client: str) -> bool:
    return client.startswith(BARE_PREFIX)


@dataclass(frozen=True, slots=True)
class CellSpec:
    """One cell: one client (a project transport or a bare baseline) at one concurrency."""

    client: str
    level: int
    per_stream: int
    """Streams each of the `level` concurrent workers runs back to back."""
    base_url: str
    """The API's base: the server for Ollama's API, its /v1 for the OpenAI-compatible one."""
    endpoint: str  # "generate" or "chat"; Ollama's API only
    model: str
    prompt: str
    max_tokens: int | None
    connect_timeout: float
    read_timeout: float
    server_pid: int | None = None
    """The built-in server's pid, to read its CPU time during the streaming phase."""
    warmup: bool = True
    profile: str | None = None
    """Write a cProfile of the streaming phase to this path (inflates the CPU figures)."""
    api: str = "ollama"
    """"ollama" (`endpoint`, NDJSON) or "openai" (/chat/completions, Server-Sent Events)."""
    api_key_env: str | None = None
    """The environment variable the worker reads the /v1 API key from (never the key)."""
    request: dict[str, Any] | None = None
    """For "openai": the request as `core.openai.chat_request` built it in the parent
    (`path`, `body`, `wire`). Not built in the worker: `core.openai` loads Pillow (for
    image types), 2 MB of resident memory that only those rows would then carry."""

    @property
    def streams(self) -> int:
        return self.level * self.per_stream

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> CellSpec:
        return cls(**json.loads(text))


@dataclass(slots=True)
class StreamSample:
    """One stream as the client saw it; times in seconds from its own request send."""

    ok: bool
    ttfc: float | None = None
    ttft: float | None = None
    total: float | None = None
    chunks: int = 0
    tokens: int = 0
    error: str | None = None


@dataclass(slots=True)
class CellResult:
    """Everything one worker measured for one cell."""

    client: str
    level: int
    samples: list[StreamSample] = field(default_factory=list)
    cpu_user: float = 0.0
    """Client CPU seconds (user) over the streaming phase only."""
    cpu_sys: float = 0.0
    wall: float = 0.0
    """Seconds from the common start to the last stream's end."""
    peak_rss_kib: int = 0
    rss_start_kib: int = 0
    """Resident memory when the streaming phase began (after imports and warm-up)."""
    server_cpu: float | None = None
    """The server process's CPU seconds over the same phase, when its pid is known."""
    failure: str | None = None
    """Set when the worker itself failed; then the samples are missing, not fast."""
    api: str = "ollama"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> CellResult:
        data: dict[str, Any] = json.loads(text)
        data["samples"] = [StreamSample(**s) for s in data.get("samples", [])]
        return cls(**data)
