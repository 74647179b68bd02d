"""A built-in Ollama-compatible HTTP server (aiohttp.web) for tests, ``--demo`` and benchmarks.

It speaks Ollama's wire format (NDJSON streams, one chunk per token, Go-style JSON) and can
inject the failures a streaming client must survive (see :class:`Fault`). :class:`DemoServer`
runs it in a thread of its own; :func:`run_standalone` serves it until SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import math
import re
import signal
import threading
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Any

from aiohttp import web

from .catalog import CatalogModel, ModelStore, rfc3339, show_payload
from .replies import choose_reply, choose_thinking, tokenize

VERSION = "0.12.3"
NDJSON = "application/x-ndjson"
MID_STREAM_ERROR = "an error was encountered while running the model: unexpected EOF"
MALFORMED_LINE = b'{"model": "demo", "message": {\n'
DEFAULT_KEEP_ALIVE = 300.0  # seconds, Ollama's 5m


class Fault(StrEnum):
    """Failures injected into /api/chat and /api/generate."""

    NOT_FOUND = "not-found"
    ERROR_MID = "error-mid"
    CUT = "cut"
    STALL = "stall"
    MALFORMED = "malformed"
    NO_DONE = "no-done"


@dataclass(frozen=True)
class DemoConfig:
    """How the server answers; read once per request, so changes apply to the next one."""

    token_rate: float = 40.0  # tokens per second; 0 or inf = as fast as possible
    first_token_delay: float = 0.0  # seconds from request to first line (simulated load)
    reply: str | None = None  # fixed reply text instead of the built-ins
    fault: Fault | None = None
    fault_after: int = 5  # token lines sent before the fault
    pull_duration: float = 2.0  # seconds a successful pull takes
    thinking: str | None = None  # fixed reasoning text instead of the built-ins
    # Report the stats the pacing promises instead of measuring them: deterministic
    # figures for snapshot tests and screenshots.
    nominal_stats: bool = False

    def __post_init__(self) -> None:
        if self.fault is not None:  # accept plain strings such as "cut" from a CLI
            object.__setattr__(self, "fault", Fault(self.fault))
        if self.token_rate < 0 or self.first_token_delay < 0 or self.pull_duration < 0:
            raise ValueError("token_rate, first_token_delay and pull_duration must be >= 0")
        if self.fault_after < 0:
            raise ValueError("fault_after must be >= 0")

    @property
    def token_interval(self) -> float:
        return 0.0 if self.token_rate == 0 or math.isinf(self.token_rate) else 1 / self.token_rate


@dataclass
class RequestRecord:
    """What the server saw and did for one request (times are ``time.perf_counter()``)."""

    method: str
    path: str
    body: bytes
    headers: dict[str, str]
    received_at: float
    first_line_at: float | None = None
    lines_sent: int = 0
    # "pending" while running, then "completed", "disconnected", "fault", "error" or
    # "stopped" (cancelled by DemoServer.stop() / reset()).
    outcome: str = "pending"
    ended_at: float | None = None
    finished: threading.Event = field(default_factory=threading.Event)
    status: int | None = None  # HTTP status sent, when a response was started
    fault: Fault | None = None  # the fault injected into this response, if one was
    peer: tuple[str, int] | None = None  # the client's address: same peer = same pooled connection


# ---------------------------------------------------------------------------- wire helpers

_GO_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def go_json(obj: object) -> bytes:
    """JSON as Go's encoding/json writes it: compact, raw UTF-8, ``<>&`` escaped."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    # '<', '>' and '&' can only occur inside JSON strings, so escaping them is always valid.
    return text.translate(_GO_ESCAPES).encode("utf-8", "replace")


def json_response(obj: object, status: int = 200) -> web.Response:
    return web.Response(
        body=go_json(obj), status=status, content_type="application/json", charset="utf-8"
    )


def error_response(message: str, status: int) -> web.Response:
    return json_response({"error": message}, status)


class BadRequest(Exception):
    """A request Ollama would refuse; carries the status and the error text."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class ClientGone(Exception):
    """A write failed because the client closed the connection."""


def parse_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise BadRequest("missing request body")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"invalid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise BadRequest(f"json: cannot unmarshal {type(body).__name__} into a request object")
    return body


def model_name(body: dict[str, Any]) -> str:
    name = body.get("model") or body.get("name")  # Ollama still accepts the old "name"
    if not name:
        raise BadRequest("model is required")
    if not isinstance(name, str):
        raise BadRequest("model must be a string")
    return name


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def parse_keep_alive(value: object) -> float:
    """keep_alive as Ollama reads it: a number of seconds or a Go duration ("5m", "1h30m")."""
    if value is None:
        return DEFAULT_KEEP_ALIVE
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        sign = -1.0 if text.startswith("-") else 1.0
        text = text.lstrip("+-")
        if text == "0":
            return 0.0
        parts = _DURATION_PART.findall(text)
        if parts and "".join(n + u for n, u in parts) == text:
            return sign * sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    raise BadRequest(f"time: invalid duration {json.dumps(value)}")


def parse_think(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if value in ("low", "medium", "high"):
        return True
    raise BadRequest(
        f"invalid think value: {json.dumps(value)} "
        '(must be "high", "medium", "low", true, or false)'
    )


def _ns(seconds: float) -> int:
    return max(1, round(seconds * 1e9))


def _token_id(piece: str) -> int:
    return zlib.crc32(piece.encode("utf-8", "replace")) % 128_000


async def sleep_until(deadline: float) -> None:
    """Sleep until an absolute perf_counter() time, so pacing never drifts.

    Always yields once, so a fast stream does not starve other requests. The loop guards
    against waking early where the loop's clock is coarse (Windows: ~16 ms)."""
    await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
    while (remaining := deadline - time.perf_counter()) > 0:
        await asyncio.sleep(remaining)


# ------------------------------------------------------------------------ the application


class LineWriter:
    """Writes NDJSON lines, one chunk per line, starting the response on the first line."""

    def __init__(self, request: web.Request, record: RequestRecord) -> None:
        self.request = request
        self.record = record
        self.response = web.StreamResponse(status=200)
        self.response.content_type = NDJSON
        self.response.enable_chunked_encoding()

    async def send(self, line: dict[str, Any] | bytes) -> None:
        data = line if isinstance(line, bytes) else go_json(line) + b"\n"
        try:
            # Headers go out with the first line, as in Ollama (model load happens first).
            if not self.response.prepared:
                self.record.status = 200
                await self.response.prepare(self.request)
            if self.record.first_line_at is None:
                self.record.first_line_at = time.perf_counter()
            await self.response.write(data)
        except ConnectionError as exc:  # includes aiohttp's ClientConnectionResetError
            raise ClientGone from exc
        self.record.lines_sent += 1


@dataclass
class _Generation:
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


_RECORD = web.RequestKey("record", RequestRecord)
_CONFIG = web.RequestKey("config", DemoConfig)
_START = web.RequestKey("start", float)


class DemoApp:
    """Handlers and state of one demo server; all methods run on its event loop."""

    def __init__(
        self,
        get_config: Callable[[], DemoConfig],
        on_record: Callable[[RequestRecord], None] | None = None,
    ) -> None:
        self.get_config = get_config
        self.on_record = on_record
        self.store = ModelStore()
        self._active: dict[asyncio.Task[Any], RequestRecord] = {}
        self._cancel_reason: dict[asyncio.Task[Any], str] = {}

    def build(self) -> web.Application:
        app = web.Application(middlewares=[self._track])
        app.router.add_get("/", self.root)  # also answers HEAD
        app.router.add_get("/api/version", self.version)
        app.router.add_get("/api/tags", self.tags)
        app.router.add_get("/api/ps", self.ps)
        app.router.add_post("/api/show", self.show)
        app.router.add_post("/api/chat", self.chat)
        app.router.add_post("/api/generate", self.generate)
        app.router.add_post("/api/pull", self.pull)
        app.router.add_delete("/api/delete", self.delete)
        return app

    async def cancel_active(self, reason: str, timeout: float = 2.0) -> None:
        """Cancel every running handler (server stop or reset) and wait for them briefly."""
        tasks = [t for t in self._active if t is not asyncio.current_task()]
        for task in tasks:
            self._cancel_reason[task] = reason
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    @web.middleware
    async def _track(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        record = RequestRecord(
            method=request.method,
            path=request.path,
            body=b"",
            headers=dict(request.headers),
            received_at=time.perf_counter(),
            peer=request.transport.get_extra_info("peername") if request.transport else None,
        )
        request[_RECORD] = record
        request[_CONFIG] = self.get_config()
        request[_START] = record.received_at  # pacing and stats use perf_counter() too
        task = asyncio.current_task()
        assert task is not None
        self._active[task] = record
        if self.on_record is not None:
            self.on_record(record)
        try:
            record.body = await request.read()
            response = await handler(request)
            if record.status is None and record.fault is not Fault.CUT:
                record.status = response.status
            if record.outcome == "pending":
                record.outcome = "completed" if response.status < 400 else "error"
            return response
        except web.HTTPException as exc:  # e.g. 405 from the router
            record.status = exc.status
            record.outcome = "error"
            raise
        except asyncio.CancelledError:
            # handler_cancellation: the client went away, or stop()/reset() cancelled us.
            if record.outcome == "pending":
                record.outcome = self._cancel_reason.get(task, "disconnected")
            raise
        except ConnectionError:
            record.outcome = "disconnected"
            raise
        finally:
            self._active.pop(task, None)
            self._cancel_reason.pop(task, None)
            record.ended_at = time.perf_counter()
            record.finished.set()

    # ----------------------------------------------------------------- simple endpoints

    async def root(self, request: web.Request) -> web.Response:
        return web.Response(text="Ollama is running")

    async def version(self, request: web.Request) -> web.Response:
        return json_response({"version": VERSION})

    async def tags(self, request: web.Request) -> web.Response:
        return json_response({"models": self.store.tags()})

    async def ps(self, request: web.Request) -> web.Response:
        return json_response({"models": self.store.running()})

    async def show(self, request: web.Request) -> web.Response:
        try:
            name = model_name(parse_body(request[_RECORD].body))
        except BadRequest as exc:
            return error_response(str(exc), exc.status)
        model = self.store.find(name)
        if model is None:
            return error_response(f"model '{name}' not found", 404)
        return json_response(show_payload(model, self.store.modified_at(model)))

    async def delete(self, request: web.Request) -> web.Response:
        try:
            name = model_name(parse_body(request[_RECORD].body))
        except BadRequest as exc:
            return error_response(str(exc), exc.status)
        if not self.store.delete(name):
            return error_response(f"model '{name}' not found", 404)
        return web.Response(status=200)

    # ------------------------------------------------------------------------- pull

    async def pull(self, request: web.Request) -> web.StreamResponse:
        record, config = request[_RECORD], request[_CONFIG]
        try:
            body = parse_body(record.body)
            name = model_name(body)
        except BadRequest as exc:
            return error_response(str(exc), exc.status)
        model = self.store.pullable(name)
        if not body.get("stream", True):
            if model is None:
                return error_response("pull model manifest: file does not exist", 500)
            await sleep_until(request[_START] + config.pull_duration)
            self.store.add(model)
            return json_response({"status": "success"})
        writer = LineWriter(request, record)
        try:
            await writer.send({"status": "pulling manifest"})
            if model is None:
                # Like Ollama: the status is already 200, so the error comes as a line.
                await writer.send({"error": "pull model manifest: file does not exist"})
                record.outcome = "error"
                return writer.response
            steps = _pull_progress(model)
            for i, step in enumerate(steps, start=1):
                await sleep_until(request[_START] + config.pull_duration * i / len(steps))
                await writer.send(step)
            await writer.send({"status": "verifying sha256 digest"})
            await writer.send({"status": "writing manifest"})
            self.store.add(model)
            await writer.send({"status": "success"})
        except ClientGone:
            record.outcome = "disconnected"
        return writer.response

    # ---------------------------------------------------------------- chat / generate

    async def chat(self, request: web.Request) -> web.StreamResponse:
        return await self._generation(request, "chat")

    async def generate(self, request: web.Request) -> web.StreamResponse:
        return await self._generation(request, "generate")

    async def _generation(self, request: web.Request, kind: str) -> web.StreamResponse:
        record, config = request[_RECORD], request[_CONFIG]
        try:
            body = parse_body(record.body)
            name = model_name(body)
            if config.fault is Fault.NOT_FOUND:
                record.fault, record.outcome = Fault.NOT_FOUND, "fault"
                raise BadRequest(f'model "{name}" not found, try pulling it first', 404)
            model = self.store.find(name)
            if model is None:
                raise BadRequest(f'model "{name}" not found, try pulling it first', 404)
            think = parse_think(body.get("think"))
            if think and "thinking" not in model.capabilities:
                raise BadRequest(f'"{name}" does not support thinking')
            keep_alive = parse_keep_alive(body.get("keep_alive"))
            prompt = _prompt_text(body, kind)
        except BadRequest as exc:
            return error_response(str(exc), exc.status)

        self.store.keep_loaded(model, keep_alive)
        if prompt is None:  # empty messages / prompt: Ollama just loads (or unloads) the model
            return json_response(
                _chunk(kind, name, "content", "")
                | {"done": True, "done_reason": "unload" if keep_alive == 0 else "load"}
            )
        gen = self._plan(request, kind, name, model, body, think, prompt)
        if not gen.stream:
            return await self._respond_whole(request, gen)
        writer = LineWriter(request, record)
        try:
            await self._stream(request, gen, writer)
        except ClientGone:
            record.outcome = "disconnected"
        return writer.response

    def _plan(
        self,
        request: web.Request,
        kind: str,
        name: str,
        model: CatalogModel,
        body: dict[str, Any],
        think: bool | None,
        prompt: str,
    ) -> _Generation:
        config = request[_CONFIG]
        reply = config.reply if config.reply is not None else choose_reply(prompt)
        reasoning = config.thinking if config.thinking is not None else choose_thinking(prompt)
        pieces: list[tuple[str, str]] = []
        if think:
            pieces += [("thinking", t) for t in tokenize(reasoning)]
        elif think is None and "thinking" in model.capabilities:
            # Ollama <= 0.12.4 without "think": the reasoning comes inline, in <think> tags.
            inline = ["<think>", "\n", *tokenize(reasoning), "\n", "</think>", "\n\n"]
            pieces += [("content", t) for t in inline]
        pieces += [("content", t) for t in tokenize(reply)]
        done_reason = "stop"
        options = body.get("options") if isinstance(body.get("options"), dict) else {}
        limit = options.get("num_predict")
        if isinstance(limit, int) and not isinstance(limit, bool) and 0 <= limit < len(pieces):
            pieces, done_reason = pieces[:limit], "length"
        prompt_tokens = tokenize(prompt)
        return _Generation(
            kind=kind,
            name=name,
            model=model,
            stream=body.get("stream", True) is not False,
            pieces=pieces,
            done_reason=done_reason,
            prompt_tokens=prompt_tokens,
            started=request[_START],
            prompt_done=time.perf_counter(),
            nominal=config if config.nominal_stats else None,
        )

    async def _stream(self, request: web.Request, gen: _Generation, writer: LineWriter) -> None:
        record, config = request[_RECORD], request[_CONFIG]
        # Line i goes out at t0 + i * interval; the done line takes the slot after the last.
        t0 = gen.started + config.first_token_delay
        interval = config.token_interval
        fault_at = min(config.fault_after, len(gen.pieces)) if config.fault else None
        first_at = t0
        for i in range(len(gen.pieces) + 1):
            await sleep_until(t0 + i * interval)
            if i == 0:
                first_at = time.perf_counter()  # measured, for load_duration and eval_duration
            if i == fault_at and await self._inject(request, writer):
                return
            if i < len(gen.pieces):
                field_name, text = gen.pieces[i]
                await writer.send(_chunk(gen.kind, gen.name, field_name, text))
        if config.fault is Fault.NO_DONE:
            record.fault, record.outcome = Fault.NO_DONE, "fault"
            return
        await writer.send(self._final(gen, first_at, time.perf_counter()))
        if config.fault is not None:
            record.outcome = "fault"

    async def _inject(self, request: web.Request, writer: LineWriter) -> bool:
        """Apply the configured mid-stream fault; True when the response must end here."""
        record, fault = request[_RECORD], request[_CONFIG].fault
        if fault is None or fault in (Fault.NOT_FOUND, Fault.NO_DONE):
            return False
        record.fault = fault
        record.outcome = "fault"
        if fault is Fault.ERROR_MID:
            await writer.send({"error": MID_STREAM_ERROR})
            return True  # aiohttp then ends the chunked body properly
        if fault is Fault.MALFORMED:
            await writer.send(MALFORMED_LINE)
            return False
        if fault is Fault.CUT:
            if request.transport is not None:
                request.transport.abort()  # no terminating chunk: the body is cut short
            return True
        # STALL: hold the connection open, silent, until the client leaves or we stop.
        record.outcome = "pending"
        await asyncio.Event().wait()
        return True

    async def _respond_whole(self, request: web.Request, gen: _Generation) -> web.Response:
        """stream:false: generate on the same schedule, then answer with one object."""
        record, config = request[_RECORD], request[_CONFIG]
        t0 = gen.started + config.first_token_delay
        n = len(gen.pieces)
        fault = config.fault
        fault_at = min(config.fault_after, n)
        if fault in (Fault.ERROR_MID, Fault.CUT, Fault.STALL):
            await sleep_until(t0 + fault_at * config.token_interval)
            record.fault = fault
            record.outcome = "fault"
            if fault is Fault.ERROR_MID:
                return error_response(MID_STREAM_ERROR, 500)
            if fault is Fault.CUT:
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=500)  # never reaches the client
            record.outcome = "pending"
            await asyncio.Event().wait()
        await sleep_until(t0 + n * config.token_interval)
        record.first_line_at = time.perf_counter()
        record.lines_sent = 1
        if fault is Fault.MALFORMED:
            record.fault, record.outcome = fault, "fault"
            return web.Response(body=MALFORMED_LINE, content_type="application/json")
        text = {f: "".join(t for g, t in gen.pieces if g == f) for f in ("content", "thinking")}
        final = self._final(gen, t0, time.perf_counter(), text["content"], text["thinking"])
        if fault is Fault.NO_DONE:
            record.fault, record.outcome = fault, "fault"
            keep = ("model", "created_at", "message", "response")
            final = {k: v for k, v in final.items() if k in keep} | {"done": False}
        return json_response(final)

    def _final(
        self, gen: _Generation, first_at: float, now: float, content: str = "", thinking: str = ""
    ) -> dict[str, Any]:
        """The done line (or stream:false object), with stats in nanoseconds measured on
        this server's clock: load = until the first token, eval = first token to done."""
        final = _chunk(gen.kind, gen.name, "content", content)
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


def _prompt_text(body: dict[str, Any], kind: str) -> str | None:
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


def _chunk(kind: str, name: str, field_name: str, text: str) -> dict[str, Any]:
    """One streamed object: a token of the reply ("content") or of the reasoning."""
    created_at = rfc3339(time.time())
    if kind == "chat":
        message = {"role": "assistant", "content": ""}
        message[field_name] = text
        return {"model": name, "created_at": created_at, "message": message, "done": False}
    chunk: dict[str, Any] = {"model": name, "created_at": created_at, "response": ""}
    if field_name == "thinking":
        chunk["thinking"] = text
    else:
        chunk["response"] = text
    chunk["done"] = False
    return chunk


def _pull_progress(model: CatalogModel) -> list[dict[str, Any]]:
    """Per-layer progress lines: a first line without "completed" (Go omits a zero), then
    updates; the weights blob gets several, the small blobs one each."""
    steps: list[dict[str, Any]] = []
    for digest, total in model.layers():
        base = {"status": f"pulling {digest[:12]}", "digest": f"sha256:{digest}", "total": total}
        steps.append(dict(base))
        parts = 8 if total > 1_000_000 else 1
        steps += [base | {"completed": total * k // parts} for k in range(1, parts + 1)]
    return steps


# ------------------------------------------------------------------------ running it


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def _start_site(app: DemoApp, host: str, port: int) -> tuple[web.AppRunner, int]:
    # handler_cancellation: a client disconnect cancels its handler, even while it sleeps.
    runner = web.AppRunner(
        app.build(), handler_cancellation=True, access_log=None, shutdown_timeout=1.0
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, runner.addresses[0][1]


class DemoServer:
    """The demo server on a thread with its own event loop, for tests and the TUI's --demo."""

    def __init__(
        self,
        config: DemoConfig = DemoConfig(),
        host: str = "127.0.0.1",
        port: int = 0,
        keep_log: bool = True,
    ) -> None:
        """`keep_log`: record every request in `log` (tests); off for `--demo`, where a long
        chat would keep every request body in memory."""
        self.config = config
        self.keep_log = keep_log
        self.host = host
        self.port = port
        self.url = ""
        self.log: list[RequestRecord] = []
        self._initial_config = config
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._app: DemoApp | None = None
        self._runner: web.AppRunner | None = None

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> DemoServer:
        """Start serving on a background thread; returns once the socket is listening."""
        if self._thread is not None:
            raise RuntimeError("DemoServer already started")
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, failure), name="ollama-tui-demo-server", daemon=True
        )
        self._thread.start()
        if not ready.wait(10):
            raise TimeoutError("demo server did not start within 10 s")
        if failure:
            self._thread.join(5)
            self._thread = None
            raise failure[0]
        return self

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            self._app = DemoApp(lambda: self.config, self._append if self.keep_log else None)
            self._runner, self.port = loop.run_until_complete(
                _start_site(self._app, self.host, self.port)
            )
        except BaseException as exc:  # handed to start(), which re-raises it
            failure.append(exc)
            ready.set()
            loop.close()
            return
        self.url = _url(self.host, self.port)
        self._loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    def _call(self, factory: Callable[[], Awaitable[None]], timeout: float = 5.0) -> None:
        """Run a coroutine on the server's loop from another thread and wait for it."""
        if self._loop is None or not self._loop.is_running():
            return

        async def wrapper() -> None:
            await factory()

        asyncio.run_coroutine_threadsafe(wrapper(), self._loop).result(timeout)

    def stop(self) -> None:
        """Close open streams and listeners, then join the thread (bounded)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            assert self._app is not None and self._runner is not None
            await self._app.cancel_active("stopped")
            await self._runner.cleanup()

        try:
            self._call(shutdown)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            self._loop = self._thread = None

    def configure(self, **changes: Any) -> None:
        """Change the config for the following requests (a TypeError for unknown fields)."""
        with self._cond:
            self.config = dataclasses.replace(self.config, **changes)

    def reset(self) -> None:
        """Back to the constructor's config and the default models; cancel running
        requests (outcome "stopped") and clear the log."""
        with self._cond:
            self.config = self._initial_config

        async def reset_app() -> None:
            assert self._app is not None
            await self._app.cancel_active("stopped")
            self._app.store.reset()

        self._call(reset_app)
        with self._cond:
            self.log.clear()

    def _append(self, record: RequestRecord) -> None:
        with self._cond:
            self.log.append(record)
            self._cond.notify_all()

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RequestRecord]:
        """Block until at least n requests have arrived; returns a copy of the log."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.log) >= n, timeout):
                raise TimeoutError(f"{len(self.log)} of {n} requests arrived within {timeout} s")
            return list(self.log)


async def _serve_until_signalled(host: str, port: int, config: DemoConfig) -> None:
    app = DemoApp(lambda: config)  # no request log: it would grow without bound
    runner, real_port = await _start_site(app, host, port)
    print(f"ollama-tui demo server listening on {_url(host, real_port)}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not available on Windows; Ctrl+C then arrives as KeyboardInterrupt instead.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await app.cancel_active("stopped")
        await runner.cleanup()


def run_standalone(host: str, port: int, config: DemoConfig) -> None:
    """Serve until SIGINT/SIGTERM, after printing the one line with the real URL."""
    # Only where signal handlers are unavailable: Ctrl+C is the normal way to stop.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_until_signalled(host, port, config))
