"""The OpenAI-compatible API's wire format as the demo server writes it: error bodies,
Server-Sent Events and the chunk and completion objects of ``/v1/chat/completions``.

The shapes are Ollama's ``/v1`` (ollama/ollama at fb30760: openai/openai.go ``Error``,
``NewError``, ``ChatCompletionChunk``, ``FinishChunk``; middleware/openai.go
``ChatWriter.writeResponse``, which frames each chunk as ``data: <json>\\n\\n`` and ends
with ``data: [DONE]\\n\\n``), with two things llama.cpp's llama-server adds and clients
read: reasoning as ``delta.reasoning_content`` (DeepSeek's spelling; Ollama says
``reasoning``) and ``timings`` on the last chunk. :class:`EventFraming` plugs them into
:mod:`.generation`, so /v1 streams the same pieces at the same pace, faults included.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from aiohttp import web

from .generation import Framing, Generation, Line, final_line
from .wire import go_json, json_response

SSE = "text/event-stream"
DONE_EVENT = b"data: [DONE]\n\n"
# The MALFORMED fault: an event whose data is not JSON (cut inside an object), and the
# stream:false body that is not either.
MALFORMED_EVENT = b'data: {"id": "chatcmpl-demo", "choices": [{\n\n'
MALFORMED_BODY = b'{"id": "chatcmpl-demo", "choices": [{\n'

# openai.NewError: the type follows the status; anything else is "api_error".
_ERROR_TYPES = {400: "invalid_request_error", 404: "not_found_error"}


def error_body(
    message: str, status: int, error_type: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """``{"error": {...}}`` as openai.ErrorResponse marshals it: param and code always
    present (Go has no omitempty on them), null unless set."""
    kind = error_type or _ERROR_TYPES.get(status, "api_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def error_response(
    message: str, status: int, error_type: str | None = None, code: str | None = None
) -> web.Response:
    return json_response(error_body(message, status, error_type, code), status)


def event(obj: object) -> bytes:
    """One Server-Sent Event holding one JSON object."""
    return b"data: " + go_json(obj) + b"\n\n"


def usage(stats: dict[str, Any]) -> dict[str, int]:
    """openai.ToUsage: the counts of Ollama's done line."""
    prompt, completion = stats["prompt_eval_count"], stats["eval_count"]
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def timings(stats: dict[str, Any]) -> dict[str, float | int]:
    """llama-server's ``timings`` (milliseconds), from the same figures as the done line."""
    prompt_n, prompt_ms = stats["prompt_eval_count"], stats["prompt_eval_duration"] / 1e6
    predicted_n, predicted_ms = stats["eval_count"], stats["eval_duration"] / 1e6
    return {
        "prompt_n": prompt_n,
        "prompt_ms": prompt_ms,
        "prompt_per_token_ms": prompt_ms / prompt_n if prompt_n else 0.0,
        "prompt_per_second": prompt_n / prompt_ms * 1e3 if prompt_ms else 0.0,
        "predicted_n": predicted_n,
        "predicted_ms": predicted_ms,
        "predicted_per_token_ms": predicted_ms / predicted_n if predicted_n else 0.0,
        "predicted_per_second": predicted_n / predicted_ms * 1e3 if predicted_ms else 0.0,
    }


class EventFraming(Framing):
    """A chat completion as Server-Sent Events, or as one ``chat.completion`` object.

    Every chunk of a stream carries the same id and ``created``, as OpenAI's do, and the
    model name as the client sent it, as Ollama echoes it."""

    content_type = SSE
    malformed = MALFORMED_EVENT
    malformed_body = MALFORMED_BODY

    def __init__(self, model: str, include_usage: bool = False) -> None:
        self.id = f"chatcmpl-{secrets.token_hex(12)}"
        self.created = int(time.time())
        self.model = model
        self.include_usage = include_usage

    def _object(self, kind: str, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": kind,
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }

    def token(self, gen: Generation, field_name: str, text: str) -> Line:
        key = "reasoning_content" if field_name == "thinking" else "content"
        delta = {"role": "assistant", key: text}
        choice = {"index": 0, "delta": delta, "finish_reason": None}
        return event(self._object("chat.completion.chunk", [choice]))

    def done(self, gen: Generation, first_at: float, now: float) -> list[Line]:
        """FinishChunk (an empty delta), the usage chunk when asked (``choices: []``, as
        ChatWriter sends it), then [DONE]."""
        stats = final_line(gen, first_at, now)
        finish = {"index": 0, "delta": {}, "finish_reason": gen.done_reason}
        chunks = [self._object("chat.completion.chunk", [finish])]
        if self.include_usage:
            chunks.append(self._object("chat.completion.chunk", []) | {"usage": usage(stats)})
        # llama-server adds its timings to the last chunk before [DONE].
        chunks[-1]["timings"] = timings(stats)
        return [*(event(chunk) for chunk in chunks), DONE_EVENT]

    def error_line(self, message: str) -> Line:
        # After the 200 the status cannot change: the error comes as an event, in the
        # shape of an error body, with OpenAI's type for a failure while generating.
        return event(error_body(message, 500, "server_error"))

    def error(self, message: str, status: int) -> web.Response:
        return error_response(message, status)

    def whole(
        self, gen: Generation, first_at: float, now: float, text: dict[str, str]
    ) -> dict[str, Any]:
        stats = final_line(gen, first_at, now)
        message = {"role": "assistant", "content": text["content"]}
        if text["thinking"]:
            message["reasoning_content"] = text["thinking"]
        choice = {"index": 0, "message": message, "finish_reason": gen.done_reason}
        completion = self._object("chat.completion", [choice])
        return completion | {"usage": usage(stats), "timings": timings(stats)}

    def unfinished(self, whole: dict[str, Any]) -> dict[str, Any]:
        choices = [choice | {"finish_reason": None} for choice in whole["choices"]]
        keep = {k: v for k, v in whole.items() if k not in ("usage", "timings")}
        return keep | {"choices": choices}
