"""The command line and the line-mode chat, end to end over loopback."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ollama_tui import cli
from ollama_tui import config as cfg
from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.demo import DemoServer, Fault
from ollama_tui.plain import PlainChat
from ollama_tui.transports import TRANSPORT_NAMES


@pytest.fixture(autouse=True)
def no_user_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No test reads the settings of whoever runs it: an empty config file of its own,
    and none of the variables (subprocesses inherit this environment)."""
    for name in list(os.environ):
        if name.startswith("OLLAMA_TUI_") or name == "OLLAMA_HOST":
            monkeypatch.delenv(name)
    path = tmp_path / "config.toml"
    path.write_text("")
    monkeypatch.setenv("OLLAMA_TUI_CONFIG", str(path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    yield path


def run_cli(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ollama_tui", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_demo_chat_streams_a_reply_and_its_figures() -> None:
    result = run_cli("--demo", "--plain", "--transport", "requests", stdin="hello\n/bye\n")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "demo at http://127.0.0.1:" in result.stdout
    assert "requests · TTFC " in result.stdout and " tok/s" in result.stdout


@pytest.mark.parametrize("name", TRANSPORT_NAMES)
def test_plain_chat_keeps_context_and_shows_figures(server: DemoServer, name: str) -> None:
    server.configure(reply="Hi there, friend.")
    out = io.StringIO()
    chat = PlainChat(ConnectionSettings(base_url=server.url), "demo", name, out=out)
    assert chat.run(["first\n", "second\n", "/bye\n"]) == 0
    text = out.getvalue()
    assert text.count("Hi there, friend.") == 2
    assert text.count(f"{name} · TTFC ") == 2
    # The second request carried the whole conversation as context.
    second = server.wait_for_requests(2)[1]
    assert b'"content": "first"' in second.body and b'"Hi there, friend."' in second.body


def test_plain_chat_never_writes_the_models_escape_sequences(server: DemoServer) -> None:
    server.configure(reply="safe \x1b]52;c;aGk=\x07 text \x1b[2J\x9b31m done")
    out = io.StringIO()
    PlainChat(ConnectionSettings(base_url=server.url), "demo", "aiohttp", out=out).run(["x\n"])
    assert "\x1b" not in out.getvalue() and "\x9b" not in out.getvalue()
    assert "safe ]52;c;aGk= text [2J31m done" in out.getvalue()


def test_plain_chat_shows_errors_and_keeps_what_arrived(server: DemoServer) -> None:
    server.configure(reply="one two three four five six seven", fault=Fault.CUT, fault_after=3)
    out = io.StringIO()
    PlainChat(ConnectionSettings(base_url=server.url), "demo", "httpx-sync", out=out).run(["x\n"])
    text = out.getvalue()
    assert "one two three" in text
    assert "Error: The connection to Ollama was cut mid-reply; the text so far is kept." in text


def test_plain_chat_takes_a_message_of_several_lines_between_triple_quotes(
    server: DemoServer,
) -> None:
    server.configure(reply="Noted.")
    out = io.StringIO()
    chat = PlainChat(ConnectionSettings(base_url=server.url), "demo", "requests", out=out)
    chat.run(['"""first line\n', "\n", "second\n", 'last"""\n', "single\n", "/bye\n"])
    first, second = server.wait_for_requests(2)
    assert json.loads(first.body)["messages"][-1]["content"] == "first line\n\nsecond\nlast"
    assert json.loads(second.body)["messages"][-1]["content"] == "single"


def test_plain_chat_asks_with_a_marker_at_a_terminal_only(server: DemoServer) -> None:
    server.configure(reply="Hi.")
    lines = ["hello\n", '"""a\n', 'b"""\n', "/bye\n"]
    out = io.StringIO()
    PlainChat(ConnectionSettings(base_url=server.url), "demo", "aiohttp", out=out).run(lines)
    assert ">>> " not in out.getvalue()  # piped: the output is only the conversation
    out = io.StringIO()
    settings = ConnectionSettings(base_url=server.url)
    PlainChat(settings, "demo", "aiohttp", out=out, interactive=True).run(lines)
    text = out.getvalue()
    assert text.count(">>> ") == 3 and text.count("... ") == 1
    assert text.index(">>> hello"[:4]) < text.index("Hi.")


def test_plain_chat_shows_inline_thinking_apart_and_never_the_tags(server: DemoServer) -> None:
    server.configure(reply="The answer.", thinking="Hmm.")
    out = io.StringIO()
    PlainChat(ConnectionSettings(base_url=server.url), "demo-think", "requests", out=out).run(
        ["why?\n"]
    )
    assert "Hmm." in out.getvalue() and "The answer." in out.getvalue()
    assert "<think>" not in out.getvalue() and "</think>" not in out.getvalue()


def test_unknown_model_and_server_down_are_one_line_each(server: DemoServer) -> None:
    out = io.StringIO()
    PlainChat(ConnectionSettings(base_url=server.url), "nope", "httpx-async", out=out).run(["x\n"])
    assert (
        'Error: Ollama: model "nope" not found, try pulling it first (HTTP 404)' in out.getvalue()
    )


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("--version").stdout.strip() == "ollama-tui 0.1.0"
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    helptext = capsys.readouterr().out
    options = ["--demo", "--plain", "--data-dir", "--config", "--print-config", "--version"]
    options += [key.flag for key in cfg.KEYS]
    for option in [*options, "serve-demo", "bench", "models"]:
        assert option in helptext
    for key in cfg.KEYS:  # each setting's file key and variable are named
        assert key.env in helptext and key.name in helptext


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--transport", "curl"], "argument --transport: invalid choice: 'curl'"),
        (["--read-timeout", "0"], "argument --read-timeout: must be above zero"),
        (["--theme", "neon"], "argument --theme: expected one of ansi-dark"),
        (["--token-rate", "-1"], "argument --token-rate: must be zero or more"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["models", "extra"], "unrecognized arguments: extra"),
    ],
)
def test_bad_arguments_exit_non_zero_with_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(args)
    assert exit_.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("ollama-tui") and message in line


def test_real_server_needs_a_model() -> None:
    result = run_cli("--plain", "--host", "127.0.0.1:9", env={"OLLAMA_HOST": ""})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "ollama-tui: Choose a model with --model NAME (`ollama list` shows what is installed)."
    )


def test_bad_host_is_one_line() -> None:
    result = run_cli("--host", "example.com:99999", "--model", "m")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "ollama-tui: --host: Invalid port in Ollama host 'example.com:99999'"
    )


def test_fault_choices_match_the_server() -> None:
    from ollama_tui.cli import FAULTS

    assert tuple(f.value for f in Fault) == FAULTS


def test_bench_ui_is_reachable_from_the_command_line() -> None:
    helptext = run_cli("bench", "--help").stdout
    assert "--ui" in helptext and "--ui-transports" in helptext


# ---------------------------------------------------------------------------- settings


def print_config(
    capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """--print-config through the entry point: {setting: (value, source)}, stderr lines."""
    assert cli.main([*args, "--print-config"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].split() == ["SETTING", "VALUE", "SOURCE"]
    rows = {}
    for line in lines[1:]:
        name, value, source = (part.strip() for part in line.split("   ") if part.strip())
        rows[name] = (value, source)
    return rows, captured.err.splitlines()


def test_print_config_shows_values_and_sources(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    no_user_settings: Path,
    tmp_path: Path,
) -> None:
    no_user_settings.write_text(
        '# mine\ntransport = "requests"\nmodel = "from-file"\ntheme = "nord"\n'
        "read_timeout = 30\n[demo]\ntoken_rate = 9\n"
    )
    monkeypatch.setenv("OLLAMA_HOST", "envhost:1234")
    monkeypatch.setenv("OLLAMA_TUI_MODEL", "from-env")
    monkeypatch.setenv("OLLAMA_TUI_READ_TIMEOUT", "45")
    rows, errors = print_config(
        capsys, "--model", "from-flag", "--no-think", "--data-dir", str(tmp_path / "d")
    )
    assert errors == []
    file = f"file {no_user_settings}"
    assert rows == {
        "config file": (str(no_user_settings), "env OLLAMA_TUI_CONFIG"),
        "host": ("http://envhost:1234", "env OLLAMA_HOST"),
        "model": ("from-flag", "flag --model"),
        "transport": ("requests", file),
        "api": ("ollama", "default"),
        "api_key_env": ("OPENAI_API_KEY", "default"),
        "theme": ("nord", file),
        "connect_timeout": ("10", "default"),
        "read_timeout": ("45", "env OLLAMA_TUI_READ_TIMEOUT"),
        "max_line_mib": ("8", "default"),
        "think": ("false", "flag --no-think"),
        "thumbnails": ("true", "default"),
        "data_dir": (str(tmp_path / "d"), "flag --data-dir"),
        "demo.token_rate": ("9", file),
        "demo.first_token_delay": ("0", "default"),
        "chat": ("-", "default"),
        "keys": ("-", "default"),
    }


def test_print_config_with_a_missing_config_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.toml"
    rows, errors = print_config(capsys, "--config", str(missing), "--token-rate", "3")
    assert rows["config file"] == (f"{missing} (not found)", "flag --config")
    assert rows["demo.token_rate"] == ("3", "flag --token-rate")
    assert rows["model"] == ("(first installed model)", "default")
    assert rows["think"] == ("(model default)", "default")
    assert errors == [f"ollama-tui: {missing}: no such file; using the defaults (the app "
                      "creates it on save)"]  # fmt: skip


def test_a_broken_or_invalid_file_is_warned_about_and_defaults_used(
    capsys: pytest.CaptureFixture[str], no_user_settings: Path
) -> None:
    no_user_settings.write_text('model = "m"\nthink = yes\n')
    rows, errors = print_config(capsys)
    assert errors == [
        f"ollama-tui: {no_user_settings}:2: not valid TOML: Invalid value (column 9); "
        "ignoring the whole file"
    ]
    assert rows["model"] == ("(first installed model)", "default")
    no_user_settings.write_text('read_timeout = "soon"\nmodle = "m"\ntransport = "aiohttp"\n')
    rows, errors = print_config(capsys)
    assert errors == [
        f"ollama-tui: {no_user_settings}:1: read_timeout: expected a number, got 'soon'; ignored",
        f"ollama-tui: {no_user_settings}:2: unknown key 'modle' (did you mean 'model'?); ignored",
    ]
    assert rows["read_timeout"] == ("600", "default")
    assert rows["transport"] == ("aiohttp", f"file {no_user_settings}")


def test_demo_takes_its_pace_from_the_settings(no_user_settings: Path) -> None:
    no_user_settings.write_text("[demo]\ntoken_rate = 12\nfirst_token_delay = 0.5\n")
    for argv in (["serve-demo"], ["--demo"]):
        args = cli.build_parser().parse_args(argv)
        resolved = cfg.load(cli.flags(args), os.environ, args.config)
        demo = cli.demo_config(args, resolved.settings)
        assert (demo.token_rate, demo.first_token_delay) == (12.0, 0.5)
    # The flag works before and after the subcommand.
    for argv in (["--token-rate", "3", "serve-demo"], ["serve-demo", "--token-rate", "3"]):
        args = cli.build_parser().parse_args(argv)
        resolved = cfg.load(cli.flags(args), os.environ, args.config)
        assert cli.demo_config(args, resolved.settings).token_rate == 3.0


def test_demo_chat_uses_the_files_transport_but_the_demo_model(no_user_settings: Path) -> None:
    # The file's model names a model of the real server, which the demo server lacks.
    no_user_settings.write_text('model = "llama3.2"\ntransport = "aiohttp"\n')
    result = run_cli("--demo", "--plain", "--token-rate", "0", stdin="hello\n/bye\n")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "aiohttp · TTFC " in result.stdout


# ---------------------------------------------------------------------------- models


@pytest.mark.parametrize("name", TRANSPORT_NAMES)
def test_models_lists_the_servers_models(
    server: DemoServer, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert cli.main(["--transport", name, "models", "--host", server.url]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert lines[0].split() == ["NAME", "ID", "SIZE", "MODIFIED"]
    first = lines[1].split()
    assert first[0] == "demo:latest" and len(first[1]) == 12
    assert int(first[1], 16) >= 0  # the digest's first 12 hex digits
    assert first[2:4] == ["808", "MB"] and lines[1].endswith(" ago")
    assert len(lines) == 5  # the four models the built-in server has installed


@pytest.mark.parametrize(
    "argv", [["--demo", "models"], ["models", "--demo"]], ids=["before", "after"]
)
def test_models_with_demo_lists_the_built_in_servers_models(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{closed_port()}")  # never asked
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "demo:latest" in out and "demo-vision:latest" in out


def test_models_reads_the_host_from_the_settings(
    server: DemoServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", server.url)
    assert cli.main(["models"]) == 0
    assert "demo-think:latest" in capsys.readouterr().out


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_models_on_a_server_that_is_down_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    port = closed_port()
    assert cli.main(["--host", f"127.0.0.1:{port}", "models"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"ollama-tui: Cannot reach Ollama at http://127.0.0.1:{port} — is `ollama serve` running?"
    ]


def test_models_table_is_shaped_like_ollama_list() -> None:
    now = datetime(2025, 9, 20, 12, 0, tzinfo=UTC)
    tags = {
        "models": [
            {
                "name": "qwen3:14b",
                "digest": "bdbd181c33f2" + "0" * 52,
                "size": 9_276_198_565,
                "modified_at": "2025-09-18T11:30:00.123456789+00:00",
            },
            {
                "name": "smollm2:135m\x1b[2J",
                "digest": "sha256:9077fe9d2ae1" + "1" * 52,
                "size": 270_898_672,
                "modified_at": "2025-09-20T11:59:30Z",
            },
        ]
    }
    assert cli.format_models(tags, now).splitlines() == [
        "NAME               ID              SIZE      MODIFIED",
        "qwen3:14b          bdbd181c33f2    9.3 GB    2 days ago",
        "smollm2:135m[2J    9077fe9d2ae1    271 MB    30 seconds ago",
    ]
    assert cli.format_models({"models": []}, now) == "NAME    ID    SIZE    MODIFIED"
    # An entry with odd fields is listed with what it has (human_bytes, human_time: test_format).
    odd = {"models": [{"model": "m", "size": "big", "modified_at": "later"}, {"size": 1}]}
    assert cli.format_models(odd, now).splitlines()[1:] == ["m             0 B     later"]


def test_models_from_a_server_that_is_not_ollama_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli.listing, "fetch", lambda *args: ["not", "tags"])
    assert cli.main(["--host", "127.0.0.1:9", "models"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "ollama-tui: http://127.0.0.1:9/api/tags: not a list of models\n"


def test_every_setting_has_a_flag(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--host", "h:1", "--model", "m", "--transport", "aiohttp", "--theme", "nord",
            "--api", "openai", "--api-key-env", "MY_KEY",
            "--think", "--connect-timeout", "1", "--read-timeout", "2", "--max-line-mib", "3",
            "--thumbnails", "--data-dir", "/d",
            "--token-rate", "3", "--first-token-delay", "4"]  # fmt: skip
    rows, errors = print_config(capsys, *argv)
    assert errors == []
    for key in cfg.KEYS:
        assert rows[key.name][1] == f"flag {key.flag}", key.name
