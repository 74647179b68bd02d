"""The settings: each one's key in the file, variable, flag and check, and their defaults.

A check takes a value as TOML (or argparse, or `from_text`) gives it and returns the
setting's value, or raises ValueError saying what was expected.
"""

from __future__ import annotations

import math
import os
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import platformdirs

from ollama_tui.core.chat_settings import ChatDefaults
from ollama_tui.core.connection import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_HOST,
    DEFAULT_MAX_LINE_BYTES,
    DEFAULT_READ_TIMEOUT,
    ConnectionSettings,
    parse_host,
)

APP_NAME = "ollama-tui"
CONFIG_ENV = "OLLAMA_TUI_CONFIG"
DEFAULT_TRANSPORT = "httpx-async"
DEFAULT_THEME = "textual-dark"  # Textual's own default
# Spelled out (not imported from ollama_tui.transports) so reading settings stays cheap;
# a test keeps the two equal.
TRANSPORTS = ("requests", "httpx-sync", "httpx-async", "aiohttp")
NEW_FILE_HEADER = (
    "# ollama-tui settings (every key: docs/configuration.md in ollama-tui's source).\n"
    "# `ollama-tui --print-config` shows the settings in force and where each came from.\n"
)


def default_config_path() -> Path:
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def default_data_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME)


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting, resolved."""

    host: str = DEFAULT_HOST
    """The base URL, already parsed as `OLLAMA_HOST` is (scheme and port filled in)."""
    model: str | None = None
    """None: the app picks the first installed model."""
    transport: str = DEFAULT_TRANSPORT
    api: str = "ollama"
    """The wire API: Ollama's own, or OpenAI-compatible (`/v1`, Server-Sent Events)."""
    api_key_env: str = "OPENAI_API_KEY"
    """The environment variable holding the key sent with `api = "openai"` (never the
    key itself: a file is no place for it)."""
    theme: str = DEFAULT_THEME
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    max_line_mib: float = DEFAULT_MAX_LINE_BYTES / 2**20
    """The longest reply line accepted, in MiB: a bound on memory against a bad server."""
    think: bool | None = None
    """None: the model's default."""
    thumbnails: bool = True
    """Ask the terminal, at start, whether it draws pictures (for image thumbnails)."""
    data_dir: Path = field(default_factory=default_data_dir)
    demo_token_rate: float = 40.0
    """Tokens per second of the built-in server; 0: no limit."""
    demo_first_token_delay: float = 0.0
    chat: ChatDefaults = field(default_factory=ChatDefaults)
    """`[chat]`: what new conversations start with (file only)."""
    keymap: Mapping[str, str] = field(default_factory=dict)
    """`[keys]`: binding id → keys (file only)."""

    def connection(self, base_url: str | None = None) -> ConnectionSettings:
        base = base_url or self.host
        key = None
        if self.api == "openai":
            # A bare server (Ollama's, llama.cpp's) serves the OpenAI API under /v1; a
            # pasted endpoint (…/v1/chat/completions) is its base plus the chat path.
            base = base.rstrip("/").removesuffix("/chat/completions")
            if urllib.parse.urlsplit(base).path.strip("/") == "":
                base += "/v1"
            key = os.environ.get(self.api_key_env) or None
        return ConnectionSettings(
            base_url=base,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            max_line_bytes=int(self.max_line_mib * 2**20),
            api=self.api,
            api_key=key,
        )


# ---------------------------------------------------------------------------- checks

Kind = Literal["text", "number", "bool", "path"]


def describe(value: object) -> str:
    """A TOML value as a message names it: true, a table, 'text', 3.5."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, int | float | str):
        return repr(value)
    return f"a {type(value).__name__}"  # dates and times


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected {what}, got {describe(value)}")
    return value.strip()


def _number(value: object, *, above_zero: bool) -> float:
    # bool is an int in Python, not a number in TOML.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {describe(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {describe(value)}")
    if above_zero and number <= 0:
        raise ValueError(f"must be above zero, got {describe(value)}")
    if number < 0:
        raise ValueError(f"must be zero or more, got {describe(value)}")
    return number


def check_host(value: object) -> str:
    return parse_host(_text(value, "a host such as localhost:11434"))


def check_model(value: object) -> str:
    return _text(value, "a model name")


def check_transport(value: object) -> str:
    name = _text(value, "a transport name")
    if name not in TRANSPORTS:
        raise ValueError(f"expected one of {', '.join(TRANSPORTS)}, got {name!r}")
    return name


APIS = ("ollama", "openai")


def check_api(value: object) -> str:
    name = _text(value, "an API name")
    if name not in APIS:
        raise ValueError(f"expected one of {', '.join(APIS)}, got {name!r}")
    return name


def check_env_name(value: object) -> str:
    name = _text(value, "an environment variable's name")
    if not name.replace("_", "a").isalnum() or name[0].isdigit():
        raise ValueError(f"expected an environment variable's name, got {name!r}")
    return name


def check_theme(value: object) -> str:
    # Which names exist is the UI's to say: the front end passes them as `choices`.
    return _text(value, "a theme name")


def check_timeout(value: object) -> float:
    return _number(value, above_zero=True)


def check_non_negative(value: object) -> float:
    return _number(value, above_zero=False)


def check_think(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"expected true or false, got {describe(value)}")


def check_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"expected true or false, got {describe(value)}")


def check_path(value: object) -> Path:
    return Path(_text(value, "a directory path")).expanduser()


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_MODEL_DEFAULT = {"default", "auto"}


def from_text(kind: Kind, text: str) -> object:
    """An environment variable's or a flag's text as the value TOML would give."""
    if kind == "number":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
    if kind == "bool":
        word = text.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        if word in _MODEL_DEFAULT:
            return None
        raise ValueError(f"expected true, false or default, got {text!r}")
    return text


@dataclass(frozen=True, slots=True)
class Key:
    """One setting: its name in the file, its variable, its flag and its check."""

    name: str
    """As written in the file; `demo.token_rate` is `token_rate` in the `[demo]` table."""
    field: str
    """The `Settings` attribute, also the argparse dest of the flag."""
    env: str
    flag: str
    kind: Kind
    check: Callable[[object], Any]

    @property
    def table(self) -> str:
        return self.name.rpartition(".")[0]

    @property
    def bare(self) -> str:
        return self.name.rpartition(".")[2]

    def parse(self, text: str) -> Any:
        """A flag's or variable's text → the setting's value (ValueError if invalid)."""
        return self.check(from_text(self.kind, text))


def _key(name: str, kind: Kind, check: Callable[[object], Any], **kw: str) -> Key:
    field_name = name.replace(".", "_")
    return Key(
        name=name,
        field=field_name,
        env=kw.get("env", f"OLLAMA_TUI_{field_name.upper()}"),
        flag=kw.get("flag", "--" + name.rpartition(".")[2].replace("_", "-")),
        kind=kind,
        check=check,
    )


KEYS: tuple[Key, ...] = (
    _key("host", "text", check_host, env="OLLAMA_HOST"),
    _key("model", "text", check_model),
    _key("transport", "text", check_transport),
    _key("api", "text", check_api),
    _key("api_key_env", "text", check_env_name),
    _key("theme", "text", check_theme),
    _key("connect_timeout", "number", check_timeout),
    _key("read_timeout", "number", check_timeout),
    _key("max_line_mib", "number", check_timeout),
    _key("think", "bool", check_think),
    _key("thumbnails", "bool", check_bool),
    _key("data_dir", "path", check_path),
    _key("demo.token_rate", "number", check_non_negative),
    _key("demo.first_token_delay", "number", check_non_negative),
)
BY_NAME = {key.name: key for key in KEYS}
BY_FIELD = {key.field: key for key in KEYS}
TABLES = {key.table for key in KEYS if key.table}
# Choices the app saves back: text settings at the top of the file.
SAVABLE = ("host", "model", "transport", "theme")
