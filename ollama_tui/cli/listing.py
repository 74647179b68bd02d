"""`ollama-tui models`: the server's models as `ollama list` shows them."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from ollama_tui import config as cfg
from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.sanitize import clean


def models(args: argparse.Namespace, resolved: cfg.Resolved) -> int:
    from ollama_tui.core.models import is_model_list
    from ollama_tui.transports.errors import ApiError

    settings = resolved.settings
    path = "/models" if settings.api == "openai" else "/api/tags"
    try:
        if getattr(args, "demo", False):
            from ollama_tui.demo import DemoServer

            with DemoServer(keep_log=False) as server:
                tags = fetch(settings.connection(server.url), settings.transport, path)
        else:
            tags = fetch(settings.connection(), settings.transport, path)
    except ApiError as error:
        print(f"ollama-tui: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    if settings.api == "openai":
        from ollama_tui.core.openai import parse_models

        try:
            print("\n".join(["NAME", *(m.name for m in parse_models(tags))]))
        except ValueError:
            print(f"ollama-tui: {settings.host}{path}: not a list of models", file=sys.stderr)
            return 1
        return 0
    if not is_model_list(tags):
        print(f"ollama-tui: {settings.host}/api/tags: not a list of models", file=sys.stderr)
        return 1
    print(format_models(tags, datetime.now(UTC)))
    return 0


def fetch(connection: ConnectionSettings, transport_name: str, path: str) -> Any:
    """GET `path` with the configured transport: its JSON, or `ApiError`."""
    from ollama_tui.session.runner import StreamRunner

    runner = StreamRunner(connection)
    try:
        return runner.call_future("GET", path, transport=transport_name).result()
    finally:
        runner.close()


def format_models(tags: object, now: datetime) -> str:
    """`ollama list`'s table: NAME, ID, SIZE, MODIFIED, in the server's order."""
    # Here, not at the top: their dataclasses cost ~10 ms of every start otherwise.
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
