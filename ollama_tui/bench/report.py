"""The results as Rich tables and a chart on stdout, and as JSON and CSV files."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ollama_tui.bench.chart import chart_levels
from ollama_tui.bench.options import SINGLE, SWEEP
from ollama_tui.bench.results import BenchResult
from ollama_tui.bench.spec import BARE_PREFIX, baseline_of, is_baseline
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

    @property
    def cpu_within_target(self) -> bool:
        return all(r is not None and r <= CPU_RATIO_TARGET for r in self.cpu_ratio.values())

    @property
    def ttfc_within_target(self) -> bool:
        return self.ttfc_delta_ms is not None and self.ttfc_delta_ms < TTFC_DELTA_TARGET_MS


def compare(rows: list[Row]) -> list[Comparison]:
    by_key = {(row.client, row.level): row for row in rows}
    levels = sorted({row.level for row in rows})
    comparisons = []
    for name in dict.fromkeys(row.client for row in rows if not is_baseline(row.client)):
        ratios: dict[int, float | None] = {}
        runs: dict[int, list[float]] = {}
        for level in levels:
            mine, bare = by_key.get((name, level)), by_key.get((baseline_of(name), level))
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
        mine, bare = by_key[name, single], by_key[baseline_of(name), single]
        delta = None
        if mine.ttfc_p50_ms is not None and bare.ttfc_p50_ms is not None:
            delta = mine.ttfc_p50_ms - bare.ttfc_p50_ms
        comparisons.append(Comparison(name, ratios, runs, single, delta))
    return comparisons


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def _num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _section_rows(table: Table, rows: list[Row], cells: Callable[[Row], list[str]]) -> None:
    """conc and client, then `cells(row)`, errors last; a rule between levels."""
    previous = None
    for row in rows:
        if previous is not None and row.level != previous:
            table.add_section()
        previous = row.level
        style = "dim" if is_baseline(row.client) else ""
        errors = Text(str(row.errors), style="bold red" if row.errors else "")
        table.add_row(str(row.level), Text(row.client, style=style), *cells(row), errors)


def _table(title: str, headers: tuple[str, ...]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("conc", justify="right")
    table.add_column("client", no_wrap=True)
    for header in headers:
        table.add_column(header, justify="right")
    table.add_column("errors", justify="right")
    return table


def latency_table(rows: list[Row], stage: str = "") -> Table:
    """`stage` (a title) goes first when a run has more than one."""
    # Two-line headers keep the table within ~120 columns with every percentile in it.
    table = _table(
        f"{stage}Latency in ms, successful streams only",
        (
            "TTFC\np50",
            "TTFC\np95",
            "TTFC\np99",
            "TTFT\np50",
            "TTFT\np95",
            "TTFT\np99",
            "total\np50",
            "total\np95",
        ),
    )
    _section_rows(
        table,
        rows,
        lambda row: [
            _ms(row.ttfc_p50_ms),
            _ms(row.ttfc_p95_ms),
            _ms(row.ttfc_p99_ms),
            _ms(row.ttft_p50_ms),
            _ms(row.ttft_p95_ms),
            _ms(row.ttft_p99_ms),
            _ms(row.total_p50_ms),
            _ms(row.total_p95_ms),
        ],
    )
    return table


def cost_table(rows: list[Row], stage: str = "") -> Table:
    table = _table(
        f"{stage}Aggregate tokens/s, client CPU and memory",
        (
            "streams",
            "chunks",
            "tokens/s\nall",
            "CPU ms /\n1k chunks",
            "server\nCPU %",
            "peak RSS\nMiB",
            "wall s",
        ),
    )
    _section_rows(
        table,
        rows,
        lambda row: [
            str(row.streams),
            f"{row.chunks:,}",
            _num(row.tokens_per_s, 0),
            _num(row.cpu_ms_per_1k_chunks),
            _num(row.server_cpu_pct, 0),
            _num(row.peak_rss_mib),
            _num(row.wall_s, 2),
        ],
    )
    return table


def comparison_table(comparisons: list[Comparison]) -> Table:
    levels = sorted({level for c in comparisons for level in c.cpu_ratio})
    table = Table(
        title=f"Project ÷ bare library: CPU per chunk (target ≤ {CPU_RATIO_TARGET:g}) and "
        f"single-stream TTFC p50 difference (target < {TTFC_DELTA_TARGET_MS:g} ms)",
        title_justify="left",
    )
    table.add_column("transport")
    for level in levels:
        table.add_column(f"CPU ratio ×{level}", justify="right")
    table.add_column("TTFC Δ ms", justify="right")
    for c in comparisons:
        cells: list[Text | str] = [c.transport]
        for level in levels:
            ratio = c.cpu_ratio.get(level)
            ok = ratio is not None and ratio <= CPU_RATIO_TARGET
            cells.append(Text(_num(ratio, 2), style="" if ok else "bold red"))
        delta = c.ttfc_delta_ms
        ok = delta is not None and delta < TTFC_DELTA_TARGET_MS
        cells.append(Text(f"{delta:+.2f}" if delta is not None else "–", "" if ok else "bold red"))
        table.add_row(*cells)
    return table


STAGE_TITLES = {
    SINGLE: "Single stream, each client once",
    SWEEP: "Concurrency sweep",
}


def render(result: BenchResult, console: Console) -> None:
    options, machine = result.options, result.machine
    server = (
        f"built-in server (subprocess) at {result.base_url}, {options.token_rate:g} tokens/s "
        f"per stream, first token after {options.first_token_delay:g} s"
        if not options.host
        else f"{result.base_url}"
    )
    tokens = options.max_tokens if options.max_tokens is not None else "unlimited"
    libs = ", ".join(f"{k} {v}" for k, v in machine.libraries.items())
    preset = f"preset {options.preset}: " if options.preset else ""
    single = "each client once with one stream, then " if options.single_stream_first else ""
    console.print(
        f"[bold]ollama-tui bench[/] — {machine.cpu}, {machine.usable_cores} usable cores, "
        f"{machine.python}, {machine.kernel}\n{libs}\n"
        f"{server}; model {options.model!r}, /api/{options.endpoint}, "
        f"max {tokens} tokens; {preset}{single}≥ {options.requests} streams per client and "
        f"level in {options.repeat} runs (fresh process each)",
        highlight=False,
    )
    stages = result.stages()
    if not stages:
        console.print("no cell finished")
        return
    for stage in stages:
        rows = result.rows(stage)
        # A single-stage run needs no stage name in its titles.
        title = f"{STAGE_TITLES[stage]}. " if len(stages) > 1 else ""
        console.print(latency_table(rows, title))
        console.print(cost_table(rows, title))
    sweep = result.rows(SWEEP)
    comparisons = compare(sweep)
    if comparisons:
        console.print(comparison_table(comparisons))
    if options.chart and len(chart_levels(sweep)) > 1:
        print_chart(sweep, console)
    load = " → ".join(
        "/".join(f"{x:.2f}" for x in la) for la in (machine.load_start, machine.load_end) if la
    )
    console.print(
        "Quote the medians. Latencies are over successful streams only; failed streams are "
        "counted under errors. tokens/s is the tokens of all successful streams of a cell ÷ "
        "its wall time. CPU is the client process (all threads) over the streaming "
        "phase only; server CPU % is one core = 100. "
        f"Load average (1/5/15 min) {load}; the machine may be shared and noisy.",
        highlight=False,
        style="dim",
    )


def print_chart(rows: list[Row], console: Console) -> None:
    """The sweep's chart; a note instead when plotext is missing, never a lost run."""
    from ollama_tui.bench.chart import build_chart

    color = console.is_terminal and not console.no_color
    try:
        chart = build_chart(rows, width=max(40, min(console.width, 100)), color=color)
    except ImportError:
        console.print("plotext is not installed: no chart (pip install plotext)", style="dim")
        return
    except Exception as exc:  # a third-party drawing bug must not cost a long run its files
        console.print(f"no chart: plotext failed: {exc!r}", style="dim", markup=False)
        return
    if chart:
        console.print(Text.from_ansi(chart), soft_wrap=True)


def _staged_rows(result: BenchResult) -> list[tuple[str, Row]]:
    return [(stage, row) for stage in result.stages() for row in result.rows(stage)]


def to_json(result: BenchResult) -> dict[str, Any]:
    rows = result.rows(SWEEP)
    return {
        "machine": dataclasses.asdict(result.machine),
        "options": dataclasses.asdict(result.options),
        "base_url": result.base_url,
        "interrupted": result.interrupted,
        "targets": {
            "cpu_ratio_max": CPU_RATIO_TARGET,
            "ttfc_delta_ms_max": TTFC_DELTA_TARGET_MS,
        },
        # Every stage's rows; "stage" is "single" or "sweep". Comparisons are the sweep's.
        "rows": [{"stage": stage} | dataclasses.asdict(row) for stage, row in _staged_rows(result)],
        "comparisons": [
            dataclasses.asdict(c)
            | {"cpu_within_target": c.cpu_within_target, "ttfc_within_target": c.ttfc_within_target}
            for c in compare(rows)
        ],
        "cells": [
            {
                "stage": cell.stage,
                "client": cell.client,
                "level": cell.level,
                "rep": cell.rep,
                "streams": len(r.samples),
                "chunks": sum(s.chunks for s in r.samples),
                "cpu_user_s": r.cpu_user,
                "cpu_sys_s": r.cpu_sys,
                "wall_s": r.wall,
                "peak_rss_kib": r.peak_rss_kib,
                "server_cpu_s": r.server_cpu,
                "failure": r.failure,
            }
            for cell, r in result.cells
        ],
    }


def write_json(result: BenchResult, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(to_json(result), handle, indent=2)
        handle.write("\n")


CSV_FIRST = ("stage", "client", "transport", "baseline", "level")
"""Then every field of `Row` (lists joined with ";"), so the CSV keeps all the figures."""


def csv_header() -> list[str]:
    rest = [f.name for f in dataclasses.fields(Row) if f.name not in CSV_FIRST]
    return [*CSV_FIRST, *rest]


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e-3 else f"{round(value, 4)}"
    if isinstance(value, list):
        return ";".join(_csv_value(v) for v in value)
    return str(value)


def write_csv(result: BenchResult, path: str) -> None:
    """One row per stage, client and level; empty cells where a figure has no value."""
    header = csv_header()
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for stage, row in _staged_rows(result):
            values = dataclasses.asdict(row) | {
                "stage": stage,
                "transport": row.client.removeprefix(BARE_PREFIX),
                "baseline": is_baseline(row.client),
            }
            writer.writerow(_csv_value(values[name]) for name in header)
