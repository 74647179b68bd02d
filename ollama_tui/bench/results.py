"""What a bench run produced: its cells' results, grouped into rows per client and level.

Between the runner (which fills it) and the report (which prints and writes it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ollama_tui.bench.machine import Machine
from ollama_tui.bench.options import OLLAMA, SINGLE, SWEEP, BenchOptions
from ollama_tui.bench.spec import CellResult, baseline_of
from ollama_tui.bench.stats import Row, summarise


@dataclass(frozen=True, slots=True)
class Cell:
    client: str
    level: int
    rep: int
    stage: str = SWEEP
    """SINGLE (each client once, one stream) or SWEEP (the concurrency levels)."""
    api: str = OLLAMA
    """The wire API the cell streams over (options.OLLAMA or options.OPENAI)."""

    def per_stream(self, options: BenchOptions) -> int:
        return 1 if self.stage == SINGLE else options.per_stream(self.level)


@dataclass
class BenchResult:
    machine: Machine
    options: BenchOptions
    base_url: str
    cells: list[tuple[Cell, CellResult]] = field(default_factory=list)
    interrupted: bool = False
    api_urls: dict[str, str] = field(default_factory=dict)
    """Each API's base URL: the server for Ollama's, its /v1 for the OpenAI-compatible one."""

    def stages(self) -> list[str]:
        """The stages that have results, in the order they ran."""
        return list(dict.fromkeys(cell.stage for cell, _ in self.cells))

    def rows(self, stage: str = SWEEP) -> list[Row]:
        """One row per (level, client, API) of `stage`, in the order they were planned:
        a client's APIs next to each other."""
        grouped: dict[tuple[int, str, str], list[CellResult]] = {}
        for cell, result in self.cells:
            if cell.stage == stage:
                grouped.setdefault((cell.level, cell.client, cell.api), []).append(result)
        order, apis = clients_for(self.options), self.options.apis
        keys = sorted(grouped, key=lambda k: (k[0], order.index(k[1]), apis.index(k[2])))
        return [
            summarise(client, level, grouped[level, client, api], api)
            for level, client, api in keys
        ]


def clients_for(options: BenchOptions) -> list[str]:
    """Each transport next to its baseline, so the pair runs under the same conditions."""
    clients: list[str] = []
    for name in options.transports:
        clients.append(name)
        if options.baselines:
            clients.append(baseline_of(name))
    return clients
