"""Percentiles and the per-row summary of one (client, level) over its repetitions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ollama_tui.bench.spec import CellResult


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 50)


def _ms(value: float | None) -> float | None:
    return None if value is None else value * 1000


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the report: all repetitions of one client at one level, pooled.

    Latencies are percentiles over the successful streams only; a failed stream is
    counted in `errors` and never as a fast result.
    """

    client: str
    level: int
    runs: int
    streams: int
    errors: int
    chunks: int
    tokens: int
    ttfc_p50_ms: float | None
    ttfc_p95_ms: float | None
    ttfc_p99_ms: float | None
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    ttft_p99_ms: float | None
    total_p50_ms: float | None
    total_p95_ms: float | None
    total_p99_ms: float | None
    tokens_per_s: float | None
    """Aggregate: tokens of the successful streams ÷ the cells' wall time (all runs pooled)."""
    cpu_s: float
    cpu_ms_per_1k_chunks: float | None
    cpu_ms_per_1k_chunks_runs: list[float]
    """Per repetition, to show the spread behind the pooled figure."""
    wall_s: float
    peak_rss_mib: float
    rss_start_mib: float
    server_cpu_pct: float | None
    """Server CPU seconds over the streaming phase ÷ its wall time (100 = one core)."""
    error_examples: list[str]
    api: str = "ollama"
    """The wire API of the row's cells: "ollama" (NDJSON) or "openai" (/v1, SSE)."""


def summarise(client: str, level: int, results: Sequence[CellResult], api: str = "ollama") -> Row:
    samples = [s for r in results for s in r.samples]
    good = [s for s in samples if s.ok]
    # A worker that died hands back one failed sample per stream it should have run.
    errors = sum(1 for s in samples if not s.ok)
    chunks = sum(s.chunks for s in samples)
    cpu = sum(r.cpu_user + r.cpu_sys for r in results)
    per_run = [
        (r.cpu_user + r.cpu_sys) / n * 1e6
        for r in results
        if (n := sum(s.chunks for s in r.samples))
    ]
    wall = sum(r.wall for r in results)
    server = [r.server_cpu for r in results if r.server_cpu is not None]
    server_wall = sum(r.wall for r in results if r.server_cpu is not None)
    messages = [s.error for s in samples if s.error]
    ttfc = [s.ttfc for s in good if s.ttfc is not None]
    ttft = [s.ttft for s in good if s.ttft is not None]
    total = [s.total for s in good if s.total is not None]
    good_tokens = sum(s.tokens for s in good)
    return Row(
        client=client,
        level=level,
        runs=len(results),
        streams=len(samples),
        errors=errors,
        chunks=chunks,
        tokens=sum(s.tokens for s in samples),
        ttfc_p50_ms=_ms(percentile(ttfc, 50)),
        ttfc_p95_ms=_ms(percentile(ttfc, 95)),
        ttfc_p99_ms=_ms(percentile(ttfc, 99)),
        ttft_p50_ms=_ms(percentile(ttft, 50)),
        ttft_p95_ms=_ms(percentile(ttft, 95)),
        ttft_p99_ms=_ms(percentile(ttft, 99)),
        total_p50_ms=_ms(percentile(total, 50)),
        total_p95_ms=_ms(percentile(total, 95)),
        total_p99_ms=_ms(percentile(total, 99)),
        # A failed stream's tokens are left out: an error must never look like throughput.
        tokens_per_s=good_tokens / wall if good and wall > 0 else None,
        cpu_s=cpu,
        cpu_ms_per_1k_chunks=cpu / chunks * 1e6 if chunks else None,
        cpu_ms_per_1k_chunks_runs=per_run,
        wall_s=wall,
        peak_rss_mib=max((r.peak_rss_kib for r in results), default=0) / 1024,
        rss_start_mib=max((r.rss_start_kib for r in results), default=0) / 1024,
        server_cpu_pct=sum(server) / server_wall * 100 if server and server_wall > 0 else None,
        error_examples=sorted(set(messages))[:3],
        api=api,
    )
