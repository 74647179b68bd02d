"""A reply's end restyles the message, not every part of its answer (ui/widgets/chat_message.py)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from textual.css.model import CombinatorType, Selector, SelectorType
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode
from textual.theme import BUILTIN_THEMES

from ollama_tui.demo import DemoServer
from ollama_tui.ui import app as app_module
from ollama_tui.ui.app import OllamaApp
from tests.uitools import make_app, replies, send, wait_until

PARAGRAPHS = "\n\n".join(f"Paragraph {n} says a few words about lighthouses." for n in range(400))
STATE_CLASSES = {"done", "stopped", "error"}


async def test_a_stopped_long_reply_restyles_its_border_not_its_every_part(
    server: DemoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.configure(token_rate=200.0, reply=PARAGRAPHS)  # 20 s: stopped long before its end
    app = make_app(server)
    restyled: list[DOMNode] = []
    original = Stylesheet.update_nodes

    def update_nodes(self: Stylesheet, nodes: Iterable[DOMNode], animate: bool = False) -> None:
        nodes = list(nodes)
        restyled.extend(nodes)
        original(self, nodes, animate)

    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "tell me about lighthouses")
        await wait_until(pilot, lambda: bool(replies(app)) and len(replies(app)[0].children) > 4)
        message = replies(app)[0]
        parts = set(message.walk_children())
        monkeypatch.setattr(Stylesheet, "update_nodes", update_nodes)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.chat.turn is None)
        assert message.has_class("stopped")
        assert message in restyled
        assert not parts & set(restyled), [type(n).__name__ for n in parts & set(restyled)]
        # What the class is for: the stopped reply's border in the theme's warning colour.
        warning = app.theme_variables["warning"]
        assert message.styles.border_left[1].hex.lower() == warning.lower()


def test_no_rule_styles_a_replys_parts_by_its_state() -> None:
    """Only the message is restyled when its state's class is added: a rule that styled
    something inside a `.stopped` message would never apply."""
    variables = BUILTIN_THEMES["textual-dark"].to_color_system().generate()
    stylesheet = Stylesheet(variables=variables)
    for name in OllamaApp.CSS_PATH:
        stylesheet.read(Path(app_module.__file__).parent / name)
    for widget in _own_classes(DOMNode):  # and the widgets' own CSS
        if css := widget.__dict__.get("DEFAULT_CSS"):
            stylesheet.add_source(css, read_from=(widget.__module__, widget.__name__))
    stylesheet.parse()
    states = 0
    for rule in stylesheet.rules:
        for selector_set in rule.selector_set:
            compounds: list[list[Selector]] = []
            for selector in selector_set.selectors:
                if selector.combinator != CombinatorType.SAME or not compounds:
                    compounds.append([])
                compounds[-1].append(selector)
            for compound in compounds:
                names = {s.name for s in compound if s.type == SelectorType.CLASS}
                states += bool(STATE_CLASSES & names)
                assert compound is compounds[-1] or not STATE_CLASSES & names, rule.css
    assert states >= 2  # (.stopped and .error are read)


def _own_classes(base: type[DOMNode]) -> list[type[DOMNode]]:
    """The app's subclasses of `base`, at any depth (the app module imports them all)."""
    found, todo = [], [base]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("ollama_tui."):
                found.append(sub)
    return found
