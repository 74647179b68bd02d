"""The built-in server, recorded: `DemoRecording(config)` answers each request as
`ollama_tui.demo` would, built with the demo's own pieces (its catalog, planner,
tokenizer and line builders), one NDJSON line per chunk as the paced server sends them,
with a fixed `created_at` and the stats its pacing promises (`nominal_stats`), so the
bytes are the same on every run. Played by `ollama_tui.transports.replay`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from aiohttp import web

from ollama_tui.demo import generation
from ollama_tui.demo.app import VERSION
from ollama_tui.demo.catalog import ModelStore, rfc3339, show_payload
from ollama_tui.demo.config import CONFIG, START, DemoConfig, Fault
from ollama_tui.demo.wire import (
    BadRequest,
    chunk_line,
    go_json,
    model_name,
    parse_body,
    parse_keep_alive,
    parse_think,
)
from ollama_tui.transports.replay import Ending, Recorded

# ---------------------------------------------------------------------------- the demo

CREATED_AT = rfc3339(1_767_000_000.0)
"""Every recorded line's `created_at` (the server writes the wall-clock time there)."""


def _json(obj: object, status: int = 200, reason: str = "OK") -> Recorded:
    return Recorded((go_json(obj),), status, reason)


def _error(message: str, status: int) -> Recorded:
    return _json({"error": message}, status, _REASONS.get(status, ""))


_REASONS = {
    400: "Bad Request",
    404: "Not Found",
    500: "Internal Server Error",
    501: "Not Implemented",
}


def _line(obj: dict[str, Any] | bytes) -> bytes:
    if isinstance(obj, bytes):
        return obj
    return go_json(obj | {"created_at": CREATED_AT}) + b"\n"


class DemoRecording:
    """The built-in server's answers to each request, as `ollama_tui.demo` builds them.

    `config` is the server's (`DemoConfig`): the reply and thinking texts, the pacing the
    stats report, and the faults (a stall, a cut, an error line…) at `fault_after`. The
    catalog is the demo's default one and never changes (no pull, delete or load is
    recorded): `/api/ps` lists nothing, so no answer depends on the wall clock.
    """

    def __init__(self, config: DemoConfig | None = None) -> None:
        self.config = dataclasses.replace(config or DemoConfig(), nominal_stats=True)
        self.store = ModelStore()

    def __call__(self, method: str, path: str, payload: bytes | None) -> Recorded:
        try:
            match method, path:
                case "GET", "/":
                    return Recorded((b"Ollama is running",))
                case "GET", "/api/version":
                    return _json({"version": VERSION})
                case "GET", "/api/tags":
                    return _json({"models": self.store.tags()})
                case "GET", "/api/ps":
                    return _json({"models": self.store.running()})
                case "POST", "/api/show":
                    return self._show(payload)
                case "POST", "/api/chat" | "/api/generate":
                    return self._generation(path.removeprefix("/api/"), payload)
        except BadRequest as exc:
            return _error(str(exc), exc.status)
        return _error(f"the replay has no recording of {method} {path}", 501)

    def _show(self, payload: bytes | None) -> Recorded:
        name = model_name(parse_body(payload or b""))
        model = self.store.find(name)
        if model is None:
            return _error(f"model '{name}' not found", 404)
        return _json(show_payload(model, self.store.modified_at(model)))

    def _generation(self, kind: str, payload: bytes | None) -> Recorded:
        # Validated as `DemoApp._chat_or_generate` validates it.
        config = self.config
        body = parse_body(payload or b"")
        name = model_name(body)
        model = self.store.find(name)
        if config.fault is Fault.NOT_FOUND or model is None:
            raise BadRequest(f'model "{name}" not found, try pulling it first', 404)
        think = parse_think(body.get("think"))
        if think and "thinking" not in model.capabilities:
            raise BadRequest(f'"{name}" does not support thinking')
        keep_alive = parse_keep_alive(body.get("keep_alive"))
        prompt = generation.prompt_text(body, kind)
        if prompt is None:
            reason = "unload" if keep_alive == 0 else "load"
            return _json(_loaded(kind, name, reason))
        # `plan` reads only the config and the arrival time from the request.
        arrival = cast(web.Request, {CONFIG: config, START: 0.0})
        gen = generation.plan(arrival, kind, name, model, body, think, prompt)
        gen = dataclasses.replace(gen, started=0.0, prompt_done=0.0)
        if not gen.stream:
            if config.fault is not None:
                return _error("the replay has no recording of a faulted stream:false reply", 501)
            text = {f: "".join(t for g, t in gen.pieces if g == f) for f in ("content", "thinking")}
            final = generation.final_line(gen, 0.0, 0.0, text["content"], text["thinking"])
            return _json(final | {"created_at": CREATED_AT})
        return self._stream(gen)

    def _stream(self, gen: generation.Generation) -> Recorded:
        """One line per piece, as `generation.stream` sends them, faults included."""
        fault = self.config.fault
        fault_at = min(self.config.fault_after, len(gen.pieces)) if fault else None
        chunks: list[bytes] = []
        for i in range(len(gen.pieces) + 1):
            if i == fault_at:
                match fault:
                    case Fault.ERROR_MID:
                        chunks.append(_line({"error": generation.MID_STREAM_ERROR}))
                        return Recorded(tuple(chunks))
                    case Fault.MALFORMED:
                        chunks.append(_line(generation.MALFORMED_LINE))
                    case Fault.CUT:
                        return Recorded(tuple(chunks), ending=Ending.CUT)
                    case Fault.STALL:
                        return Recorded(tuple(chunks), ending=Ending.STALL)
            if i < len(gen.pieces):
                field_name, text = gen.pieces[i]
                chunks.append(_line(chunk_line(gen.kind, gen.name, field_name, text)))
        if fault is not Fault.NO_DONE:
            chunks.append(_line(generation.final_line(gen, 0.0, 0.0)))
        return Recorded(tuple(chunks))


def _loaded(kind: str, name: str, reason: str) -> dict[str, Any]:
    """The answer to a request with no prompt: the model was loaded (or unloaded)."""
    line = chunk_line(kind, name, "content", "") | {"done": True, "done_reason": reason}
    return line | {"created_at": CREATED_AT}
