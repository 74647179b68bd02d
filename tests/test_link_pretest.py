"""Linkify's pretest run over what a text gained (ui/widgets/link_pretest.py) misses no
match the whole text's search finds, and links come out as without it."""

from __future__ import annotations

import random
import re
import sys
import threading

import pytest
from markdown_it import MarkdownIt

from ollama_tui.ui.widgets import link_pretest, segment
from ollama_tui.ui.widgets.link_pretest import SPAN, GrowingPretest
from ollama_tui.ui.widgets.segment import parser

PIECES = [
    "word ", "words. ", "see ", "www", ".", "example", "com", "co", " ", "http", ":", "//",
    "a.b", "mail", "@", "local", "host", "1", ".2.", "xn--", "p1ai", "(", ")", "_", "\n",
    "https://x.y/z ", "a" * 40, "ftp:", "mailto:",
]  # fmt: skip


def texts(seed: int) -> list[str]:
    """A text growing piece by piece, each step of it."""
    rng = random.Random(seed)
    text, steps = "", []
    for _ in range(rng.randint(30, 160)):
        text += rng.choice(PIECES)
        steps.append(text)
    return steps


def test_the_parser_has_it() -> None:
    linkify = parser().linkify
    assert linkify is not None
    if not isinstance(linkify.pretest, GrowingPretest):
        pytest.skip("another linkify-it-py: its own pretest, untouched")
    widest = re._parser.parse(linkify.re["pretest"], re.IGNORECASE).getwidth()[1]  # type: ignore[attr-defined]
    assert widest <= SPAN


LINKS = ["www.example", "localhost", "see http://a.b", "(ftp:", "me@x.yz", "a.1.2.3", "x.xn--p1ai "]


@pytest.mark.parametrize("link", LINKS)
def test_a_link_that_forms_as_a_text_grows_is_found(link: str) -> None:
    whole = MarkdownIt("gfm-like").linkify
    assert whole is not None
    growing = GrowingPretest(whole.pretest)
    text = " ".join(f"word{n}" for n in range(40)) + " "
    assert not growing(text)
    found = False
    for end in range(1, len(link) + 1):  # a character at a time
        grown = text + link[:end]
        found = growing(grown)
        assert found or not whole.pretest(grown), grown
    assert found


@pytest.mark.parametrize("seed", range(20))
def test_a_growing_text_is_found_to_maybe_hold_a_link_whenever_the_whole_is(seed: int) -> None:
    whole = MarkdownIt("gfm-like").linkify
    assert whole is not None
    growing = GrowingPretest(whole.pretest)
    for text in texts(seed):
        if whole.pretest(text):
            assert growing(text), text
        else:
            growing(text)  # (a "maybe" where there is none is allowed)


def test_only_what_a_text_gained_is_searched() -> None:
    whole = MarkdownIt("gfm-like").linkify
    assert whole is not None
    searched: list[str] = []

    def counted(text: str) -> bool:
        searched.append(text)
        return bool(whole.pretest(text))

    growing = GrowingPretest(counted)
    text = ""
    for n in range(200):
        text += f"word{n} "
        assert not growing(text)
    assert max(len(s) for s in searched[1:]) <= SPAN + len("word199 ")
    assert growing(text + "www.") and searched[-1].endswith("www.")


@pytest.mark.parametrize("seed", range(8))
def test_links_are_what_a_parser_without_it_makes(seed: int) -> None:
    plain = MarkdownIt("gfm-like", {"html": False})
    ours = MarkdownIt("gfm-like", {"html": False})
    assert link_pretest.install(ours) == isinstance(parser().linkify.pretest, GrowingPretest)  # type: ignore[union-attr]
    for text in texts(seed):
        assert ours.render(text) == plain.render(text), text


def test_another_expression_is_left_alone() -> None:
    other = MarkdownIt("gfm-like")
    assert other.linkify is not None
    other.linkify.re["pretest"] = "@"
    assert not link_pretest.install(other)
    assert not isinstance(other.linkify.pretest, GrowingPretest)


def test_two_threads_parsing_at_once_with_the_same_parser() -> None:
    # Textual's `Markdown.update` parses on a worker thread, the live lines on the app's:
    # the app's parser, made anew, first used by both at once.
    growing = segment.parser.__wrapped__()
    assert isinstance(getattr(growing.linkify, "pretest", None), link_pretest.GrowingPretest)
    errors: list[BaseException] = []

    def parse(tag: str) -> None:
        try:
            for n in range(400):
                growing.parse("".join(f"{tag} paragraph {n} {k} words\n\n" for k in range(10)))
        except Exception as error:  # (a failure is the test's finding, not its crash)
            errors.append(error)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as can be
    try:
        threads = [threading.Thread(target=parse, args=(tag,)) for tag in "ab"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []


def test_the_apps_parser_has_its_rules_made_before_any_thread_parses() -> None:
    # markdown-it-py makes each ruler's rules at its first use; a thread parsing while
    # another made them found none (CI: "none of the block rules matched").
    made = segment.parser.__wrapped__()
    rulers = [made.core.ruler, made.block.ruler, made.inline.ruler, made.inline.ruler2]
    assert all(getattr(ruler, "__cache__") is not None for ruler in rulers)  # noqa: B009
