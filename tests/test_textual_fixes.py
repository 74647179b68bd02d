"""The Textual fix is applied only where the installed Textual needs it."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence

import pytest
from rich.segment import Segment
from textual._compositor import Compositor
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from ollama_tui.ui import textual_fixes
from tests.uitools import TextTerminal


class CropsNoted(Widget):
    """A widget that notes each crop it is rendered in (each subclass its own)."""

    crops: list[Region]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)  # type: ignore[arg-type]
        cls.crops = []

    def render_lines(self, crop: Region) -> list[Strip]:
        self.crops.append(crop)
        return super().render_lines(crop)


def test_textual_8_caches_a_strip_in_itself_so_the_fix_applies() -> None:
    # Textual's own `divide`, as the installed version has it.
    assert textual_fixes.needs_divide_fix(textual_fixes._divide)
    assert textual_fixes.apply()
    assert Strip.divide is textual_fixes._divide_without_cycle


def test_a_textual_that_does_not_cache_itself_gets_no_patch() -> None:
    def fixed_upstream(strip: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
        return [strip]  # a fresh list every time: no cycle to break

    assert not textual_fixes.needs_divide_fix(fixed_upstream)


def test_dividing_a_strip_at_its_length_leaves_no_cycle_once_applied() -> None:
    textual_fixes.apply()
    strip = Strip([Segment("hello "), Segment("world")])
    before = sys.getrefcount(strip)
    assert strip.divide([strip.cell_length]) == [strip]
    assert sys.getrefcount(strip) == before, "the strip holds a reference to itself"
    parts = strip.divide([3, 7, 11])
    assert [part.text for part in parts] == ["hel", "lo w", "orld"]
    assert strip.divide([3, 7, 11]) is parts, "other divisions are still cached"


def test_the_table_fix_applies_while_datatable_has_what_it_relies_on() -> None:
    from textual.widgets import DataTable

    assert textual_fixes.needs_table_fix()
    textual_fixes.apply()
    assert DataTable._update_dimensions is textual_fixes._update_dimensions_and_renders


async def test_a_sized_once_widget_asks_for_no_second_layout_when_resized() -> None:
    from textual.app import App, ComposeResult
    from textual.geometry import Size
    from textual.widget import Widget

    class Once(textual_fixes.SizedOnce):
        pass

    class Twice(Widget):
        pass

    class Two(App[None]):
        def compose(self) -> ComposeResult:
            yield Once()
            yield Twice()

    assert textual_fixes.SIZED_ONCE
    app = Two()
    async with app.run_test() as pilot:
        await pilot.pause()
        once, twice = app.query_one(Once), app.query_one(Twice)
        size = once.size + Size(0, 3)
        for widget in (once, twice):
            assert widget._size_updated(size, size, widget.container_size)
        assert once.virtual_size == size, "its virtual size is its new size"
        assert not once._layout_required, "a second layout asked for"
        assert twice._layout_required, "Textual's own asks for one (else the fix is moot)"


@pytest.mark.parametrize("kept", [True, False])
async def test_a_widget_that_grows_renders_its_new_rows_only(kept: bool) -> None:
    # Fix 5: Textual renders every row of a resized widget again; a `RowsKept` one (whose
    # rows do not depend on its height) keeps the rows it had, and shows them all.
    from textual.app import App, ComposeResult
    from textual.geometry import Region, Size
    from textual.widget import Widget

    base = textual_fixes.RowsKept if kept else Widget

    class Growing(base):  # type: ignore[valid-type, misc]
        DEFAULT_CSS = "Growing { height: auto; border-left: thick red; padding: 0 1; }"
        rows = 3
        rendered: list[int] = []

        def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
            return self.rows

        def render_line(self, y: int) -> Strip:
            self.rendered.append(y)
            return Strip([Segment(f"row {y}")])

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield Growing()

    app = One()
    async with app.run_test(size=(30, 10)) as pilot:
        await pilot.pause()
        growing = app.query_one(Growing)
        growing.rendered.clear()
        growing.rows = 6
        growing.refresh(Region(0, 3, 26, 3), layout=True)
        await pilot.pause()
        await pilot.pause()
        shown = [strip.text for strip in app.screen._compositor.render_strips()]
    assert [line.strip(" █") for line in shown[:7]] == [f"row {y}" for y in range(6)] + [""]
    if kept:
        assert sorted(set(growing.rendered)) == [3, 4, 5], growing.rendered
    else:  # Textual's own: all again (else the fix is moot)
        assert sorted(set(growing.rendered)) == list(range(6)), growing.rendered


def rows_written(renderable: object) -> list[str]:
    """The text of each row a partial update (Textual's `ChopsUpdate`) writes."""
    chops = getattr(renderable, "chops", None) or []
    return ["".join(s.text for s in chop.values() if s) for chop in chops if any(chop.values())]


@pytest.mark.parametrize("width", ["10", "1fr"])
async def test_a_frame_of_one_row_renders_the_widgets_under_it_in_that_row_only(
    width: str,
) -> None:
    # Fix 4: Textual rendered the widget under the changed row over its whole height;
    # and rendered it even where the widget in front covered it all (`1fr`).
    from textual.app import App, ComposeResult
    from textual.geometry import Region
    from textual.screen import Screen
    from textual.widgets import Static

    assert textual_fixes.needs_rows_fix()
    textual_fixes.apply()

    class Tall(CropsNoted):
        DEFAULT_CSS = "Tall { height: 10; } Tall > Static { margin-top: 4; height: 1; }"

        def compose(self) -> ComposeResult:
            yield Static("before", id="ticker")

    written: list[str] = []

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield Tall()

        def _display(self, screen: Screen[object], renderable: object) -> None:
            written.extend(rows_written(renderable))
            super()._display(screen, renderable)  # type: ignore[arg-type]

    app = One()
    async with app.run_test(size=(30, 12)) as pilot:
        app.query_one("#ticker", Static).styles.width = width
        await pilot.pause()
        Tall.crops.clear()
        written.clear()
        app.query_one("#ticker", Static).update("after")
        app.query_one(Tall).refresh(Region(0, 4, 30, 1))  # its row, beside the Static too
        await pilot.pause()
        await pilot.pause()
    assert written and all(line.startswith("after") for line in written), written
    if width == "1fr":  # the row is the Static's alone
        assert not Tall.crops, Tall.crops
        assert all(len(line) == 30 for line in written), written
    else:  # Tall shows beside it: rendered, in that row only
        assert Tall.crops and all(c.height == 1 and c.y == 4 for c in Tall.crops), Tall.crops
        assert all(len(line) == 30 for line in written), written


async def test_a_widget_behind_is_not_rendered_for_columns_not_written() -> None:
    # Fix 4: a narrow widget repainted (an answer's growing row) with a row of the whole
    # width (the status bar's) had the widget behind it rendered across the band's
    # width, for columns beside it that are not written.
    from textual.app import App, ComposeResult
    from textual.screen import Screen
    from textual.widgets import Static

    assert textual_fixes.needs_rows_fix()
    textual_fixes.apply()

    class Behind(CropsNoted):
        DEFAULT_CSS = "Behind { height: 10; padding: 0 4; } Behind > Static { height: 1; }"

        def compose(self) -> ComposeResult:
            yield Static("before", id="ticker")

    written: list[tuple[int, int, int]] = []

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield Behind()
            yield Static("bar", id="bar")

        def _display(self, screen: Screen[object], renderable: object) -> None:
            written.extend(getattr(renderable, "spans", None) or [])
            super()._display(screen, renderable)  # type: ignore[arg-type]

    app = One()
    async with app.run_test(size=(30, 12)) as pilot:
        await pilot.pause()
        Behind.crops.clear()
        written.clear()
        app.query_one("#ticker", Static).update("after")
        app.query_one("#bar", Static).update("BAR")
        await pilot.pause()
        await pilot.pause()
        assert not Behind.crops, Behind.crops
        shown = [strip.text for strip in app.screen._compositor.render_strips()]
    assert written == [(0, 4, 26), (10, 0, 30)], written  # the Static's cells, the bar
    assert shown[0] == "    after" + " " * 21
    assert shown[10] == "BAR" + " " * 27


async def test_a_frame_of_two_rows_far_apart_renders_neither_the_rows_between() -> None:
    # Fix 4: Textual rendered the band holding every row to repaint (the prompt box,
    # between the answer's row and the status bar's) and wrote only those rows.
    from textual.app import App, ComposeResult
    from textual.widget import Widget

    assert textual_fixes.needs_rows_fix()
    textual_fixes.apply()

    class Between(CropsNoted):
        DEFAULT_CSS = "Between { height: 6; }"

    class Line(Widget):
        DEFAULT_CSS = "Line { height: 1; }"

        def __init__(self, text: str, id: str) -> None:
            super().__init__(id=id)
            self.text = text

        def render(self) -> str:
            return self.text

        def say(self, text: str) -> None:
            self.text = text
            self.refresh()  # a repaint, no layout (as a status bar's or a row of text's)

    class Three(App[None]):
        def compose(self) -> ComposeResult:
            yield Line("top before", id="top")
            yield Between()
            yield Line("bottom before", id="bottom")

    app = Three()
    async with app.run_test(size=(30, 10)) as pilot:
        await pilot.pause()
        top, bottom = app.query_one("#top", Line), app.query_one("#bottom", Line)
        Between.crops.clear()
        top.say("top after")
        bottom.say("bottom after")
        # One frame of both, as the screen's update timer makes it when both are dirty.
        compositor = app.screen._compositor
        compositor.update_widgets({top, bottom})
        update = compositor.render_update()
    assert [line.rstrip() for line in rows_written(update)] == ["top after", "bottom after"]
    assert not Between.crops, Between.crops


async def test_a_modal_screen_is_written_as_textual_writes_it() -> None:
    # Fix 4: a modal's background is the screen below, rendered whole through that
    # screen's compositor from inside the modal's partial update; it must not be
    # rendered in the modal's rows only (it was written blank around the dialog).
    from textual.app import App, ComposeResult
    from textual.screen import ModalScreen, Screen
    from textual.widgets import Static

    class Dialog(ModalScreen[None]):
        DEFAULT_CSS = """
        Dialog { align: center middle; }
        #box { width: 24; height: 5; border: round white; }
        #bar { width: 100%; height: 2; dock: top; offset: 0 6; }
        """

        def compose(self) -> ComposeResult:
            yield Static("dialog text", id="box")
            yield Static("wide bar", id="bar")

    class Lines(App[None]):
        def __init__(self) -> None:
            super().__init__()
            self.terminal = TextTerminal(40, 12)

        def compose(self) -> ComposeResult:
            for y in range(10):
                yield Static(f"background line {y}")
            yield Static("status")

        def _display(self, screen: Screen[object], renderable: object) -> None:
            self.terminal.write(renderable)
            super()._display(screen, renderable)  # type: ignore[arg-type]

    async def shown() -> list[str]:
        app = Lines()
        async with app.run_test(size=(40, 12)) as pilot:
            await pilot.pause()
            app.push_screen(Dialog())
            for _ in range(4):
                await pilot.pause()
        return app.terminal.rows()

    assert textual_fixes.needs_rows_fix()
    textual_fixes.apply()
    ours = await shown()
    fixed = Compositor._get_renders, Compositor.render_partial_update
    Compositor._get_renders = textual_fixes._get_renders  # type: ignore[method-assign]
    Compositor.render_partial_update = textual_fixes._render_partial_update  # type: ignore[method-assign]
    try:
        theirs = await shown()
    finally:
        Compositor._get_renders, Compositor.render_partial_update = fixed  # type: ignore[method-assign]
    assert "background line 0" in theirs[0], theirs  # (else the test shows nothing)
    assert ours == theirs


async def test_a_text_area_reads_its_theme_when_its_styles_change_not_at_every_render() -> None:
    # Fix 6: TextArea read its theme's styles from CSS at every render (every key).
    import copy

    from textual.app import App, ComposeResult
    from textual.widgets import TextArea

    class Themed(textual_fixes.ThemedOnce):
        DEFAULT_CSS = "Themed:focus { background: red; }"

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield Themed()

    def as_textual_reads_them(themed: Themed) -> None:
        mine = themed._theme
        assert mine is not None
        fresh = copy.copy(mine)
        fresh.apply_css(themed)
        for name in ("base_style", "cursor_style", "cursor_line_style", "selection_style"):
            assert getattr(mine, name) == getattr(fresh, name), name

    assert textual_fixes.THEMED_ONCE
    app = One()
    async with app.run_test() as pilot:
        themed = app.query_one(Themed)
        await pilot.pause()
        theme = themed._theme
        assert theme is not None
        reads: list[TextArea] = []
        original = theme.apply_css

        def counted(area: TextArea) -> None:
            reads.append(area)
            original(area)

        theme.apply_css = counted  # type: ignore[method-assign, assignment]
        app.set_focus(None)
        await pilot.pause()
        as_textual_reads_them(themed)
        themed.focus()
        await pilot.pause()
        as_textual_reads_them(themed)  # focused: on red
        reads.clear()
        for key in "abc":
            await pilot.press(key)
            await pilot.pause()
        assert themed.text == "abc"
        assert reads == [], "read again for a key typed"
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.pause()
        as_textual_reads_them(themed)
        themed.styles.background = "blue"  # inline: no style update
        await pilot.pause()
        await pilot.pause()
        as_textual_reads_them(themed)
