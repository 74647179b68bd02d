"""CPU time of a process and its descendants, from `/proc` (Linux).

`/proc/<pid>/stat` fields 14-17 (utime, stime, cutime, cstime) are in clock ticks; utime
and stime cover every thread of the process, cutime and cstime the children it has
reaped. A process tree's CPU is the process's own, its live descendants' own, and what
the process reaped; the descendants' part (the app's stream worker, when it has one) is
also reported on its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

TICK = 1 / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, list[int]] | None:
    """(ppid, [utime, stime, cutime, cstime]) in ticks, or None if it has gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
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

    @property
    def total(self) -> float:
        return self.own + self.children


def tree_cpu(pid: int) -> TreeCpu:
    stat = _stat(pid)
    if stat is None:
        return TreeCpu(float("nan"), float("nan"))
    utime, stime, cutime, cstime = stat[1]
    children = cutime + cstime
    for child in descendants(pid):
        if (child_stat := _stat(child)) is not None:
            children += sum(child_stat[1])  # with what it reaped itself
    return TreeCpu((utime + stime) * TICK, children * TICK)
