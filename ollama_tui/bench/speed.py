"""How fast this machine runs Python right now: two fixed pieces of work, timed in CPU.

This shared machine's speed moves the app's CPU figures by a quarter to a half within
an hour (neighbours on the host share its caches and cores; the CPU time a process is
charged grows with them), which no load average shows. `bench --ui` times these
references beside each cell, so a slow cell can be told apart from a slow hour: the
work is the same every time, so its time moves only with the machine.

Two kinds of work, each timed with the calling thread's CPU clock (`time.thread_time`),
as the app's threads are charged, the median of a few samples kept (one sample may meet
a page fault or a collection):

- `work`, the kind the app's threads do in the interpreter: JSON lines decoded, text cut
  into words by a regular expression, small objects made and joined. It fits in the
  core's own caches, so it moves with the core's clock;
- `chase`, a walk through a chain of 200,000 small objects in shuffled order (about
  18 MB): each step misses the core's own caches (1 MB of L2 here) and lands in the
  shared L3 (32 MB) only as far as the neighbours on the host leave room in it, as the
  app's walks over its widgets and segments often do; so it moves with what they do to
  the shared cache and memory.
"""

from __future__ import annotations

import json
import random
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
"""Rounds of the work in one sample: about 36 ms on this machine."""


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


class _Link:
    __slots__ = ("next", "value")

    def __init__(self, value: int) -> None:
        self.value = value
        self.next: _Link = self


LINKS = 200_000
_chain: list[_Link] = []


def chase() -> int:
    """The memory work: one walk along the chain (made on first use, then kept)."""
    if not _chain:
        _chain.extend(_Link(i) for i in range(LINKS))
        order = list(range(LINKS))
        random.Random(1).shuffle(order)  # the same chain every time
        for here, there in zip(order, order[1:] + order[:1], strict=True):
            _chain[here].next = _chain[there]
    total, link = 0, _chain[0]
    for _ in range(LINKS):
        total += link.value
        link = link.next
    return total


def reference_ms(samples: int = 5, task: Callable[[], object] = work) -> float:
    """The median CPU time of `task` on this thread, in milliseconds."""
    times = []
    for _ in range(samples):
        started = time.thread_time()
        task()
        times.append((time.thread_time() - started) * 1000)
    return statistics.median(times)
