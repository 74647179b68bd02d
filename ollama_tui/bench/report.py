"""The results as Rich tables and a chart on stdout, and as JSON and CSV files."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ollama_tui.bench.chart import chart_levels
from ollama_tui.bench.options import OLLAMA, OPENAI, SINGLE, SWEEP, WIRE_NAMES
from ollama_tui.bench.ratios import CPU_RATIO_TARGET, TTFC_DELTA_TARGET_MS, Comparison, compare
from ollama_tui.bench.results import BenchResult
from ollama_tui.bench.spec import BARE_PREFIX, is_baseline
from ollama_tui.bench.stats import Row


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


def _several_apis(rows: list[Row]) -> bool:
    return len({row.api for row in rows}) > 1


def _section_rows(table: Table, rows: list[Row], cells: Callable[[Row], list[str]]) -> None:
    """conc and client (and the API, when the rows have several), then `cells(row)`,
    errors last; a rule between levels."""
    previous = None
    apis = _several_apis(rows)
    for row in rows:
        if previous is not None and row.level != previous:
            table.add_section()
        previous = row.level
        style = "dim" if is_baseline(row.client) else ""
        errors = Text(str(row.errors), style="bold red" if row.errors else "")
        api = [Text(api_label(row.api), style=style)] if apis else []
        table.add_row(str(row.level), Text(row.client, style=style), *api, *cells(row), errors)


def api_label(api: str) -> str:
    """How a row names its API: "ollama NDJSON", "openai SSE"."""
    return f"{api} {WIRE_NAMES.get(api, '')}".strip()


def _table(title: str, headers: tuple[str, ...], api: bool = False) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("conc", justify="right")
    table.add_column("client", no_wrap=True)
    if api:
        table.add_column("api", no_wrap=True)
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
        _several_apis(rows),
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
        _several_apis(rows),
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
    apis = len({c.api for c in comparisons}) > 1
    table.add_column("transport")
    if apis:
        table.add_column("api")
    for level in levels:
        table.add_column(f"CPU ratio ×{level}", justify="right")
    table.add_column("TTFC Δ ms", justify="right")
    for c in comparisons:
        cells: list[Text | str] = [c.transport, *([api_label(c.api)] if apis else [])]
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
        f"{server}; model {options.model!r}, {_paths(options.apis, options.endpoint)}, "
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
        f"Load average (1/5/15 min) {load}; the machine may be shared and noisy."
        + _sse_note(options.apis),
        highlight=False,
        style="dim",
    )


def _paths(apis: tuple[str, ...], endpoint: str) -> str:
    """What the cells request: "/api/generate" (as ever, for Ollama's API alone)."""
    paths = {OLLAMA: f"/api/{endpoint}", OPENAI: "/v1/chat/completions"}
    if apis == (OLLAMA,):
        return paths[OLLAMA]
    named = " and ".join(f"{paths[api]} ({WIRE_NAMES[api]})" for api in apis)
    return named + (", every cell once over each, alternating" if len(apis) > 1 else "")


def _sse_note(apis: tuple[str, ...]) -> str:
    if OPENAI not in apis:
        return ""
    return (
        " Over /v1 a chunk is one Server-Sent Event ([DONE] included), a token one with "
        "text in its delta; the bare rows read the events with the same line iterator, "
        "one data: line each."
    )


def _chart_label(row: Any) -> str:
    return f"{row.client} {WIRE_NAMES.get(row.api, row.api)}"


def print_chart(rows: list[Row], console: Console) -> None:
    """The sweep's chart; a note instead when plotext is missing, never a lost run."""
    from ollama_tui.bench.chart import build_chart

    color = console.is_terminal and not console.no_color
    label = _chart_label if _several_apis(rows) else None
    try:
        width = max(40, min(console.width, 100))
        chart = build_chart(rows, width=width, color=color, label=label)
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
        "api_urls": result.api_urls,
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
                "api": cell.api,
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
