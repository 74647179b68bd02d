"""Human-readable figures for one reply, shared by every place that shows them."""

from __future__ import annotations

from ollama_tui.core.events import ServerStats
from ollama_tui.core.timing import StreamTiming


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} tok/s"


def summary(transport: str, timing: StreamTiming, stats: ServerStats | None = None) -> str:
    parts = [
        transport,
        f"TTFC {seconds(timing.ttfc)}",
        f"TTFT {seconds(timing.ttft)}",
        f"total {seconds(timing.total)}",
        f"{timing.tokens} tokens",
        rate(timing.tokens_per_s),
    ]
    if stats is not None and stats.eval_rate is not None:
        parts.append(f"server {rate(stats.eval_rate)}")
    return " · ".join(parts)
