"""The commands behind the command line: chat (full-screen or --plain, optionally with
the built-in server), serve-demo, export and bench. Each imports what it needs when it
runs, so that starting one never pays for the others."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ollama_tui import config as cfg
from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.sanitize import clean

if TYPE_CHECKING:
    from ollama_tui.demo import DemoConfig

DEMO_MODEL = "demo"


def fail(message: str) -> int:
    print(f"ollama-tui: {message}", file=sys.stderr)
    return 2


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
    images = []
    if args.images:
        from ollama_tui.core.images import ImageError
        from ollama_tui.session.attachments import load

        try:
            images = [load(path) for path in args.images]
        except ImageError as error:
            return fail(clean(str(error)))
    if args.plain:
        from ollama_tui.plain import PlainChat

        if not model:
            return fail("Choose a model with --model NAME (`ollama list` shows what is installed).")
        chat = PlainChat(
            connection,
            model,
            settings.transport,
            think=settings.think,
            interactive=sys.stdin.isatty() and sys.stdout.isatty(),
            defaults=settings.chat,
        )
        chat.attachments.extend(images)
        return chat.run(sys.stdin)
    from ollama_tui.ui import thumbnails

    if settings.thumbnails:
        thumbnails.prepare()  # asks the terminal what it draws while the app's modules load
    from ollama_tui.ui.app import OllamaApp

    app = OllamaApp(
        connection,
        model=model,
        transport=settings.transport,
        demo=args.demo,
        think=settings.think,
        theme=settings.theme,
        data_dir=settings.data_dir,
        chat_defaults=settings.chat,
        keymap=settings.keymap,
        config_path=resolved.config_path,
        warnings=resolved.warnings,
        images=images,
    )
    thumbnails.settle()  # the terminal's answers read before Textual reads the keys
    app.run()
    return app.return_code or 0


def serve_demo(args: argparse.Namespace, resolved: cfg.Resolved) -> int:
    from ollama_tui.demo import run_standalone

    config = demo_config(args, resolved.settings)
    if args.require_key_env:
        key = os.environ.get(args.require_key_env)
        if not key:
            print(
                f"ollama-tui: ${args.require_key_env} is not set: no key to ask for.",
                file=sys.stderr,
            )
            return 2
        config = dataclasses.replace(config, api_key=key)
    run_standalone(args.bind, args.port, config)
    return 0


def export(args: argparse.Namespace, resolved: cfg.Resolved) -> int:
    from ollama_tui.history.export import export_conversation
    from ollama_tui.history.store import HistoryError

    data_dir = resolved.settings.data_dir
    try:
        if args.id is None:
            text = list_kept(data_dir)
        else:
            text = export_conversation(
                data_dir, args.id, args.format, embed_images=args.embed_images
            )
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


def bench(args: argparse.Namespace) -> int:
    if args.ui:
        from ollama_tui.bench.ui import run as run_ui_bench

        return run_ui_bench(args)
    from ollama_tui.bench import run

    return run(args)
