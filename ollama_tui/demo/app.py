"""The demo server's aiohttp application: :class:`DemoApp`, its routes and its handlers.

A middleware records every request (:class:`~.config.RequestRecord`) and reads the config
once for it; handlers answer as Ollama does, errors included. Chat and generate are
validated here, then planned, paced and faulted in :mod:`.generation`; the OpenAI-compatible
routes under /v1 are :mod:`.openai`'s. Running the app (thread, signals) is :mod:`.server`'s
job.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from . import generation, openai, vision
from .catalog import ModelStore, show_payload
from .config import CONFIG, RECORD, START, DemoConfig, Fault, RequestRecord
from .wire import (
    BadRequest,
    ClientGone,
    LineWriter,
    bearer_token,
    chunk_line,
    error_response,
    json_response,
    model_name,
    parse_body,
    parse_keep_alive,
    parse_think,
    pull_progress,
    sleep_until,
)

VERSION = "0.12.3"
# Ollama reads request bodies whole, with no limit; aiohttp's default (1 MiB) would refuse
# a photo, whose base64 alone is a third larger. A 20 MB image is ~27 MB of JSON.
MAX_BODY = 256 * 1024 * 1024
RATE_LIMITED = "too many requests, please try again in 1s"
REDACTED = "[redacted]"  # what the request log keeps of an Authorization header


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
        app = web.Application(middlewares=[self._track], client_max_size=MAX_BODY)
        app.router.add_get("/", self.root)  # also answers HEAD
        app.router.add_get("/api/version", self.version)
        app.router.add_get("/api/tags", self.tags)
        app.router.add_get("/api/ps", self.ps)
        app.router.add_post("/api/show", self.show)
        app.router.add_post("/api/chat", self.chat)
        app.router.add_post("/api/generate", self.generate)
        app.router.add_post("/api/pull", self.pull)
        app.router.add_delete("/api/delete", self.delete)
        app.router.add_get("/v1/models", self.v1_models)
        app.router.add_post("/v1/chat/completions", self.v1_chat)
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
        config = self.get_config()
        headers = dict(request.headers)
        authorization = request.headers.get("Authorization")
        if authorization is not None:
            headers["Authorization"] = REDACTED  # a log must never hold a key
        record = RequestRecord(
            method=request.method,
            path=request.path,
            body=b"",
            headers=headers,
            received_at=time.perf_counter(),
            peer=request.transport.get_extra_info("peername") if request.transport else None,
            api_key_sent=authorization is not None,
            api_key_matched=_key_matches(config.api_key, bearer_token(authorization)),
        )
        request[RECORD] = record
        request[CONFIG] = config
        request[START] = record.received_at  # pacing and stats use perf_counter() too
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
            name = model_name(parse_body(request[RECORD].body))
        except BadRequest as exc:
            return error_response(str(exc), exc.status)
        model = self.store.find(name)
        if model is None:
            return error_response(f"model '{name}' not found", 404)
        return json_response(show_payload(model, self.store.modified_at(model)))

    async def delete(self, request: web.Request) -> web.Response:
        try:
            name = model_name(parse_body(request[RECORD].body))
        except BadRequest as exc:
            return error_response(str(exc), exc.status)
        if not self.store.delete(name):
            return error_response(f"model '{name}' not found", 404)
        return web.Response(status=200)

    # ----------------------------------------------------------- OpenAI-compatible /v1

    async def v1_models(self, request: web.Request) -> web.Response:
        return openai.models(request, self.store)

    async def v1_chat(self, request: web.Request) -> web.StreamResponse:
        return await openai.chat_completions(request, self.store)

    # ------------------------------------------------------------------------- pull

    async def pull(self, request: web.Request) -> web.StreamResponse:
        record, config = request[RECORD], request[CONFIG]
        try:
            body = parse_body(record.body)
            name = model_name(body)
        except BadRequest as exc:
            return error_response(str(exc), exc.status)
        model = self.store.pullable(name)
        if not body.get("stream", True):
            if model is None:
                return error_response("pull model manifest: file does not exist", 500)
            await sleep_until(request[START] + config.pull_duration)
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
            steps = pull_progress(model)
            for i, step in enumerate(steps, start=1):
                await sleep_until(request[START] + config.pull_duration * i / len(steps))
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
        return await self._chat_or_generate(request, "chat")

    async def generate(self, request: web.Request) -> web.StreamResponse:
        return await self._chat_or_generate(request, "generate")

    async def _chat_or_generate(self, request: web.Request, kind: str) -> web.StreamResponse:
        record, config = request[RECORD], request[CONFIG]
        if config.fault is Fault.RATE_LIMIT:
            record.fault, record.outcome = Fault.RATE_LIMIT, "fault"
            response = error_response(RATE_LIMITED, 429)
            response.headers["Retry-After"] = "1"
            return response
        try:
            body = parse_body(record.body)
            # Go decodes the images with the JSON, so bad base64 is refused before all else.
            images = vision.request_images(body, kind)
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
            prompt = generation.prompt_text(body, kind)
        except BadRequest as exc:
            return error_response(str(exc), exc.status)

        self.store.keep_loaded(model, keep_alive)
        if prompt is None:  # empty messages / prompt: Ollama just loads (or unloads) the model
            return json_response(
                chunk_line(kind, name, "content", "")
                | {"done": True, "done_reason": "unload" if keep_alive == 0 else "load"}
            )
        try:
            # Decoding a large image takes a while: other streams keep their pace meanwhile.
            seen = await asyncio.to_thread(vision.see, model, images) if images else []
        except BadRequest as exc:  # the runner's failure, before the first line
            return error_response(str(exc), exc.status)
        gen = generation.plan(request, kind, name, model, body, think, prompt, seen)
        if not gen.stream:
            return await generation.respond_whole(request, gen)
        writer = LineWriter(request, record, gen.framing.content_type)
        try:
            await generation.stream(request, gen, writer)
        except ClientGone:
            record.outcome = "disconnected"
        return writer.response


def _key_matches(wanted: str | None, sent: str | None) -> bool | None:
    if wanted is None:
        return None
    return sent is not None and hmac.compare_digest(sent.encode(), wanted.encode())
