"""Settings: flag > environment > file > default, warnings for what is ignored, and
saving the app's choices back into the file without losing anything of the user's."""

from __future__ import annotations

import dataclasses
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

import platformdirs
import pytest

from ollama_tui import config as cfg
from ollama_tui.cli.parser import CHOICES
from ollama_tui.config import DEFAULT, ConfigError, Settings, Source, resolve, save_choices
from ollama_tui.transports import TRANSPORT_NAMES

FILE = Path("/home/u/.config/ollama-tui/config.toml")


@dataclasses.dataclass
class Case:
    field: str
    file_toml: str  # the value as written in the file
    file_value: Any
    env_text: str
    env_value: Any
    flag: Any  # as argparse hands it over
    flag_value: Any


CASES = [
    Case("host", '"file.example:1"', "http://file.example:1", "env.example:2",
         "http://env.example:2", "flag.example:3", "http://flag.example:3"),
    Case("model", '"file-model"', "file-model", "env-model", "env-model", "flag-model",
         "flag-model"),
    Case("transport", '"requests"', "requests", "aiohttp", "aiohttp", "httpx-sync",
         "httpx-sync"),
    Case("api", '"openai"', "openai", "ollama", "ollama", "openai", "openai"),
    Case("api_key_env", '"FILE_KEY"', "FILE_KEY", "ENV_KEY", "ENV_KEY", "FLAG_KEY", "FLAG_KEY"),
    Case("theme", '"nord"', "nord", "dracula", "dracula", "gruvbox", "gruvbox"),
    Case("connect_timeout", "1.5", 1.5, "2", 2.0, 3.0, 3.0),
    Case("read_timeout", "100", 100.0, "200.5", 200.5, 300.0, 300.0),
    Case("max_line_mib", "4", 4.0, "16", 16.0, 32.0, 32.0),
    Case("think", "true", True, "off", False, True, True),
    Case("thumbnails", "false", False, "on", True, True, True),
    Case("data_dir", '"/file/data"', Path("/file/data"), "/env/data", Path("/env/data"),
         "/flag/data", Path("/flag/data")),
    Case("demo_token_rate", "5", 5.0, "6", 6.0, 7.0, 7.0),
    Case("demo_first_token_delay", "0.5", 0.5, "0.25", 0.25, 2.0, 2.0),
]  # fmt: skip


def file_text(cases: list[Case]) -> str:
    top = [f"{cfg.BY_FIELD[c.field].name} = {c.file_toml}" for c in cases if "." not in
           cfg.BY_FIELD[c.field].name]  # fmt: skip
    demo = [f"{cfg.BY_FIELD[c.field].bare} = {c.file_toml}" for c in cases if "." in
            cfg.BY_FIELD[c.field].name]  # fmt: skip
    return "\n".join(["# mine", *top, "", "[demo]", *demo, ""])


def test_the_cases_cover_every_key() -> None:
    assert [c.field for c in CASES] == [k.field for k in cfg.KEYS]
    fields = [f.name for f in dataclasses.fields(Settings)]
    assert fields == [*(k.field for k in cfg.KEYS), "chat", "keymap"]  # the tables last


@pytest.mark.parametrize("level", ["default", "file", "env", "flag"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.field)
def test_precedence(case: Case, level: str) -> None:
    """Each source, set together with every source below it, wins over them."""
    key = cfg.BY_FIELD[case.field]
    levels = ["default", "file", "env", "flag"][
        : ["default", "file", "env", "flag"].index(level) + 1
    ]
    text = file_text([case]) if "file" in levels else None
    env = {key.env: case.env_text} if "env" in levels else {}
    flags = {case.field: case.flag} if "flag" in levels else {}
    resolved = resolve(flags, env, text, FILE)
    assert resolved.warnings == ()
    value = getattr(resolved.settings, case.field)
    source = resolved.sources[case.field]
    expected = {
        "default": (getattr(Settings(), case.field), DEFAULT),
        "file": (case.file_value, Source("file", str(FILE))),
        "env": (case.env_value, Source("env", key.env)),
        "flag": (case.flag_value, Source("flag", key.flag)),
    }[level]
    assert (value, source) == expected
    # Every other setting kept its default.
    others = {f: v for f, v in dataclasses.asdict(resolved.settings).items() if f != case.field}
    assert others == {f: v for f, v in dataclasses.asdict(Settings()).items() if f != case.field}


def test_all_sources_at_once_mix_per_key() -> None:
    env = {cfg.BY_FIELD[c.field].env: c.env_text for c in CASES[::2]}
    flags = {c.field: c.flag for c in CASES[::3]}
    resolved = resolve(flags, env, file_text(CASES), FILE)
    for i, case in enumerate(CASES):
        expected = case.flag_value if i % 3 == 0 else case.env_value if i % 2 == 0 else None
        if expected is None:
            expected = case.file_value
        assert getattr(resolved.settings, case.field) == expected, case.field


def test_the_defaults() -> None:
    resolved = resolve({}, {}, None)
    assert resolved.settings == Settings()
    assert set(resolved.sources.values()) == {DEFAULT}
    settings = resolved.settings
    assert settings.host == "http://127.0.0.1:11434"
    assert settings.transport == "httpx-async" and settings.model is None
    assert settings.think is None and settings.theme == "textual-dark"
    assert settings.data_dir == platformdirs.user_data_path("ollama-tui")
    assert settings.connection().read_timeout == 600.0


def test_transport_names_match_the_registry() -> None:
    assert cfg.TRANSPORTS == TRANSPORT_NAMES


def test_every_builtin_theme_is_accepted() -> None:
    from textual.theme import BUILTIN_THEMES

    for name in BUILTIN_THEMES:
        env = {"OLLAMA_TUI_THEME": name}
        assert resolve({}, env, None, choices=CHOICES).settings.theme == name


def test_which_themes_exist_is_asked_only_when_a_theme_is_set() -> None:
    asked: list[str] = []

    def names() -> list[str]:
        asked.append("themes")
        return ["nord"]

    resolve({}, {}, 'model = "m"\n', FILE, {"theme": names})
    assert asked == []
    resolved = resolve({}, {}, 'theme = "neon"\n', FILE, {"theme": names})
    assert asked == ["themes"] and resolved.settings.theme == "textual-dark"


def test_broken_toml_names_file_and_line_and_defaults_stay() -> None:
    text = 'model = "m"\n\nread_timeout = = 3\n'
    resolved = resolve({}, {"OLLAMA_TUI_TRANSPORT": "aiohttp"}, text, FILE)
    [warning] = resolved.warnings
    assert warning.startswith(f"{FILE}:3: not valid TOML: ")
    assert "ignoring the whole file" in warning and "\n" not in warning
    # Nothing of the file is used, even the valid line before the error.
    assert resolved.settings.model is None and resolved.sources["model"] == DEFAULT
    assert resolved.settings.transport == "aiohttp"  # the environment still counts


@pytest.mark.parametrize(
    ("line", "key", "problem"),
    [
        ('read_timeout = "fast"', "read_timeout", "expected a number, got 'fast'"),
        ("connect_timeout = -1", "connect_timeout", "must be above zero, got -1"),
        ("read_timeout = inf", "read_timeout", "expected a finite number"),
        ("think = 1", "think", "expected true or false, got 1"),
        ("model = 3", "model", "expected a model name, got 3"),
        ('model = ""', "model", "expected a model name"),
        ('transport = "curl"', "transport", "expected one of requests, httpx-sync"),
        ('theme = "neon"', "theme", "expected one of ansi-dark"),
        ('host = "h:99999"', "host", "Invalid port in Ollama host 'h:99999'"),
        ("data_dir = []", "data_dir", "expected a directory path, got an array"),
        ("demo = 3", "demo", "expected a table, got 3"),
        ("connect_timeout = true", "connect_timeout", "expected a number, got true"),
    ],
)
def test_a_wrong_value_is_named_and_ignored(line: str, key: str, problem: str) -> None:
    text = f'# comment\nmodel = "kept"\n{line}\n' if key != "model" else f"# c\n\n{line}\n"
    resolved = resolve({}, {}, text, FILE, CHOICES)
    [warning] = resolved.warnings
    assert warning.startswith(f"{FILE}:3: {key}: {problem}")
    assert warning.endswith("; ignored")
    if key != "model":
        assert resolved.settings.model == "kept"  # the rest of the file still counts
    if key in cfg.BY_NAME:
        assert resolved.sources[cfg.BY_NAME[key].field] == DEFAULT


def test_a_wrong_value_in_a_table_names_the_table_key_and_line() -> None:
    text = "[demo]\ntoken_rate = 4\nfirst_token_delay = -2\n"
    resolved = resolve({}, {}, text, FILE)
    assert resolved.warnings == (
        f"{FILE}:3: demo.first_token_delay: must be zero or more, got -2; ignored",
    )
    assert resolved.settings.demo_token_rate == 4.0


def test_unknown_keys_are_warned_about_not_fatal() -> None:
    text = 'modle = "x"\ntransport = "requests"\n[demo]\ncolour = 1\n[colours]\na = 1\n'
    resolved = resolve({}, {}, text, FILE)
    assert resolved.warnings == (
        f"{FILE}:1: unknown key 'modle' (did you mean 'model'?); ignored",
        f"{FILE}:4: unknown key 'demo.colour'; ignored",
        f"{FILE}:5: unknown key 'colours'; ignored",
    )
    assert resolved.settings.transport == "requests"


def test_a_bad_environment_value_is_named_and_the_file_used() -> None:
    env = {"OLLAMA_TUI_READ_TIMEOUT": "soon", "OLLAMA_TUI_THINK": "maybe", "OLLAMA_HOST": "h:0x"}
    resolved = resolve({}, env, "read_timeout = 5\n", FILE)
    assert resolved.warnings == (
        "OLLAMA_HOST='h:0x': Invalid port in Ollama host 'h:0x'; ignored",
        "OLLAMA_TUI_READ_TIMEOUT='soon': expected a number, got 'soon'; ignored",
        "OLLAMA_TUI_THINK='maybe': expected true, false or default, got 'maybe'; ignored",
    )
    assert resolved.settings.read_timeout == 5.0
    assert resolved.sources["read_timeout"] == Source("file", str(FILE))


def test_empty_variables_count_as_unset() -> None:
    resolved = resolve({}, {"OLLAMA_HOST": "", "OLLAMA_TUI_MODEL": "  "}, 'model = "f"', FILE)
    assert resolved.warnings == ()
    assert resolved.sources["host"] == DEFAULT and resolved.settings.model == "f"


def test_think_default_in_the_environment_overrides_the_file() -> None:
    resolved = resolve({}, {"OLLAMA_TUI_THINK": "default"}, "think = true", FILE)
    assert resolved.settings.think is None
    assert resolved.sources["think"] == Source("env", "OLLAMA_TUI_THINK")


def test_an_invalid_flag_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"^--host: Invalid port in Ollama host 'x:99999'$"):
        resolve({"host": "x:99999"}, {}, None)


def test_relative_data_dir_in_the_file_is_relative_to_the_file() -> None:
    resolved = resolve({}, {}, 'data_dir = "chats"', FILE)
    assert resolved.settings.data_dir == FILE.parent / "chats"
    home = resolve({}, {}, 'data_dir = "~/chats"', FILE).settings.data_dir
    assert home == Path("~/chats").expanduser()


def test_key_line_finds_keys_as_people_write_them() -> None:
    text = (
        "# model = 'in a comment'\n"
        'model = "m"\n'
        "demo.token_rate = 3\n"
        "[other]\n"
        "transport = 1\n"
        "[ demo ]\n"
        '"first_token_delay" = 1\n'
        "[[runs]]\n"
        "theme = 1\n"
        "[demo]\n"
    )
    assert cfg.key_line(text, "model") == 2
    assert cfg.key_line(text, "demo.token_rate") == 3
    assert cfg.key_line(text, "demo.first_token_delay") == 7
    assert cfg.key_line(text, "transport") is None  # only in another table
    assert cfg.key_line(text, "theme") is None  # only in an array of tables


# ---------------------------------------------------------------------------- loading


def test_load_reads_the_default_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    path = platformdirs.user_config_path("ollama-tui") / "config.toml"
    assert cfg.default_config_path() == path
    resolved = cfg.load({}, {})
    assert (resolved.config_path, resolved.config_source, resolved.config_found) == (
        path,
        DEFAULT,
        False,
    )
    assert resolved.warnings == ()  # no file where none was asked for is fine
    path.parent.mkdir(parents=True)
    path.write_text('\ufeffmodel = "from-default-file"\n', encoding="utf-8")  # with a BOM
    resolved = cfg.load({}, {})
    assert resolved.settings.model == "from-default-file" and resolved.config_found


def test_config_flag_beats_the_variable(tmp_path: Path) -> None:
    flag, variable = tmp_path / "flag.toml", tmp_path / "env.toml"
    flag.write_text('model = "flag-file"\n')
    variable.write_text('model = "env-file"\n')
    env = {"OLLAMA_TUI_CONFIG": str(variable)}
    resolved = cfg.load({}, env, flag)
    assert resolved.settings.model == "flag-file"
    assert resolved.config_source == Source("flag", "--config")
    resolved = cfg.load({}, env)
    assert resolved.settings.model == "env-file"
    assert resolved.sources["model"] == Source("file", str(variable))
    assert resolved.config_source == Source("env", "OLLAMA_TUI_CONFIG")


def test_unreadable_files_are_one_warning_each(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    assert cfg.load({}, {}, missing).warnings == (
        f"{missing}: no such file; using the defaults (the app creates it on save)",
    )
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'model = "caf\xe9"\n')
    assert cfg.load({}, {}, latin).warnings == (f"{latin}: not UTF-8 text; the file is ignored",)
    [warning] = cfg.load({}, {}, tmp_path).warnings
    assert warning.startswith(f"{tmp_path}: cannot read it (")


# ---------------------------------------------------------------------------- saving

USER_FILE = """\
# My ollama-tui settings.
model = "llama3.2"   # the small one

# Pretty.
theme = "nord"  # favourite
my_own_key = [1, 2]

[demo]
token_rate = 5  # slow, to watch it
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_save_creates_a_private_file_and_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "config.toml"
    save_choices(path, theme="dracula", transport="aiohttp", model=None)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700
    assert tomllib.loads(path.read_text()) == {"theme": "dracula", "transport": "aiohttp"}
    assert path.read_text().startswith("# ollama-tui settings")
    resolved = cfg.load({}, {}, path)
    assert resolved.settings.theme == "dracula" and resolved.warnings == ()
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]  # no temp file left


def test_save_keeps_comments_and_other_keys(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(USER_FILE)
    path.chmod(0o640)
    save_choices(path, theme="dracula", transport="requests", model="qwen3:8b")
    text = path.read_text()
    assert text == USER_FILE.replace('"llama3.2"', '"qwen3:8b"').replace(
        'theme = "nord"', 'theme = "dracula"'
    ).replace("my_own_key = [1, 2]\n", 'my_own_key = [1, 2]\ntransport = "requests"\n')
    assert mode(path) == 0o640  # the user's choice of mode stays
    save_choices(path, model=None)
    assert "llama3.2" not in path.read_text() and "model" not in tomllib.loads(path.read_text())
    assert "# Pretty." in path.read_text()


def test_save_writes_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "ollama-tui.toml"
    real.parent.mkdir()
    real.write_text("# linked\n")
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    save_choices(link, theme="monokai")
    assert link.is_symlink()
    assert real.read_text() == '# linked\ntheme = "monokai"\n'


def test_save_refuses_what_it_cannot_save_safely(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    with pytest.raises(ValueError, match="expected one of"):
        save_choices(path, transport="curl")
    with pytest.raises(ValueError, match="cannot save 'read_timeout'"):
        save_choices(path, read_timeout="3")
    assert not path.exists()
    path.write_text("model = = 1\n# keep me\n")
    with pytest.raises(ValueError, match=rf"^{path}:1: not valid TOML, not saved"):
        save_choices(path, theme="nord")
    assert path.read_text() == "model = = 1\n# keep me\n"


def test_save_is_within_the_user_config_directory_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    save_choices(cfg.default_config_path(), transport="httpx-sync")
    assert cfg.load({}, {}).settings.transport == "httpx-sync"
    assert oct(mode(tmp_path / "xdg")) == oct(0o700)
    assert os.listdir(tmp_path / "xdg") == ["ollama-tui"]


# ---------------------------------------------------------------------------- printing


def test_format_settings_lists_every_setting_with_its_source() -> None:
    resolved = resolve({"model": "m"}, {"OLLAMA_HOST": "h"}, "think = false\n", FILE)
    lines = cfg.format_settings(resolved).splitlines()
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in lines[2:]}
    assert lines[0].split() == ["SETTING", "VALUE", "SOURCE"]
    assert [line.split()[0] for line in lines[2:]] == [*(k.name for k in cfg.KEYS), "chat", "keys"]
    assert rows["model"] == ["m", "flag --model"]
    assert rows["host"] == ["http://h:11434", "env OLLAMA_HOST"]
    assert rows["think"] == ["false", f"file {FILE}"]
    assert rows["transport"] == ["httpx-async", "default"]


def test_the_line_limit_reaches_the_connection() -> None:
    resolved = resolve({"max_line_mib": 2.0}, {}, None, None)
    assert resolved.settings.connection().max_line_bytes == 2 * 2**20
    assert Settings().connection().max_line_bytes == 8 * 2**20


def test_chat_defaults_and_keys_come_from_their_tables() -> None:
    text = (
        "[chat]\n"
        'system = "Be brief."\n'
        "temperature = 0.3\n"
        'num_ctx = "big"\n'
        '[chat.models."qwen3:8b"]\n'
        "temperature = 0.6\n"
        "[keys]\n"
        'new_chat = "ctrl+k"\n'
        "stop = 3\n"
    )
    resolved = resolve({}, {}, text, FILE)
    chat = resolved.settings.chat
    assert chat.common == {"system": "Be brief.", "temperature": 0.3}
    assert chat.for_model("qwen3:8b").temperature == 0.6
    assert chat.for_model("qwen3:8b:latest".removesuffix(":latest")).system == "Be brief."
    assert chat.for_model("llama3.2").temperature == 0.3
    assert resolved.settings.keymap == {"new_chat": "ctrl+k"}
    assert resolved.warnings == (
        f"{FILE}:4: chat.num_ctx: expected a number; ignored",
        f'{FILE}:9: keys.stop: expected keys such as "ctrl+k", got 3; ignored',
    )


def test_a_model_named_with_or_without_latest_gets_its_chat_defaults() -> None:
    text = '[chat.models."qwen3"]\ntemperature = 0.6\n'
    chat = resolve({}, {}, text, FILE).settings.chat
    assert chat.for_model("qwen3:latest").temperature == 0.6
    assert chat.for_model("qwen3").temperature == 0.6
    assert chat.for_model("qwen3:8b").temperature is None


@pytest.mark.parametrize(
    ("host", "base"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/v1"),
        ("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/v1"),
        ("http://127.0.0.1:8080/v1/chat/completions", "http://127.0.0.1:8080/v1"),
        ("https://example.net/openai/v1", "https://example.net/openai/v1"),
    ],
)
def test_the_v1_base_url_from_the_host(host: str, base: str) -> None:
    settings = Settings(host=host, api="openai")
    assert settings.connection().base_url == base
