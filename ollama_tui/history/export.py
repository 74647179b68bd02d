"""Export a conversation: Markdown to read, JSON with everything (figures and stats)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from ollama_tui.core.format import ReplyFigures
from ollama_tui.core.waterfall import Waterfall
from ollama_tui.history.store import DB_NAME, Conversation, History, MessageRecord

FORMATS = ("md", "json")
JSON_FORMAT = "ollama-tui conversation"
JSON_VERSION = 1

_ROLE_NAMES = {"user": "User", "assistant": "Assistant", "system": "System"}


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).astimezone().isoformat(timespec="seconds")


def figures_line(message: MessageRecord) -> str | None:
    """The reply's figures as the chat shows them under it, or None if it has none."""
    if message.figures is None and message.stats is None and message.transport is None:
        return None
    return ReplyFigures.stored(message.transport, message.figures, message.stats).text()


def reply_outcome(message: MessageRecord) -> str:
    """How a kept reply ended: "done", "stopped", "error", or "incomplete" (never ended:
    the app was killed, or the reply was kept by an older version)."""
    if message.complete:
        return "done"
    ended = (message.figures or {}).get("outcome")
    return ended if ended in ("stopped", "error") else "incomplete"


def waterfall_of(message: MessageRecord) -> Waterfall | None:
    """Where a kept reply's time went (None for a message that is no reply)."""
    if message.role != "assistant":
        return None
    return Waterfall.stored(
        message.transport, message.figures, message.stats, reply_outcome(message)
    )


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks in `text`."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _quoted(text: str) -> str:
    # Every line quoted, so nothing in the model's thinking can end the quote.
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def to_markdown(conversation: Conversation) -> str:
    """The conversation as Markdown: title, model, settings, then each message under
    its role; a reply's thinking quoted before it and its figures line after it;
    superseded and incomplete messages marked as such."""
    c = conversation
    lines = [f"# {' '.join(c.title.split()) or 'Untitled'}", ""]
    lines.append(f"- Model: {c.model or 'unknown'} · transport: {c.transport or 'unknown'}")
    lines.append(f"- Started {_when(c.created_at)}, last written {_when(c.updated_at)}")
    lines.append("")
    if c.settings:
        body = json.dumps(c.settings, indent=2, ensure_ascii=False)
        fence = _fence(body)
        lines += ["Settings:", "", f"{fence}json", body, fence, ""]
    for message in c.messages:
        heading = _ROLE_NAMES.get(message.role, message.role.title())
        if message.role == "assistant" and message.model and message.model != c.model:
            heading += f" ({message.model})"
        marks = [
            mark
            for mark, on in (
                ("superseded", message.superseded),
                ("incomplete", not message.complete),
            )
            if on
        ]
        if marks:
            heading += " — " + ", ".join(marks)
        lines += [f"## {heading}", ""]
        if message.thinking:
            lines += ["> **Thinking**", ">", _quoted(message.thinking), ""]
        lines += [message.content, ""]
        if message.role == "assistant":
            figures = figures_line(message)
            if figures is not None:
                lines += [f"*{figures}*", ""]
            waterfall = waterfall_of(message)
            if waterfall is not None and (waterfall.ttfc is not None or waterfall.server_sent):
                lines += [f"*Where the time went: {waterfall.line()}*", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _message_json(m: MessageRecord) -> dict[str, Any]:
    waterfall = waterfall_of(m)
    return {
        "id": m.id,
        "role": m.role,
        "content": m.content,
        "thinking": m.thinking,
        "model": m.model,
        "transport": m.transport,
        "complete": m.complete,
        "superseded": m.superseded,
        "created_at": m.created_at,
        "figures": m.figures,
        "stats": m.stats,
        "waterfall": None if waterfall is None else waterfall.to_json(),
    }


def to_json(conversation: Conversation) -> dict[str, Any]:
    """Everything stored about the conversation, as JSON-ready values (times in unix
    seconds, figures in seconds, the server's stats in nanoseconds as it sent them)."""
    c = conversation
    return {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "id": c.id,
        "title": c.title,
        "model": c.model,
        "transport": c.transport,
        "settings": c.settings,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "messages": [_message_json(m) for m in c.messages],
    }


def from_json(data: dict[str, Any]) -> Conversation:
    """The `Conversation` that `to_json` made `data` from."""
    if data.get("format") != JSON_FORMAT:
        raise ValueError("not an ollama-tui conversation export")
    return Conversation(
        id=data["id"],
        title=data["title"],
        model=data["model"],
        transport=data["transport"],
        settings=data["settings"],
        created_at=data["created_at"],
        updated_at=data["updated_at"],
        messages=[
            MessageRecord(
                id=m["id"],
                conversation_id=data["id"],
                role=m["role"],
                content=m["content"],
                thinking=m["thinking"],
                model=m["model"],
                transport=m["transport"],
                complete=m["complete"],
                figures=m["figures"],
                stats=m["stats"],
                created_at=m["created_at"],
                superseded=m["superseded"],
            )
            for m in data["messages"]
        ],
    )


def export_conversation(data_dir: Path, conversation_id: int, fmt: str) -> str:
    """Conversation `conversation_id` of the history in `data_dir`, as "md" or "json".

    ValueError for another format; KeyError if there is no such conversation (or no
    history at all); HistoryError if the database cannot be read. Only reads: no
    fresh database is made when the usual one cannot be used.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: one of {', '.join(FORMATS)}")
    try:
        history = History.open_existing(Path(data_dir) / DB_NAME)
    except FileNotFoundError:
        raise KeyError(conversation_id) from None
    with history:
        conversation = history.load(conversation_id)
    if fmt == "md":
        return to_markdown(conversation)
    return json.dumps(to_json(conversation), indent=2, ensure_ascii=False)
