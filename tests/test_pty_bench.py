"""`bench --ui` on a pty: the marker scan over split writes and escape sequences, the
numbered replies and send stamps, and the JSON of one tiny real run. No timing bounds."""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ollama_tui.bench.meter import MARKER, EscapeStripper, MarkerScan
from ollama_tui.bench.proctree import TICK, tree_cpu
from ollama_tui.bench.ui import main as ui_main
from ollama_tui.bench.ui import rate_list
from ollama_tui.demo import DemoConfig, DemoServer
from ollama_tui.demo.numbered import SHAPES, numbered_reply
from ollama_tui.demo.replies import tokenize

# What Textual writes for a line of a reply: position, colours, text, reset.
LINE = (
    b"\x1b[12;3H\x1b[38;5;253;48;5;233mw00001 w00002\x1b[0m\x1b[48;5;233m \x1b[0m"
    b"\x1b[1;38;5;253;48;5;233mw00003\x1b[0m\x1b]8;id=1;http://x\x1b\\w00004\x1b]8;;\x1b\\\r\n"
)


def feed_in_pieces(data: bytes, cuts: list[int]) -> MarkerScan:
    scan = MarkerScan()
    edges = [0, *cuts, len(data)]
    for i, (a, b) in enumerate(itertools.pairwise(edges)):
        scan.feed(data[a:b], float(i))
    return scan


def test_the_stripper_removes_every_sequence_wherever_the_reads_are_cut() -> None:
    whole = EscapeStripper().feed(LINE)
    assert b"\x1b" not in whole
    assert b"w00001 w00002 w00003w00004" in whole
    for cut in range(1, len(LINE)):
        stripper = EscapeStripper()
        assert stripper.feed(LINE[:cut]) + stripper.feed(LINE[cut:]) == whole, cut


def test_each_marker_is_found_once_with_the_time_of_the_read_that_completed_it() -> None:
    markers = [b"w00001", b"w00002", b"w00003", b"w00004"]
    for cut in range(1, len(LINE)):
        scan = feed_in_pieces(LINE, [cut])
        assert sorted(scan.first) == markers, cut
        for marker in markers:
            end = LINE.index(marker) + len(marker)
            assert scan.first[marker] == (0.0 if end <= cut else 1.0), (cut, marker)


def test_a_marker_split_by_a_cursor_move_and_a_colour_is_found() -> None:
    data = b"\x1b[5;1Hsome w000\x1b[5;11H\x1b[38;5;12m42\x1b[0m more"
    for cut in range(1, len(data)):
        assert list(feed_in_pieces(data, [cut]).first) == [b"w00042"], cut
    assert list(feed_in_pieces(data, list(range(1, len(data)))).first) == [b"w00042"]


def test_first_appearance_only_and_only_expected_markers() -> None:
    scan = MarkerScan(expected={b"w00001", b"w00002"})
    scan.feed(b"w00001 w99999", 1.0)
    scan.feed(b"\x1b[1;1Hw00001 w00002", 2.0)
    assert scan.first == {b"w00001": 1.0, b"w00002": 2.0}
    assert scan.complete


def test_no_marker_is_made_up_from_longer_words_or_numbers() -> None:
    scan = MarkerScan()
    scan.feed(b"xw00001 w000012 w0001 w00003", 0.0)
    assert list(scan.first) == [b"w00003"]


def test_the_marker_seen_in_the_tail_is_not_timed_again() -> None:
    scan = MarkerScan()
    scan.feed(b"text w00007", 1.0)
    scan.feed(b" and more", 2.0)
    assert scan.first == {b"w00007": 1.0}


@pytest.mark.parametrize("shape", SHAPES)
def test_numbered_replies_have_unique_markers_and_their_shape(shape: str) -> None:
    reply = numbered_reply(shape, 600)
    markers = MARKER.findall(reply.encode())
    assert len(markers) == len(set(markers)) > 100
    assert len(tokenize(reply)) >= 600
    lines = reply.splitlines()
    if shape == "prose":
        assert any(line.startswith("## ") for line in lines)
        assert any(line.startswith("- ") for line in lines)
    elif shape == "code-fence":
        assert lines[0] == "```python" and lines[-1] == "```"
        assert sum(line.startswith("```") for line in lines) == 2
        assert max(map(len, lines)) < 80  # never clipped at 120 columns
    else:
        assert "\n\n" not in reply.strip()


def test_the_server_stamps_each_content_token_out_of_band(tmp_path: Path) -> None:
    import httpx

    stamps = tmp_path / "stamps.json"
    reply = numbered_reply("prose", 80)
    config = DemoConfig(token_rate=0, reply=reply, stamp_file=str(stamps))
    with DemoServer(config) as server:
        before = time.perf_counter()
        body = {"model": "demo", "messages": [{"role": "user", "content": "go"}]}
        with httpx.stream("POST", f"{server.url}/api/chat", json=body) as response:
            lines = [json.loads(line) for line in response.iter_lines() if line]
        after = time.perf_counter()
        server.wait_for_requests(1)
    text = "".join(line["message"]["content"] for line in lines)
    assert text == reply  # the stamps are not in the reply
    pieces = json.loads(stamps.read_text())["pieces"]
    assert "".join(t for _, t in pieces) == reply
    sent = [s for s, _ in pieces]
    assert sent == sorted(sent) and before <= sent[0] and sent[-1] <= after


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_the_main_threads_cpu_is_told_apart_from_the_other_threads() -> None:
    def burn() -> None:  # a reading thread's work, say
        until = time.thread_time() + 0.3
        while time.thread_time() < until:
            pass

    before = tree_cpu(os.getpid())
    side = threading.Thread(target=burn)
    side.start()
    side.join()
    between = tree_cpu(os.getpid())
    burn()  # now on the main thread
    after = tree_cpu(os.getpid())
    assert between.own - before.own >= 0.25
    assert between.main - before.main < 0.1  # (it only waited)
    assert after.main - between.main >= 0.25
    assert before.main <= before.own and after.main <= after.own


def test_rates_are_a_comma_list() -> None:
    assert rate_list("100,500") == (100.0, 500.0)
    with pytest.raises(argparse.ArgumentTypeError):
        rate_list("fast")


def tiny_run(tmp_path: Path, *extra: str) -> dict[str, Any]:
    """The JSON of `bench --ui` on a 60-token paragraph at 1,000 tok/s over aiohttp."""
    path = tmp_path / "runs.json"
    argv = ["--transports", "aiohttp", "--shapes", "paragraph", "--tokens", "60"]
    assert ui_main([*argv, "--rate", "1000", *extra, "--json", str(path)]) == 0
    document: dict[str, Any] = json.loads(path.read_text())
    return document


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and a pty")
def test_a_tiny_real_run_writes_the_documented_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = tiny_run(tmp_path)
    assert list(document) == ["runs"]
    (run,) = document["runs"]
    assert (run["transport"], run["shape"], run["rate"]) == ("aiohttp", "paragraph", 1000.0)
    assert run["tokens"] >= 60 and isinstance(run["tokens"], int)
    assert set(run["lag_ms"]) == {"p50", "p95", "max"}
    numbers = [*run["lag_ms"].values(), run["cpu_ms_per_1k_tokens"], run["idle_cpu_pct"]]
    numbers += [run["gap_max_ms"], run["worker_cpu_ms_per_1k_tokens"]]
    numbers += [run["ui_thread_cpu_ms_per_1k_tokens"]]
    assert all(isinstance(x, float) and math.isfinite(x) for x in numbers), run
    # The main thread's part of the reply's CPU, not of the app's life (the two are read
    # one after the other, in clock ticks the kernel rounds apart: two ticks of slack).
    ticks = 2 * TICK * 1e6 / run["tokens"]
    assert 0 <= run["ui_thread_cpu_ms_per_1k_tokens"] <= run["cpu_ms_per_1k_tokens"] + ticks, run
    for key in ("unseen_tokens", "markers", "echo_lost"):
        assert isinstance(run[key], int)
    assert run["unseen_tokens"] == 0 and run["errors"] == []
    assert set(run["echo_after_ms"]) >= {"p50", "p95", "max"}
    assert len(run["load_avg"]) == 3
    # The reference works, each before and after the reply.
    assert sorted(run["machine_ref_ms"]) == ["memory", "python"]
    for kind in ("memory", "python"):
        before, after = run["machine_ref_ms"][kind]
        assert all(isinstance(x, float) and 0 < x < 10_000 for x in (before, after)), run
    assert re.search(r"aiohttp\s+paragraph\s+1000\s+\d+", capsys.readouterr().out)


def test_the_floor_bench_runs_its_bare_app_on_a_pty_and_prints_a_cost(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ollama_tui.bench.floor import main as floor_main

    floor_main(["--shapes", "lines-in-hand,bytes", "--seconds", "0.5", "--fixes"])
    out, err = capsys.readouterr()
    rows = out.splitlines()[-3:]
    labels = ["lines-in-hand", r"lines-in-hand \+fixes", "bytes"]  # no Textual: no fixes
    for row, label in zip(rows, labels, strict=True):
        found = re.fullmatch(label + r" +run 1  CPU +([0-9.]+) s per 1,000 tokens", row)
        assert found, row
        # The bare writer may not use a clock tick (10 ms) of CPU in half a second.
        cost = float(found.group(1))
        assert cost >= 0 if label == "bytes" else cost > 0
    assert "killed" not in err  # each quit on Ctrl+Q, the bare writer too


def test_the_frames_bench_times_the_apps_frames_on_a_pty(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ollama_tui.bench.frames import main as frames_main

    assert frames_main(["--shape", "paragraph", "--tokens", "150", "--rate", "200"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"aiohttp\s+paragraph\s+200\s+\d+", out), out  # the bench's own row
    summary = re.search(r"(\d+) frames in ([\d.]+) s of streaming", out)
    assert summary and int(summary[1]) > 1, out  # the probe ran in the app and wrote them
    # The live answer's repaints, timed: a row of that kind with its rate and CPU. Its
    # appends are painted as they end (`paint_now`), as in the app people run: the probe
    # must not make the app leave them to Textual's timer.
    row = r"^now LiveSegment\S*\s+[\d.]+\s+[\d.]+ms\s+[\d.]+ms\s+\d+ ms$"
    assert re.search(row, out, re.M), out


def test_the_frames_probe_leaves_the_app_as_people_run_it(tmp_path: Path) -> None:
    # The probe's `sitecustomize`, loaded as the bench loads it (first on the path of a
    # process of its own: it patches Textual for good). The wrapped timer must read as
    # the method itself (else `paint_now` leaves every append to the timer), and Textual
    # must run at the app's frame rate (it reads it when first imported: by the probe).
    import subprocess

    from textual.screen import Screen

    from ollama_tui.bench.frame_probe import ENV
    from ollama_tui.bench.frames import SITECUSTOMIZE
    from ollama_tui.ui import TEXTUAL_FPS
    from ollama_tui.ui.paint_now import ON_TIMER_UPDATE_8_2_8
    from ollama_tui.ui.textual_fixes import same_source

    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    code = """
from textual import constants
from textual.screen import Screen
from ollama_tui.ui.paint_now import ON_TIMER_UPDATE_8_2_8
from ollama_tui.ui.textual_fixes import same_source
print(same_source(Screen._on_timer_update, ON_TIMER_UPDATE_8_2_8), constants.MAX_FPS)
"""
    env = {key: value for key, value in os.environ.items() if key != "TEXTUAL_FPS"}
    env.update({"PYTHONPATH": str(tmp_path), ENV: str(tmp_path / "frames.json")})
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    unprobed = same_source(Screen._on_timer_update, ON_TIMER_UPDATE_8_2_8)
    assert done.stdout.split() == [str(unprobed), TEXTUAL_FPS], done.stderr


def test_the_frames_report_keeps_the_streaming_frames_and_adds_up_each_kind() -> None:
    from ollama_tui.bench.frames import report, streaming

    frames = [
        (0.0, "layout Header", 0.050),  # start-up: before the answer's first repaint
        (1.0, "LiveSegment", 0.001),
        (1.5, "PromptInput", 0.002),
        (2.0, "LiveSegment+StatusBar", 0.003),
        (3.0, "LiveSegment", 0.003),
        (9.0, "StatusBar", 0.004),  # after: the reply's end
    ]
    assert streaming(frames) == frames[1:5]
    lines = report(frames, rate=100).splitlines()
    # 4 frames over 2 s, 9 ms of CPU: 4.5 ms a second, 45 ms per 1,000 tokens at 100 a second.
    assert lines[0] == "4 frames in 2.0 s of streaming, 45 ms per 1,000 tokens"
    live = next(line for line in lines if line.startswith("LiveSegment "))
    assert live.split() == ["LiveSegment", "1.0", "2.00ms", "2.00ms", "20", "ms"]
    assert report(frames[:1], rate=100).startswith("no frames repainted the answer")


def test_the_paired_bench_runs_two_cells_at_once_and_one_can_type_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ollama_tui.bench.paired import main as paired_main

    root = str(Path(__file__).parents[1])
    argv = ["--before", root, "--untyped-after", "--pairs", "1", "--shape", "paragraph"]
    assert paired_main([*argv, "--tokens", "150", "--rate", "100"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:3]}
    assert set(rows) == {"before", "after"}
    # The echo's p50 and p95 follow the third "ms" (lag, CPU, gap): typed before only.
    echo = {}
    for name, row in rows.items():
        third = [i for i, word in enumerate(row) if word == "ms"][2]
        echo[name] = [float(x) for x in row[third + 1 : third + 3]]
    assert all(math.isnan(x) for x in echo["after"]), echo
    assert all(math.isfinite(x) for x in echo["before"]), echo
    assert re.search(r"CPU after / before: \d+\.\d{3} \(main thread \d+\.\d{3}\)", out)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and a pty")
def test_a_repeated_cell_writes_each_run_and_their_medians(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = tiny_run(tmp_path, "--repeat", "2")
    assert list(document) == ["runs", "medians"]
    first, second = document["runs"]
    (median,) = document["medians"]
    assert set(median) == set(first)
    cell = (median["transport"], median["shape"], median["rate"])
    assert cell == ("aiohttp", "paragraph", 1000.0)
    for key in ("cpu_ms_per_1k_tokens", "gap_max_ms", "ui_thread_cpu_ms_per_1k_tokens"):
        assert median[key] == pytest.approx((first[key] + second[key]) / 2), key
    assert median["lag_ms"]["p95"] == pytest.approx(
        (first["lag_ms"]["p95"] + second["lag_ms"]["p95"]) / 2
    )
    assert sorted(median["machine_ref_ms"]) == ["memory", "python"]
    out = capsys.readouterr().out
    runs, medians = out.split("median of 2 runs per cell:")
    assert len(re.findall(r"aiohttp\s+paragraph\s+1000\s+\d+", runs)) == 2
    assert len(re.findall(r"aiohttp\s+paragraph\s+1000\s+\d+", medians)) == 1


def test_each_round_starts_with_the_next_transport() -> None:
    from ollama_tui.bench.pty_medians import rotated

    assert rotated(["a", "b", "c"], 1) == ["a", "b", "c"]
    assert rotated(["a", "b", "c"], 4) == [*"abc", *"bca", *"cab", *"abc"]
    assert rotated(["a"], 3) == ["a", "a", "a"]


def test_a_cells_medians_take_each_figure_apart_and_keep_every_loss() -> None:
    from ollama_tui.bench.pty_medians import cells, median_run
    from ollama_tui.bench.pty_ui import PtyRun

    def run(transport: str, cpu: float, p95: float, unseen: int, errors: list[str]) -> PtyRun:
        return PtyRun(
            transport=transport,
            shape="prose",
            rate=100.0,
            tokens=2001,
            lag_ms={"p50": 24.0, "p95": p95, "max": 60.0},
            cpu_ms_per_1k_tokens=cpu,
            worker_cpu_ms_per_1k_tokens=0.0,
            markers=1403,
            unseen_tokens=unseen,
            gap_max_ms=cpu / 10,
            echo_ms={"p50": 1.9, "p95": 3.0, "max": 4.0, "n": 100},
            echo_after_ms={"p50": 2.1, "p95": 2.5, "max": 3.0, "n": 10},
            echo_lost=0,
            idle_cpu_pct=0.3,
            first_shown_ms=30.0,
            stream_s=20.0,
            load_avg=[cpu / 1000, 0.4, 0.3],
            ui_thread_cpu_ms_per_1k_tokens=cpu / 2,
            machine_ref_ms={"python": [cpu / 20, 36.0], "memory": [30.0, 30.0]},
            errors=errors,
        )

    runs = [
        run("a", 900.0, 45.0, 0, []),
        run("b", 700.0, 44.0, 0, []),
        run("a", 1100.0, 47.0, 2, ["late"]),
        run("b", 710.0, 44.0, 0, []),
        run("a", 800.0, 46.0, 0, []),
    ]
    grouped = cells(runs)
    assert [[r.transport for r in cell] for cell in grouped] == [["a"] * 3, ["b"] * 2]
    a, b = (median_run(cell) for cell in grouped)
    assert a.cpu_ms_per_1k_tokens == 900.0 and b.cpu_ms_per_1k_tokens == 705.0
    assert a.lag_ms == {"p50": 24.0, "p95": 46.0, "max": 60.0}
    assert a.gap_max_ms == 90.0 and a.ui_thread_cpu_ms_per_1k_tokens == 450.0
    assert a.load_avg == [0.9, 0.4, 0.3]
    assert a.machine_ref_ms == {"python": [45.0, 36.0], "memory": [30.0, 30.0]}
    # A loss in any run is not a median's to hide.
    assert a.unseen_tokens == 2 and a.errors == ["late"]
    assert (b.unseen_tokens, b.errors) == (0, [])


def test_a_run_from_before_the_speed_reference_reads_and_prints() -> None:
    # `bench.paired` reads the "before" side's JSON back; an older tree writes no
    # `machine_ref_ms`.
    from ollama_tui.bench.pty_ui import PtyRun, format_row

    old: dict[str, Any] = {
        "transport": "requests",
        "shape": "prose",
        "rate": 100.0,
        "tokens": 2001,
        "lag_ms": {"p50": 24.0, "p95": 45.0, "max": 57.0},
        "cpu_ms_per_1k_tokens": 840.0,
        "worker_cpu_ms_per_1k_tokens": 0.0,
        "markers": 1403,
        "unseen_tokens": 0,
        "gap_max_ms": 55.0,
        "echo_ms": {"p50": 1.9, "p95": 3.0, "max": 4.0, "n": 100},
        "echo_after_ms": {"p50": 2.1, "p95": 2.5, "max": 3.0, "n": 10},
        "echo_lost": 0,
        "idle_cpu_pct": 0.3,
        "first_shown_ms": 30.0,
        "stream_s": 20.0,
        "load_avg": [0.5, 0.4, 0.3],
        "ui_thread_cpu_ms_per_1k_tokens": 635.0,
        "errors": [],
    }
    row = format_row(PtyRun(**json.loads(json.dumps(old))))
    assert re.search(r"0\.50\s+-\s+-$", row), row
    new = PtyRun(**{**old, "machine_ref_ms": {"python": [36.2, 36.6], "memory": [13.4, 135.0]}})
    assert re.search(r"0\.50\s+36/37\s+13/135$", format_row(new)), format_row(new)
