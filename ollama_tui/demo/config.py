"""What the demo server is told and what it reports: :class:`DemoConfig`, :class:`Fault` and
:class:`RequestRecord`, shared by the application and the runner.

The middleware reads the config once per request and stores it, with the request's record
and arrival time, under the keys at the end of this module; handlers read them from there,
so a config change applies to the next request and never half-way through one.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from enum import StrEnum

from aiohttp import web


class Fault(StrEnum):
    """Failures injected into /api/chat, /api/generate and /v1/chat/completions."""

    NOT_FOUND = "not-found"
    ERROR_MID = "error-mid"
    CUT = "cut"
    STALL = "stall"
    MALFORMED = "malformed"
    NO_DONE = "no-done"
    RATE_LIMIT = "rate-limit"  # 429 before anything else, as a busy hosted server answers
    WHOLE = "whole"  # one JSON object for a streamed request, as a server that ignores stream


@dataclass(frozen=True)
class DemoConfig:
    """How the server answers; read once per request, so changes apply to the next one."""

    token_rate: float = 40.0  # tokens per second; 0 or inf = as fast as possible
    first_token_delay: float = 0.0  # seconds from request to first line (simulated load)
    reply: str | None = None  # fixed reply text instead of the built-ins
    fault: Fault | None = None
    fault_after: int = 5  # token lines sent before the fault
    pull_duration: float = 2.0  # seconds a successful pull takes
    thinking: str | None = None  # fixed reasoning text instead of the built-ins
    # Report the stats the pacing promises instead of measuring them: deterministic
    # figures for snapshot tests and screenshots.
    nominal_stats: bool = False
    # Write when each content token was sent (perf_counter()) to this file once a reply
    # has streamed: `numbered.write_stamps`. Out of band: never in the reply.
    stamp_file: str | None = None
    # Set: /v1 wants `Authorization: Bearer <api_key>` (401 otherwise), as hosted
    # OpenAI-compatible servers do. Ollama's own routes never ask for it.
    api_key: str | None = None

    def __post_init__(self) -> None:
        if self.fault is not None:  # accept plain strings such as "cut" from a CLI
            object.__setattr__(self, "fault", Fault(self.fault))
        if self.token_rate < 0 or self.first_token_delay < 0 or self.pull_duration < 0:
            raise ValueError("token_rate, first_token_delay and pull_duration must be >= 0")
        if self.fault_after < 0:
            raise ValueError("fault_after must be >= 0")

    @property
    def token_interval(self) -> float:
        return 0.0 if self.token_rate == 0 or math.isinf(self.token_rate) else 1 / self.token_rate


@dataclass
class RequestRecord:
    """What the server saw and did for one request (times are ``time.perf_counter()``)."""

    method: str
    path: str
    body: bytes
    headers: dict[str, str]
    received_at: float
    first_line_at: float | None = None
    lines_sent: int = 0
    # "pending" while running, then "completed", "disconnected", "fault", "error" or
    # "stopped" (cancelled by DemoServer.stop() / reset()).
    outcome: str = "pending"
    ended_at: float | None = None
    finished: threading.Event = field(default_factory=threading.Event)
    status: int | None = None  # HTTP status sent, when a response was started
    fault: Fault | None = None  # the fault injected into this response, if one was
    peer: tuple[str, int] | None = None  # the client's address: same peer = same pooled connection
    # An Authorization header arrived (its value is never kept: `headers` shows it
    # redacted), and whether it was `Bearer <DemoConfig.api_key>`: None when no key is set.
    api_key_sent: bool = False
    api_key_matched: bool | None = None


# Set on every request by DemoApp's middleware before the handler runs.
RECORD = web.RequestKey("record", RequestRecord)
CONFIG = web.RequestKey("config", DemoConfig)
START = web.RequestKey("start", float)  # perf_counter() at arrival: pacing and stats use it
