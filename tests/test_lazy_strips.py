"""A strip makes its caches on first use (ui/lazy_strips.py): the same strips come out
of every operation, cached as Textual caches them, and a strip made and not cut, cropped
or styled holds no cache at all."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import Monochrome
from textual.strip import Strip

from ollama_tui.ui import lazy_strips
from ollama_tui.ui.lazy_strips import CACHES


@pytest.fixture
def lazy() -> Iterator[None]:
    lazy_strips.apply()
    yield
    lazy_strips.apply()  # as the app runs (a test that removed it restores it)


def test_textual_is_the_version_it_was_written_against() -> None:
    assert lazy_strips.needs_lazy_caches()


def test_a_new_strip_holds_no_cache_until_one_is_used(lazy: None) -> None:
    strip = Strip([Segment("hello world")])
    for name in CACHES:
        with pytest.raises(AttributeError):
            vars(Strip)[name].__get__(strip)  # the slot, empty
    assert strip.crop(0, 5).text == "hello"
    assert isinstance(vars(Strip)["_crop_cache"].__get__(strip), object)
    with pytest.raises(AttributeError):
        getattr(strip, "no_such_thing")  # noqa: B009 (any other name is still missing)


def test_each_cache_is_made_at_textuals_size(lazy: None) -> None:
    lazy_strips.remove()
    theirs = Strip([Segment("x")])
    lazy_strips.apply()
    ours = Strip([Segment("x")])
    for name in Strip.__slots__:
        if name.endswith("_cache") and name != "_render_cache":
            assert getattr(ours, name)._maxsize == getattr(theirs, name)._maxsize, name


CONSOLE = Console(color_system="truecolor", width=80)


def _operations() -> list[Callable[[Strip], Any]]:
    red = Style(color="red")
    return [
        lambda s: s.crop(1, 6),
        lambda s: s.crop(0, 3),
        lambda s: s.divide([2, 5, s.cell_length]),
        lambda s: s.divide([s.cell_length]),
        lambda s: s.apply_style(red),
        lambda s: s.apply_filter(Monochrome(), Color(0, 0, 0)),
        lambda s: s.adjust_cell_length(12, red),
        lambda s: s.extend_cell_length(15),
        lambda s: s.crop_extend(2, 14, red),
        lambda s: s.apply_offsets(3, 4),
        lambda s: s.simplify(),
        lambda s: s.render(CONSOLE),
        lambda s: s.text,
    ]


def _shape(result: Any) -> Any:
    if isinstance(result, Strip):
        return [(seg.text, seg.style) for seg in result]
    if isinstance(result, list):
        return [_shape(item) for item in result]
    return result


def _run(seed: int) -> list[Any]:
    rng = random.Random(seed)
    words = ["alpha", "β", "日本", "ok", " ", "longer word"]
    styles = [Style(), Style(bold=True), Style(color="blue", bgcolor="white")]
    out: list[Any] = []
    for _ in range(30):
        strip = Strip(
            [Segment(rng.choice(words), rng.choice(styles)) for _ in range(rng.randint(1, 5))]
        )
        for operation in rng.sample(_operations(), 6):
            first, again = operation(strip), operation(strip)
            out.append((_shape(first), first is again))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_operation_gives_textuals_strips_cached_as_textual_caches(
    lazy: None, seed: int
) -> None:
    ours = _run(seed)
    lazy_strips.remove()
    theirs = _run(seed)
    assert ours == theirs
    assert any(same for _, same in ours)  # (cached results were compared too)
