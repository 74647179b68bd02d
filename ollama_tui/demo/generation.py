"""One /api/chat or /api/generate request after validation: its plan, its paced output and
the faults injected into it (see :class:`~.config.Fault`).

:func:`plan` fixes the pieces (reasoning, then reply, cut by ``num_predict``) up front;
the prompt's keywords choose the built-in texts (:mod:`.routing`).
:func:`stream` sends one line per piece on a fixed schedule from the request's arrival,
so pacing never drifts; ``stream: false`` (:func:`respond_whole`) follows the same schedule
and answers with one object. The stats in the done line are measured on this server's clock,
or with ``nominal_stats`` are the figures the pacing promises. What goes on the wire is a
:class:`Framing`'s choice: Ollama's NDJSON here, /v1's Server-Sent Events in
:mod:`.openai_wire`, so both APIs share the texts, the pacing and the faults.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .catalog import CatalogModel
from .config import CONFIG, RECORD, START, DemoConfig, Fault, RequestRecord
from .numbered import write_stamps
from .replies import tokenize
from .routing import route_for, with_notice
from .vision import with_images
from .wire import (
    NDJSON,
    BadRequest,
    LineWriter,
    chunk_line,
    error_response,
    json_response,
    sleep_until,
)

MID_STREAM_ERROR = "an error was encountered while running the model: unexpected EOF"
MALFORMED_LINE = b'{"model": "demo", "message": {\n'

Line = dict[str, Any] | bytes  # an object LineWriter encodes, or bytes sent as they are


class Framing:
    """How a reply goes on the wire: Ollama's NDJSON lines and objects. Subclassed for
    the OpenAI-compatible API (:class:`.openai_wire.EventFraming`)."""

    content_type = NDJSON
    malformed: bytes = MALFORMED_LINE  # the MALFORMED fault's line in a stream
    malformed_body: bytes = MALFORMED_LINE  # and its stream:false body

    def token(self, gen: Generation, field_name: str, text: str) -> Line:
        return chunk_line(gen.kind, gen.name, field_name, text)

    def done(self, gen: Generation, first_at: float, now: float) -> list[Line]:
        """What ends a stream that went well."""
        return [final_line(gen, first_at, now)]

    def error_line(self, message: str) -> Line:
        """The error sent after the status is already 200."""
        return {"error": message}

    def error(self, message: str, status: int) -> web.Response:
        return error_response(message, status)

    def whole(
        self, gen: Generation, first_at: float, now: float, text: dict[str, str]
    ) -> dict[str, Any]:
        """The stream:false answer; `text` maps "content" and "thinking" to the whole text."""
        return final_line(gen, first_at, now, text["content"], text["thinking"])

    def unfinished(self, whole: dict[str, Any]) -> dict[str, Any]:
        """The NO_DONE fault's stream:false answer: the reply without its ending."""
        keep = ("model", "created_at", "message", "response")
        return {k: v for k, v in whole.items() if k in keep} | {"done": False}


@dataclass
class Generation:
    """One chat/generate request, validated and with its output planned."""

    kind: str  # "chat" or "generate"
    name: str  # the model name as the client sent it (Ollama echoes it back)
    model: CatalogModel
    stream: bool
    pieces: list[tuple[str, str]]  # (field, text): field is "thinking" or "content"
    done_reason: str
    prompt_tokens: list[str]
    started: float  # perf_counter() when the request arrived
    prompt_done: float  # perf_counter() when the prompt had been "evaluated"
    nominal: DemoConfig | None = None  # set: report the planned timings, not measured ones
    framing: Framing = field(default_factory=Framing)


def prompt_text(body: dict[str, Any], kind: str) -> str | None:
    """The text the reply is chosen from, or None when the request only loads the model."""
    if kind == "generate":
        prompt = body.get("prompt") or ""
        if not isinstance(prompt, str):
            raise BadRequest("prompt must be a string")
        return prompt or None
    messages = body.get("messages") or []
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise BadRequest("messages must be a list of objects")
    if not messages:
        return None
    users = [m.get("content") for m in messages if m.get("role") == "user"]
    last = users[-1] if users else ""
    return last if isinstance(last, str) else ""


def first_reply(body: dict[str, Any], kind: str) -> bool:
    """No reply before this one: a chat with no assistant message yet, or a generate
    request without the context of an earlier answer."""
    if kind == "generate":
        context = body.get("context")
        return not (isinstance(context, list) and context)
    return not any(m.get("role") == "assistant" for m in body.get("messages") or [])


def plan(
    request: web.Request,
    kind: str,
    name: str,
    model: CatalogModel,
    body: dict[str, Any],
    think: bool | None,
    prompt: str,
    seen: Sequence[str] = (),
    framing: Framing | None = None,
) -> Generation:
    """`seen`: what a vision model says of the request's images, before its reply."""
    config = request[CONFIG]
    route = route_for(prompt)
    if config.reply is not None:  # a fixed reply (tests, --reply-file) is sent as it is
        reply = config.reply
    else:
        reply = with_notice(route.reply) if first_reply(body, kind) else route.reply
    reply = with_images(seen, reply)
    reasoning = config.thinking if config.thinking is not None else route.thinking
    pieces: list[tuple[str, str]] = []
    if think:
        pieces += [("thinking", t) for t in tokenize(reasoning)]
    elif think is None and "thinking" in model.capabilities:
        # Ollama <= 0.12.4 without "think": the reasoning comes inline, in <think> tags.
        inline = ["<think>", "\n", *tokenize(reasoning), "\n", "</think>", "\n\n"]
        pieces += [("content", t) for t in inline]
    pieces += [("content", t) for t in tokenize(reply)]
    done_reason = "stop"
    options = body.get("options")
    if not isinstance(options, dict):
        options = {}
    limit = options.get("num_predict")
    if isinstance(limit, int) and not isinstance(limit, bool) and 0 <= limit < len(pieces):
        pieces, done_reason = pieces[:limit], "length"
    prompt_tokens = tokenize(prompt)
    return Generation(
        kind=kind,
        name=name,
        model=model,
        stream=body.get("stream", True) is not False and config.fault is not Fault.WHOLE,
        pieces=pieces,
        done_reason=done_reason,
        prompt_tokens=prompt_tokens,
        started=request[START],
        prompt_done=time.perf_counter(),
        nominal=config if config.nominal_stats else None,
        framing=framing or Framing(),
    )


async def stream(request: web.Request, gen: Generation, writer: LineWriter) -> None:
    record, config = request[RECORD], request[CONFIG]
    # Line i goes out at t0 + i * interval; the done line takes the slot after the last.
    t0 = gen.started + config.first_token_delay
    interval = config.token_interval
    fault_at = min(config.fault_after, len(gen.pieces)) if config.fault else None
    first_at = t0
    stamps: list[tuple[float, str]] | None = [] if config.stamp_file else None
    try:
        for i in range(len(gen.pieces) + 1):
            await sleep_until(t0 + i * interval)
            if i == 0:
                first_at = time.perf_counter()  # measured, for load_duration and eval_duration
            if i == fault_at and await _inject(request, gen, writer):
                return
            if i < len(gen.pieces):
                field_name, text = gen.pieces[i]
                await writer.send(gen.framing.token(gen, field_name, text))
                if stamps is not None and field_name == "content":
                    stamps.append((time.perf_counter(), text))  # handed to the socket
    finally:
        if stamps and config.stamp_file:
            write_stamps(config.stamp_file, stamps)
    if config.fault is Fault.NO_DONE:
        record.fault, record.outcome = Fault.NO_DONE, "fault"
        return
    for line in gen.framing.done(gen, first_at, time.perf_counter()):
        await writer.send(line)
    if config.fault is not None:
        record.outcome = "fault"


async def _inject(request: web.Request, gen: Generation, writer: LineWriter) -> bool:
    """Apply the configured mid-stream fault; True when the response must end here."""
    record, fault = request[RECORD], request[CONFIG].fault
    if fault is None or fault in (Fault.NOT_FOUND, Fault.NO_DONE, Fault.RATE_LIMIT):
        return False
    record.fault = fault
    record.outcome = "fault"
    if fault is Fault.ERROR_MID:
        await writer.send(gen.framing.error_line(MID_STREAM_ERROR))
        return True  # aiohttp then ends the chunked body properly
    if fault is Fault.MALFORMED:
        await writer.send(gen.framing.malformed)
        return False
    if fault is Fault.CUT:
        _cut(request)
        return True
    await _stall(record)
    return True


def _cut(request: web.Request) -> None:
    """CUT: close the connection with no terminating chunk, so the body is cut short."""
    if request.transport is not None:
        request.transport.abort()


async def _stall(record: RequestRecord) -> None:
    """STALL: hold the connection open, silent, until the client leaves or we stop."""
    record.outcome = "pending"
    await asyncio.Event().wait()


async def respond_whole(request: web.Request, gen: Generation) -> web.Response:
    """stream:false: generate on the same schedule, then answer with one object."""
    record, config = request[RECORD], request[CONFIG]
    t0 = gen.started + config.first_token_delay
    n = len(gen.pieces)
    fault = config.fault
    fault_at = min(config.fault_after, n)
    if fault in (Fault.ERROR_MID, Fault.CUT, Fault.STALL):
        await sleep_until(t0 + fault_at * config.token_interval)
        record.fault = fault
        record.outcome = "fault"
        if fault is Fault.ERROR_MID:
            return gen.framing.error(MID_STREAM_ERROR, 500)
        if fault is Fault.CUT:
            _cut(request)
            return web.Response(status=500)  # never reaches the client
        await _stall(record)
    await sleep_until(t0 + n * config.token_interval)
    record.first_line_at = time.perf_counter()
    record.lines_sent = 1
    if fault is Fault.MALFORMED:
        record.fault, record.outcome = fault, "fault"
        return web.Response(body=gen.framing.malformed_body, content_type="application/json")
    text = {f: "".join(t for g, t in gen.pieces if g == f) for f in ("content", "thinking")}
    final = gen.framing.whole(gen, t0, time.perf_counter(), text)
    if fault is Fault.NO_DONE:
        record.fault, record.outcome = fault, "fault"
        final = gen.framing.unfinished(final)
    return json_response(final)


def final_line(
    gen: Generation, first_at: float, now: float, content: str = "", thinking: str = ""
) -> dict[str, Any]:
    """The done line (or stream:false object), with stats in nanoseconds measured on
    this server's clock: load = until the first token, eval = first token to done."""
    final = chunk_line(gen.kind, gen.name, "content", content)
    if thinking:
        if gen.kind == "chat":
            final["message"]["thinking"] = thinking
        else:
            final = {k: v for k, v in final.items() if k != "done"} | {"thinking": thinking}
    final["done"] = True
    final["done_reason"] = gen.done_reason
    if gen.kind == "generate":
        tokens = gen.prompt_tokens + [t for _, t in gen.pieces]
        final["context"] = [_token_id(t) for t in tokens]
    if gen.nominal is not None:
        load = gen.nominal.first_token_delay
        first_at = gen.prompt_done + load
        now = first_at + len(gen.pieces) * gen.nominal.token_interval
        gen = dataclasses.replace(gen, started=gen.prompt_done)
    final |= {
        "total_duration": _ns(now - gen.started),
        "load_duration": _ns(first_at - gen.prompt_done),
        "prompt_eval_count": max(1, len(gen.prompt_tokens)),
        "prompt_eval_duration": _ns(gen.prompt_done - gen.started),
        "eval_count": len(gen.pieces),
        "eval_duration": _ns(now - first_at),
    }
    return final


def _ns(seconds: float) -> int:
    return max(1, round(seconds * 1e9))


def _token_id(piece: str) -> int:
    return zlib.crc32(piece.encode("utf-8", "replace")) % 128_000
