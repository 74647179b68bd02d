"""The command line and the line-mode chat, end to end over loopback."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from ollama_tui.connection import ConnectionSettings
from ollama_tui.demo import DemoServer, Fault
from ollama_tui.plain import PlainChat
from ollama_tui.transports import TRANSPORT_NAMES


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


def test_unknown_model_and_server_down_are_one_line_each(server: DemoServer) -> None:
    out = io.StringIO()
    PlainChat(ConnectionSettings(base_url=server.url), "nope", "httpx-async", out=out).run(["x\n"])
    assert (
        'Error: Ollama: model "nope" not found, try pulling it first (HTTP 404)' in out.getvalue()
    )


def test_version_and_help() -> None:
    assert run_cli("--version").stdout.strip() == "ollama-tui 0.1.0"
    helptext = run_cli("--help").stdout
    for option in ("--demo", "--host", "--model", "--transport", "serve-demo", "bench"):
        assert option in helptext


def test_bad_arguments_exit_non_zero_with_one_line() -> None:
    result = run_cli("--transport", "curl")
    assert result.returncode == 2
    assert "invalid choice: 'curl'" in result.stderr


def test_real_server_needs_a_model() -> None:
    result = run_cli("--plain", "--host", "127.0.0.1:9", env={"OLLAMA_HOST": ""})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "ollama-tui: Choose a model with --model NAME (`ollama list` shows what is installed)."
    )


def test_bad_host_is_one_line() -> None:
    result = run_cli("--host", "example.com:99999", "--model", "m")
    assert result.returncode == 2
    assert result.stderr.strip() == "ollama-tui: Invalid port in Ollama host 'example.com:99999'"


def test_fault_choices_match_the_server() -> None:
    from ollama_tui.cli import FAULTS

    assert tuple(f.value for f in Fault) == FAULTS


def test_bench_ui_is_reachable_from_the_command_line() -> None:
    helptext = run_cli("bench", "--help").stdout
    assert "--ui" in helptext and "--ui-transports" in helptext
