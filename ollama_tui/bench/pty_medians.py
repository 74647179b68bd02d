"""`bench --ui --repeat K`: the order of a cell's runs, and their medians.

One run's CPU moves by 10-20 % on a shared machine (docs/ui-performance.md); the figure
to quote is each cell's median over runs made in one sitting, the transports rotated
each round so none always runs first or last.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ollama_tui.bench.pty_ui import PtyRun


def rotated(transports: Sequence[str], repeat: int) -> list[str]:
    """`repeat` rounds of `transports`, each round starting one further along."""
    order: list[str] = []
    for round_ in range(repeat):
        shift = round_ % len(transports)
        order += [*transports[shift:], *transports[:shift]]
    return order


def cells(runs: Sequence[PtyRun]) -> list[list[PtyRun]]:
    """The runs of each (transport, shape, rate), in the order each cell first ran."""
    grouped: dict[tuple[str, str, float], list[PtyRun]] = {}
    for run in runs:
        grouped.setdefault((run.transport, run.shape, run.rate), []).append(run)
    return list(grouped.values())


def median_run(runs: Sequence[PtyRun]) -> PtyRun:
    """One cell's runs as one: the median of each figure (each percentile apart), the
    most tokens unseen and keys lost in any run, the errors of all."""

    mid = statistics.median

    def mids(pick: Callable[[PtyRun], Mapping[str, float]]) -> dict[str, float]:
        return {key: mid(pick(r)[key] for r in runs) for key in pick(runs[0])}

    reference = {
        kind: [mid(r.machine_ref_ms[kind][i] for r in runs) for i in range(2)]
        for kind in runs[0].machine_ref_ms
        if all(len(r.machine_ref_ms.get(kind, [])) == 2 for r in runs)
    }
    return replace(
        runs[0],
        tokens=round(mid(r.tokens for r in runs)),
        lag_ms=mids(lambda r: r.lag_ms),
        cpu_ms_per_1k_tokens=mid(r.cpu_ms_per_1k_tokens for r in runs),
        worker_cpu_ms_per_1k_tokens=mid(r.worker_cpu_ms_per_1k_tokens for r in runs),
        unseen_tokens=max(r.unseen_tokens for r in runs),
        gap_max_ms=mid(r.gap_max_ms for r in runs),
        echo_ms=mids(lambda r: r.echo_ms),
        echo_after_ms=mids(lambda r: r.echo_after_ms),
        echo_lost=max(r.echo_lost for r in runs),
        idle_cpu_pct=mid(r.idle_cpu_pct for r in runs),
        first_shown_ms=mid(r.first_shown_ms for r in runs),
        stream_s=mid(r.stream_s for r in runs),
        load_avg=[mid(r.load_avg[i] for r in runs) for i in range(len(runs[0].load_avg))],
        ui_thread_cpu_ms_per_1k_tokens=mid(r.ui_thread_cpu_ms_per_1k_tokens for r in runs),
        machine_ref_ms=reference,
        errors=[error for r in runs for error in r.errors],
    )
