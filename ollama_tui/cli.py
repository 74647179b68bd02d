"""Command line: `ollama-tui [--demo] [--host URL] [--model NAME] [--transport NAME] ...`,
plus the subcommands `serve-demo`, `bench` and `models`.

Settings come from flags, then the environment, then the config file (ollama_tui.config);
`--print-config` shows them with their sources. Every error exits non-zero with one clear
line on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ollama_tui import __version__
from ollama_tui import config as cfg
from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.sanitize import clean
from ollama_tui.transports import TRANSPORT_NAMES

if TYPE_CHECKING:
    from ollama_tui.demo import DemoConfig

DEMO_MODEL = "demo"


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump above it)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def flag_type(field: str) -> Callable[[str], Any]:
    """An argparse `type` that checks a flag as the config file's key is checked."""
    key = cfg.BY_FIELD[field]

    def parse(text: str) -> Any:
        try:
            return key.parse(text)
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
    add_demo_arguments(serve)

    from ollama_tui.bench import add_arguments as add_bench_arguments
    from ollama_tui.bench.ui import add_arguments as add_ui_bench_arguments

    bench = commands.add_parser(
        "bench", help="measure the four transports at the wire, alone and under concurrency"
    )
    add_bench_arguments(bench)
    ui = bench.add_argument_group("UI streaming benchmark (with --ui)")
    ui.add_argument(
        "--ui", action="store_true", help="measure the chat UI's streaming instead of the wire"
    )
    add_ui_bench_arguments(ui)  # type: ignore[arg-type]

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

    export = commands.add_parser(
        "export",
        help="a kept conversation as Markdown or JSON (no ID: list them)",
        description="Print a kept conversation, with each reply's figures, as Markdown or "
        "JSON; without an ID, list the kept conversations with their IDs.",
    )
    export.add_argument("id", nargs="?", type=int, help="the conversation's ID")
    export.add_argument("--format", choices=("md", "json"), default="md", help="default md")
    export.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="write to FILE (mode 0600), not stdout"
    )
    return parser


# The demo server's fault names, spelled out so building the parser does not import the
# server (aiohttp.web costs ~0.2 s of every start); a test keeps them equal to `Fault`.
FAULTS = ("not-found", "error-mid", "cut", "stall", "malformed", "no-done")


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


def demo_config(args: argparse.Namespace, settings: cfg.Settings) -> DemoConfig:
    from ollama_tui.demo import DemoConfig, Fault

    fault = getattr(args, "fault", None)
    reply_file = getattr(args, "reply_file", None)
    return DemoConfig(
        token_rate=settings.demo_token_rate,
        first_token_delay=settings.demo_first_token_delay,
        fault=Fault(fault) if fault else None,
        fault_after=getattr(args, "fault_after", 5),
        reply=Path(reply_file).read_text(encoding="utf-8") if reply_file else None,
    )


# ---------------------------------------------------------------------------- commands


def chat(args: argparse.Namespace, resolved: cfg.Resolved) -> int:
    settings = resolved.settings
    if args.debug_log:
        from ollama_tui.debuglog import enable

        print(f"ollama-tui: debug log: {enable()}", file=sys.stderr)
    if args.demo:
        from ollama_tui.demo import DemoServer

        # The file's and environment's model name a model of the real server.
        model = settings.model if resolved.sources["model"].kind == "flag" else DEMO_MODEL
        with DemoServer(demo_config(args, settings), keep_log=False) as server:
            return start(args, resolved, settings.connection(server.url), model)
    return start(args, resolved, settings.connection(), settings.model)


def start(
    args: argparse.Namespace,
    resolved: cfg.Resolved,
    connection: ConnectionSettings,
    model: str | None,
) -> int:
    settings = resolved.settings
    if args.plain:
        from ollama_tui.plain import PlainChat

        if not model:
            return fail("Choose a model with --model NAME (`ollama list` shows what is installed).")
        return PlainChat(connection, model, settings.transport).run(sys.stdin)
    from ollama_tui.ui.app import OllamaApp

    app = OllamaApp(
        connection,
        model=model,
        transport=settings.transport,
        demo=args.demo,
        think=settings.think,
        theme=settings.theme,
        data_dir=settings.data_dir,
        config_path=resolved.config_path,
        warnings=resolved.warnings,
    )
    app.run()
    return app.return_code or 0


def serve_demo(args: argparse.Namespace, resolved: cfg.Resolved) -> int:
    from ollama_tui.demo import run_standalone

    run_standalone(args.bind, args.port, demo_config(args, resolved.settings))
    return 0


def models(args: argparse.Namespace, resolved: cfg.Resolved) -> int:
    from ollama_tui.transports.base import ApiError

    settings = resolved.settings
    try:
        tags = fetch(settings.connection(), settings.transport, "/api/tags")
    except ApiError as error:
        print(f"ollama-tui: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    from ollama_tui.core.models import is_model_list

    if not is_model_list(tags):
        print(f"ollama-tui: {settings.host}/api/tags: not a list of models", file=sys.stderr)
        return 1
    print(format_models(tags, datetime.now(UTC)))
    return 0


def export(args: argparse.Namespace, resolved: cfg.Resolved) -> int:
    from ollama_tui.history.export import export_conversation
    from ollama_tui.history.store import HistoryError

    data_dir = resolved.settings.data_dir
    try:
        if args.id is None:
            text = list_kept(data_dir)
        else:
            text = export_conversation(data_dir, args.id, args.format)
    except KeyError:
        print(f"ollama-tui: no conversation {args.id} in {data_dir}", file=sys.stderr)
        return 1
    except HistoryError as error:
        print(f"ollama-tui: {error}", file=sys.stderr)
        return 1
    if args.output is None:
        text = clean(text)  # the terminal gets no escape sequence from a reply or a name
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return 0
    from ollama_tui.files import write_private

    try:
        write_private(args.output, text)
    except OSError as error:
        print(f"ollama-tui: cannot write {args.output}: {error.strerror}", file=sys.stderr)
        return 1
    return 0


def list_kept(data_dir: Path) -> str:
    """The kept conversations, newest first: ID, last change, messages, title."""
    from ollama_tui.history.store import DB_NAME, History

    try:
        history = History.open_existing(data_dir / DB_NAME)
    except FileNotFoundError:
        return f"No conversations kept in {data_dir} yet."
    with history:
        rows = history.list_conversations(limit=10_000)
    lines = [f"{'ID':>6}  {'CHANGED':<16}  {'MESSAGES':>8}  TITLE"]
    for row in rows:
        changed = datetime.fromtimestamp(row.updated_at).strftime("%Y-%m-%d %H:%M")
        lines.append(f"{row.id:>6}  {changed:<16}  {row.message_count:>8}  {clean(row.title)}")
    return "\n".join(lines)


def fetch(connection: ConnectionSettings, transport_name: str, path: str) -> Any:
    """GET `path` with the configured transport: its JSON, or `ApiError`."""
    from ollama_tui.transports import AsyncTransport, create_transport

    transport = create_transport(transport_name, connection)
    if isinstance(transport, AsyncTransport):
        import asyncio

        async def call() -> Any:
            try:
                return await transport.acall("GET", path)
            finally:
                await transport.aclose()

        return asyncio.run(call())
    with transport:
        return transport.call("GET", path)


def format_models(tags: object, now: datetime) -> str:
    """`ollama list`'s table: NAME, ID, SIZE, MODIFIED, in the server's order."""
    from ollama_tui.core.format import human_bytes, human_time
    from ollama_tui.core.models import ModelInfo

    rows = [("NAME", "ID", "SIZE", "MODIFIED")]
    for model in ModelInfo.from_tags(tags):
        rows.append(
            (
                clean(model.name),
                clean(model.short_id),
                human_bytes(model.size),
                human_time(model.modified_at, now),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        "    ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
        + "    "
        + row[3]
        for row in rows
    )


def bench(args: argparse.Namespace) -> int:
    if args.ui:
        from ollama_tui.bench.ui import run as run_ui_bench

        return run_ui_bench(args)
    from ollama_tui.bench import run

    return run(args)


COMMANDS: dict[str | None, Callable[[argparse.Namespace, cfg.Resolved], int]] = {
    None: chat,
    "serve-demo": serve_demo,
    "models": models,
    "export": export,
}


def fail(message: str) -> int:
    print(f"ollama-tui: {message}", file=sys.stderr)
    return 2


def flags(args: argparse.Namespace) -> dict[str, object]:
    """The settings given as flags, by `Settings` field (None: not given)."""
    return {key.field: getattr(args, key.field, None) for key in cfg.KEYS}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        # The bench keeps its own defaults so that its figures do not depend on a file.
        if args.command == "bench" and not args.print_config:
            return bench(args)
        try:
            resolved = cfg.load(flags(args), os.environ, args.config)
        except cfg.ConfigError as exc:
            return fail(str(exc))
        for warning in resolved.warnings:
            print(f"ollama-tui: {warning}", file=sys.stderr)
        if args.print_config:
            print(cfg.format_settings(resolved))
            return 0
        return COMMANDS[args.command](args, resolved)
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        return fail(str(exc))


if __name__ == "__main__":
    sys.exit(main())
