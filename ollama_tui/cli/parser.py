"""The command line's parser: every flag and subcommand, with each setting's help naming
its default, file key and environment variable (from ollama_tui.config)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from ollama_tui import __version__
from ollama_tui import config as cfg
from ollama_tui.transports import TRANSPORT_NAMES


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump above it)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def theme_names() -> list[str]:
    # Only when a theme is set: it imports Textual (~0.15 s), which `models` never needs.
    from ollama_tui.ui.themes import theme_names

    return theme_names()


CHOICES: cfg.Choices = {"theme": theme_names}
"""Values only a front end knows: checked in flags, the environment and the file."""


def flag_type(field: str) -> Callable[[str], Any]:
    """An argparse `type` that checks a flag as the config file's key is checked."""
    key = cfg.BY_FIELD[field]

    def parse(text: str) -> Any:
        try:
            return cfg.allowed(key, key.parse(text), CHOICES)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = field
    return parse


def setting(field: str, text: str) -> str:
    """Help text naming the setting's default, file key and environment variable."""
    key = cfg.BY_FIELD[field]
    shown = cfg.show_value(key, getattr(cfg.Settings(), field)).strip("()")
    return f"{text} (default: {shown}; file key {key.name}, env {key.env})"


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        metavar="URL",
        help=setting("host", "Ollama server, e.g. localhost:11434 or https://host/ollama"),
    )
    parser.add_argument(
        "--connect-timeout",
        type=flag_type("connect_timeout"),
        metavar="S",
        help=setting("connect_timeout", "seconds to wait for a connection"),
    )
    parser.add_argument(
        "--read-timeout",
        type=flag_type("read_timeout"),
        metavar="S",
        help=setting("read_timeout", "longest silence from the server, model loading included"),
    )
    parser.add_argument(
        "--max-line-mib",
        type=flag_type("max_line_mib"),
        metavar="MIB",
        help=setting("max_line_mib", "longest reply line accepted, a bound on memory"),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="ollama-tui",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Chat with Ollama in the terminal through requests, httpx or aiohttp.",
        epilog="Settings also come from the environment and the config file: a flag beats\n"
        "the environment, which beats the file, which beats the default.\n"
        "`ollama-tui --print-config` shows each setting and where it came from;\n"
        "docs/configuration.md describes them.",
    )
    parser.add_argument("--version", action="version", version=f"ollama-tui {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start the built-in Ollama-compatible server and chat with it (no Ollama needed; "
        "--host and the model of the file and environment are then ignored)",
    )
    parser.add_argument("--model", metavar="NAME", help=setting("model", "model to chat with"))
    parser.add_argument(
        "--plain",
        action="store_true",
        help="line-mode chat on stdin/stdout instead of the full-screen interface",
    )
    parser.add_argument(
        "--api",
        choices=("ollama", "openai"),
        help=setting(
            "api",
            "the server's API: Ollama's own, or OpenAI-compatible /v1 (llama.cpp's "
            "llama-server, vLLM, LM Studio, LocalAI, Ollama's /v1)",
        ),
    )
    parser.add_argument(
        "--api-key-env",
        metavar="NAME",
        help=setting("api_key_env", "the environment variable holding the /v1 API key"),
    )
    parser.add_argument(
        "--image",
        action="append",
        dest="images",
        metavar="FILE",
        help="attach an image to the first message (repeatable; a vision model is needed)",
    )
    parser.add_argument(
        "--transport",
        choices=TRANSPORT_NAMES,
        help=setting("transport", "HTTP client to stream with"),
    )
    parser.add_argument(
        "--theme",
        type=flag_type("theme"),
        metavar="NAME",
        help=setting("theme", "a Textual built-in theme, e.g. nord, dracula, textual-light"),
    )
    parser.add_argument(
        "--think",
        action=argparse.BooleanOptionalAction,
        help=setting("think", "turn a thinking model's reasoning on or off"),
    )
    parser.add_argument(
        "--thumbnails",
        action=argparse.BooleanOptionalAction,
        help=setting(
            "thumbnails",
            "ask the terminal at start whether it draws pictures, for image thumbnails",
        ),
    )
    add_connection_arguments(parser)
    parser.add_argument(
        "--data-dir",
        metavar="PATH",
        help=setting("data_dir", "where conversations are kept"),
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help=f"the settings file (default {cfg.default_config_path()}; env {cfg.CONFIG_ENV})",
    )
    parser.add_argument(
        "--debug-log",
        action="store_true",
        help="write what streams did (never what was said) to the debug log file "
        "(~/.local/state/ollama-tui/log/debug.log on Linux, mode 0600)",
    )
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print every setting, its value and where it came from, then exit",
    )
    demo = parser.add_argument_group("built-in server (with --demo, and for serve-demo)")
    add_demo_pace_arguments(demo)  # type: ignore[arg-type]

    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser(
        "serve-demo", help="run the built-in Ollama-compatible server for any Ollama client"
    )
    serve.add_argument("--bind", default="127.0.0.1", metavar="ADDRESS")
    serve.add_argument("--port", type=int, default=11434)
    serve.add_argument(
        "--require-key-env",
        metavar="NAME",
        help="/v1 answers 401 unless a request brings the key held in the environment "
        "variable NAME, as a hosted server does (the key itself is never on the command line)",
    )
    add_demo_arguments(serve)

    from ollama_tui.bench import add_arguments as add_bench_arguments
    from ollama_tui.bench.ui import add_arguments as add_ui_bench_arguments

    bench = commands.add_parser(
        "bench", help="measure the four transports at the wire, alone and under concurrency"
    )
    add_bench_arguments(bench)
    ui = bench.add_argument_group("UI streaming benchmark (with --ui; --transports, --json apply)")
    ui.add_argument(
        "--ui",
        action="store_true",
        help="measure the chat UI's streaming as it reaches a real terminal (a pty) instead "
        "of the wire",
    )
    add_ui_bench_arguments(ui)

    models = commands.add_parser(
        "models",
        help="list the server's models, like `ollama list`",
        description="List the models installed on the server (GET /api/tags): name, ID, "
        "size and when each was modified.",
    )
    # SUPPRESS: --host also exists on the main parser (`ollama-tui --host X models`);
    # a default here would overwrite the value given there.
    models.add_argument(
        "--host", default=argparse.SUPPRESS, metavar="URL", help="the Ollama server"
    )
    # Likewise for --demo: `ollama-tui --demo models` and `ollama-tui models --demo`.
    models.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS,
        help="list the built-in server's models",
    )

    export = commands.add_parser(
        "export",
        help="a kept conversation as Markdown or JSON (no ID: list them)",
        description="Print a kept conversation, with each reply's figures, as Markdown or "
        "JSON; without an ID, list the kept conversations with their IDs.",
    )
    export.add_argument("id", nargs="?", type=int, help="the conversation's ID")
    export.add_argument("--format", choices=("md", "json"), default="md", help="default md")
    export.add_argument(
        "--embed-images",
        action="store_true",
        help="JSON: each image's bytes as base64 too (default: its kept file's path)",
    )
    export.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="write to FILE (mode 0600), not stdout"
    )
    return parser


# The demo server's fault names, spelled out so building the parser does not import the
# server (aiohttp.web costs ~0.2 s of every start); a test keeps them equal to `Fault`.
FAULTS = ("not-found", "error-mid", "cut", "stall", "malformed", "no-done", "rate-limit", "whole")


def add_demo_pace_arguments(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: the main parser and serve-demo both have these flags
    # (`ollama-tui --token-rate 5 serve-demo`); a default in one would overwrite the other.
    parser.add_argument(
        "--token-rate",
        dest="demo_token_rate",
        type=flag_type("demo_token_rate"),
        default=argparse.SUPPRESS,
        metavar="N",
        help=setting("demo_token_rate", "tokens per second, 0 for no limit"),
    )
    parser.add_argument(
        "--first-token-delay",
        dest="demo_first_token_delay",
        type=flag_type("demo_first_token_delay"),
        default=argparse.SUPPRESS,
        metavar="S",
        help=setting("demo_first_token_delay", "seconds before the first token, as a model load"),
    )


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    add_demo_pace_arguments(parser)
    parser.add_argument("--fault", choices=FAULTS, help="misbehave this way on every reply")
    parser.add_argument(
        "--fault-after", type=int, default=5, metavar="N", help="tokens before the fault"
    )
    parser.add_argument(
        "--reply-file", metavar="PATH", help="answer every prompt with this file's text"
    )
