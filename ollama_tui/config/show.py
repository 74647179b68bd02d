"""`--print-config`: every setting, its value and where it came from."""

from __future__ import annotations

from ollama_tui.config.keys import KEYS, Key
from ollama_tui.config.resolving import Resolved


def show_value(key: Key, value: object) -> str:
    if value is None:
        return "(model default)" if key.name == "think" else "(first installed model)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def format_settings(resolved: Resolved) -> str:
    """The --print-config table: every setting, its value and its source."""
    config_value = str(resolved.config_path or "-")
    if not resolved.config_found:
        config_value += " (not found)"
    rows = [
        ("SETTING", "VALUE", "SOURCE"),
        ("config file", config_value, str(resolved.config_source)),
    ]
    for key in KEYS:
        value = getattr(resolved.settings, key.field)
        rows.append((key.name, show_value(key, value), str(resolved.sources[key.field])))
    settings = resolved.settings
    chat = settings.chat
    shown = ", ".join(f"{k}={v!r}" for k, v in chat.common.items())
    for model, values in chat.models.items():
        shown += f"; {model}: " + ", ".join(f"{k}={v!r}" for k, v in values.items())
    rows.append(("chat", shown or "-", f"file {resolved.config_path}" if shown else "default"))
    keys = ", ".join(f"{k}={v}" for k, v in settings.keymap.items())
    rows.append(("keys", keys or "-", f"file {resolved.config_path}" if keys else "default"))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    return "\n".join(
        f"{name:<{widths[0]}}   {value:<{widths[1]}}   {source}" for name, value, source in rows
    )
