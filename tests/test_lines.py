"""A streaming answer is drawn as lines (ui/widgets/lines.py) exactly as Textual's
Markdown draws the same text there: every cell's character and style, at two widths,
in the app's own CSS; and what it cannot draw stays Textual's."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import textual
from rich.style import Style as RichStyle
from textual.geometry import Offset
from textual.pilot import Pilot
from textual.selection import Selection
from textual.strip import Strip
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownBlockQuote

from ollama_tui.demo import DemoConfig, DemoServer
from ollama_tui.demo.numbered import numbered_reply
from ollama_tui.demo.replies import tokenize
from ollama_tui.ui.app import OllamaApp
from ollama_tui.ui.widgets import lines
from ollama_tui.ui.widgets.blocks import grown_blocks
from ollama_tui.ui.widgets.cells import DIRECT
from ollama_tui.ui.widgets.chat_message import AssistantMessage
from ollama_tui.ui.widgets.folding import FrozenSegment, freeze
from ollama_tui.ui.widgets.lines import CannotDraw, Drawn, draw
from ollama_tui.ui.widgets.live_segment import LiveSegment
from ollama_tui.ui.widgets.probe_holder import ProbeHolder
from ollama_tui.ui.widgets.probes import PROBE, Probes
from ollama_tui.ui.widgets.segment import segment
from tests.uitools import (
    contents_rendered,
    make_app,
    replay_app,
    replies,
    send,
    send_and_wait,
    wait_until,
)

SAMPLES = {
    "paragraphs": (
        "Plain words, **bold *nested em* words**, `code`, ~~gone~~ and a [link](http://a.b).\n\n"
        "A second paragraph long enough to wrap at either width: it goes on, and on, and "
        "on, past sixty columns and past a hundred, until it has no choice but to wrap.\n"
        "A soft break above, and a hard one at the end of this line  \nafter it.\n"
    ),
    "headings": "# One *big*\n\nText.\n\n## Two\n\n### Three `x`\n\n#### Four\n\n##### Five\n\n"
    "###### Six\n\nEnd.\n",
    "lists": (
        "- one item long enough to wrap around the width of the segment, at sixty columns "
        "surely\n- two **b**\n- three\n\n1. a\n2. b\n\n8. x\n9. y\n10. z\n\n"
        "- outer\n  - inner\n    - deeper\n- back\n\n1. step\n   - sub\n2. next\n   1. sub-step\n"
    ),
    "loose list": "- loose one\n\n- loose two\n\n  its second paragraph\n\nAfter.\n",
    "code": (
        "Code:\n\n```python\ndef f(x):\n    return x + 1  # a comment\n```\n\n"
        f"```\n{'x' * 130}\nshort\nshort\n```\n\n    indented code\n\nAfter.\n"
    ),
    # Tabs stop every 8 cells, as Textual's wrapping expands them (they were 1 cell).
    "tabs in code": "```python\nif x:\n\treturn 'a\tb'\n```\n\n```\n\tx\n\t\ty\n```\n",
    # Lines of code made into cells directly (cells.py) beside Textual's: blanks
    # around them, a line of blanks, non-ASCII, a control character, no language.
    "code made into cells": (
        "```python\n  x = 'a'  \n    \nif y:  # \u00fc\n    return [1, 2]   \n"
        "z = '\x07'\n```\n\n```\nplain text, no language\n```\n"
    ),
    # An item as it arrives ("2." before its text): Textual gives it no row.
    "an empty item": "1. a\n2.\n",
    # Its widest line growing: every row is padded again to it (lines.FenceRows).
    "a growing fence": "```python\na = 1\nb = 2\nc = 3\nd = 4\nname = f(a, b, c, d)  # wide\n```\n",
    # Words too long for a line, folded, blanks after them (rewrap.py: wrapped whole).
    "folded words": "Go to " + "x" * 140 + " and on, " + "y" * 60 + "  and more.\n",
    # Wrapped again from its last line as it grows (rewrap.py): styles across lines.
    "a long paragraph": (
        "Words **in bold going on across a line end, " + "and on " * 12 + "to here** then "
        "`a code span` and *an emphasis that also goes on " + "and on " * 9 + "* with a "
        "[link whose text is long enough to wrap](http://a.b) and a " + "x" * 130 + " word "
        "too long for a line, a hard break  \nand more " + "words " * 20 + "to the end.\n"
    ),
}

CUTS = {
    "a paragraph that goes on": ("Words before.\n\nThe paragraph that goes on", False, True),
    "a fence that goes on": ("Code:\n\n```python\nx = 1\n```\n", False, True),
    "a fence that went on": ("```python\ny = 2\n```\n\nAfter.\n", True, False),
    "a fence cut at both ends": ("```python\nz = 3\n```\n", True, True),
}


def cells(strips: list[Strip]) -> list[list[tuple[str, object]]]:
    """Each cell's character and style; not its offset, which a segment's row gives it
    when painted (`words_selectable` checks those)."""
    unplaced = RichStyle.from_meta({"offset": None})
    return [
        [(ch, (seg.style or RichStyle()) + unplaced) for seg in strip for ch in seg.text]
        for strip in strips
    ]


async def textual_and_ours(
    source: str,
    width: int,
    continued: bool = False,
    continues: bool = False,
    theme: str | None = None,
) -> tuple[list[Strip], list[Strip]]:
    """`source` drawn by Textual's Markdown in a reply, and by lines at `width` with the
    blocks answers are drawn with (the transcript's hidden holder); in `theme` if given,
    switched to after the holder's styles were read once."""
    app = replay_app(DemoConfig(reply="Hi.", token_rate=0))
    async with app.run_test(size=(width, 60)) as pilot:
        reply = await send_and_wait(pilot, app, "x")
        probes = await app.screen.query_one(ProbeHolder).probes()
        if theme is not None:
            draw(source, width, probes)  # styles read, and kept, in the first theme
            app.theme = theme
        theirs = segment()
        await reply.mount(theirs)
        await theirs.update(source)
        if continued:
            theirs.children[0].add_class("continued")
        if continues:
            theirs.children[-1].add_class("continues")
        await pilot.pause()
        await wait_until(pilot, lambda: all(b.size.width for b in theirs.children))
        ours = draw(source, theirs.size.width, probes, continued=continued, continues=continues)[0]
        return freeze(theirs).strips, ours


@pytest.mark.parametrize("width", [60, 100])
async def test_lines_are_what_textual_draws_cell_by_cell(width: int) -> None:
    for name, source in SAMPLES.items():
        theirs, ours = await textual_and_ours(source, width)
        assert [s.text for s in ours] == [s.text for s in theirs], name
        assert cells(ours) == cells(theirs), name


async def hidden_probe(pilot: Pilot[None], app: OllamaApp) -> Markdown:
    """A hidden Markdown holding one block of each kind, in a reply (as the app's)."""
    reply = await send_and_wait(pilot, app, "x")
    probe = segment()
    probe.display = False
    await reply.mount(probe)
    await probe.update(PROBE)
    Probes.mark(probe)
    await pilot.pause()
    return probe


async def test_lines_drawn_as_the_text_grows_are_the_lines_drawn_at_once() -> None:
    # Kept blocks, kept lines of code and rows of a fence, a paragraph wrapped from its
    # last line, the parse of the grown text only: at every step, what one drawing of
    # the text so far makes, wherever the text was cut.
    app = replay_app(DemoConfig(reply="Hi.", token_rate=0))
    async with app.run_test(size=(80, 40)) as pilot:
        probe = await hidden_probe(pilot, app)
        for name, source in SAMPLES.items():
            growing, drawn = Probes(probe), Drawn()
            for end in [*range(1, len(source), 7), len(source)]:
                try:
                    grown = draw(source[:end], 70, growing, drawn=drawn)[0]
                except CannotDraw:  # e.g. "- a\n  -": a heading in a list
                    continue
                whole = draw(source[:end], 70, Probes(probe))[0]
                assert cells(grown) == cells(whole), (name, end)
                # (each cell's offset in its block too: a mouse selection reads them)
                assert [list(s) for s in grown] == [list(s) for s in whole], (name, end)


def counting(parsed: list[str]) -> Callable[[str, str, list[object]], object]:
    """`grown_blocks`, noting in `parsed` each text it parses."""

    def counted(source: str, before: str, nodes: list[object]) -> object:
        parsed.append(source)
        return grown_blocks(source, before, nodes)  # type: ignore[arg-type]

    return counted


async def test_words_streamed_into_a_paragraph_or_list_are_drawn_without_a_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Prose as a model streams it: a word at a time, the paragraph wrapping over lines.
    parsed: list[str] = []
    counted = counting(parsed)

    app = replay_app(DemoConfig(reply="Hi.", token_rate=0))
    async with app.run_test(size=(80, 40)) as pilot:
        probe = await hidden_probe(pilot, app)
        growing, drawn = Probes(probe), Drawn()

        def stream_words(source: str, words: list[str]) -> tuple[str, list[Strip]]:
            """`source`, drawn, then a word at a time: each drawing as the whole text's,
            none parsed."""
            draw(source, 70, growing, drawn=drawn)  # (a new line: parsed)
            parsed.clear()
            monkeypatch.setattr(lines, "grown_blocks", counted)
            for word in words:
                source += " " + word
                grown = draw(source, 70, growing, drawn=drawn)[0]
                with monkeypatch.context() as whole_parse:
                    whole_parse.setattr(lines, "grown_blocks", grown_blocks)
                    whole = draw(source, 70, Probes(probe))[0]
                assert [list(s) for s in grown] == [list(s) for s in whole], source
            monkeypatch.undo()
            assert parsed == [], source
            return source, grown

        prose = ("plain words, a sentence's end. " * 12).split()
        source, grown = stream_words("## A title\n\nSome **bold** and `code`, then", prose)
        assert len(grown) > 8  # (the paragraph wrapped)
        for item in ("\n\n- A list", "\n- its second item", "\n  1. nested"):
            source, _ = stream_words(source + item, ["and", "words", "that", "wrap", "on"] * 6)


async def test_code_streamed_into_a_fence_is_drawn_without_a_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A code reply as the bench streams it: each drawing is the whole text's, none
    # parsed after the fence opened (`blocks.fence_growth`).
    parsed: list[str] = []
    counted = counting(parsed)

    reply = numbered_reply("code-fence", 120)
    pieces = [reply[:10], *tokenize(reply[10 : reply.rindex("`") - 2])]
    app = replay_app(DemoConfig(reply="Hi.", token_rate=0))
    async with app.run_test(size=(80, 40)) as pilot:
        probe = await hidden_probe(pilot, app)
        growing, drawn = Probes(probe), Drawn()
        source = "Some code:\n\n" + pieces[0]
        assert pieces[0] == "```python\n"
        draw(source, 70, growing, drawn=drawn)
        monkeypatch.setattr(lines, "grown_blocks", counted)
        for piece in pieces[1:]:
            source += piece
            grown = draw(source, 70, growing, drawn=drawn)[0]
            with monkeypatch.context() as whole_parse:
                whole_parse.setattr(lines, "grown_blocks", grown_blocks)
                whole = draw(source, 70, Probes(probe))[0]
            assert [list(s) for s in grown] == [list(s) for s in whole], source
        assert parsed == []
        assert len(grown) > 25


async def test_lines_of_ascii_code_are_made_into_cells_without_textuals_content(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if textual.__version__ != "8.2.8":
        pytest.skip("written against Textual 8.2.8's drawing of a line of text")
    assert DIRECT
    rendered = contents_rendered(monkeypatch)
    app = replay_app(DemoConfig(reply="Hi.", token_rate=0))
    async with app.run_test(size=(80, 40)) as pilot:
        probe = await hidden_probe(pilot, app)
        rendered.clear()
        draw(SAMPLES["code made into cells"], 70, Probes(probe))
    # The line with a non-ASCII character is Textual's (a control character is not
    # kept by `Content`).
    assert rendered == ["if y:  # \u00fc"]


async def test_after_a_new_theme_lines_are_what_textual_draws_in_it() -> None:
    # The holder outlives answers: the styles it kept are read again in the new theme.
    for name in ("paragraphs", "code", "code made into cells"):
        theirs, ours = await textual_and_ours(SAMPLES[name], 80, theme="textual-light")
        assert cells(ours) == cells(theirs), name


async def test_a_block_growing_through_a_new_theme_is_drawn_in_it() -> None:
    # What a live segment does at a new theme (`LiveSegment._restyle`): its kept lines,
    # rows and wrapping are not the old theme's.
    app = replay_app(DemoConfig(reply="Hi.", token_rate=0))
    async with app.run_test(size=(80, 40)) as pilot:
        probe = await hidden_probe(pilot, app)
        for name in ("a growing fence", "code made into cells", "a long paragraph"):
            app.theme = "textual-dark"
            await pilot.pause()
            source = SAMPLES[name]
            half = len(source) // 2
            growing, drawn = Probes(probe), Drawn()
            for end in range(1, half, 5):
                draw(source[:end], 70, growing, drawn=drawn)
            app.theme = "textual-light"
            await pilot.pause()
            growing.restyle()
            drawn.forget_styles()
            for end in range(half, len(source) + 1, 5):
                grown = draw(source[:end], 70, growing, drawn=drawn)[0]
                whole = draw(source[:end], 70, Probes(probe))[0]
                assert [list(s) for s in grown] == [list(s) for s in whole], (name, end)


async def test_pythons_lexer_is_made_ready_ahead_of_the_first_code_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Loading and checking it took 40-60 ms of the first code block's first paint, and
    # reading its rules' patterns (`first_chars`) 7 ms more.
    from pygments.lexers import get_lexer_by_name

    from ollama_tui.ui.widgets import growing_code
    from ollama_tui.ui.widgets.first_chars import FirstChars

    growing_code.fence_limit.cache_clear()
    growing_code._resumed.cache_clear()
    rules = FirstChars()
    monkeypatch.setattr(growing_code, "FIRST_CHARS", rules)
    tokens = type(get_lexer_by_name("python"))._tokens  # type: ignore[attr-defined]
    patterns = {rule[0].__self__ for state in tokens.values() for rule in state}
    app = replay_app(DemoConfig(reply="Hi.", token_rate=0))
    async with app.run_test(size=(80, 30)) as pilot:
        await wait_until(pilot, lambda: growing_code._resumed.cache_info().currsize > 0)
        await wait_until(pilot, lambda: patterns <= rules._admits.keys())
        assert growing_code.fence_limit.cache_info().currsize == 1  # (no fence drawn)


async def test_answers_share_the_blocks_made_ahead_of_them(server: DemoServer) -> None:
    # Made once, before the first question: no answer waits for its own (80-130 ms).
    server.configure(reply="Some words, one by one.\n\n" * 12, token_rate=40.0)
    app = make_app(server)
    async with app.run_test(size=(80, 30)) as pilot:
        holder = app.screen.query_one(ProbeHolder)
        await wait_until(pilot, lambda: holder.ready)  # made with no question asked
        probes = holder.probes().result()
        seen: list[Probes | None] = []

        def drawing() -> list[Probes]:
            return [s.probes for s in app.screen.query(LiveSegment) if s.probes]

        for question in ("one", "two"):
            await send(pilot, question)
            await wait_until(pilot, lambda: bool(drawing()))
            seen.append(drawing()[-1])
            await wait_until(pilot, lambda: all(r.state for r in replies(app)))
        assert seen == [probes, probes]
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: not app.screen.query(AssistantMessage))
        assert app.screen.query_one(ProbeHolder) is holder, "a new chat keeps them"


async def test_blocks_cut_across_segments_join_as_textual_draws_them() -> None:
    for name, (source, continued, continues) in CUTS.items():
        theirs, ours = await textual_and_ours(source, 80, continued, continues)
        assert cells(ours) == cells(theirs), name


async def test_a_block_it_cannot_draw_is_said_and_left_to_textual(server: DemoServer) -> None:
    with pytest.raises(CannotDraw):
        await textual_and_ours("> a quote\n", 80)
    reply = "Before.\n\n> a quote, drawn by Textual\n\nAfter.\n"
    server.configure(reply=reply, token_rate=0)
    app = make_app(server)
    async with app.run_test(size=(80, 30)) as pilot:
        message = await send_and_wait(pilot, app, "quote")
        assert message.query(MarkdownBlockQuote), "the quote is Textual's"
        assert message.markdown.source == reply


async def test_a_streaming_answer_is_one_widget_of_lines_then_textuals_markdown(
    server: DemoServer,
) -> None:
    reply = "# Title\n\nSome words, **bold**.\n\n- one\n- two\n\nThe end.\n"
    server.configure(reply=reply, token_rate=20.0)
    app = make_app(server)
    async with app.run_test(size=(80, 30)) as pilot:
        await send(pilot, "go")

        def live() -> LiveSegment | None:
            found = app.screen.query(LiveSegment)
            return found.first() if found and "Some words, bold" in found.first().text else None

        await wait_until(pilot, lambda: live() is not None)
        message = app.screen.query(AssistantMessage).last()
        shown = live()
        assert shown is not None
        # While it grows: its lines, and no block widgets behind them (the hidden blocks
        # it takes its styles from aside).
        assert "Title" in shown.text and "Some words, bold" in shown.text
        visible = [m for m in message.query(Markdown) if m.display]
        assert not visible, "Textual's block widgets while streaming"
        await wait_until(pilot, lambda: bool(message.state))
        assert isinstance(message.markdown, Markdown) and message.markdown.source == reply
        assert not message.query(LiveSegment), "lines left after the end"
        assert all(m.display for m in message.query(Markdown)), "hidden blocks left"


async def test_a_failure_to_draw_lines_leaves_the_answer_to_textual_whole(
    server: DemoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ollama_tui.ui.widgets import live_segment

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("a bug in the line renderer")

    monkeypatch.setattr(live_segment, "draw", broken)
    reply = "# Title\n\nEvery word of it is kept.\n"
    server.configure(reply=reply, token_rate=0)
    app = make_app(server)
    async with app.run_test(size=(80, 30)) as pilot:
        message = await send_and_wait(pilot, app, "go")
        assert isinstance(message.markdown, Markdown) and message.markdown.source == reply
        assert message.state == "done" and app.is_running


async def test_a_segment_taken_over_by_textual_mid_stream_keeps_every_line() -> None:
    # A chunk ending at "\n  -" is a heading inside a list item for an instant: lines
    # give the segment to Textual there, and the next chunk must not lose the list.
    app = replay_app(DemoConfig(reply="Hi.", token_rate=0))
    async with app.run_test(size=(80, 40)) as pilot:
        await send_and_wait(pilot, app, "x")
        message = AssistantMessage("t", "m")
        await app.chat.transcript.add(message)
        await pilot.pause()
        for chunk in ("Intro.\n\n- item a\n- item b\n  -", " nested\n\nAfter.\n"):
            message.text += chunk
            await message._append(chunk)
            await pilot.pause()
        await message.finish("footer", "done")
        await pilot.pause()
        shown = freeze(message.query(Markdown).last()).strips
        text = "\n".join(strip.text for strip in shown)
        for words in ("Intro.", "• item a", "• item b", "▪ nested", "After."):
            assert words in text, words


def words_selectable(widget: LiveSegment | FrozenSegment, text: str) -> None:
    """Each row's first word, selected where its cells say they are, is that word (a
    selection maps the mouse to the offsets the cells carry)."""
    for y, line in enumerate(text.split("\n")):
        word = line.split()[0] if line.split() else ""
        if not word:
            continue
        cells = [(s.text, s.style) for s in widget.render_line(y) if s.text.strip()]
        style = cells[0][1]
        assert style is not None and style.meta, (y, line)
        x, row = style.meta["offset"]
        x += len(cells[0][0]) - len(cells[0][0].lstrip())
        picked = widget.get_selection(Selection(Offset(x, row), Offset(x + len(word), row)))
        assert picked is not None and picked[0] == word, (y, line, picked)


async def test_a_selection_in_an_answer_drawn_as_lines_is_the_text_under_the_mouse(
    server: DemoServer,
) -> None:
    # Cells carried their block's own offsets: a row of the second block said row 0.
    server.configure(reply=numbered_reply("prose", 400), token_rate=100.0)
    app = make_app(server)
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "go")
        grown = lambda: any(s.block_count >= 3 for s in app.screen.query(LiveSegment))  # noqa: E731
        await wait_until(pilot, grown)
        live = app.screen.query(LiveSegment).last()
        words_selectable(live, live.text)
        await wait_until(pilot, lambda: bool(replies(app)) and bool(replies(app)[-1].state))
        frozen = list(app.screen.query(FrozenSegment))
        assert frozen, "a full segment of headings and lists is kept as lines"
        words_selectable(frozen[0], frozen[0].text)
