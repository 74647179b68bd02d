"""Each project transport against the bare loop of its library, per API: CPU per chunk
as a ratio at every level, and the single-stream TTFC p50 difference, with the targets."""

from __future__ import annotations

from dataclasses import dataclass

from ollama_tui.bench.options import OLLAMA
from ollama_tui.bench.spec import baseline_of, is_baseline
from ollama_tui.bench.stats import Row

CPU_RATIO_TARGET = 1.25
"""Project CPU per chunk ÷ bare-library CPU per chunk, at every level."""
TTFC_DELTA_TARGET_MS = 1.0
"""Single-stream TTFC p50, project − bare library."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """One project transport against the bare loop of its library."""

    transport: str
    cpu_ratio: dict[int, float | None]
    """Per level: project CPU per chunk ÷ bare CPU per chunk (pooled over repetitions)."""
    cpu_ratio_runs: dict[int, list[float]]
    """Per level: the same ratio per repetition (run i against run i), for the spread."""
    single_level: int
    ttfc_delta_ms: float | None
    """TTFC p50 at `single_level`, project − bare."""
    api: str = OLLAMA
    """Both sides streamed over this API (each API's rows are compared apart)."""

    @property
    def cpu_within_target(self) -> bool:
        return all(r is not None and r <= CPU_RATIO_TARGET for r in self.cpu_ratio.values())

    @property
    def ttfc_within_target(self) -> bool:
        return self.ttfc_delta_ms is not None and self.ttfc_delta_ms < TTFC_DELTA_TARGET_MS


def compare(rows: list[Row]) -> list[Comparison]:
    by_key = {(row.client, row.level, row.api): row for row in rows}
    levels = sorted({row.level for row in rows})
    comparisons = []
    mine_keys = (row for row in rows if not is_baseline(row.client))
    for name, api in dict.fromkeys((row.client, row.api) for row in mine_keys):
        ratios: dict[int, float | None] = {}
        runs: dict[int, list[float]] = {}
        for level in levels:
            mine = by_key.get((name, level, api))
            bare = by_key.get((baseline_of(name), level, api))
            if mine is None or bare is None:
                continue
            ratios[level] = _ratio(mine.cpu_ms_per_1k_chunks, bare.cpu_ms_per_1k_chunks)
            pairs = zip(
                mine.cpu_ms_per_1k_chunks_runs, bare.cpu_ms_per_1k_chunks_runs, strict=False
            )
            runs[level] = [a / b for a, b in pairs if b > 0]
        if not ratios:
            continue
        single = min(ratios)
        mine, bare = by_key[name, single, api], by_key[baseline_of(name), single, api]
        delta = None
        if mine.ttfc_p50_ms is not None and bare.ttfc_p50_ms is not None:
            delta = mine.ttfc_p50_ms - bare.ttfc_p50_ms
        comparisons.append(Comparison(name, ratios, runs, single, delta, api))
    return comparisons


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None
