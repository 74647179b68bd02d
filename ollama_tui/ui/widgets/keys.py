"""Keys typed into a text box are applied in the order they were typed.

Textual (8.2.8) runs a focused widget's own key bindings (backspace, delete, word moves)
only once the key has bubbled up to the app, after the keys queued behind it: a
backspace and the next key in one read, as a fast typist sends them, inserted the key
and then deleted it. A box with this mixin runs its own bindings as each key arrives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.widgets import Input

if TYPE_CHECKING:
    from textual.widget import Widget

    _Base = Widget
else:
    _Base = object  # a plain mixin: as a Widget base it would hide the box's own CSS


class KeysInOrder(_Base):
    """Mixed into a text widget before its Textual class (`class X(KeysInOrder, Input)`)."""

    async def run_own_binding(self, event: events.Key) -> bool:
        """Run this widget's own binding for `event` now; True if one ran."""
        bindings = getattr(getattr(self, "_bindings", None), "key_to_bindings", None)
        if not isinstance(bindings, dict):
            return False  # another Textual: its own order
        for binding in bindings.get(event.key, ()):
            # As the app runs bindings: a disabled action (copy with nothing selected)
            # is not handled, and the key goes on to the screen's and the app's (^c quits).
            if not binding.priority and await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return True
        return False


class TypingInput(KeysInOrder, Input):
    """A one-line text box whose keys count in the order typed."""

    async def _on_key(self, event: events.Key) -> None:
        # Textual calls Input's own handler after this one unless prevented.
        await self.run_own_binding(event)
