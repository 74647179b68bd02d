"""The wire-level bench, end to end with tiny settings, plus its small pure parts.

This checks that the bench runs and reports sane figures, not what the figures are:
timings on a shared machine are for docs/benchmarks.md, never for assertions.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ollama_tui.bench import add_arguments
from ollama_tui.bench.options import BenchOptions
from ollama_tui.bench.runner import plan
from ollama_tui.bench.stats import percentile
from ollama_tui.demo import DemoServer
from ollama_tui.transports import TRANSPORT_NAMES

TINY = ["--concurrency", "1,2", "--requests", "2", "--repeat", "1"]
TINY += ["--max-tokens", "5", "--token-rate", "1000", "--no-progress"]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def check_rows(data: dict, clients: list[str], levels: list[int]) -> None:
    rows = {(row["client"], row["level"]): row for row in data["rows"]}
    assert set(rows) == {(c, level) for c in clients for level in levels}
    for (client, level), row in rows.items():
        assert row["errors"] == 0, (client, level, row["error_examples"])
        assert row["streams"] >= max(level, 2)
        assert row["chunks"] >= row["streams"] * 2  # a token line and the done line, at least
        assert row["ttfc_p50_ms"] > 0
        assert row["ttfc_p50_ms"] <= row["ttfc_p95_ms"]
        assert row["ttft_p50_ms"] >= row["ttfc_p50_ms"]
        assert 0 < row["total_p50_ms"] <= row["total_p95_ms"]
        assert row["cpu_ms_per_1k_chunks"] > 0
        assert row["peak_rss_mib"] > 0 and row["wall_s"] > 0


def test_bench_end_to_end_with_the_built_in_server(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "ollama_tui.bench", *TINY, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
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
    # The Rich table went to stdout, with a row per client.
    assert "bare:aiohttp" in done.stdout and "CPU ratio" in done.stdout


def test_bench_against_a_running_server_with_the_chat_endpoint(
    server: DemoServer, tmp_path: Path
) -> None:
    out = tmp_path / "bench.json"
    argv = [*TINY, "--host", server.url, "--model", "demo", "--endpoint", "chat"]
    argv += ["--transports", "aiohttp,requests", "--no-baselines", "--json", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "ollama_tui.bench", *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    check_rows(data, ["aiohttp", "requests"], [1, 2])
    assert data["comparisons"] == []
    # No pid for a server we did not start: no server CPU rather than a wrong one.
    assert all(cell["server_cpu_s"] is None for cell in data["cells"])
    assert all(b'"messages"' in r.body for r in server.log if r.path == "/api/chat")


def test_a_failing_server_counts_errors_not_fast_results(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    # Nothing listens on port 9 of loopback (discard): every stream is refused.
    argv = ["--concurrency", "1", "--requests", "1", "--repeat", "1", "--no-progress"]
    argv += ["--host", "http://127.0.0.1:9", "--model", "demo", "--transports", "httpx-sync"]
    done = subprocess.run(
        [sys.executable, "-m", "ollama_tui.bench", *argv, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    rows = json.loads(out.read_text())["rows"]
    assert {row["client"] for row in rows} == {"httpx-sync", "bare:httpx-sync"}
    for row in rows:
        assert row["errors"] == row["streams"] == 1
        assert row["ttfc_p50_ms"] is None and row["total_p50_ms"] is None


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
