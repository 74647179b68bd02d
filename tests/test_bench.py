"""The wire-level bench, end to end with tiny settings, plus its small pure parts.

This checks that the bench runs and reports sane figures, not what the figures are:
timings on a shared machine are for docs/benchmarks.md, never for assertions.
"""

from __future__ import annotations

import argparse
import csv
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ollama_tui.bench import add_arguments
from ollama_tui.bench.baselines import Tally
from ollama_tui.bench.chart import build_chart
from ollama_tui.bench.options import DEFAULT_LEVELS, SINGLE, SWEEP, BenchOptions
from ollama_tui.bench.report import csv_header
from ollama_tui.bench.runner import plan
from ollama_tui.bench.spec import CellResult, StreamSample
from ollama_tui.bench.stats import percentile, summarise
from ollama_tui.demo import DemoServer
from ollama_tui.transports import TRANSPORT_NAMES

TINY = ["--concurrency", "1,2", "--requests", "2", "--repeat", "1"]
TINY += ["--max-tokens", "5", "--token-rate", "1000", "--no-progress"]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def bench(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ollama_tui.bench", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def check_rows(
    data: dict[str, Any], clients: list[str], levels: list[int], stage: str = SWEEP, least: int = 2
) -> None:
    rows = {(row["client"], row["level"]): row for row in data["rows"] if row["stage"] == stage}
    assert set(rows) == {(c, level) for c in clients for level in levels}
    for (client, level), row in rows.items():
        assert row["errors"] == 0, (client, level, row["error_examples"])
        assert row["streams"] >= max(level, least)
        assert row["chunks"] >= row["streams"] * 2  # a token line and the done line, at least
        assert row["ttfc_p50_ms"] > 0
        assert row["ttfc_p50_ms"] <= row["ttfc_p95_ms"] <= row["ttfc_p99_ms"]
        assert row["ttft_p50_ms"] >= row["ttfc_p50_ms"]
        assert row["ttft_p50_ms"] <= row["ttft_p95_ms"] <= row["ttft_p99_ms"]
        assert 0 < row["total_p50_ms"] <= row["total_p95_ms"] <= row["total_p99_ms"]
        # Aggregate throughput is the cell's tokens over its wall time, all runs pooled.
        assert row["tokens_per_s"] == pytest.approx(row["tokens"] / row["wall_s"])
        assert row["cpu_ms_per_1k_chunks"] > 0
        assert row["peak_rss_mib"] > 0 and row["wall_s"] > 0


def test_bench_end_to_end_with_the_built_in_server(tmp_path: Path) -> None:
    out, table = tmp_path / "bench.json", tmp_path / "bench.csv"
    done = bench(*TINY, "--json", str(out), "--csv", str(table))
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    clients = [c for name in TRANSPORT_NAMES for c in (name, f"bare:{name}")]
    check_rows(data, clients, [1, 2])
    # The server ran as a subprocess, so its CPU could be read for every cell.
    assert all(cell["server_cpu_s"] is not None for cell in data["cells"])
    assert {c["transport"] for c in data["comparisons"]} == set(TRANSPORT_NAMES)
    for comparison in data["comparisons"]:
        assert comparison["single_level"] == 1
        assert all(r > 0 for r in comparison["cpu_ratio"].values())
    # The Rich tables went to stdout, with a row per client, then the chart (two levels).
    assert "bare:aiohttp" in done.stdout and "CPU ratio" in done.stdout
    assert "TTFC p50 (ms)" in done.stdout and "concurrent streams" in done.stdout
    assert "\x1b[" not in done.stdout  # not a terminal: no colour codes

    # The CSV: a header, then one row per client and level with every figure of the JSON.
    with table.open(newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == csv_header()
    assert {"ttfc_p99_ms", "ttft_p99_ms", "total_p95_ms", "tokens_per_s"} <= set(lines[0])
    by_key = {(r["client"], r["level"]): r for r in data["rows"]}
    records = [dict(zip(lines[0], line, strict=True)) for line in lines[1:]]
    assert len(records) == len(by_key) == len(clients) * 2
    for record in records:
        row = by_key[record["client"], int(record["level"])]
        assert record["stage"] == SWEEP
        assert record["baseline"] == ("true" if record["client"].startswith("bare:") else "false")
        assert record["transport"] == record["client"].removeprefix("bare:")
        for name in ("streams", "errors", "chunks", "tokens", "runs"):
            assert int(record[name]) == row[name]
        for name in ("ttfc_p50_ms", "ttfc_p99_ms", "ttft_p95_ms", "total_p95_ms", "tokens_per_s"):
            assert float(record[name]) == pytest.approx(row[name], rel=1e-3, abs=1e-3)
        for name in ("cpu_ms_per_1k_chunks", "peak_rss_mib", "wall_s", "server_cpu_pct"):
            float(record[name])  # parses


def test_preset_against_a_running_server_with_the_chat_endpoint(
    server: DemoServer, tmp_path: Path
) -> None:
    out = tmp_path / "bench.json"
    # The preset's single-stream stage, then a tiny sweep: explicit flags win over the
    # preset's levels and endpoint.
    argv = ["--preset", "seed", *TINY, "--host", server.url, "--model", "demo"]
    argv += ["--endpoint", "chat", "--transports", "aiohttp,requests", "--no-baselines"]
    done = bench(*argv, "--no-chart", "--json", str(out), timeout=60)
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    assert [r["stage"] for r in data["rows"]] == [SINGLE] * 2 + [SWEEP] * 4
    check_rows(data, ["aiohttp", "requests"], [1], stage=SINGLE, least=1)
    check_rows(data, ["aiohttp", "requests"], [1, 2])
    assert all(r["streams"] == 1 for r in data["rows"] if r["stage"] == SINGLE)
    assert data["options"]["preset"] == "seed" and data["options"]["levels"] == [1, 2]
    assert data["comparisons"] == []
    # No pid for a server we did not start: no server CPU rather than a wrong one.
    assert all(cell["server_cpu_s"] is None for cell in data["cells"])
    assert all(b'"messages"' in r.body for r in server.log if r.path == "/api/chat")
    assert "Single stream, each client once" in done.stdout
    assert "concurrent streams" not in done.stdout  # --no-chart


def test_failed_streams_count_as_errors_not_fast_results(
    server: DemoServer, tmp_path: Path
) -> None:
    out = tmp_path / "bench.json"
    server.configure(fault="error-mid")  # every stream ends with an error line
    argv = ["--concurrency", "1", "--requests", "1", "--repeat", "1", "--no-progress"]
    argv += ["--host", server.url, "--model", "demo", "--transports", "httpx-sync"]
    done = bench(*argv, "--max-tokens", "5", "--json", str(out), timeout=60)
    assert done.returncode == 1
    assert "failed" in done.stderr
    rows = json.loads(out.read_text())["rows"]
    assert {row["client"] for row in rows} == {"httpx-sync", "bare:httpx-sync"}
    for row in rows:
        assert row["errors"] == row["streams"] == 1
        assert row["ttfc_p50_ms"] is None and row["total_p50_ms"] is None
        assert row["tokens_per_s"] is None


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but never listening: a connect is refused, and no other
    process can take the port while the test runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_an_unreachable_server_fails_at_once_with_one_line(
    closed_port: int, tmp_path: Path
) -> None:
    out = tmp_path / "bench.json"
    argv = ["--host", f"http://127.0.0.1:{closed_port}", "--model", "demo", "--no-progress"]
    done = bench(*argv, "--json", str(out), timeout=30)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("ollama-tui bench: cannot reach")
    assert f"127.0.0.1:{closed_port}" in lines[0] and "connection refused" in lines[0]
    assert done.stdout == "" and not out.exists()  # no cell ran


def test_an_unknown_model_fails_at_once_with_one_line(server: DemoServer) -> None:
    done = bench("--host", server.url, "--model", "no-such-model", "--no-progress", timeout=30)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("ollama-tui bench: model 'no-such-model' not found")
    assert "demo:latest" in lines[0]  # what the server does have
    assert done.stdout == ""
    assert all(r.path in ("/api/show", "/api/tags") for r in server.log)  # no stream started


def test_host_needs_a_model() -> None:
    with pytest.raises(ValueError, match="--model"):
        BenchOptions.from_args(parse("--host", "localhost:11434"))


def test_cells_are_interleaved_and_rotated_per_repetition() -> None:
    options = BenchOptions.from_args(
        parse("--transports", "requests,aiohttp", "--concurrency", "1,8", "--repeat", "2")
    )
    cells = plan(options)
    first = [c.client for c in cells if c.level == 1 and c.rep == 0]
    second = [c.client for c in cells if c.level == 1 and c.rep == 1]
    assert first == ["requests", "bare:requests", "aiohttp", "bare:aiohttp"]
    assert second == ["aiohttp", "bare:aiohttp", "requests", "bare:requests"]
    assert [c.level for c in cells] == [1] * 8 + [8] * 8
    # 20 streams per client and level, over 2 runs, at least one per concurrent stream.
    assert options.per_stream(1) == 10 and options.per_stream(8) == 2
    assert options.per_stream(256) == 1


def test_preset_seed_sets_its_defaults_and_explicit_flags_win() -> None:
    plain = BenchOptions.from_args(parse())
    assert plain.levels == DEFAULT_LEVELS and plain.read_timeout == 60.0
    assert plain.endpoint == "generate" and not plain.single_stream_first

    seed = BenchOptions.from_args(parse("--preset", "seed", "--transports", "requests,aiohttp"))
    assert seed.preset == "seed" and seed.single_stream_first
    assert seed.levels == (1, 16, 64, 256) and seed.endpoint == "generate"
    assert seed.read_timeout == 600.0  # queued streams wait in silence on a real Ollama
    assert (seed.requests, seed.repeat) == (plain.requests, plain.repeat)
    cells = plan(seed)
    # Each transport once, alone, before the sweep; its baseline too.
    single = [c for c in cells if c.stage == SINGLE]
    assert cells[: len(single)] == single
    assert [(c.client, c.level, c.per_stream(seed)) for c in single] == [
        ("requests", 1, 1),
        ("bare:requests", 1, 1),
        ("aiohttp", 1, 1),
        ("bare:aiohttp", 1, 1),
    ]
    sweep = cells[len(single) :]
    assert sorted({c.level for c in sweep}) == [1, 16, 64, 256]
    assert len(sweep) == 4 * 4 * seed.repeat

    argv = ["--preset", "seed", "--concurrency", "1,4", "--read-timeout", "30"]
    argv += ["--endpoint", "chat", "--requests", "8", "--repeat", "1"]
    mine = BenchOptions.from_args(parse(*argv))
    assert mine.levels == (1, 4) and mine.read_timeout == 30.0 and mine.endpoint == "chat"
    assert (mine.requests, mine.repeat) == (8, 1) and mine.single_stream_first


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0], 95) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([10.0, 0.0, 20.0], 95) == pytest.approx(19.0)


def test_cli_builds_the_bench_parser() -> None:
    from ollama_tui.cli import build_parser

    args = build_parser().parse_args(["--host", "h:1", "bench", "--concurrency", "1,4"])
    assert args.host == "h:1" and args.concurrency == (1, 4)
    args = build_parser().parse_args(["bench", "--host", "h:2", "--model", "m"])
    assert args.host == "h:2" and args.model == "m"


def test_row_figures_pool_runs_and_leave_failed_streams_out() -> None:
    ok = [
        StreamSample(ok=True, ttfc=t / 1000, ttft=t / 1000, total=0.5, chunks=6, tokens=5)
        for t in range(1, 101)
    ]
    failed = StreamSample(ok=False, ttfc=0.0001, total=0.0002, chunks=3, tokens=2, error="x")
    runs = [
        CellResult("aiohttp", 4, ok[:50], cpu_user=0.1, wall=1.0),
        CellResult("aiohttp", 4, [*ok[50:], failed], cpu_user=0.1, wall=1.5),
    ]
    row = summarise("aiohttp", 4, runs)
    assert row.streams == 101 and row.errors == 1
    assert row.ttfc_p50_ms == pytest.approx(50.5)
    assert row.ttfc_p99_ms == pytest.approx(99.01)
    assert row.ttft_p95_ms == pytest.approx(95.05)
    assert row.total_p99_ms == pytest.approx(500)
    assert row.tokens_per_s == pytest.approx(500 / 2.5)  # the failed stream's 2 tokens: out
    assert (
        summarise("aiohttp", 4, [CellResult("aiohttp", 4, [failed], wall=1.0)]).tokens_per_s is None
    )


@dataclass
class FakeRow:
    client: str
    level: int
    ttfc_p50_ms: float | None
    tokens_per_s: float | None


def test_the_chart_has_a_line_per_transport_and_no_baselines() -> None:
    rows = [
        FakeRow(client, level, ttfc * level, 100.0 * level / (1 + i))
        for i, (client, ttfc) in enumerate([("requests", 2.0), ("aiohttp", 1.0)])
        for level in (1, 16, 64, 256)
    ]
    rows.append(FakeRow("bare:aiohttp", 1, 1.0, 100.0))
    rows.append(FakeRow("httpx-async", 1, None, None))  # every stream failed: no line
    chart = build_chart(rows, width=80, height=30, color=False)
    assert "\x1b[" not in chart
    assert "requests" in chart and "aiohttp" in chart
    assert "bare:" not in chart and "httpx-async" not in chart
    assert "TTFC p50 (ms)" in chart and "aggregate tokens/s" in chart
    assert "concurrent streams" in chart and "256" in chart
    assert max(len(line) for line in chart.splitlines()) <= 80
    coloured = build_chart(rows, width=80, height=30)
    assert "\x1b[" in coloured and "requests" in coloured
    # Twice in a row gives the same chart: plotext's global figure is reset each time.
    assert build_chart(rows, width=80, height=30, color=False) == chart
    assert build_chart([FakeRow("bare:requests", 1, 1.0, 1.0)], color=False) == ""


def test_the_bare_loop_counts_reasoning_as_tokens_like_the_project() -> None:
    tally = Tally()
    tally.line({"response": "", "thinking": "Hmm"}, 1.0)
    tally.line({"message": {"role": "assistant", "content": "", "thinking": "so"}}, 2.0)
    tally.line({"response": "", "done": True}, 3.0)
    assert tally.tokens == 2 and tally.first_token == 1.0 and tally.chunks == 3


def test_the_headless_ui_bench_streams_a_reply_through_the_app(tmp_path: Path) -> None:
    """`bench --ui --headless` patches the stream's take to time arrivals: it must keep
    working as the chat screen takes (the pacer's hold, say)."""
    out = tmp_path / "ui.json"
    argv = [sys.executable, "-m", "ollama_tui", "bench", "--ui", "--headless"]
    argv += ["--transports", "aiohttp", "--shapes", "prose", "--rate", "400"]
    argv += ["--tokens", "200", "--json", str(out)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(out.read_text())["results"]
    assert result["tokens"] >= 200
    assert result["lag_p50_ms"] > 0


def test_the_network_bench_prints_each_transports_reading_cost(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ollama_tui.bench import network

    assert network.main(["--rate", "1000", "--tokens", "200"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [row.split()[0] for row in rows] == list(TRANSPORT_NAMES)
    assert all(float(row.split()[1]) >= 0 for row in rows)
