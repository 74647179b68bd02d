"""The compare view's pure parts: run order, outcomes, ranking, JSON."""

from __future__ import annotations

import json

import pytest

from ollama_tui.core.events import Done, ErrorKind, ServerStats, Stopped, StreamError
from ollama_tui.core.timing import StreamTiming
from ollama_tui.session.compare import (
    CompareSettings,
    Mode,
    Outcome,
    run_order,
    summarize,
    to_json,
)

NAMES = ("requests", "httpx-sync", "httpx-async", "aiohttp")


def timing(total: float, ttfc: float = 0.01, tokens: int = 11) -> StreamTiming:
    return StreamTiming(
        sent=0.0,
        first_chunk=ttfc,
        first_token=ttfc,
        last_token=total - 0.001,
        ended=total,
        chunks=tokens + 1,
        tokens=tokens,
    )


def done(name: str, total: float, run: int = 0, ttfc: float = 0.01) -> Outcome:
    stats = ServerStats(eval_count=10, eval_duration=500_000_000)
    return Outcome.of(name, run, Done("stop", stats, timing(total, ttfc), total))


def test_every_transport_goes_first_once_in_as_many_runs() -> None:
    firsts = [run_order(NAMES, run)[0] for run in range(4)]
    assert sorted(firsts) == sorted(NAMES)
    assert all(sorted(run_order(NAMES, run)) == sorted(NAMES) for run in range(7))
    assert run_order(NAMES, 4) == list(NAMES)


def test_settings_need_two_to_four_distinct_transports_and_sane_runs() -> None:
    CompareSettings(NAMES[:2])
    for bad in ((NAMES[0],), (*NAMES, "requests"), ("aiohttp", "aiohttp")):
        with pytest.raises(ValueError):
            CompareSettings(bad)
    with pytest.raises(ValueError):
        CompareSettings(NAMES, runs=0)


def test_ranked_by_median_total_and_failures_are_never_fast() -> None:
    outcomes = [
        done("requests", 2.0, 0),
        done("requests", 3.0, 1),
        done("requests", 9.0, 2),  # the median ignores one slow run
        done("aiohttp", 4.0, 0),
        done("aiohttp", 4.0, 1),
        # httpx-sync failed at once: counted as a failure, not as a 1 ms result.
        Outcome.of(
            "httpx-sync",
            0,
            StreamError(ErrorKind.CONNECT, "refused", None, StreamTiming(0.0, ended=0.001), 0),
        ),
        Outcome.of("httpx-async", 0, Stopped(timing(0.5), 0.5)),
    ]
    rows = summarize(NAMES, outcomes)
    assert [r.transport for r in rows] == ["requests", "aiohttp", "httpx-sync", "httpx-async"]
    first = rows[0]
    assert (first.completed, first.failed, first.total) == (3, 0, 3.0)
    assert first.server_eval_rate == pytest.approx(20.0)
    assert first.tokens_per_s == pytest.approx(10 / (3.0 - 0.001 - 0.01))
    failed = rows[2]
    assert (failed.completed, failed.failed, failed.total, failed.ttfc) == (0, 1, None, None)
    assert failed.errors == ["refused"]
    assert (rows[3].completed, rows[3].failed) == (0, 1)  # a stopped run is not a result


def test_ties_keep_the_chosen_order() -> None:
    rows = summarize(NAMES, [done(n, 1.0) for n in reversed(NAMES)])
    assert [r.transport for r in rows] == list(NAMES)


def test_json_has_every_outcome_and_the_summary() -> None:
    settings = CompareSettings(NAMES[:2], Mode.SEQUENTIAL, runs=2, warmup=False)
    outcomes = [done("requests", 1.0, 0), done("httpx-sync", 2.0, 0)]
    data = json.loads(
        json.dumps(to_json(settings, prompt="p", model="m", host="h", outcomes=outcomes))
    )
    assert data["mode"] == "sequential" and data["runs"] == 2 and data["warmup"] is False
    assert [o["transport"] for o in data["outcomes"]] == ["requests", "httpx-sync"]
    assert data["outcomes"][0]["total"] == 1.0 and data["outcomes"][0]["state"] == "done"
    assert data["outcomes"][0]["server_eval_rate"] == pytest.approx(20.0)
    assert [r["transport"] for r in data["summary"]] == ["requests", "httpx-sync"]


def loaded(name: str, load_ns: int, ttfc: float) -> Outcome:
    """A stream whose first chunk waited `load_ns` of model loading (binary-exact times)."""
    stats = ServerStats(
        load_duration=load_ns,
        prompt_eval_count=8,
        prompt_eval_duration=125_000_000,
        eval_count=10,
        eval_duration=500_000_000,
    )
    timed = StreamTiming(
        sent=0.0, first_chunk=ttfc, first_token=ttfc, last_token=ttfc + 0.5,
        ended=ttfc + 0.625, chunks=11, tokens=10,
    )  # fmt: skip
    return Outcome.of(name, 0, Done("stop", stats, timed, timed.ended or 0.0))


def test_json_splits_each_ttfc_into_the_servers_part_and_the_rest() -> None:
    # requests looks 2 s slower by TTFC; the server says it spent those 2 s loading.
    settings = CompareSettings(("requests", "aiohttp"))
    outcomes = [loaded("requests", 2_000_000_000, 2.25), loaded("aiohttp", 0, 0.25)]
    data = json.loads(
        json.dumps(to_json(settings, prompt="p", model="m", host="h", outcomes=outcomes))
    )
    first = data["outcomes"][0]
    assert (first["transport"], first["ttfc"]) == ("requests", 2.25)  # as scripts read them
    assert first["waterfall"] == {
        "outcome": "done",
        "ttfc": 2.25,
        "load": 2.0,
        "prompt_eval": 0.125,
        "prompt_eval_count": 8,
        "server_before_first": 2.125,
        "network_client": 0.125,
        "ttfc_clock_gap": None,
        "receive": 0.625,
        "eval": 0.5,
        "eval_count": 10,
        "server_tokens_per_s": 20.0,
        "client_tokens_per_s": 18.0,
        "client_added": 0.125,
        "receive_clock_gap": None,
        "server_sent": True,
        "absent": [],
    }
    assert data["outcomes"][1]["waterfall"]["network_client"] == 0.125
    summary = {r["transport"]: r for r in data["summary"]}
    assert summary["requests"]["server_before_first"] == 2.125
    assert summary["aiohttp"]["server_before_first"] == 0.125
    for row in summary.values():  # the same network + client: the load made the gap
        assert (row["network_client"], row["server_eval"], row["client_added"]) == (
            0.125,
            0.5,
            0.125,
        )


def test_a_stopped_stream_has_no_server_part() -> None:
    stopped = Outcome.of("httpx-async", 0, Stopped(timing(0.5), 0.5))
    waterfall = stopped.waterfall
    assert waterfall.outcome == "stopped" and not waterfall.server_sent
    assert waterfall.ttfc == 0.01 and waterfall.network_client is None
