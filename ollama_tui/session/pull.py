"""A pull's progress as a person reads it: bytes so far, speed, time left.

Pure: fed the `Progress` events of `/api/pull` (each layer's `completed` of `total`,
timed where the bytes arrived), it sums the layers and measures the speed over the
last few seconds, so a stall shows as a falling speed rather than a frozen one.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ollama_tui.core.events import Progress

WINDOW_S = 3.0
"""The speed is measured over the last this many seconds."""


@dataclass
class PullMeter:
    totals: dict[str, int] = field(default_factory=dict)
    done: dict[str, int] = field(default_factory=dict)
    _samples: deque[tuple[float, int]] = field(default_factory=deque)

    def feed(self, event: Progress) -> None:
        if event.digest and event.total:
            self.totals[event.digest] = event.total
            self.done[event.digest] = min(event.completed or 0, event.total)
        self._samples.append((event.at, self.completed))
        while len(self._samples) > 2 and event.at - self._samples[1][0] >= WINDOW_S:
            self._samples.popleft()

    @property
    def completed(self) -> int:
        return sum(self.done.values())

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    @property
    def speed(self) -> float | None:
        """Bytes a second over the last few seconds; None until there are two readings."""
        if len(self._samples) < 2:
            return None
        (start, before), (end, now) = self._samples[0], self._samples[-1]
        return (now - before) / (end - start) if end > start else None

    @property
    def seconds_left(self) -> float | None:
        speed = self.speed
        if not speed or speed <= 0 or not self.total:
            return None
        return max(0.0, self.total - self.completed) / speed
