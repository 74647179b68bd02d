"""A long fence's finished part keeps the rows its live segment drew (folding.FoldedFence
`rows`): each row the one Textual renders for it, offsets for a mouse selection
included, until its width or its theme changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets import Static

from ollama_tui.demo import DemoServer
from ollama_tui.ui.app import OllamaApp
from ollama_tui.ui.widgets.folding import FoldedFence
from ollama_tui.ui.widgets.growing_code import FENCE_LINES_RESUMED
from tests.uitools import make_app, send_and_wait, settle

LINES = 3 * FENCE_LINES_RESUMED + 5  # three full parts and a last
CODE = "\n".join(
    f"def f{i}(x):\n    return x * {i}  # a comment to widen it" for i in range(LINES // 2)
)


def textuals(fence: FoldedFence) -> list[Strip]:
    width, height = fence.outer_size
    return Static.render_lines(fence, Region(0, 0, width, height))


def kept(fence: FoldedFence) -> list[Strip]:
    width, height = fence.outer_size
    return fence.render_lines(Region(0, 0, width, height))


def same(a: list[Strip], b: list[Strip]) -> bool:
    """The same cells, styles and offsets, however split into segments."""
    return [list(row.simplify()) for row in a] == [list(row.simplify()) for row in b]


def parts(app: OllamaApp) -> list[FoldedFence]:
    return list(app.chat.query(FoldedFence))


@pytest.mark.parametrize("before", ["", "Some code:\n\n"], ids=["alone", "after a paragraph"])
async def test_each_part_shows_the_rows_textual_renders_for_it(
    server: DemoServer, before: str
) -> None:
    server.configure(reply=f"{before}```python\n{CODE}\n```\n\nThe end.\n", token_rate=3000.0)
    app = make_app(server)
    async with app.run_test(size=(100, 40)) as pilot:
        await send_and_wait(pilot, app, "code")
        await settle(pilot)
        folded = [part for part in parts(app) if part._rows is not None]
        assert len(folded) >= 2, "no part kept its rows"
        for part in folded:
            rows = kept(part)
            assert part._rows is not None, "its rows did not fit it"
            assert same(rows, textuals(part))
            # A part of the middle is its own rows (none cropped), one cut a margin lower.
            assert len(rows) == part.outer_size.height


async def change_draws_the_parts_anew(
    server: DemoServer, change: Callable[[OllamaApp, Pilot[None]], Awaitable[object]]
) -> None:
    """After `change`, no part keeps its rows, and each is as Textual renders it now."""
    server.configure(reply=f"```python\n{CODE}\n```\n", token_rate=3000.0)
    app = make_app(server)
    async with app.run_test(size=(100, 40)) as pilot:
        await send_and_wait(pilot, app, "code")
        await settle(pilot)
        assert any(part._rows is not None for part in parts(app))
        await change(app, pilot)
        await settle(pilot)
        assert all(part._rows is None for part in parts(app))
        for part in parts(app):
            assert same(kept(part), textuals(part))


async def test_a_new_theme_draws_the_parts_anew(server: DemoServer) -> None:
    async def light(app: OllamaApp, pilot: Pilot[None]) -> None:
        app.theme = "textual-light"

    await change_draws_the_parts_anew(server, light)


async def test_a_new_width_draws_the_parts_anew(server: DemoServer) -> None:
    async def narrower(app: OllamaApp, pilot: Pilot[None]) -> None:
        await pilot.resize_terminal(80, 40)

    await change_draws_the_parts_anew(server, narrower)
