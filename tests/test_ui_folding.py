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


async def test_a_segment_cut_in_a_long_paragraph_is_frozen_with_its_margins_joined(
    server: DemoServer,
) -> None:
    # The paragraph goes on in the next segment: no blank row where it was cut.
    sentences = " ".join(f"Sentence w{n:05d} of the long paragraph." for n in range(120))
    reply = "## A heading\n\n" + sentences + "\n"
    server.configure(reply=reply, token_rate=0)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        answer = await send_and_wait(pilot, app, "one long paragraph")
        await settle(pilot, lambda: bool(answer.query(FrozenSegment)))
        frozen = answer.query(FrozenSegment).first()
        rows = frozen.text.split("\n")
        assert markers(frozen.text) == markers(reply)[: len(markers(frozen.text))]
        assert rows[-1].strip(), f"a blank row where the paragraph was cut: {rows[-3:]}"


async def test_folded_parts_are_laid_out_once_when_their_size_changes() -> None:
    # A fold puts one of these in place of a segment: Textual laid each out twice (its
    # virtual size asks for a second layout), a frame more per fold (textual_fixes, 3).
    from textual.app import App, ComposeResult
    from textual.content import Content
    from textual.geometry import Size
    from textual.strip import Strip

    from ollama_tui.ui.widgets.folding import FoldedFence, FoldedParagraphs

    class Folded(App[None]):
        def compose(self) -> ComposeResult:
            yield FoldedParagraphs(Content("Some words."))
            yield FoldedFence(Content("x = 1"), "x = 1", "python")
            yield FrozenSegment("Some words.", [Strip.blank(20)], 20, self.theme)

    app = Folded()
    async with app.run_test() as pilot:
        await pilot.pause()
        for widget in app.screen.children:
            size = widget.size + Size(0, 3)
            assert widget._size_updated(size, size, widget.container_size)
            assert not widget._layout_required, type(widget).__name__
