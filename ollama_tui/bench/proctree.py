"""CPU time of a process and its descendants, from `/proc` (Linux).

`/proc/<pid>/stat` fields 14-17 (utime, stime, cutime, cstime) are in clock ticks; utime
and stime cover every thread of the process, cutime and cstime the children it has
reaped. A process tree's CPU is the process's own, its live descendants' own, and what
the process reaped; the descendants' part (the app's stream worker, when it has one) is
also reported on its own, and so is the process's main thread
(`/proc/<pid>/task/<pid>/stat`): a Textual app's event loop, where it draws, apart from
the threads that read the network and write the terminal.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

TICK = 1 / os.sysconf("SC_CLK_TCK")


def _stat(pid: int, task: int | None = None) -> tuple[int, list[int]] | None:
    """(ppid, [utime, stime, cutime, cstime]) in ticks, or None if it has gone; of one
    thread of it with `task` (its thread id; the main thread's is the pid)."""
    path = f"/proc/{pid}/stat" if task is None else f"/proc/{pid}/task/{task}/stat"
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2 :].split()  # the name may hold spaces
    return int(fields[1]), [int(f) for f in fields[11:15]]


def descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (stat := _stat(int(name))) is not None:
            parents.setdefault(stat[0], []).append(int(name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


@dataclass(frozen=True)
class TreeCpu:
    own: float  # seconds: the process's threads
    children: float  # seconds: its descendants, live and reaped
    main: float  # seconds: the process's main thread (part of `own`)

    @property
    def total(self) -> float:
        return self.own + self.children


def _main_thread(pid: int) -> float:
    stat = _stat(pid, task=pid)
    return float("nan") if stat is None else (stat[1][0] + stat[1][1]) * TICK


def tree_cpu(pid: int) -> TreeCpu:
    stat = _stat(pid)
    if stat is None:
        return TreeCpu(float("nan"), float("nan"), float("nan"))
    main = _main_thread(pid)
    utime, stime, cutime, cstime = stat[1]
    children = cutime + cstime
    for child in descendants(pid):
        if (child_stat := _stat(child)) is not None:
            children += sum(child_stat[1])  # with what it reaped itself
    return TreeCpu((utime + stime) * TICK, children * TICK, main)


class CpuSampler(threading.Thread):
    """`tree_cpu(pid)` every `every` seconds (descendants looked up again every 2 s, so
    each sample reads a file or two), to read the CPU at a moment known only later."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        super().__init__(name="cpu-sampler", daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, TreeCpu]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        children: list[int] = []
        looked = 0.0
        while not self.stopped.wait(self.every):
            now = time.perf_counter()
            if now - looked > 2:
                children, looked = descendants(self.pid), now
            main = _main_thread(self.pid)
            if (stat := _stat(self.pid)) is None:
                return
            utime, stime, cutime, cstime = stat[1]
            others = cutime + cstime + sum(sum(s[1]) for c in children if (s := _stat(c)))
            self.samples.append((now, TreeCpu((utime + stime) * TICK, others * TICK, main)))

    def at(self, moment: float) -> TreeCpu:
        """The first sample taken at or after `moment` (the last one if none was)."""
        for taken, cpu in self.samples:
            if taken >= moment:
                return cpu
        return self.samples[-1][1] if self.samples else tree_cpu(self.pid)
