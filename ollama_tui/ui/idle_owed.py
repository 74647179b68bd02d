"""Idle wake-ups that a frame painted at once makes useless are not asked for.

Upstream (Textual 8.2.8): `Widget.refresh()` calls `check_idle()`, which posts a
`Prompt` that wakes the widget's message loop; its idle (`_check_refresh`) then posts
`Update` to its screen for the repaint. `App.batch_update()`, as it ends, wakes the app
the same way (its idle sends on a pending resize). An append that `paint_now` paints as
its batch ends has rendered and written those widgets already, so at 22 appends a
second the live segment, the status bar and the app each woke once per append to find
nothing to do: a step of the loop each, and a walk of its class for idle handlers.

`owed_idles()` is held around a feed's batch and its paint. An `IdleOwed` widget or app
that asks for its idle from that task (from no other) for a repaint at most is noted
instead; as it ends, each one noted whose idle has work left (a repaint not painted, or
anything asked since) is woken as Textual would have woken it. An idle with more to do
(a layout, a scroll, styles, a recompose, callbacks, a resize, a class with idle
handlers of its own) is asked for at once: told later, a layout is one more layout.
Only over the methods as 8.2.8 has them (their sources hashed); elsewhere every check
is Textual's.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App
from textual.message_pump import MessagePump
from textual.widget import Widget

from ollama_tui.ui.textual_fixes import same_sources

if TYPE_CHECKING:
    _Base = MessagePump
else:
    _Base = object  # a plain mixin: as a base it would come before the widget's own

TEXTUAL_8_2_8 = (
    (MessagePump.check_idle, "f4962efef0636f26"),
    (Widget._on_idle, "dcb1c9d1e74be9b2"),
    (Widget._check_refresh, "ad1c8196be9747bf"),
    (App._on_idle, "7a5964d20aa71eda"),
    (App._end_batch, "588c75faa310d669"),
)
"""What an idle does for a widget and for the app, and who asks for it, in 8.2.8."""

ENABLED = same_sources(TEXTUAL_8_2_8)

_owed: dict[asyncio.Task[Any], set[IdleOwed]] = {}

_BASE_IDLE = (Widget.__dict__["_on_idle"], App.__dict__["_on_idle"])


@functools.cache
def _idle_as_textual(cls: type) -> bool:
    """Whether `cls`'s idle is only Textual's (`Widget._on_idle` or `App._on_idle`):
    a handler of its own may do anything, so such a pump is always woken."""
    for klass in cls.__mro__:
        for name in ("_on_idle", "on_idle"):
            handler = klass.__dict__.get(name)
            if handler is not None and handler not in _BASE_IDLE:
                return False
        if events.Idle in klass.__dict__.get("_decorated_handlers", {}):
            return False
    return True


def _more_than_a_repaint(pump: MessagePump) -> bool:
    """Whether `pump`'s idle has more to do now than tell its screen of a repaint: it is
    asked for at once, as Textual asks (a layout told later is a layout of its own)."""
    if pump._next_callbacks or not _idle_as_textual(type(pump)):
        return True
    if isinstance(pump, App):
        return pump._resize_event is not None
    if isinstance(pump, Widget):
        return bool(
            pump._layout_required
            or pump._scroll_required
            or pump._refresh_styles_required
            or pump._recompose_required
        )
    return True


def _idle_has_work(pump: MessagePump) -> bool:
    """Whether `pump`'s idle would do anything now (Textual 8.2.8's, hashed above)."""
    return _more_than_a_repaint(pump) or bool(isinstance(pump, Widget) and pump._repaint_required)


class IdleOwed(_Base):
    """Mixed in before a widget's or app's Textual class: inside `owed_idles()`, its
    `check_idle` from the task holding it waits for the end of the scope."""

    def check_idle(self) -> None:
        if _owed:
            try:
                owed = _owed.get(asyncio.current_task())  # type: ignore[arg-type]
            except RuntimeError:  # no loop running here
                owed = None
            if owed is not None and not _more_than_a_repaint(self):
                owed.add(self)
                return
        super().check_idle()

    def idle_now(self) -> None:
        """Textual's `check_idle`: the idle this pump was owed."""
        super().check_idle()


@contextmanager
def owed_idles() -> Iterator[None]:
    """Note the idles asked for by this task's `IdleOwed` pumps; as it ends, wake those
    whose idle has work left."""
    task = asyncio.current_task()
    if not ENABLED or task is None or task in _owed:
        yield
        return
    owed: set[IdleOwed] = set()
    _owed[task] = owed
    try:
        yield
    finally:
        del _owed[task]
        for pump in owed:
            if _idle_has_work(pump):
                pump.idle_now()
