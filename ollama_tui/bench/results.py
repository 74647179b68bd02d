"""What a bench run produced: its cells' results, grouped into rows per client and level.

Between the runner (which fills it) and the report (which prints and writes it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ollama_tui.bench.machine import Machine
from ollama_tui.bench.options import SINGLE, SWEEP, BenchOptions
from ollama_tui.bench.spec import CellResult, baseline_of
from ollama_tui.bench.stats import Row, summarise


@dataclass(frozen=True, slots=True)
class Cell:
    client: str
    level: int
    rep: int
    stage: str = SWEEP
    """SINGLE (each client once, one stream) or SWEEP (the concurrency levels)."""

    def per_stream(self, options: BenchOptions) -> int:
        return 1 if self.stage == SINGLE else options.per_stream(self.level)


@dataclass
class BenchResult:
    machine: Machine
    options: BenchOptions
    base_url: str
    cells: list[tuple[Cell, CellResult]] = field(default_factory=list)
    interrupted: bool = False

    def stages(self) -> list[str]:
        """The stages that have results, in the order they ran."""
        return list(dict.fromkeys(cell.stage for cell, _ in self.cells))

    def rows(self, stage: str = SWEEP) -> list[Row]:
        """One row per (level, client) of `stage`, in the order the clients were planned."""
        grouped: dict[tuple[int, str], list[CellResult]] = {}
        for cell, result in self.cells:
            if cell.stage == stage:
                grouped.setdefault((cell.level, cell.client), []).append(result)
        order = clients_for(self.options)
        keys = sorted(grouped, key=lambda k: (k[0], order.index(k[1])))
        return [summarise(client, level, grouped[level, client]) for level, client in keys]


def clients_for(options: BenchOptions) -> list[str]:
    """Each transport next to its baseline, so the pair runs under the same conditions."""
    clients: list[str] = []
    for name in options.transports:
        clients.append(name)
        if options.baselines:
            clients.append(baseline_of(name))
    return clients
