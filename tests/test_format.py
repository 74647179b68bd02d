"""The shared formatters: sizes, relative times and a reply's figures line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ollama_tui.core.events import ServerStats
from ollama_tui.core.format import (
    ReplyFigures,
    ago,
    human_bytes,
    human_time,
    rate,
    seconds,
    summary,
)
from ollama_tui.core.timing import StreamTiming

NOW = datetime(2025, 9, 20, 12, 0, tzinfo=UTC)


def test_seconds_and_rate() -> None:
    assert seconds(None) == "—"
    assert seconds(0.0123) == "12 ms"
    assert seconds(2.314) == "2.31 s"
    assert rate(None) == "—"
    assert rate(52.345) == "52.3 tok/s"


@pytest.mark.parametrize(
    ("size", "shown"),
    [(0, "0 B"), (999, "999 B"), (1_000, "1.0 KB"), (522_000_000, "522 MB"),
     (807_700_000, "808 MB"), (1_235_814_432, "1.2 GB"), (65_290_180_781, "65 GB"),
     (2 * 10**12, "2.0 TB")],
)  # fmt: skip
def test_human_bytes_is_decimal_as_ollama_list(size: int, shown: str) -> None:
    assert human_bytes(size) == shown


@pytest.mark.parametrize(
    ("delta", "shown"),
    [
        (timedelta(seconds=0.2), "Less than a second ago"),
        (timedelta(seconds=1.5), "1 second ago"),
        (timedelta(seconds=45), "45 seconds ago"),
        (timedelta(seconds=70), "About a minute ago"),
        (timedelta(minutes=5), "5 minutes ago"),
        (timedelta(minutes=62), "About an hour ago"),
        (timedelta(hours=20), "20 hours ago"),
        (timedelta(days=3), "3 days ago"),
        (timedelta(days=20), "2 weeks ago"),
        (timedelta(days=100), "3 months ago"),
        (timedelta(days=800), "2 years ago"),
        (timedelta(minutes=-5), "5 minutes from now"),
        (timedelta(days=-365 * 30), "Forever"),  # keep_alive -1: `ollama ps` says so
    ],
)
def test_relative_times_read_as_ollama_list(delta: timedelta, shown: str) -> None:
    assert ago(delta.total_seconds()) == shown
    assert human_time((NOW - delta).isoformat(), NOW) == shown


def test_human_time_reads_what_the_server_sends() -> None:
    # Nanoseconds and a Z, as Go writes them; a time without a zone is taken as UTC.
    assert human_time("2025-09-18T11:30:00.123456789+00:00", NOW) == "2 days ago"
    assert human_time("2025-09-20T11:55:00Z", NOW) == "5 minutes ago"
    assert human_time("2025-09-20T11:55:00", NOW) == "5 minutes ago"
    # Not a time: shown as sent (without control characters), or "—" if empty.
    assert human_time("yesterday\x1b[2J", NOW) == "yesterday[2J"
    assert human_time("", NOW) == "—"
    assert ago(float("nan")) == "—"


TIMING = StreamTiming(
    sent=10.0, first_chunk=10.012, first_token=10.04, last_token=12.0, ended=12.31, tokens=120
)
STATS = ServerStats(eval_count=120, eval_duration=2_000_000_000)


def test_summary_of_a_live_reply() -> None:
    rate_ = f"{119 / 1.96:.1f} tok/s"
    assert summary("aiohttp", TIMING) == (
        f"aiohttp · TTFC 12 ms · TTFT 40 ms · total 2.31 s · 120 tokens · {rate_}"
    )
    assert summary("aiohttp", TIMING, STATS).endswith(f"{rate_} · server 60.0 tok/s")
    assert summary("requests", StreamTiming(sent=1.0)) == (
        "requests · TTFC — · TTFT — · total — · 0 tokens · —"
    )


def test_a_stored_reply_reads_as_the_live_one() -> None:
    stored = ReplyFigures.stored(
        "aiohttp",
        TIMING.figures(),
        {"eval_count": 120, "eval_duration": 2_000_000_000, "load_duration": 5},
    )
    assert stored.text() == summary("aiohttp", TIMING, STATS)
    assert stored == ReplyFigures.live("aiohttp", TIMING, STATS)


def test_stored_figures_that_are_missing_or_odd_are_dashes() -> None:
    assert ReplyFigures.stored(None, None, None).text() == "unknown transport"
    only_server = ReplyFigures.stored("httpx-sync", {}, {"eval_count": 10, "eval_duration": 1e9})
    assert only_server.text() == "httpx-sync · server 10.0 tok/s"
    odd = ReplyFigures.stored(
        "requests",
        {"ttfc": "fast", "tokens": True, "total": 1.5},
        {"eval_count": "many", "eval_duration": 0},
    )
    assert odd.text() == "requests · TTFC — · TTFT — · total 1.50 s · 0 tokens · —"
