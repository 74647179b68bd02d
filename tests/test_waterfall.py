"""Where a reply's time went: the client's clock split by the server's figures (exact)."""

from __future__ import annotations

from ollama_tui.core.events import ServerStats
from ollama_tui.core.format import ReplyFigures, bar
from ollama_tui.core.timing import StreamTiming
from ollama_tui.core.waterfall import Row, Waterfall, stats_from

# Binary-exact seconds, so every sum and difference below is exact.
TIMING = StreamTiming(
    sent=10.0, first_chunk=12.5, first_token=12.5, last_token=16.5, ended=16.75, tokens=101
)
STATS = ServerStats(
    total_duration=6_500_000_000,
    load_duration=2_000_000_000,
    prompt_eval_count=26,
    prompt_eval_duration=250_000_000,
    eval_count=100,
    eval_duration=4_000_000_000,
)


def live(
    stats: ServerStats | None, outcome: str = "done", timing: StreamTiming = TIMING
) -> Waterfall:
    return Waterfall.of(ReplyFigures.live("aiohttp", timing, stats), stats, outcome)


def test_ttfc_is_split_into_load_prompt_and_the_rest() -> None:
    w = live(STATS)
    assert (w.ttfc, w.load, w.prompt_eval, w.prompt_tokens) == (2.5, 2.0, 0.25, 26)
    assert w.server_before_first == 2.25
    assert w.network_client == 0.25 and w.ttfc_clock_gap is None
    assert (w.receive, w.eval, w.eval_count) == (4.25, 4.0, 100)
    assert w.server_rate == 25.0 and w.client_rate == 25.0  # 100 tokens over 4 s, both
    assert w.client_added == 0.25 and w.receive_clock_gap is None
    assert w.server_sent and w.absent == () and w.notes() == []


def test_a_reply_without_server_figures_says_so_and_invents_no_zeros() -> None:
    for outcome, why in (
        ("stopped", "the reply was stopped before its done line"),
        ("error", "the reply failed before its done line"),
        ("incomplete", "the reply never ended (the app was closed while it streamed)"),
        ("done", "its done line carried no durations"),
    ):
        w = live(None, outcome)
        assert (w.ttfc, w.receive) == (2.5, 4.25)  # the client's own figures stay
        assert w.load is w.prompt_eval is w.server_before_first is w.network_client is None
        assert w.eval is w.server_rate is w.client_added is None
        assert not w.server_sent
        assert w.notes() == [f"No server figures: {why}."]
    # An empty stats object is no figures either.
    assert not live(ServerStats()).server_sent


def test_a_negative_rest_is_clamped_and_the_clocks_are_said_to_disagree() -> None:
    slow = ServerStats(
        load_duration=3_000_000_000,
        prompt_eval_duration=250_000_000,
        eval_count=100,
        eval_duration=4_500_000_000,
    )
    w = live(slow)
    assert w.server_before_first == 3.25
    assert w.network_client == 0.0 and w.ttfc_clock_gap == 0.75
    assert w.client_added == 0.0 and w.receive_clock_gap == 0.25
    assert w.notes() == [
        "! The clocks disagree: the server's load + prompt exceed TTFC by 750 ms; "
        "network + client shown as 0.",
        "! The clocks disagree: the server's eval time exceeds the client's receive time "
        "by 250 ms; client added shown as 0.",
    ]
    assert "network+client 0 ms (clocks disagree)" in w.line()
    shown = {r.label: r.value for r in w.rows(80)}
    assert shown["network, queue, client"] == shown["client added"] == "0 ms !"


def test_rounding_below_half_a_millisecond_is_no_disagreement() -> None:
    near = ServerStats(load_duration=2_500_250_000, eval_count=1, eval_duration=4_250_000_000)
    w = live(near)
    assert w.network_client == 0.0 and w.ttfc_clock_gap is None
    assert w.client_added == 0.0 and w.receive_clock_gap is None


def test_zero_eval_duration_has_no_server_rate_and_the_client_added_it_all() -> None:
    zero = ServerStats(
        load_duration=2_000_000_000, prompt_eval_duration=250_000_000, eval_count=5, eval_duration=0
    )
    w = live(zero)
    assert w.eval == 0.0 and w.server_rate is None
    assert w.client_added == 4.25


def test_fields_the_done_line_left_out_are_named() -> None:
    w = live(ServerStats(eval_count=100, eval_duration=4_000_000_000))
    assert w.absent == ("load_duration", "prompt_eval_duration")
    assert w.server_before_first is None and w.network_client is None
    assert w.client_added == 0.25
    assert w.notes() == [
        "Not in the done line: load_duration, prompt_eval_duration (Ollama omits zeros)."
    ]
    only_load = live(ServerStats(load_duration=2_000_000_000))
    assert only_load.server_before_first == 2.0 and only_load.network_client == 0.5


def test_no_first_chunk_means_no_client_spans() -> None:
    w = live(None, "error", StreamTiming(sent=1.0, ended=2.0))
    assert w.ttfc is None and w.receive is None and w.network_client is None
    assert w.notes()[0] == "No client timing: the first chunk never came, or none was kept."


def test_a_kept_reply_gives_the_same_waterfall_as_the_live_one() -> None:
    stored = {
        "total_duration": 6_500_000_000,
        "load_duration": 2_000_000_000,
        "prompt_eval_count": 26,
        "prompt_eval_duration": 250_000_000,
        "eval_count": 100,
        "eval_duration": 4_000_000_000,
    }
    kept = Waterfall.stored("aiohttp", TIMING.figures() | {"outcome": "done"}, stored, "done")
    assert kept == live(STATS)
    assert stats_from(stored) == STATS
    assert stats_from({"eval_count": "many", "load_duration": True}) is None
    assert stats_from(None) is None
    nothing = Waterfall.stored(None, None, None, "incomplete")
    assert nothing.ttfc is None and not nothing.server_sent


def test_json_fields_in_seconds() -> None:
    assert live(STATS).to_json() == {
        "outcome": "done",
        "ttfc": 2.5,
        "load": 2.0,
        "prompt_eval": 0.25,
        "prompt_eval_count": 26,
        "server_before_first": 2.25,
        "network_client": 0.25,
        "ttfc_clock_gap": None,
        "receive": 4.25,
        "eval": 4.0,
        "eval_count": 100,
        "server_tokens_per_s": 25.0,
        "client_tokens_per_s": 25.0,
        "client_added": 0.25,
        "receive_clock_gap": None,
        "server_sent": True,
        "absent": [],
    }


def test_one_line_for_exports() -> None:
    assert live(STATS).line() == (
        "TTFC 2.50 s · load 2.00 s · prompt 250 ms · network+client 250 ms · "
        "gen 4.00 s at 25.0 tok/s · received in 4.25 s · client added 250 ms"
    )
    assert live(None, "stopped").line() == "TTFC 2.50 s · received in 4.25 s · no server figures"


def test_bars_are_drawn_to_scale_to_an_eighth_of_a_cell() -> None:
    assert bar(0.0, 1.0, 4.0, 8) == "██"
    assert bar(1.0, 0.5, 4.0, 8) == "  █"
    assert bar(0.0, 0.0625, 4.0, 8) == "▏"  # an eighth of a cell
    assert bar(0.0, 0.001, 4.0, 8) == "▏"  # above zero: never drawn empty
    assert bar(0.0, 0.0, 4.0, 8) == ""
    assert bar(0.0, None, 4.0, 8) == ""
    assert bar(0.0, 1.0, 0.0, 8) == ""
    assert bar(4.0, 1.0, 4.0, 8) == "       █"  # past the end: kept inside the width
    assert bar(0.0, 9.0, 4.0, 8) == "████████"


def test_the_drawn_waterfall_follows_the_time_line() -> None:
    rows = live(STATS).rows(24 + 8 + 2 + 27)  # 27 cells for 6.75 s: 4 per second
    assert [r.label for r in rows] == [
        "sent → first chunk",
        "TTFC (client clock)",
        "model load (server)",
        "prompt (26 tok)",
        "network, queue, client",
        "generation",
        "server eval (100 tok)",
        "client receive",
        "client added",
    ]
    assert rows[0] == Row("sent → first chunk", heading=True)
    assert [(r.value, r.bar) for r in rows if not r.heading] == [
        ("2.50 s", "██████████"),
        ("2.00 s", "████████"),
        ("250 ms", "        █"),
        ("250 ms", "         █"),
        ("4.00 s", "          ████████████████"),
        ("4.25 s", "          █████████████████"),
        ("250 ms", "                          █"),
    ]
    assert live(STATS).rates() == "server 25.0 tok/s · client 25.0 tok/s"
