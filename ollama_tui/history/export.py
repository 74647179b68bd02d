"""Export a conversation: Markdown to read, JSON with everything (figures and stats).

A message's images are named by their kept files (`history/images.py`), not copied:
a Markdown image link each, and in JSON their facts and path, with their bytes in
base64 only when asked (`embed_images`: megabytes per image).

People script against the JSON: a new field is added after the existing ones, which
keep their names, order and meaning (`JSON_VERSION` stays); `from_json` reads an
export made before a field was added. The wire API ("api") is said in Markdown only
when it is not Ollama's, so an Ollama conversation exports as it always did."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from ollama_tui.core.format import ReplyFigures
from ollama_tui.core.waterfall import Waterfall
from ollama_tui.history.images import ImageUnavailable, KeptImage
from ollama_tui.history.store import (
    DB_NAME,
    DEFAULT_API,
    Conversation,
    History,
    MessageRecord,
)

FORMATS = ("md", "json")
JSON_FORMAT = "ollama-tui conversation"
JSON_VERSION = 1

_ROLE_NAMES = {"user": "User", "assistant": "Assistant", "system": "System"}


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).astimezone().isoformat(timespec="seconds")


def figures_line(message: MessageRecord) -> str | None:
    """The reply's figures as the chat shows them under it, or None if it has none;
    ending with the wire API it went over when that is not Ollama's ("… · openai API")."""
    if message.figures is None and message.stats is None and message.transport is None:
        return None
    line = ReplyFigures.stored(message.transport, message.figures, message.stats).text()
    return line if message.api == DEFAULT_API else f"{line} · {message.api} API"


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


_MD_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PLAIN_DESTINATION = re.compile(r"[^\s<>()\\&\x00-\x1f\x7f]+")


def _md_text(text: str) -> str:
    """`text` as literal inline Markdown: one line, every ASCII punctuation mark escaped
    (a file name like `[a](b).png` or `*x*.png` stays as it is)."""
    return _MD_PUNCTUATION.sub(r"\\\1", " ".join(_CONTROL.sub(" ", text).split()))


def _md_destination(path: Path) -> str:
    """`path` as a link destination: as it is, or in <…> (`\\`, `<`, `>` and `&`
    escaped) if it has spaces or such marks (a data directory under "Application
    Support"), or as a file:// URL if it holds a character no destination can (a line
    break)."""
    text = str(path)
    if _PLAIN_DESTINATION.fullmatch(text):
        return text
    if not _CONTROL.search(text):
        return "<" + re.sub(r"([\\<>&])", r"\\\1", text) + ">"
    return path.absolute().as_uri()


def _image_markdown(image: KeptImage) -> str:
    if image.path is None:
        return f"*Image not kept: {_md_text(image.label())}*"
    return f"![{_md_text(image.name)}]({_md_destination(image.path)})"


def to_markdown(conversation: Conversation) -> str:
    """The conversation as Markdown: title, model, settings, then each message under
    its role; a reply's thinking quoted before it and its figures line after it;
    a message's images, as links to their kept files, before its text; superseded and
    incomplete messages marked as such."""
    c = conversation
    lines = [f"# {' '.join(c.title.split()) or 'Untitled'}", ""]
    model = f"- Model: {c.model or 'unknown'} · transport: {c.transport or 'unknown'}"
    lines.append(model if c.api == DEFAULT_API else f"{model} · API: {c.api}")
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
        for image in message.images:
            lines += [_image_markdown(image), ""]
        lines += [message.content, ""]
        if message.role == "assistant":
            figures = figures_line(message)
            if figures is not None:
                lines += [f"*{figures}*", ""]
            waterfall = waterfall_of(message)
            if waterfall is not None and (waterfall.ttfc is not None or waterfall.server_sent):
                lines += [f"*Where the time went: {waterfall.line()}*", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _image_json(image: KeptImage, embed: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": image.name,
        "format": image.format,
        "width": image.width,
        "height": image.height,
        "bytes": image.size,
        "sha256": image.digest,
        "path": None if image.path is None else str(image.path),
    }
    if embed:
        try:
            data["base64"] = base64.b64encode(image.read()).decode("ascii")
        except ImageUnavailable:
            data["base64"] = None  # gone or changed since: the export still goes out
    return data


def _message_json(m: MessageRecord, embed_images: bool = False) -> dict[str, Any]:
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
        "images": [_image_json(image, embed_images) for image in m.images],
        "api": m.api,
    }


def to_json(conversation: Conversation, *, embed_images: bool = False) -> dict[str, Any]:
    """Everything stored about the conversation, as JSON-ready values (times in unix
    seconds, figures in seconds, the server's stats in nanoseconds as it sent them).

    Each message's `images`: name, format, width, height, bytes (size), sha256 and path
    (None if kept in memory only); with `embed_images`, also `base64`, the bytes read
    from the file now (None if the file is gone or changed). Each message's `api`: the
    wire API it went over ("ollama", "openai"); the conversation's `api`, after its
    messages: the one it goes on over."""
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
        "messages": [_message_json(m, embed_images) for m in c.messages],
        "api": c.api,
    }


def from_json(data: dict[str, Any]) -> Conversation:
    """The `Conversation` that `to_json` made `data` from (or an older version of it:
    without `images`, none; without `api`, Ollama's)."""
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
                images=tuple(_image_from_json(image) for image in m.get("images", ())),
                api=m.get("api", DEFAULT_API),
            )
            for m in data["messages"]
        ],
        api=data.get("api", DEFAULT_API),
    )


def _image_from_json(data: dict[str, Any]) -> KeptImage:
    path = data["path"]
    return KeptImage(
        name=data["name"],
        digest=data["sha256"],
        format=data["format"],
        width=data["width"],
        height=data["height"],
        size=data["bytes"],
        path=None if path is None else Path(path),
    )


def export_conversation(
    data_dir: Path, conversation_id: int, fmt: str, *, embed_images: bool = False
) -> str:
    """Conversation `conversation_id` of the history in `data_dir`, as "md" or "json"
    (with `embed_images`, JSON carries each image's bytes too: see `to_json`).

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
    return json.dumps(
        to_json(conversation, embed_images=embed_images), indent=2, ensure_ascii=False
    )
