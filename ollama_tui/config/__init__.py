"""Settings: command-line flag > environment > config file > default.

The file is TOML, `config.toml` in the user config directory (platformdirs) or the one
`--config` / `OLLAMA_TUI_CONFIG` names. `resolve` is pure: it takes the flags, the
environment and the file's text and returns every setting with the source it came from,
plus one-line warnings for whatever was ignored (broken file, wrong type, unknown key).
`load` is the thin layer that finds and reads the file. `save_choices` writes choices
made in the app back into the file with tomlkit, keeping the user's comments and keys.

The parts: `keys` (every setting, its checks and defaults), `resolving` (the order of
sources and the file's warnings), `file` (reading and saving the file) and `show`
(`--print-config`). Everything is importable from here, as before the split.

docs/configuration.md describes every key.
"""

from __future__ import annotations

from ollama_tui.config.file import load, save_choices
from ollama_tui.config.keys import (
    APP_NAME,
    BY_FIELD,
    BY_NAME,
    CONFIG_ENV,
    DEFAULT_THEME,
    DEFAULT_TRANSPORT,
    KEYS,
    NEW_FILE_HEADER,
    SAVABLE,
    TABLES,
    TRANSPORTS,
    Key,
    Kind,
    Settings,
    check_host,
    check_model,
    check_non_negative,
    check_path,
    check_theme,
    check_think,
    check_timeout,
    check_transport,
    default_config_path,
    default_data_dir,
    from_text,
)
from ollama_tui.config.resolving import (
    DEFAULT,
    Choices,
    ConfigError,
    Resolved,
    Source,
    allowed,
    checked,
    key_line,
    resolve,
)
from ollama_tui.config.show import format_settings, show_value

__all__ = [
    "APP_NAME",
    "BY_FIELD",
    "BY_NAME",
    "CONFIG_ENV",
    "DEFAULT",
    "DEFAULT_THEME",
    "DEFAULT_TRANSPORT",
    "KEYS",
    "NEW_FILE_HEADER",
    "SAVABLE",
    "TABLES",
    "TRANSPORTS",
    "Choices",
    "ConfigError",
    "Key",
    "Kind",
    "Resolved",
    "Settings",
    "Source",
    "allowed",
    "check_host",
    "check_model",
    "check_non_negative",
    "check_path",
    "check_theme",
    "check_think",
    "check_timeout",
    "check_transport",
    "checked",
    "default_config_path",
    "default_data_dir",
    "format_settings",
    "from_text",
    "key_line",
    "load",
    "resolve",
    "save_choices",
    "show_value",
]
