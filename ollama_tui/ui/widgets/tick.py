"""A checkbox whose box says whether it is ticked, not only its colour."""

from __future__ import annotations

from textual.widgets import Checkbox


class Tick(Checkbox):
    # Textual draws "X" in both states, ticked or not, and only the colour differs:
    # unreadable without colour, and easy to misread with it.
    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]
        return "X" if self.value else " "
