"""The file's two tables that are not single settings: `[chat]` and `[keys]`.

`[chat]` holds what new conversations start with: a system prompt and options
(temperature, top_p, top_k, num_ctx, seed, num_predict, keep_alive), checked as the
F5 dialog checks them; `[chat.models."NAME"]` sets some of them for one model, over the
`[chat]` ones. `[keys]` gives a binding (by its id, as F1 and docs/configuration.md list
them) other keys: `new_chat = "ctrl+k"`; which ids exist is the UI's to say.

Both come from the file only (no flag, no variable); what does not fit is named with its
file and line and left out, as for every other key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ollama_tui.config.keys import describe
from ollama_tui.core.chat_settings import OPTIONS, ChatDefaults, parse

CHAT_KEYS = ("system", *OPTIONS, "keep_alive")
SECTIONS = ("chat", "keys")


Warn = Callable[[str, str], None]
"""`warn(key path, message)`: the caller adds the file and line."""


def read_chat(table: Mapping[str, Any], warn: Warn) -> ChatDefaults:
    common = _chat_values(table, "chat", warn, allow_models=True)
    models: dict[str, dict[str, Any]] = {}
    per_model = table.get("models", {})
    if not isinstance(per_model, dict):
        warn("chat.models", f"expected a table of models, got {describe(per_model)}")
        per_model = {}
    for name, values in per_model.items():
        if not isinstance(values, dict):
            warn(f"chat.models.{name}", f"expected a table, got {describe(values)}")
            continue
        models[name] = _chat_values(values, f"chat.models.{name}", warn, allow_models=False)
    return ChatDefaults(common, models)


def _chat_values(
    table: Mapping[str, Any], where: str, warn: Warn, allow_models: bool
) -> dict[str, Any]:
    typed: dict[str, str] = {}
    for key, value in table.items():
        if key == "models" and allow_models:
            continue
        if key not in CHAT_KEYS:
            warn(f"{where}.{key}", f"unknown key; one of {', '.join(CHAT_KEYS)}")
        elif isinstance(value, bool) or not isinstance(value, str | int | float):
            warn(f"{where}.{key}", f"expected text or a number, got {describe(value)}")
        elif key != "system" and isinstance(value, str) != (key == "keep_alive"):
            # Options are numbers in TOML; keep_alive is a duration string ("5m").
            warn(f"{where}.{key}", f"expected {'text' if key == 'keep_alive' else 'a number'}")
        else:
            typed[key] = str(value)
    settings, errors = parse(typed)
    for key, error in errors.items():
        warn(f"{where}.{key}", error)
    good = settings.to_dict()
    return {key: value for key, value in good.items() if key in typed and key not in errors}


def read_keys(table: Mapping[str, Any], warn: Warn) -> dict[str, str]:
    keymap: dict[str, str] = {}
    for binding, keys in table.items():
        if isinstance(keys, str) and keys.strip():
            keymap[binding] = keys.strip()
        else:
            warn(f"keys.{binding}", f'expected keys such as "ctrl+k", got {describe(keys)}')
    return keymap
