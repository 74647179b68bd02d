"""The config file on disk: finding and reading it (`load`), and writing the app's
choices back into it (`save_choices`) without losing the user's comments and keys."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ollama_tui.config.keys import (
    BY_NAME,
    CONFIG_ENV,
    NEW_FILE_HEADER,
    SAVABLE,
    default_config_path,
)
from ollama_tui.config.resolving import DEFAULT, Choices, Resolved, Source, resolve


def load(
    flags: Mapping[str, object],
    env: Mapping[str, str] | None = None,
    config: str | Path | None = None,
    choices: Choices | None = None,
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
    resolved = resolve(flags, env, text, path, choices)
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
