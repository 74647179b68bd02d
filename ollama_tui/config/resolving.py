"""Resolving the settings: flag > environment > config file > default. Pure: it takes
the flags, the environment and the file's text, and returns every setting with the
source it came from, plus one-line warnings for whatever was ignored."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ollama_tui.config.keys import BY_NAME, KEYS, TABLES, Key, Settings, describe
from ollama_tui.config.sections import SECTIONS, read_chat, read_keys

Choices = Mapping[str, Callable[[], Collection[str]]]
"""Field → the values the front end allows, for settings whose valid values only it
knows (the theme names are Textual's); asked only when that setting is set."""


def checked(key: Key, value: object, choices: Choices | None = None) -> Any:
    """`value` as `key` takes it, and one the front end allows (ValueError if not)."""
    return allowed(key, key.check(value), choices)


def allowed(key: Key, value: Any, choices: Choices | None) -> Any:
    """`value` (already checked), if the front end allows it (ValueError if not)."""
    names = choices.get(key.field) if choices else None
    if names is not None and value not in (known := names()):
        raise ValueError(f"expected one of {', '.join(sorted(known))}, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Source:
    """Where a value came from: flag --read-timeout, env OLLAMA_HOST, file PATH, default."""

    kind: Literal["flag", "env", "file", "default"]
    where: str = ""

    def __str__(self) -> str:
        return f"{self.kind} {self.where}" if self.where else self.kind


DEFAULT = Source("default")


@dataclass(frozen=True, slots=True)
class Resolved:
    settings: Settings
    sources: Mapping[str, Source]
    """By `Settings` field name."""
    warnings: tuple[str, ...] = ()
    """One line each: what was ignored, and where."""
    config_path: Path | None = None
    config_source: Source = DEFAULT
    config_found: bool = False


class ConfigError(ValueError):
    """A flag's value is invalid: fatal, unlike a bad value in the file or environment."""


def resolve(
    flags: Mapping[str, object],
    env: Mapping[str, str],
    text: str | None,
    path: Path | None = None,
    choices: Choices | None = None,
) -> Resolved:
    """Every setting from `flags` (by field name; None: not given), `env`, then the file.

    `text` is the config file's content (None: no file); `path` only names it in
    messages and anchors a relative `data_dir`. Invalid values in the file or the
    environment are warned about and ignored; an invalid flag raises `ConfigError`.
    """
    where = str(path) if path else "config file"
    warnings: list[str] = []
    from_file = _read_file(text, where, path, warnings, choices) if text is not None else {}
    defaults = Settings()
    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    for key in KEYS:
        flag_value = flags.get(key.field)
        raw_env = env.get(key.env, "").strip()
        if flag_value is not None:
            try:
                values[key.field] = checked(key, flag_value, choices)
            except ValueError as exc:
                raise ConfigError(f"{key.flag}: {exc}") from None
            negated = key.kind == "bool" and values[key.field] is False
            sources[key.field] = Source(
                "flag", key.flag.replace("--", "--no-") if negated else key.flag
            )
            continue
        # An empty variable counts as unset, as the official client treats OLLAMA_HOST.
        if raw_env:
            try:
                values[key.field] = allowed(key, key.parse(raw_env), choices)
            except ValueError as exc:
                warnings.append(f"{key.env}={raw_env!r}: {exc}; ignored")
            else:
                sources[key.field] = Source("env", key.env)
                continue
        if key.field in from_file:
            values[key.field] = from_file[key.field]
            sources[key.field] = Source("file", where)
        else:
            values[key.field] = getattr(defaults, key.field)
            sources[key.field] = DEFAULT
    for section in SECTIONS:  # the file's tables of their own: `[chat]`, `[keys]`
        values["keymap" if section == "keys" else section] = from_file.get(
            section, getattr(defaults, "keymap" if section == "keys" else section)
        )
    return Resolved(Settings(**values), sources, tuple(warnings), path)


def _read_file(
    text: str, where: str, path: Path | None, warnings: list[str], choices: Choices | None
) -> dict[str, Any]:
    """The file's valid values by field name; everything else becomes a warning."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        # 3.11's error has no line attribute; its message ends "(at line L, column C)".
        if found := re.search(r"\s*\(at line (\d+), column (\d+)\)$", message):
            message = message[: found.start()] + f" (column {found[2]})"
            where = f"{where}:{found[1]}"
        warnings.append(f"{where}: not valid TOML: {message}; ignoring the whole file")
        return {}
    values: dict[str, Any] = {}
    for name, value in document.items():
        if name in SECTIONS and isinstance(value, dict):
            values[name] = _read_section(name, value, text, where, warnings)
        elif name in TABLES and isinstance(value, dict):
            for sub, sub_value in value.items():
                _take(f"{name}.{sub}", sub_value, text, where, path, values, warnings, choices)
        else:
            _take(name, value, text, where, path, values, warnings, choices)
    return values


def _read_section(
    name: str, table: dict[str, Any], text: str, where: str, warnings: list[str]
) -> Any:
    def warn(path: str, message: str) -> None:
        line = key_line(text, path) or key_line(text, name)
        warnings.append(
            f"{where}:{line}: {path}: {message}; ignored"
            if line
            else f"{where}: {path}: {message}; ignored"
        )

    return read_chat(table, warn) if name == "chat" else read_keys(table, warn)


def _take(
    name: str,
    value: object,
    text: str,
    where: str,
    path: Path | None,
    values: dict[str, Any],
    warnings: list[str],
    choices: Choices | None,
) -> None:
    line = key_line(text, name)
    at = f"{where}:{line}" if line else where
    key = BY_NAME.get(name)
    if key is None:
        known = [*BY_NAME, *TABLES]
        hint = difflib.get_close_matches(name, known, n=1)
        also = f" (did you mean {hint[0]!r}?)" if hint else ""
        if name in TABLES:  # `demo = 3`: the name is known, the shape is not
            warnings.append(f"{at}: {name}: expected a table, got {describe(value)}; ignored")
        else:
            warnings.append(f"{at}: unknown key {name!r}{also}; ignored")
        return
    try:
        taken = checked(key, value, choices)
    except ValueError as exc:
        warnings.append(f"{at}: {name}: {exc}; ignored")
        return
    if isinstance(taken, Path) and not taken.is_absolute() and path is not None:
        taken = path.parent / taken  # relative to the file, not to wherever it runs
    values[key.field] = taken


_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")
_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([^\[\]]*?)\s*(?:\]\]|$)")


def key_line(text: str, name: str) -> int | None:
    """The line (1-based) where `name` (`key` or `table.key`) is set, if it can be found.

    A line scan, not a parser (tomllib keeps no positions): good for the files people
    write, fooled only by a `key =` line inside a multi-line string.
    """
    table, _, bare = name.rpartition(".")
    quoted = rf"(?:{re.escape(bare)}|\"{re.escape(bare)}\"|'{re.escape(bare)}')"
    in_table = re.compile(rf"^\s*{quoted}\s*=")
    dotted = re.compile(rf"^\s*{re.escape(table)}\s*\.\s*{quoted}\s*=") if table else None
    current: str | None = ""
    for number, line in enumerate(text.splitlines(), 1):
        if array := _ARRAY_HEADER.match(line):
            if array[1] == name:
                return number  # an unknown array of tables: its first header
            current = None  # keys of an array of tables are none of ours
        elif header := _HEADER.match(line):
            current = re.sub(r"\s*\.\s*", ".", header[1]).replace('"', "").replace("'", "")
            if current == name or current.startswith(f"{name}."):
                return number  # an unknown table: its header
        elif (current == table and in_table.match(line)) or (
            current == "" and dotted and dotted.match(line)
        ):
            return number
    return None
