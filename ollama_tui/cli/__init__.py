"""Command line: `ollama-tui [--demo] [--host URL] [--model NAME] [--transport NAME] ...`,
plus the subcommands `serve-demo`, `bench`, `models` and `export`.

Settings come from flags, then the environment, then the config file (ollama_tui.config);
`--print-config` shows them with their sources. Every error exits non-zero with one clear
line on stderr.

The parts: `parser` (flags and subcommands), `commands` (chat, serve-demo, export,
bench) and `listing` (`models`). This module is on every start-up path: it and those
import nothing heavy at the top (the UI, the demo server, the HTTP clients and the
history load when a command needs them).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from ollama_tui import config as cfg
from ollama_tui.cli.commands import (
    DEMO_MODEL,
    bench,
    chat,
    demo_config,
    export,
    fail,
    list_kept,
    serve_demo,
    start,
)
from ollama_tui.cli.listing import fetch, format_models, models
from ollama_tui.cli.parser import (
    CHOICES,
    FAULTS,
    Parser,
    add_connection_arguments,
    add_demo_arguments,
    add_demo_pace_arguments,
    build_parser,
    flag_type,
    setting,
)
from ollama_tui.ui import TEXTUAL_FPS

__all__ = [
    "COMMANDS",
    "DEMO_MODEL",
    "FAULTS",
    "Parser",
    "add_connection_arguments",
    "add_demo_arguments",
    "add_demo_pace_arguments",
    "bench",
    "build_parser",
    "chat",
    "demo_config",
    "export",
    "fail",
    "fetch",
    "flag_type",
    "flags",
    "format_models",
    "list_kept",
    "main",
    "models",
    "serve_demo",
    "setting",
    "start",
]

COMMANDS: dict[str | None, Callable[[argparse.Namespace, cfg.Resolved], int]] = {
    None: chat,
    "serve-demo": serve_demo,
    "models": models,
    "export": export,
}


def flags(args: argparse.Namespace) -> dict[str, object]:
    """The settings given as flags, by `Settings` field (None: not given)."""
    return {key.field: getattr(args, key.field, None) for key in cfg.KEYS}


def main(argv: Sequence[str] | None = None) -> int:
    # Textual paints at most 60 frames a second, on a clock of its own: text drawn just
    # after a tick waits up to 17 ms for the next one. At 240 it waits 4 ms at most (lag
    # p95 at 100 tok/s on a pty: 72 ms at 60, 60 at 120; then 53 -> 48 ms from 120 to
    # 240, CPU unchanged: frames are still only painted when something changed;
    # docs/ui-performance.md). Read when Textual is first imported (the parser does, to
    # check a theme's name); a value the person set is kept.
    os.environ.setdefault("TEXTUAL_FPS", TEXTUAL_FPS)  # (`ollama_tui.ui` alone: no Textual)
    args = build_parser().parse_args(argv)
    try:
        # The bench keeps its own defaults so that its figures do not depend on a file.
        if args.command == "bench" and not args.print_config:
            return bench(args)
        try:
            resolved = cfg.load(flags(args), os.environ, args.config, CHOICES)
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
