"""How fast this machine runs Python right now: a fixed piece of work, timed in CPU.

This shared machine's speed moves the app's CPU figures by a quarter to a half within
an hour (neighbours on the host share its caches and cores; the CPU time a process is
charged grows with them), which no load average shows. `bench --ui` times this
reference beside each cell, so a slow cell can be told apart from a slow hour: the
work is the same every time, so its time moves only with the machine.

The work is the kind the app's threads do: JSON lines decoded, text cut into words by a
regular expression, small objects made and joined, in the interpreter, with no I/O and
no library outside the standard one. It is timed with the calling thread's CPU clock
(`time.thread_time`), as the app's threads are charged, and the median of a few
samples is kept (one sample may meet a page fault or a collection).
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable

_WORD = re.compile(r"\w+|[^\w\s]")
_LINE = json.dumps(
    {
        "model": "demo",
        "created_at": "2026-12-05T15:00:00.000000Z",
        "message": {"role": "assistant", "content": "def twice(x):\n    return x * 2  # ok"},
        "done": False,
    }
)
ROUNDS = 4000
"""Rounds of the work in one sample: about 35 ms on this machine in a fast stretch."""


class _Cell:
    __slots__ = ("style", "text")

    def __init__(self, text: str, style: str) -> None:
        self.text, self.style = text, style


def work(rounds: int = ROUNDS) -> int:
    """The reference work; returns a number made from it, so none of it is skipped."""
    total = 0
    for _ in range(rounds):
        line = json.loads(_LINE)
        words = _WORD.findall(line["message"]["content"])
        cells = [_Cell(w, "b" if w.isalpha() else "") for w in words]
        total += len("".join(c.text for c in cells if c.style)) + len(json.dumps(line))
    return total


def reference_ms(samples: int = 5, task: Callable[[], object] = work) -> float:
    """The median CPU time of `task` on this thread, in milliseconds."""
    times = []
    for _ in range(samples):
        started = time.thread_time()
        task()
        times.append((time.thread_time() - started) * 1000)
    return statistics.median(times)
