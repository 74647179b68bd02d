"""Human-readable figures, sizes and times, written once for every place that shows them.

Pure: no I/O and no clock (callers pass `now`). Sizes and relative times follow
Ollama's own CLI (`ollama list`, `ollama ps`), so the app reads as the tool people know.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ollama_tui.core.events import ServerStats
from ollama_tui.core.sanitize import clean
from ollama_tui.core.timing import StreamTiming

UNKNOWN = "—"


def seconds(value: float | None) -> str:
    if value is None:
        return UNKNOWN
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


def duration(value: float) -> str:
    """A time left, as a person says it: "45 s", "3 min 5 s", "2 h 10 min"."""
    whole = round(value)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def rate(value: float | None) -> str:
    return UNKNOWN if value is None else f"{value:.1f} tok/s"


_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(start: float, length: float | None, scale: float, width: int) -> str:
    """A span drawn to scale in `width` cells: blanks up to `start`, then `length` in
    block characters to an eighth of a cell; a span above zero is never drawn empty.
    Nothing for an unknown length or an empty scale."""
    if length is None or scale <= 0 or width <= 0:
        return ""
    offset = max(0, min(round(start / scale * width), width - 1))
    eighths = min(round(length / scale * width * 8), (width - offset) * 8)
    if length > 0:
        eighths = max(eighths, 1)
    if eighths <= 0:
        return ""
    full, part = divmod(eighths, 8)
    return " " * offset + "█" * full + (_EIGHTHS[part] if part else "")


# ---------------------------------------------------------------------------- sizes


def human_bytes(size: int) -> str:
    """Decimal units as Ollama shows them: 522 MB, 1.2 GB, 65 GB."""
    for unit, scale in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"
    return f"{size} B"


# ---------------------------------------------------------------------------- times


def _duration(delta: float) -> str:
    """Ollama's wording of a length of time (`format.HumanDuration`)."""
    minutes, hours = delta / 60, delta / 3600
    if delta < 1:
        return "Less than a second"
    if delta < 2:
        return "1 second"
    if delta < 60:
        return f"{int(delta)} seconds"
    if round(minutes) == 1:
        return "About a minute"
    if minutes < 60:
        return f"{round(minutes)} minutes"
    if round(hours) == 1:
        return "About an hour"
    if hours < 48:
        return f"{round(hours)} hours"
    if hours < 24 * 7 * 2:
        return f"{int(hours // 24)} days"
    if hours < 24 * 30 * 2:
        return f"{int(hours // (24 * 7))} weeks"
    if hours < 24 * 365 * 2:
        return f"{int(hours // (24 * 30))} months"
    return f"{int(hours // (24 * 365))} years"


def ago(delta: float) -> str:
    """`delta` seconds before now as `ollama list` words it: "2 days ago", "About an
    hour ago"; a negative one is in the future, as `ollama ps` words an expiry:
    "4 minutes from now", or "Forever" for a model kept loaded without a limit."""
    if not math.isfinite(delta):
        return UNKNOWN
    if delta < -20 * 365 * 86400:  # Ollama's own cut-off for "kept for ever"
        return "Forever"
    if delta < 0:
        return f"{_duration(-delta)} from now"
    return f"{_duration(delta)} ago"


def human_time(stamp: str, now: datetime) -> str:
    """An RFC 3339 time from the server as `ago` words it. Text that is no such time is
    shown as it came (cleaned), so nothing the server said is hidden; none is "—"."""
    try:
        then = datetime.fromisoformat(stamp)
    except ValueError:
        return clean(stamp) or UNKNOWN
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return ago((now - then).total_seconds())


# ---------------------------------------------------------------------------- one reply


def _number(value: object) -> float | None:
    # Stored figures come back from JSON: anything but a number counts as missing.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True, slots=True)
class ReplyFigures:
    """The figures of one reply as plain values, whether it streamed just now (a
    `StreamTiming`) or was read back from the history (a message's stored dicts)."""

    transport: str
    timed: bool = True
    """False: no client timing was kept (only the server's figures, if any)."""
    ttfc: float | None = None
    ttft: float | None = None
    total: float | None = None
    tokens: int = 0
    tokens_per_s: float | None = None
    server_rate: float | None = None
    """The server's own eval rate, tokens per second."""

    @classmethod
    def live(
        cls, transport: str, timing: StreamTiming, stats: ServerStats | None = None
    ) -> ReplyFigures:
        return cls(
            transport=transport,
            ttfc=timing.ttfc,
            ttft=timing.ttft,
            total=timing.total,
            tokens=timing.tokens,
            tokens_per_s=timing.tokens_per_s,
            server_rate=None if stats is None else stats.eval_rate,
        )

    @classmethod
    def stored(
        cls,
        transport: str | None,
        figures: Mapping[str, Any] | None,
        stats: Mapping[str, Any] | None,
    ) -> ReplyFigures:
        """From a message's `figures` (seconds) and `stats` (the server's, nanoseconds)."""
        figures = figures or {}
        server = None
        if stats:
            count, duration = stats.get("eval_count"), stats.get("eval_duration")
            if _number(count) and _number(duration):
                server = ServerStats(eval_count=count, eval_duration=duration).eval_rate
        tokens = _number(figures.get("tokens"))
        return cls(
            transport=transport or "unknown transport",
            timed=bool(figures),
            ttfc=_number(figures.get("ttfc")),
            ttft=_number(figures.get("ttft")),
            total=_number(figures.get("total")),
            tokens=int(tokens) if tokens is not None else 0,
            tokens_per_s=_number(figures.get("tokens_per_s")),
            server_rate=server,
        )

    def text(self) -> str:
        """transport · TTFC · TTFT · total · tokens · tok/s · server eval rate."""
        parts = [self.transport]
        if self.timed:
            parts += [
                f"TTFC {seconds(self.ttfc)}",
                f"TTFT {seconds(self.ttft)}",
                f"total {seconds(self.total)}",
                f"{self.tokens} tokens",
                rate(self.tokens_per_s),
            ]
        if self.server_rate is not None:
            parts.append(f"server {rate(self.server_rate)}")
        return " · ".join(parts)


def summary(transport: str, timing: StreamTiming, stats: ServerStats | None = None) -> str:
    """The figures line of a reply that just streamed."""
    return ReplyFigures.live(transport, timing, stats).text()
