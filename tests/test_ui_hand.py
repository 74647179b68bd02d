"""A streaming answer keeps rows in hand (ui/widgets/live_segment.py, HAND): the screen
is laid out again once per HAND new lines, not at every line, and still shows the
newest line; each growth is laid out once (textual_fixes.SizedOnce)."""

from __future__ import annotations

import itertools

import pytest
from textual.screen import Screen

from ollama_tui.demo import DemoServer
from ollama_tui.ui.widgets.chat_message import AssistantMessage
from ollama_tui.ui.widgets.live_segment import HAND, LiveSegment
from ollama_tui.ui.widgets.status_bar import StatusBar
from ollama_tui.ui.widgets.transcript import Transcript
from tests.uitools import make_app, screen_text, send, send_and_wait, wait_until

REPLY = "".join(f"Line {i} of the answer.\n\n" for i in range(60))


async def test_a_growing_answer_moves_the_screen_once_per_hand_of_lines(
    server: DemoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each layout, with the streaming segment it left (and its height), if any.
    layouts: list[tuple[LiveSegment, int] | None] = []
    refresh_layout = Screen._refresh_layout

    def counted(self: Screen[object], *args: object, **kwargs: object) -> None:
        refresh_layout(self, *args, **kwargs)  # type: ignore[arg-type]
        live = self.query(LiveSegment)
        layouts.append((live.last(), live.last().size.height) if live else None)

    monkeypatch.setattr(Screen, "_refresh_layout", counted)
    server.configure(reply=REPLY, token_rate=100.0)
    app = make_app(server)
    async with app.run_test(size=(80, 30)) as pilot:
        await send(pilot, "go")
        await wait_until(pilot, lambda: bool(app.screen.query(LiveSegment)))
        layouts.clear()
        transcript = app.screen.query_one(Transcript)

        def newest_shown() -> bool:
            live = app.screen.query(LiveSegment)
            if not live or "Line 30 " not in live.last().text:
                return False
            newest = live.last().text.rstrip().rsplit("\n", 1)[-1]
            return newest in screen_text(app)

        await wait_until(pilot, newest_shown)
        # Mid-stream: the newest line is on the screen, the transcript at its end, and
        # fewer than HAND blank rows in hand below it.
        live = app.screen.query(LiveSegment).last()
        lines = len(live.text.rstrip().split("\n"))
        assert 0 <= live.size.height - lines <= live.hand
        assert (live.phase + live.size.height) % live.hand == 0, "no rows in hand"
        # The rows in hand are on the answer's background, as its text's rows are.
        text_row, blank_row = live.render_line(lines - 1), live.render_line(len(live._strips))
        padding = list(text_row)[-1].style
        assert padding is not None and padding.bgcolor is not None
        assert [s.style.bgcolor for s in blank_row if s.style] == [padding.bgcolor]
        # Its hand is at most half the rows the transcript shows (not its message's).
        assert live._view_rows() == transcript.scrollable_content_region.height > 2 * HAND
        assert transcript.scroll_y == transcript.max_scroll_y
        assert transcript.show_vertical_scrollbar, "a long chat has its scroll bar"
        message = app.screen.query(AssistantMessage).last()
        await wait_until(pilot, lambda: bool(message.state))
        answer_rows = message.size.height
    # 122 rows here. The layouts that grew a segment: one per HAND (8) rows, 15 (a layout per
    # paint that adds a row was 38-60, HAND = 1); how many do not share a frame with
    # another depends on the machine's load, not on the hand.
    grown = [
        now
        for was, now in itertools.pairwise(layouts)
        if was and now and was[0] is now[0] and now[1] > was[1]
    ]
    assert len(grown) <= answer_rows / 8 + 1, (len(grown), answer_rows)
    # The others: two or three for each of the 8 or 9 segments it streams through
    # (mounted, sized), and a few at its end (its last segment made Markdown, its footer,
    # the scroll bar). 14-26 in all when idle, up to 34 beside three CPU hogs (Python
    # 3.12); a layout at every paint would be several times that.
    assert len(layouts) <= len(grown) + 3 * 9 + 4, (len(layouts), len(grown))


async def test_an_ended_answers_last_words_are_painted_before_it_becomes_markdown(
    server: DemoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Making the ended answer Textual's Markdown takes frames: its last words are put
    # on the screen first, as lines, not after it.
    from textual.app import App

    last = "and these are the very last words."
    painted: list[str] = []
    display = App._display

    def noted(self: App[object], screen: Screen[object], renderable: object) -> None:
        # The text of what goes to the terminal: changed chops, or a whole layout.
        if renderable is not None and not self._batch_count:
            chops = getattr(renderable, "chops", None)
            lines = [[s for s in c.values() if s] for c in chops] if chops is not None else []
            lines += [list(line) for line in getattr(renderable, "strips", [])]
            painted.append("\n".join("".join(s.text for s in line) for line in lines))
        display(self, screen, renderable)  # type: ignore[arg-type]

    shown_before: list[bool] = []
    as_markdown = AssistantMessage._as_markdown

    async def noting(self: AssistantMessage, live: LiveSegment) -> object:
        shown_before.append(any(last in frame for frame in painted))
        return await as_markdown(self, live)

    monkeypatch.setattr(App, "_display", noted)
    monkeypatch.setattr(AssistantMessage, "_as_markdown", noting)
    server.configure(reply=f"Some words first, {last}", token_rate=50.0)
    app = make_app(server)
    async with app.run_test(size=(80, 30)) as pilot:
        message = await send_and_wait(pilot, app, "go")
        assert message.state == "done" and last in screen_text(app)
    assert shown_before == [True]


async def test_the_status_bars_figures_change_in_the_frames_that_show_the_text(
    server: DemoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not in frames of their own (a frame costs the same for one row as for a few).
    from textual.app import App

    frames: list[set[int]] = []  # the rows each frame wrote
    display = App._display

    def noted(self: App[object], screen: Screen[object], renderable: object) -> None:
        chops = getattr(renderable, "chops", None)
        if chops is not None and not self._batch_count:
            frames.append({y for y, chop in enumerate(chops) if any(chop.values())})
        display(self, screen, renderable)  # type: ignore[arg-type]

    monkeypatch.setattr(App, "_display", noted)
    server.configure(reply=" ".join(f"word{i}" for i in range(400)), token_rate=100.0)
    app = make_app(server)
    async with app.run_test(size=(80, 30)) as pilot:
        await send(pilot, "go")
        await wait_until(pilot, lambda: bool(app.screen.query(LiveSegment)))
        frames.clear()
        message = app.screen.query(AssistantMessage).last()
        await wait_until(pilot, lambda: bool(message.state))
        status = app.screen.query_one(StatusBar).region.y
        text = range(*app.screen.query_one(Transcript).region.line_span)
    with_status = [rows for rows in frames if status in rows]
    alone = [rows for rows in with_status if not rows & set(text)]
    # 93 % alone before (a tick of the figures at most every 0.1 s, then the text's
    # frame); alone now only if no text came for 0.15 s (its clock).
    assert len(with_status) >= 5 and len(alone) <= len(with_status) / 4, (alone, with_status)


async def test_the_next_segment_counts_its_rows_from_where_the_marked_one_ends(
    server: DemoServer,
) -> None:
    # A full segment's cut mark takes rows away (a fence's bottom margin and padding)
    # when it is put away: the segment after it counts from there, so the answer's rows
    # in hand stay on the answer's grid and it never shrinks (the transcript would jump).
    body = "".join(f"value_{i} = compute({i})\n" for i in range(56))
    server.configure(reply=f"Here:\n\n```python\n{body}```\n\nDone.\n", token_rate=120.0)
    app = make_app(server)
    off_grid: list[tuple[int, int]] = []
    heights: list[int] = []
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "go")
        await wait_until(pilot, lambda: bool(app.screen.query(LiveSegment)))
        message = app.screen.query(AssistantMessage).last()
        seen: set[int] = set()  # the live segments it streamed through
        while not message.state:
            await pilot.pause(0.02)
            live = message.query(LiveSegment)
            if not live or message.state:
                continue
            segment = live.last()
            seen.add(id(segment))
            if segment._rows != segment.size.height or not segment.region:
                continue  # not laid out yet
            # Rows from the answer's top (its first part shown, the thinking hidden).
            top = next(child for child in message.children if child.display).region.y
            above = segment.region.y - top
            heights.append(above + segment.size.height)
            if above != segment.phase:
                off_grid.append((above, segment.phase))
    assert len(seen) >= 2, "a cut while it streamed"
    assert not off_grid
    shrinks = [(a, b) for a, b in itertools.pairwise(heights) if b < a]
    assert not shrinks


BUSY = [(0.0, 1), (1.0, 2), (1.02, 3), (1.3, 4), (1.6, 5), (1.9, 6)]
"""(when, its lines in hands) at each step: growths 20 ms apart after a pause, then about
26 rows a second."""
FAST = [(0.1 * i, i) for i in range(1, 9)]
"""80 rows a second."""


@pytest.mark.parametrize(
    ("growths", "view", "hands"),
    [
        ([(0.3 * i, i) for i in range(1, 7)], 40, [HAND] * 6),
        (FAST, 40, [HAND] * 5 + [2 * HAND] * 3),
        ([*FAST, (1.6, 10), (2.4, 12), (3.2, 14)], 40, [HAND] * 5 + [2 * HAND] * 3 + [HAND] * 3),
        (BUSY, 40, [HAND] * 6),
        (FAST, 12, [6] * 8),
        (FAST, 3, [2] * 8),
        (FAST, 0, [HAND] * 5 + [2 * HAND] * 3),
    ],
    ids=[
        "26 rows a second",
        "80 rows a second",
        "fast, then slow",
        "a busy moment",
        "a short view",
        "a view of 3 rows",
        "a view not laid out yet",
    ],
)
def test_a_segment_growing_fast_keeps_two_hands_of_rows(
    growths: list[tuple[float, int]],
    view: int,
    hands: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each growth by a hand is a layout of the whole screen: lines that come fast (a
    # code fence at 500 tok/s) are taken two hands at a time, while they come so. Lines
    # bunched in one growth after a busy moment are not a rate. Never more than half
    # the view: a short terminal would show blank rows only.
    from textual.strip import Strip

    from ollama_tui.ui.widgets import live_segment

    now = [0.0]
    monkeypatch.setattr(live_segment, "monotonic", lambda: now[0])
    monkeypatch.setattr(LiveSegment, "_view_rows", lambda self: view)
    live = LiveSegment(phase=3)
    live._show([], 10)  # its width: the first drawing at a width is not a growth
    seen = []
    for now[0], lines in growths:
        live._show([Strip.blank(10)] * (HAND * lines - 2), 10)
        seen.append(live.hand)
        # Counted from the answer's top, as one hand is.
        assert (live.phase + live._rows) % live.hand == 0
        assert 0 <= live._rows - len(live._strips) < live.hand
    assert seen == hands
