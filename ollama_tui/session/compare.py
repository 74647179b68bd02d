"""One prompt through several transports: run order, outcomes, the ranked summary.

Pure: the compare screen runs the streams and hands each end event here.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from ollama_tui.core.events import Done, ServerStats, Stopped, StreamError, outcome
from ollama_tui.core.format import ReplyFigures
from ollama_tui.core.timing import StreamTiming
from ollama_tui.core.waterfall import Waterfall


class Mode(StrEnum):
    CONCURRENT = "concurrent"
    SEQUENTIAL = "sequential"


@dataclass(frozen=True, slots=True)
class CompareSettings:
    transports: tuple[str, ...]
    mode: Mode = Mode.CONCURRENT
    runs: int = 1
    warmup: bool = True
    """Sequential mode: one short request first, so a model load lands on no transport."""

    def __post_init__(self) -> None:
        if not 2 <= len(self.transports) <= 4:
            raise ValueError("choose two to four transports")
        if len(set(self.transports)) != len(self.transports):
            raise ValueError("each transport once")
        if not 1 <= self.runs <= 100:
            raise ValueError("runs must be between 1 and 100")


def run_order(transports: Sequence[str], run: int) -> list[str]:
    """Run `run` (from 0) starts with the next transport: none always goes first."""
    shift = run % len(transports)
    return [*transports[shift:], *transports[:shift]]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one stream of one run ended."""

    transport: str
    run: int
    state: str  # "done", "stopped" or "error"
    timing: StreamTiming
    stats: ServerStats | None = None
    error: str | None = None

    @classmethod
    def of(cls, transport: str, run: int, end: Done | Stopped | StreamError) -> Outcome:
        stats = end.stats if isinstance(end, Done) else None
        error = end.message if isinstance(end, StreamError) else None
        return cls(transport, run, outcome(end), end.timing, stats, error)

    @property
    def ok(self) -> bool:
        return self.state == "done"

    @property
    def waterfall(self) -> Waterfall:
        """Where this stream's time went: TTFC split by the server's own figures."""
        figures = ReplyFigures.live(self.transport, self.timing, self.stats)
        return Waterfall.of(figures, self.stats, self.state)


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """Medians over a transport's completed runs; failed runs are counted, never timed."""

    transport: str
    completed: int
    failed: int
    ttfc: float | None
    ttft: float | None
    total: float | None
    tokens_per_s: float | None
    server_eval_rate: float | None
    server_before_first: float | None = None
    """The server's load + prompt evaluation: a model load shows here, not in TTFC's rest."""
    network_client: float | None = None
    """TTFC minus the server's part: network, queue and client."""
    server_eval: float | None = None
    client_added: float | None = None
    """The client's receive time minus the server's eval time."""
    errors: list[str] = field(default_factory=list)


def summarize(transports: Sequence[str], outcomes: Sequence[Outcome]) -> list[SummaryRow]:
    """Rows ranked by median total time (then TTFC); transports with no completed run
    last, in the order given."""
    rows = []
    for name in transports:
        mine = [o for o in outcomes if o.transport == name]
        done = [o for o in mine if o.ok]
        falls = [o.waterfall for o in done]
        rows.append(
            SummaryRow(
                name,
                completed=len(done),
                failed=len(mine) - len(done),
                ttfc=_median([o.timing.ttfc for o in done]),
                ttft=_median([o.timing.ttft for o in done]),
                total=_median([o.timing.total for o in done]),
                tokens_per_s=_median([o.timing.tokens_per_s for o in done]),
                server_eval_rate=_median([o.stats.eval_rate if o.stats else None for o in done]),
                server_before_first=_median([w.server_before_first for w in falls]),
                network_client=_median([w.network_client for w in falls]),
                server_eval=_median([w.eval for w in falls]),
                client_added=_median([w.client_added for w in falls]),
                errors=[o.error for o in mine if o.error],
            )
        )
    order = {name: i for i, name in enumerate(transports)}

    def key(row: SummaryRow) -> tuple[bool, float, float, int]:
        missing = row.total is None
        return (missing, row.total or 0.0, row.ttfc or 0.0, order[row.transport])

    return sorted(rows, key=key)


def to_json(
    settings: CompareSettings,
    *,
    prompt: str,
    model: str,
    host: str,
    outcomes: Sequence[Outcome],
) -> dict[str, Any]:
    """Everything needed to read the comparison later, times in seconds."""
    return {
        "prompt": prompt,
        "model": model,
        "host": host,
        "mode": settings.mode.value,
        "runs": settings.runs,
        "warmup": settings.warmup,
        "transports": list(settings.transports),
        "outcomes": [
            {
                "transport": o.transport,
                "run": o.run,
                "state": o.state,
                "error": o.error,
                **o.timing.figures(),
                "server_eval_rate": o.stats.eval_rate if o.stats else None,
                "server_load_s": o.stats.load_duration / 1e9
                if o.stats and o.stats.load_duration is not None
                else None,
                "waterfall": o.waterfall.to_json(),
            }
            for o in outcomes
        ],
        "summary": [asdict(row) for row in summarize(settings.transports, outcomes)],
    }
