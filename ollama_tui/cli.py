"""Command line: `ollama-tui [--demo] [--host URL] [--model NAME] [--transport NAME]`,
plus `ollama-tui serve-demo` and `ollama-tui bench`.

Every error exits non-zero with one clear line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ollama_tui import __version__
from ollama_tui.connection import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    ConnectionSettings,
)
from ollama_tui.transports import TRANSPORT_NAMES

if TYPE_CHECKING:
    from ollama_tui.demo import DemoConfig

DEMO_MODEL = "demo"


def positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above zero: {text!r}")
    return value


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        metavar="URL",
        help="Ollama server, e.g. localhost:11434 or https://host/ollama "
        "(default: $OLLAMA_HOST, else http://127.0.0.1:11434)",
    )
    parser.add_argument(
        "--connect-timeout",
        type=positive,
        default=DEFAULT_CONNECT_TIMEOUT,
        metavar="S",
        help=f"seconds to wait for a connection (default {DEFAULT_CONNECT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--read-timeout",
        type=positive,
        default=DEFAULT_READ_TIMEOUT,
        metavar="S",
        help="longest silence from the server, model loading included "
        f"(default {DEFAULT_READ_TIMEOUT:g})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ollama-tui",
        description="Chat with Ollama in the terminal through requests, httpx or aiohttp.",
    )
    parser.add_argument("--version", action="version", version=f"ollama-tui {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start the built-in Ollama-compatible server and chat with it (no Ollama needed)",
    )
    parser.add_argument("--model", metavar="NAME", help="model to chat with")
    parser.add_argument(
        "--plain",
        action="store_true",
        help="line-mode chat on stdin/stdout instead of the full-screen interface",
    )
    parser.add_argument(
        "--transport",
        choices=TRANSPORT_NAMES,
        default="httpx-async",
        help="HTTP client to stream with (default httpx-async)",
    )
    add_connection_arguments(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser(
        "serve-demo", help="run the built-in Ollama-compatible server for any Ollama client"
    )
    serve.add_argument("--bind", default="127.0.0.1", metavar="ADDRESS")
    serve.add_argument("--port", type=int, default=11434)
    add_demo_arguments(serve)

    from ollama_tui.bench import add_arguments as add_bench_arguments
    from ollama_tui.uibench import add_arguments as add_ui_bench_arguments

    bench = commands.add_parser(
        "bench", help="measure the four transports at the wire, alone and under concurrency"
    )
    add_bench_arguments(bench)
    ui = bench.add_argument_group("UI streaming benchmark (with --ui)")
    ui.add_argument(
        "--ui", action="store_true", help="measure the chat UI's streaming instead of the wire"
    )
    add_ui_bench_arguments(ui)  # type: ignore[arg-type]
    return parser


# The demo server's fault names, spelled out so building the parser does not import the
# server (aiohttp.web costs ~0.2 s of every start); a test keeps them equal to `Fault`.
FAULTS = ("not-found", "error-mid", "cut", "stall", "malformed", "no-done")


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--token-rate",
        type=float,
        default=40.0,
        metavar="N",
        help="tokens per second (0: no limit)",
    )
    parser.add_argument(
        "--first-token-delay",
        type=float,
        default=0.0,
        metavar="S",
        help="seconds before the first token, as a model load",
    )
    parser.add_argument("--fault", choices=FAULTS, help="misbehave this way on every reply")
    parser.add_argument(
        "--fault-after", type=int, default=5, metavar="N", help="tokens before the fault"
    )
    parser.add_argument(
        "--reply-file", metavar="PATH", help="answer every prompt with this file's text"
    )


def demo_config(args: argparse.Namespace) -> DemoConfig:
    from ollama_tui.demo import DemoConfig, Fault

    return DemoConfig(
        token_rate=args.token_rate,
        first_token_delay=args.first_token_delay,
        fault=Fault(args.fault) if args.fault else None,
        fault_after=args.fault_after,
        reply=Path(args.reply_file).read_text(encoding="utf-8") if args.reply_file else None,
    )


def chat(args: argparse.Namespace) -> int:
    timeouts = {"connect_timeout": args.connect_timeout, "read_timeout": args.read_timeout}
    if args.demo:
        from ollama_tui.demo import DemoConfig, DemoServer

        with DemoServer(DemoConfig()) as server:
            settings = ConnectionSettings(base_url=server.url, **timeouts)
            return start(args, settings, args.model or DEMO_MODEL)
    try:
        settings = ConnectionSettings.resolve(args.host, **timeouts)
    except ValueError as exc:
        return fail(str(exc))
    return start(args, settings, args.model)


def start(args: argparse.Namespace, settings: ConnectionSettings, model: str | None) -> int:
    if args.plain:
        from ollama_tui.plain import PlainChat

        if not model:
            return fail("Choose a model with --model NAME (`ollama list` shows what is installed).")
        return PlainChat(settings, model, args.transport).run(sys.stdin)
    from ollama_tui.ui.app import OllamaApp

    app = OllamaApp(settings, model=model, transport=args.transport, demo=args.demo)
    app.run()
    return app.return_code or 0


def fail(message: str) -> int:
    print(f"ollama-tui: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve-demo":
            from ollama_tui.demo import run_standalone

            run_standalone(args.bind, args.port, demo_config(args))
            return 0
        if args.command == "bench" and args.ui:
            from ollama_tui.uibench import run as run_ui_bench

            return run_ui_bench(args)
        if args.command == "bench":
            from ollama_tui.bench import run

            return run(args)
        return chat(args)
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        return fail(str(exc))


if __name__ == "__main__":
    sys.exit(main())
