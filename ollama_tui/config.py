"""Settings: command-line flag > environment > config file > default.

The file is TOML, `config.toml` in the user config directory (platformdirs) or the one
`--config` / `OLLAMA_TUI_CONFIG` names. `resolve` is pure: it takes the flags, the
environment and the file's text and returns every setting with the source it came from,
plus one-line warnings for whatever was ignored (broken file, wrong type, unknown key).
`load` is the thin layer that finds and reads the file. `save_choices` writes choices
made in the app back into the file with tomlkit, keeping the user's comments and keys.

docs/configuration.md describes every key.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import platformdirs

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
    theme: str = DEFAULT_THEME
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    max_line_mib: float = DEFAULT_MAX_LINE_BYTES / 2**20
    """The longest reply line accepted, in MiB: a bound on memory against a bad server."""
    think: bool | None = None
    """None: the model's default."""
    data_dir: Path = field(default_factory=default_data_dir)
    demo_token_rate: float = 40.0
    """Tokens per second of the built-in server; 0: no limit."""
    demo_first_token_delay: float = 0.0

    def connection(self, base_url: str | None = None) -> ConnectionSettings:
        return ConnectionSettings(
            base_url=base_url or self.host,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            max_line_bytes=int(self.max_line_mib * 2**20),
        )


# ---------------------------------------------------------------------------- checks
# Each takes a value as TOML (or argparse, or `from_text`) gives it and returns the
# setting's value, or raises ValueError saying what was expected.

Kind = Literal["text", "number", "bool", "path"]


def _describe(value: object) -> str:
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
        raise ValueError(f"expected {what}, got {_describe(value)}")
    return value.strip()


def _number(value: object, *, above_zero: bool) -> float:
    # bool is an int in Python, not a number in TOML.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {_describe(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {_describe(value)}")
    if above_zero and number <= 0:
        raise ValueError(f"must be above zero, got {_describe(value)}")
    if number < 0:
        raise ValueError(f"must be zero or more, got {_describe(value)}")
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


def check_theme(value: object) -> str:
    name = _text(value, "a theme name")
    # Here, not at the top: importing Textual costs ~0.15 s, and only a theme set
    # somewhere needs it (the UI imports it anyway).
    from textual.theme import BUILTIN_THEMES

    if name not in BUILTIN_THEMES:
        raise ValueError(f"expected one of {', '.join(sorted(BUILTIN_THEMES))}, got {name!r}")
    return name


def check_timeout(value: object) -> float:
    return _number(value, above_zero=True)


def check_non_negative(value: object) -> float:
    return _number(value, above_zero=False)


def check_think(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"expected true or false, got {_describe(value)}")


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
    _key("theme", "text", check_theme),
    _key("connect_timeout", "number", check_timeout),
    _key("read_timeout", "number", check_timeout),
    _key("max_line_mib", "number", check_timeout),
    _key("think", "bool", check_think),
    _key("data_dir", "path", check_path),
    _key("demo.token_rate", "number", check_non_negative),
    _key("demo.first_token_delay", "number", check_non_negative),
)
BY_NAME = {key.name: key for key in KEYS}
BY_FIELD = {key.field: key for key in KEYS}
TABLES = {key.table for key in KEYS if key.table}
# Choices the app saves back: text settings at the top of the file.
SAVABLE = ("host", "model", "transport", "theme")


# ---------------------------------------------------------------------------- resolving


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
) -> Resolved:
    """Every setting from `flags` (by field name; None: not given), `env`, then the file.

    `text` is the config file's content (None: no file); `path` only names it in
    messages and anchors a relative `data_dir`. Invalid values in the file or the
    environment are warned about and ignored; an invalid flag raises `ConfigError`.
    """
    where = str(path) if path else "config file"
    warnings: list[str] = []
    from_file = _read_file(text, where, path, warnings) if text is not None else {}
    defaults = Settings()
    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    for key in KEYS:
        flag_value = flags.get(key.field)
        raw_env = env.get(key.env, "").strip()
        if flag_value is not None:
            try:
                values[key.field] = key.check(flag_value)
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
                values[key.field] = key.parse(raw_env)
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
    return Resolved(Settings(**values), sources, tuple(warnings), path)


def _read_file(text: str, where: str, path: Path | None, warnings: list[str]) -> dict[str, Any]:
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
        if name in TABLES and isinstance(value, dict):
            for sub, sub_value in value.items():
                _take(f"{name}.{sub}", sub_value, text, where, path, values, warnings)
        else:
            _take(name, value, text, where, path, values, warnings)
    return values


def _take(
    name: str,
    value: object,
    text: str,
    where: str,
    path: Path | None,
    values: dict[str, Any],
    warnings: list[str],
) -> None:
    line = key_line(text, name)
    at = f"{where}:{line}" if line else where
    key = BY_NAME.get(name)
    if key is None:
        known = [*BY_NAME, *TABLES]
        hint = difflib.get_close_matches(name, known, n=1)
        also = f" (did you mean {hint[0]!r}?)" if hint else ""
        if name in TABLES:  # `demo = 3`: the name is known, the shape is not
            warnings.append(f"{at}: {name}: expected a table, got {_describe(value)}; ignored")
        else:
            warnings.append(f"{at}: unknown key {name!r}{also}; ignored")
        return
    try:
        checked = key.check(value)
    except ValueError as exc:
        warnings.append(f"{at}: {name}: {exc}; ignored")
        return
    if isinstance(checked, Path) and not checked.is_absolute() and path is not None:
        checked = path.parent / checked  # relative to the file, not to wherever it runs
    values[key.field] = checked


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


# ---------------------------------------------------------------------------- the file


def load(
    flags: Mapping[str, object],
    env: Mapping[str, str] | None = None,
    config: str | Path | None = None,
) -> Resolved:
    """Find the file (`config`, the --config flag, beats $OLLAMA_TUI_CONFIG, which beats
    the default path), read it, and `resolve` everything."""
    env = os.environ if env is None else env
    if config:
        path, source = Path(config).expanduser(), Source("flag", "--config")
    elif env.get(CONFIG_ENV, "").strip():
        path, source = Path(env[CONFIG_ENV].strip()).expanduser(), Source("env", CONFIG_ENV)
    else:
        path, source = default_config_path(), DEFAULT
    problem: str | None = None
    text: str | None = None
    try:
        # utf-8-sig: a byte-order mark some editors add is not a TOML error.
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        # The default file is optional; a file named on purpose should exist.
        if source != DEFAULT:
            problem = f"{path}: no such file; using the defaults (the app creates it on save)"
    except UnicodeDecodeError:
        problem = f"{path}: not UTF-8 text; the file is ignored"
    except OSError as exc:
        problem = f"{path}: cannot read it ({exc.strerror or exc}); the file is ignored"
    resolved = resolve(flags, env, text, path)
    warnings = (problem, *resolved.warnings) if problem else resolved.warnings
    return Resolved(
        resolved.settings,
        resolved.sources,
        warnings,
        path,
        config_source=source,
        config_found=text is not None,
    )


def save_choices(path: Path, **choices: str | None) -> None:
    """Set these keys (None: remove the key) in the file at `path`, keeping the rest.

    Comments, formatting and other keys stay as they are (tomlkit). A missing file is
    created with mode 0600 (missing directories 0700); an existing one keeps its mode.
    The file is replaced atomically, so a crash never leaves half a file. Raises
    ValueError for an unknown key, an invalid value or an existing file that is not
    valid TOML (rewriting it would lose what could not be read); OSError when the file
    cannot be written.
    """
    import tomlkit  # here: only saving needs it

    for name, value in choices.items():
        if name not in SAVABLE:
            raise ValueError(f"cannot save {name!r}; savable: {', '.join(SAVABLE)}")
        if value is not None:
            BY_NAME[name].check(value)
    target = path.expanduser()
    if target.is_symlink():  # write through a dotfiles manager's link, not over it
        target = target.resolve()
    try:
        text = target.read_text(encoding="utf-8-sig")
        mode: int | None = target.stat().st_mode & 0o777
    except FileNotFoundError:
        text, mode = NEW_FILE_HEADER, None
    try:
        document = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ValueError(f"{target}:{exc.line}: not valid TOML, not saved: {exc}") from None
    for name, value in choices.items():
        if value is None:
            document.pop(name, None)
        else:
            document[name] = value
    _make_private_dirs(target.parent)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(tomlkit.dumps(document))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o600 if mode is None else mode)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _make_private_dirs(directory: Path) -> None:
    """Create `directory` and missing parents, each 0700 (whatever the umask)."""
    missing: list[Path] = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for each in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            each.mkdir(mode=0o700)
            os.chmod(each, 0o700)


# ---------------------------------------------------------------------------- printing


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
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    return "\n".join(
        f"{name:<{widths[0]}}   {value:<{widths[1]}}   {source}" for name, value, source in rows
    )
