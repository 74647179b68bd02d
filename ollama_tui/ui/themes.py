"""The themes the app can show: Textual's built-in ones (the settings ask here)."""

from __future__ import annotations

from textual.theme import BUILTIN_THEMES


def theme_names() -> list[str]:
    return sorted(BUILTIN_THEMES)
