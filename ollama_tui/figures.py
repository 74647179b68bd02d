"""Human-readable figures for one reply, shared by every place that shows them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ollama_tui.events import ServerStats
from ollama_tui.timing import StreamTiming


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


def stored_summary(
    transport: str, figures: Mapping[str, Any] | None, stats: Mapping[str, Any] | None
) -> str:
    """`summary` for a reply read back from the history (figures as plain values)."""
    f = figures or {}
    parts = [
        transport,
        f"TTFC {seconds(f.get('ttfc'))}",
        f"TTFT {seconds(f.get('ttft'))}",
        f"total {seconds(f.get('total'))}",
        f"{f.get('tokens', 0)} tokens",
        rate(f.get("tokens_per_s")),
    ]
    if stats and stats.get("eval_count") and stats.get("eval_duration"):
        parts.append(f"server {rate(stats['eval_count'] / stats['eval_duration'] * 1e9)}")
    return " · ".join(parts)
