"""A reply's full segments with headings and lists are drawn once and kept as lines
(ui/widgets/folding.py): the same text on screen, no widgets behind it, Markdown back
when the width changes."""

from __future__ import annotations

import re

from textual.widgets import Markdown

from ollama_tui.demo import DemoServer
from ollama_tui.demo.numbered import numbered_reply
from ollama_tui.ui.widgets.folding import FrozenSegment
from tests.uitools import make_app, send_and_wait, settle

REPLY = numbered_reply("prose", 400)  # sections of a heading, a paragraph and a list


def markers(text: str) -> list[str]:
    return re.findall(r"w\d{5}", text)


async def test_full_segments_are_frozen_and_read_the_same(server: DemoServer) -> None:
    server.configure(reply=REPLY, token_rate=0)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        reply = await send_and_wait(pilot, app, "sections")
        await settle(pilot, lambda: len(reply.query(Markdown)) == 1)  # all but the last
        frozen = list(reply.query(FrozenSegment))
        live = list(reply.query(Markdown))
        assert len(live) == 1 and frozen, "the last segment stays live"
        assert not frozen[0].query("*"), "widgets behind a frozen segment"
        shown = "".join(f.text for f in frozen) + "".join(m.source for m in live)
        assert markers(shown) == markers(REPLY), "text lost or reordered in freezing"
        assert "• w0" in frozen[0].text, "the list's bullets are drawn"


async def test_a_new_width_draws_the_segments_again_at_that_width(server: DemoServer) -> None:
    server.configure(reply=REPLY, token_rate=0)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        reply = await send_and_wait(pilot, app, "sections")
        await settle(pilot, lambda: len(reply.query(Markdown)) == 1)
        frozen = list(reply.query(FrozenSegment))
        sources, width = [f.source for f in frozen], frozen[0].frozen_width
        await pilot.resize_terminal(70, 30)
        await settle(
            pilot,
            lambda: (
                len(reply.query(Markdown)) == 1
                and all(f.frozen_width < width for f in reply.query(FrozenSegment))
            ),
        )
        again = list(reply.query(FrozenSegment))
        assert [f.source for f in again] == sources
        assert max(len(line) for f in again for line in f.text.splitlines()) <= 70


async def test_a_new_theme_draws_the_segments_again_in_its_colours(server: DemoServer) -> None:
    server.configure(reply=REPLY, token_rate=0)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        reply = await send_and_wait(pilot, app, "sections")
        await settle(pilot, lambda: len(reply.query(Markdown)) == 1)
        before = [f.text for f in reply.query(FrozenSegment)]
        app.theme = "textual-light"
        await settle(
            pilot,
            lambda: (
                len(reply.query(Markdown)) == 1
                and all(f.theme == "textual-light" for f in reply.query(FrozenSegment))
            ),
        )
        assert [f.text for f in reply.query(FrozenSegment)] == before
