"""A reply's end, and the transcript's focus, restyle one widget, not every part of the
conversation under it (`add_class_alone`, `FocusedAlone`: ui/textual_fixes.py, fixes 7-8)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from textual.containers import ScrollableContainer, VerticalScroll
from textual.css.model import CombinatorType, RuleSet, Selector, SelectorType
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode
from textual.theme import BUILTIN_THEMES
from textual.widget import Widget

from ollama_tui.demo import DemoServer
from ollama_tui.ui import app as app_module
from ollama_tui.ui import textual_fixes
from ollama_tui.ui.app import OllamaApp
from ollama_tui.ui.widgets.prompt import PromptInput
from ollama_tui.ui.widgets.transcript import Transcript
from tests.uitools import make_app, replies, send, wait_until

PARAGRAPHS = "\n\n".join(f"Paragraph {n} says a few words about lighthouses." for n in range(400))
STATE_CLASSES = {"done", "stopped", "error"}


def spy_on_restyles(monkeypatch: pytest.MonkeyPatch) -> list[DOMNode]:
    """Every node the stylesheet restyles from now on."""
    restyled: list[DOMNode] = []
    original = Stylesheet.update_nodes

    def update_nodes(self: Stylesheet, nodes: Iterable[DOMNode], animate: bool = False) -> None:
        nodes = list(nodes)
        restyled.extend(nodes)
        original(self, nodes, animate)

    monkeypatch.setattr(Stylesheet, "update_nodes", update_nodes)
    return restyled


async def test_a_stopped_long_reply_restyles_its_border_not_its_every_part(
    server: DemoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.configure(token_rate=200.0, reply=PARAGRAPHS)  # 20 s: stopped long before its end
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "tell me about lighthouses")
        await wait_until(pilot, lambda: bool(replies(app)) and len(replies(app)[0].children) > 4)
        message = replies(app)[0]
        parts = set(message.walk_children())
        restyled = spy_on_restyles(monkeypatch)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.chat.turn is None)
        assert message.has_class("stopped")
        assert message in restyled
        assert not parts & set(restyled), [type(n).__name__ for n in parts & set(restyled)]
        # What the class is for: the stopped reply's border in the theme's warning colour.
        warning = app.theme_variables["warning"]
        assert message.styles.border_left[1].hex.lower() == warning.lower()


async def test_the_transcript_taking_and_losing_the_focus_restyles_no_message(
    server: DemoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.configure(reply=PARAGRAPHS)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "tell me about lighthouses")
        await wait_until(pilot, lambda: app.chat.turn is None)
        transcript = app.chat.query_one(Transcript)
        parts = set(transcript.walk_children())
        assert len(parts) > 20
        assert textual_fixes.FOCUSED_ALONE  # (the Textual it was written against)
        restyled = spy_on_restyles(monkeypatch)
        transcript.focus()
        await wait_until(pilot, lambda: transcript.has_focus)
        app.chat.query_one(PromptInput).focus()
        await wait_until(pilot, lambda: not transcript.has_focus)
        await pilot.pause()
        assert restyled.count(transcript) >= 2  # took it, lost it
        assert not parts & set(restyled), [type(n).__name__ for n in parts & set(restyled)]


def app_rules() -> Iterator[RuleSet]:
    """The rules of the app's CSS files, its widgets' own CSS and the CSS of the
    transcript's Textual bases."""
    variables = BUILTIN_THEMES["textual-dark"].to_color_system().generate()
    stylesheet = Stylesheet(variables=variables)
    for name in OllamaApp.CSS_PATH:
        stylesheet.read(Path(app_module.__file__).parent / name)
    widgets: list[type[DOMNode]] = [*_own_classes(DOMNode), VerticalScroll, ScrollableContainer]
    widgets.append(Widget)
    for widget in widgets:
        if css := widget.__dict__.get("DEFAULT_CSS"):
            stylesheet.add_source(css, read_from=(widget.__module__, widget.__name__))
    stylesheet.parse()
    yield from stylesheet.rules


def outer_compounds(rule: RuleSet) -> Iterator[list[Selector]]:
    """Each compound selector of `rule` that is not the last of its selector: the part
    that matches an ancestor of what the rule styles."""
    for selector_set in rule.selector_set:
        compounds: list[list[Selector]] = []
        for selector in selector_set.selectors:
            if selector.combinator != CombinatorType.SAME or not compounds:
                compounds.append([])
            compounds[-1].append(selector)
        yield from compounds[:-1]


def test_no_rule_styles_a_replys_parts_by_its_state() -> None:
    """Only the message is restyled when its state's class is added: a rule that styled
    something inside a `.stopped` message would never apply."""
    rules = list(app_rules())
    assert sum(STATE_CLASSES & _classes(rule) != set() for rule in rules) >= 2  # (.stopped, .error)
    for rule in rules:
        for compound in outer_compounds(rule):
            names = {s.name for s in compound if s.type == SelectorType.CLASS}
            assert not STATE_CLASSES & names, rule.selectors


def test_no_rule_styles_what_is_in_the_transcript_by_its_focus() -> None:
    """Only the transcript is restyled when it takes or loses the focus: a rule that
    styled something in it by its `:focus` would never apply. (`:focus-within` is
    Textual's to restyle, and still is.)"""
    names = {*Transcript._css_type_names, "transcript"}
    for rule in app_rules():
        for compound in outer_compounds(rule):
            if any("focus" in s.pseudo_classes for s in compound):
                named = {s.name for s in compound if s.type in (SelectorType.TYPE, SelectorType.ID)}
                assert named and not named & names, rule.selectors


def _classes(rule: RuleSet) -> set[str]:
    return {
        s.name
        for selector_set in rule.selector_set
        for s in selector_set.selectors
        if s.type == SelectorType.CLASS
    }


def _own_classes(base: type[DOMNode]) -> list[type[DOMNode]]:
    """The app's subclasses of `base`, at any depth (the app module imports them all)."""
    found, todo = [], [base]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("ollama_tui."):
                found.append(sub)
    return found
