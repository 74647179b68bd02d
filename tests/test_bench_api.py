"""The wire-level bench over both wire formats: Ollama's NDJSON and /v1's Server-Sent Events.

As in tests/test_bench.py, this checks that the figures are there and sane, never what
they are: timings on a shared machine belong in docs/benchmarks.md.
"""

from __future__ import annotations

import csv
import json
import socket
from collections import Counter
from pathlib import Path

import pytest

from ollama_tui.bench.baselines import Tally
from ollama_tui.bench.chart import build_chart
from ollama_tui.bench.options import SINGLE, BenchOptions
from ollama_tui.bench.report import csv_header
from ollama_tui.bench.runner import api_urls, describe_cell, plan, spec_for, v1_url
from ollama_tui.bench.spec import CellSpec
from ollama_tui.bench.worker import build_request
from ollama_tui.demo import DemoServer
from tests.test_bench import TINY, FakeRow, bench, check_rows, parse

APIS = ["ollama", "openai"]
PAIR = ["requests", "aiohttp"]


def test_both_apis_for_a_sync_and_an_async_transport_with_the_built_in_server(
    tmp_path: Path,
) -> None:
    # Two of the four: each cell is a worker process, and all four took 27 s of the
    # suite (every transport over /v1 is tested in tests/test_openai_wire.py).
    out, table = tmp_path / "bench.json", tmp_path / "bench.csv"
    done = bench(
        *TINY,
        "--transports",
        ",".join(PAIR),
        "--api",
        "both",
        "--json",
        str(out),
        "--csv",
        str(table),
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    clients = [c for name in PAIR for c in (name, f"bare:{name}")]
    for api in APIS:
        check_rows({"rows": [r for r in data["rows"] if r["api"] == api]}, clients, [1, 2])
    rows = {(r["client"], r["level"], r["api"]): r for r in data["rows"]}
    assert len(rows) == len(data["rows"]) == len(clients) * 2 * 2
    for client in clients:
        for level in (1, 2):
            ollama, openai = rows[client, level, "ollama"], rows[client, level, "openai"]
            # The same reply (--max-tokens 5 of the same text) is the same tokens over
            # either wire, for the project's decoders and the bare loops alike.
            assert ollama["streams"] == openai["streams"]
            assert ollama["tokens"] == openai["tokens"] == 5 * ollama["streams"]
            # NDJSON: 5 token lines and the done line; SSE: 5 events, the finish event,
            # the usage event and [DONE].
            assert ollama["chunks"] == 6 * ollama["streams"]
            assert openai["chunks"] == 8 * openai["streams"]
    # Every cell once per API, with the server's CPU read for each.
    cells = Counter((c["client"], c["level"], c["api"]) for c in data["cells"])
    assert set(cells.values()) == {1} and len(cells) == len(rows)
    assert all(cell["server_cpu_s"] is not None for cell in data["cells"])
    comparisons = {(c["transport"], c["api"]) for c in data["comparisons"]}
    assert comparisons == {(t, api) for t in PAIR for api in APIS}
    assert data["options"]["api"] == "both"
    assert data["api_urls"] == {"ollama": data["base_url"], "openai": data["base_url"] + "/v1"}

    # Tables and chart name the API of every row; the chart has a line per transport and API.
    assert done.stdout.count("openai SSE") >= 2 * len(clients) + len(PAIR)
    assert "/api/generate (NDJSON) and /v1/chat/completions (SSE)" in done.stdout
    for name in PAIR:
        assert f"{name} NDJSON" in done.stdout and f"{name} SSE" in done.stdout

    # The CSV: the existing columns as they were, api last.
    with table.open(newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == csv_header() and lines[0][-1] == "api"
    records = [dict(zip(lines[0], line, strict=True)) for line in lines[1:]]
    assert Counter(r["api"] for r in records) == {
        "ollama": len(clients) * 2,
        "openai": len(clients) * 2,
    }
    for record in records:
        row = rows[record["client"], int(record["level"]), record["api"]]
        assert int(record["tokens"]) == row["tokens"] and int(record["chunks"]) == row["chunks"]


def test_openai_against_a_running_server_with_a_key(
    server: DemoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "bench.json"
    server.configure(api_key="s3cret")
    monkeypatch.setenv("BENCH_TEST_KEY", "s3cret")
    argv = ["--preset", "seed", *TINY, "--host", server.url, "--model", "demo"]
    argv += ["--api", "openai", "--transports", "aiohttp,httpx-sync", "--no-baselines"]
    argv += ["--api-key-env", "BENCH_TEST_KEY", "--endpoint", "chat", "--prompt", "Hi there"]
    done = bench(*argv, "--no-chart", "--json", str(out), timeout=120)
    assert done.returncode == 0, done.stderr
    # --endpoint is Ollama's: said to be ignored, in one sentence.
    assert "--endpoint chat is ignored" in done.stderr
    data = json.loads(out.read_text())
    check_rows(data, ["aiohttp", "httpx-sync"], [1], stage=SINGLE, least=1)
    check_rows(data, ["aiohttp", "httpx-sync"], [1, 2])
    assert {r["api"] for r in data["rows"]} == {"openai"}
    assert data["api_urls"] == {"openai": server.url + "/v1"}
    # One table, no api column: the header line names what was requested.
    assert "/v1/chat/completions (SSE)" in done.stdout and "openai SSE" not in done.stdout
    streams = [r for r in server.log if r.path == "/v1/chat/completions"]
    assert streams and all(r.api_key_matched for r in server.log)
    assert not [r for r in server.log if r.path.startswith("/api/")]
    for record in streams:
        body = json.loads(record.body)
        if body.get("stream") is False:
            continue  # the preflight's probe, if the model was not listed
        assert body["messages"] == [{"role": "user", "content": "Hi there"}]
        assert body["max_tokens"] == 5 and body["stream_options"] == {"include_usage": True}
        assert record.headers.get("Accept") == "text/event-stream"


def test_an_unknown_model_over_v1_fails_at_once_with_one_line(server: DemoServer) -> None:
    argv = ["--host", server.url, "--model", "no-such-model", "--api", "openai"]
    done = bench(*argv, "--no-progress", timeout=30)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("ollama-tui bench: model 'no-such-model': ")
    assert "HTTP 404" in lines[0] and "demo:latest" in lines[0]  # what the server lists
    assert done.stdout == ""
    # The list, then the one-token probe; no stream started.
    assert [r.path for r in server.log] == ["/v1/models", "/v1/chat/completions"]
    assert json.loads(server.log[1].body)["max_tokens"] == 1


def test_a_refused_key_fails_at_once_naming_the_variable(
    server: DemoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.configure(api_key="s3cret")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    done = bench("--host", server.url, "--model", "demo", "--api", "both", "--no-progress")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "answered HTTP 401 to GET /models" in lines[0] and "$OPENAI_API_KEY" in lines[0]
    assert [r.path for r in server.log] == ["/api/show", "/v1/models"]  # before any cell


def test_an_unreachable_v1_server_fails_at_once_with_one_line() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: refused
        port = sock.getsockname()[1]
        argv = ["--host", f"127.0.0.1:{port}/v1", "--model", "m", "--api", "openai"]
        done = bench(*argv, "--no-progress", timeout=30)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"ollama-tui bench: cannot reach http://127.0.0.1:{port}/v1 ")
    assert "connection refused" in lines[0]


def test_the_api_option_and_the_main_parser() -> None:
    from ollama_tui.cli import build_parser

    assert BenchOptions.from_args(parse()).apis == ("ollama",)
    assert BenchOptions.from_args(parse("--api", "openai")).apis == ("openai",)
    both = BenchOptions.from_args(parse("--api", "both", "--api-key-env", "MY_KEY"))
    assert both.apis == ("ollama", "openai") and both.api_key_env == "MY_KEY"
    with pytest.raises(SystemExit):
        parse("--api", "grpc")
    # Given before the subcommand (the app's own flags) or after it, alike.
    args = build_parser().parse_args(["--api", "openai", "--api-key-env", "K", "bench"])
    options = BenchOptions.from_args(args)
    assert options.api == "openai" and options.api_key_env == "K"
    args = build_parser().parse_args(["bench", "--api", "both"])
    assert BenchOptions.from_args(args).api == "both"
    assert BenchOptions.from_args(build_parser().parse_args(["bench"])).api == "ollama"


def test_each_cell_runs_once_per_api_alternating() -> None:
    argv = ["--transports", "requests,aiohttp", "--concurrency", "1,8", "--repeat", "2"]
    options = BenchOptions.from_args(parse(*argv, "--api", "both"))
    cells = plan(options)
    first = [(c.client, c.api) for c in cells if c.level == 1 and c.rep == 0]
    assert first == [
        ("requests", "ollama"),
        ("requests", "openai"),
        ("bare:requests", "ollama"),
        ("bare:requests", "openai"),
        ("aiohttp", "ollama"),
        ("aiohttp", "openai"),
        ("bare:aiohttp", "ollama"),
        ("bare:aiohttp", "openai"),
    ]
    # The next repetition starts elsewhere in the client list, and with the other API.
    second = [(c.client, c.api) for c in cells if c.level == 1 and c.rep == 1]
    assert second[:2] == [("aiohttp", "openai"), ("aiohttp", "ollama")]
    assert len(cells) == 2 * 2 * 4 * 2  # levels × repetitions × clients × APIs
    # Without --api: the cells of before, all Ollama's.
    plain = plan(BenchOptions.from_args(parse(*argv)))
    assert [(c.client, c.level, c.rep) for c in plain] == [
        (c.client, c.level, c.rep) for c in cells if c.api == "ollama"
    ]
    assert {c.api for c in plain} == {"ollama"}
    # The progress line names the API only when the run has two.
    assert describe_cell(cells[1], options) == "requests over openai × 1 (run 1/2)"
    assert describe_cell(plain[0], options) == "requests over ollama × 1 (run 1/2)"
    assert describe_cell(plain[0], BenchOptions.from_args(parse())) == "requests × 1 (run 1/2)"
    seed = plan(BenchOptions.from_args(parse("--preset", "seed", "--api", "both", *argv[:2])))
    single = [(c.client, c.api) for c in seed if c.stage == SINGLE]
    assert len(single) == 8 and single[:2] == [("requests", "ollama"), ("requests", "openai")]


def test_v1_urls() -> None:
    assert v1_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080/v1"
    assert v1_url("http://h:8080/v1") == "http://h:8080/v1"
    assert v1_url("https://h:443/openai/v1") == "https://h:443/openai/v1"
    both = BenchOptions.from_args(parse("--api", "both"))
    assert api_urls("http://h:1", both) == {"ollama": "http://h:1", "openai": "http://h:1/v1"}
    assert api_urls("http://h:1/v1", both) == {"ollama": "http://h:1", "openai": "http://h:1/v1"}
    plain = BenchOptions.from_args(parse())
    assert api_urls("http://h:1", plain) == {"ollama": "http://h:1"}


def test_an_openai_cell_sends_what_core_openai_builds() -> None:
    from ollama_tui.core import openai
    from ollama_tui.core.protocol import ChatMessage

    options = BenchOptions.from_args(parse("--api", "both", "--max-tokens", "7"))
    ollama_cell, openai_cell = plan(options)[:2]
    spec = spec_for(openai_cell, options, "http://h:1/v1", None)
    assert spec.api == "openai" and spec.api_key_env == "OPENAI_API_KEY"
    request = build_request(CellSpec.from_json(spec.to_json()), spec.max_tokens)
    expected = openai.chat_request(
        "demo", [ChatMessage("user", options.prompt)], options={"num_predict": 7}
    )
    assert request == expected and request.payload == expected.payload
    assert request.path == "/chat/completions" and request.wire == "sse"
    assert json.loads(request.payload)["max_tokens"] == 7
    # Ollama's cell: as before, built in the worker, no key, no /v1 request.
    plain = spec_for(ollama_cell, options, "http://h:1", None)
    assert plain.api == "ollama" and plain.request is None and plain.api_key_env is None
    assert build_request(plain, plain.max_tokens).path == "/api/generate"


def test_the_bare_loop_tallies_sse_events_like_ndjson_lines() -> None:
    tally = Tally()
    role = b'{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}'
    tally.sse_bytes(b"data: " + role, 1.0)  # an event, no text yet
    tally.sse_bytes(b": keep-alive", 1.5)  # a comment: not an event
    tally.sse_bytes(b"", 1.6)  # the blank line between events
    tally.sse_bytes(b'data: {"choices":[{"delta":{"reasoning_content":"Hmm"}}]}', 2.0)
    tally.sse_text('data:{"choices":[{"delta":{"reasoning":"so"}}]}', 3.0)
    tally.sse_text('data: {"choices":[{"delta":{"content":"Hi"}}]}', 4.0)
    tally.sse_text('data: {"choices":[{"delta":{},"finish_reason":"stop"}]}', 5.0)
    tally.sse_text('data: {"choices":[],"usage":{"completion_tokens":3}}', 6.0)
    assert tally.sample().error == "the body ended without a done line"
    tally.sse_bytes(b"data: [DONE]", 7.0)
    assert (tally.chunks, tally.tokens) == (7, 3)
    assert (tally.first, tally.first_token, tally.done_at) == (1.0, 2.0, 7.0)
    assert tally.sample().ok


def test_the_chart_has_a_line_per_transport_and_api_when_labelled() -> None:
    rows = [
        FakeRow(client, level, ttfc * level * (1 + k), 100.0 * level / (1 + i + k))
        for i, (client, ttfc) in enumerate([("requests", 2.0), ("aiohttp", 1.0)])
        for k, api in enumerate(("NDJSON", "SSE"))
        for level in (1, 16)
    ]
    apis = [api for _ in range(2) for api in ("NDJSON", "SSE") for _ in range(2)]
    labels = {id(row): f"{row.client} {api}" for row, api in zip(rows, apis, strict=True)}
    chart = build_chart(rows, width=80, height=40, color=False, label=lambda r: labels[id(r)])
    for name in ("requests NDJSON", "requests SSE", "aiohttp NDJSON", "aiohttp SSE"):
        assert name in chart  # the legend fits: the chart is as tall as asked
    assert len(chart.splitlines()) == 40
    assert "-- requests SSE" in chart and "@@ aiohttp SSE" in chart  # second markers
    coloured = build_chart(rows, width=80, height=40, label=lambda r: labels[id(r)])
    assert "\x1b[" in coloured and "aiohttp SSE" in coloured
