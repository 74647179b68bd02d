"""Rows of an answer drawn as lines, and the status bar's, are rendered without
Textual's styles cache (ui/direct_rows.py): the same strips, segment by segment, as
Textual renders of the same lines, whole or cropped, with a link hovered, in the app's
own CSS."""

from __future__ import annotations

from typing import Any

import pytest
import textual
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual._styles_cache import StylesCache
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from ollama_tui.demo import DemoServer
from ollama_tui.ui import direct_rows
from ollama_tui.ui.widgets.folding import FrozenSegment
from ollama_tui.ui.widgets.live_segment import LiveSegment
from ollama_tui.ui.widgets.status_bar import StatusBar
from tests.uitools import make_app, send, wait_until

REPLY = (
    "Some words and `code`.\n\n"
    + "".join(
        f"Paragraph {n} of a long answer with a [link](http://a.example), long enough "
        "to wrap. " * 3 + f"\n\n- item {n}\n- and another\n\n"
        for n in range(12)
    )
    + "```python\nx = 1\n```\n\nThe end.\n"
)


def checked(widget: Widget, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its rows, whole and cropped, as Textual's styles cache renders them; and made
    without it."""
    width, height = widget.size
    assert width and height
    rendered: list[Widget] = []
    render_widget = StylesCache.render_widget

    def counted(self: StylesCache, of: Widget, *args: Any) -> list[Strip]:
        rendered.append(of)
        return render_widget(self, of, *args)

    for crop in [Region(0, 0, width, height), Region(3, min(1, height - 1), width - 5, 1)]:
        with monkeypatch.context() as patched:
            patched.setattr(StylesCache, "render_widget", counted)
            ours = widget.render_lines(crop)
        assert rendered == [], "rendered by the styles cache"
        theirs = Widget.render_lines(widget, crop)
        assert [list(s) for s in ours] == [list(s) for s in theirs], (type(widget), crop)


async def test_an_answers_rows_are_what_the_styles_cache_renders(
    server: DemoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    if textual.__version__ != "8.2.8":
        pytest.skip("written against Textual 8.2.8's styles cache")
    assert direct_rows.DIRECT
    server.configure(reply=REPLY, token_rate=60.0)
    app = make_app(server)
    async with app.run_test(size=(80, 30)) as pilot:
        await send(pilot, "go")

        def live() -> LiveSegment | None:
            found = [s for s in app.screen.query(LiveSegment) if "Paragraph 1 " in s.text]
            return found[0] if found else None

        # Laid out: a segment is mounted with its text and given its size at the next
        # layout (the screen's tick).
        await wait_until(pilot, lambda: (found := live()) is not None and bool(found.size.area))
        segment = live()
        assert segment is not None
        checked(segment, monkeypatch)
        # A link hovered (a piece of it, as the mouse finds it: each has its own id once
        # placed): its style, as Textual's `render_widget` gives it.
        shown = Widget.render_lines(segment, Region(0, 0, *segment.size))
        link = next(
            seg.style
            for strip in shown
            for seg in strip
            if seg.style and seg.style._meta and "@click" in seg.style.meta
        )
        segment.hover_style = link
        checked(segment, monkeypatch)
        # The status bar's line, narrower than the bar: padded as the cache pads it.
        bar = app.screen.query_one(StatusBar)
        assert bar.render_line(0).cell_length < bar.size.width
        checked(bar, monkeypatch)

        def frozen() -> FrozenSegment | None:
            found = [s for s in app.screen.query(FrozenSegment) if s.size.area]
            return found[0] if found else None

        await wait_until(pilot, lambda: frozen() is not None, timeout=30)
        part = frozen()
        assert part is not None
        checked(part, monkeypatch)


async def test_a_decorated_segment_is_rendered_by_textual(server: DemoServer) -> None:
    # A border drawn around its lines: the styles cache's to draw.
    server.configure(reply=REPLY, token_rate=40.0)
    app = make_app(server)
    async with app.run_test(size=(80, 30)) as pilot:
        await send(pilot, "go")
        await wait_until(
            pilot, lambda: any("words" in s.text for s in app.screen.query(LiveSegment))
        )
        segment = app.screen.query(LiveSegment).first()
        assert direct_rows.undecorated(segment)
        segment.styles.border_left = ("thick", "red")
        assert not direct_rows.undecorated(segment)
        await pilot.pause()
        crop = Region(0, 0, *segment.size)
        assert all(s.text.startswith("█") for s in segment.render_lines(crop))
        # A line narrower than the widget (drawn at a width it no longer has): padded
        # by the styles cache, in its background.
        segment.styles.border_left = None
        await pilot.pause()
        segment._strips[0] = Strip([Segment("short")])
        segment._styles_cache.clear()
        crop = Region(0, 0, *segment.size)
        ours = segment.render_lines(crop)
        assert ours[0].cell_length == segment.size.width
        assert [list(s) for s in ours] == [list(s) for s in Widget.render_lines(segment, crop)]


def test_a_row_placed_is_textuals_apply_offsets() -> None:
    # `placed` keeps each (style, x, y)'s style with its offset: a row drawn again with
    # the same pieces (an answer's growing line) gets the same styles, made once.
    if textual.__version__ != "8.2.8":
        pytest.skip("written against Textual 8.2.8's `Strip.apply_offsets`")
    assert direct_rows.PLACING
    bold, link = RichStyle(bold=True), RichStyle(link="http://a.example", color="red")
    first = Strip([Segment("def "), Segment("f", bold), Segment("(x):", link)])
    grown = Strip([Segment("def "), Segment("f", bold), Segment("(x):", link), Segment(" pass")])
    for strip in (first, grown, Strip(list(first)), grown):
        for y in (0, 7):
            ours, theirs = direct_rows.placed(strip, y), Strip(list(strip)).apply_offsets(0, y)
            assert list(ours) == list(theirs)
            assert [s.style.meta for s in ours] == [s.style.meta for s in theirs]  # type: ignore[union-attr]
    again = direct_rows.placed(Strip(list(grown)), 7)
    assert all(a.style is b.style for a, b in zip(again, direct_rows.placed(grown, 7), strict=True))


async def test_a_segment_that_grows_keeps_the_rows_it_had(
    server: DemoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fix 5 (`RowsKept`) keeps a grown widget's rows above its old bottom: a segment's
    # rows are its lines, not in the styles cache, and hold all the same. Its whole
    # region repainted at each growth wrote every row of it to the terminal again.
    resized: list[tuple[Region, set[Region]]] = []
    size_updated = LiveSegment._size_updated

    def noted(self: LiveSegment, size: Any, *args: Any) -> bool:
        old = self._size
        result = size_updated(self, size, *args)
        if old.width == size.width and size.height > old.height > 2:
            rows_it_had = Region(0, 0, old.width, old.height - 2)
            resized.append((rows_it_had, set(self._repaint_regions)))
        return result

    monkeypatch.setattr(LiveSegment, "_size_updated", noted)
    server.configure(reply=REPLY, token_rate=150.0)
    app = make_app(server)
    async with app.run_test(size=(80, 30)) as pilot:
        await send(pilot, "go")
        await wait_until(pilot, lambda: len(resized) >= 3, timeout=30)
    for rows_it_had, repainted in resized:
        assert not any(r.contains_region(rows_it_had) for r in repainted), repainted
