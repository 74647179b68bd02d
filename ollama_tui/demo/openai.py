"""The OpenAI-compatible routes under /v1, as Ollama, llama.cpp's llama-server, vLLM and
LM Studio serve them: ``POST /v1/chat/completions`` and ``GET /v1/models``.

A chat completion is read the way Ollama's /v1 reads it (ollama/ollama at fb30760:
middleware/openai.go ``ChatMiddleware``, openai/openai.go ``FromChatRequest`` and
``decodeImageURL``; their error texts are copied), turned into the native request, and
answered by :mod:`.generation` with the same text, pacing and faults as /api/chat, framed
by :mod:`.openai_wire`. Thinking models always reason apart from the reply, as llama-server
does, unless ``reasoning_effort`` is "none".

With ``DemoConfig.api_key`` set, every /v1 request needs ``Authorization: Bearer <key>``
(401 otherwise, in OpenAI's words); Ollama's own routes never do.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from . import generation, vision
from .catalog import ModelStore
from .config import CONFIG, RECORD, Fault
from .openai_wire import EventFraming, error_response
from .vision import SentImages, type_error
from .wire import (
    DEFAULT_KEEP_ALIVE,
    BadRequest,
    ClientGone,
    LineWriter,
    json_response,
    model_name,
    parse_body,
)

# Ollama's texts (middleware/openai.go ChatMiddleware; openai/openai.go FromChatRequest,
# decodeImageURL).
NO_MESSAGES = "[] is too short - 'messages'"
BAD_MESSAGE = "invalid message format"
BAD_IMAGE = "invalid image input"
IMAGE_URL = "image URLs are not currently supported, please use base64 encoded data instead"
_IMAGE_PREFIXES = tuple(f"data:image/{t};base64," for t in ("jpeg", "jpg", "png", "webp"))
_BLANK_MIME = "data:;base64,"  # Ollama takes it, as /api/chat takes bare base64

# OpenAI's texts for a missing or wrong key and for a rate limit.
NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
)
WRONG_KEY = "Incorrect API key provided. You can find your API key where the server was started."
RATE_LIMITED = "Rate limit reached for requests. Please try again in 1s."

_REQUEST = "ChatCompletionRequest"
_GO_TYPES = {bool: "bool", int: "float64", float: "float64", dict: "map[string]interface {}"}


# ------------------------------------------------------------------------------ routes


def models(request: web.Request, store: ModelStore) -> web.Response:
    """openai.ToListCompletion: id = name, created = modified_at, owned_by = namespace."""
    if (refused := _unauthorized(request)) is not None:
        return refused
    data = [
        {"id": model.name, "object": "model", "created": int(modified), "owned_by": "library"}
        for model, modified in store.installed()
    ]
    return json_response({"object": "list", "data": data})


async def chat_completions(request: web.Request, store: ModelStore) -> web.StreamResponse:
    record, config = request[RECORD], request[CONFIG]
    if (refused := _unauthorized(request)) is not None:
        return refused
    if config.fault is Fault.RATE_LIMIT:  # as a hosted server's gateway: before the body
        record.fault, record.outcome = Fault.RATE_LIMIT, "fault"
        response = error_response(RATE_LIMITED, 429, "requests", "rate_limit_exceeded")
        response.headers["Retry-After"] = "1"
        return response
    try:
        body = parse_body(record.body)
        _check_fields(body)
        native, images = native_request(body)
        name = model_name(body)
        if config.fault is Fault.NOT_FOUND:
            record.fault, record.outcome = Fault.NOT_FOUND, "fault"
            raise BadRequest(f'model "{name}" not found, try pulling it first', 404)
        model = store.find(name)
        if model is None:
            raise BadRequest(f'model "{name}" not found, try pulling it first', 404)
        prompt = generation.prompt_text(native, "chat")
        assert prompt is not None  # native_request refused an empty list of messages
    except BadRequest as exc:
        return error_response(str(exc), exc.status)

    store.keep_loaded(model, DEFAULT_KEEP_ALIVE)
    try:
        seen = await asyncio.to_thread(vision.see, model, images) if images else []
    except BadRequest as exc:  # the runner's 500, before the first event
        return error_response(str(exc), exc.status)
    think = None
    if "thinking" in model.capabilities:
        think = body.get("reasoning_effort") != "none"
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    framing = EventFraming(name, include_usage)
    gen = generation.plan(request, "chat", name, model, native, think, prompt, seen, framing)
    if not gen.stream:
        return await generation.respond_whole(request, gen)
    writer = LineWriter(request, record, framing.content_type)
    try:
        await generation.stream(request, gen, writer)
    except ClientGone:
        record.outcome = "disconnected"
    return writer.response


def _unauthorized(request: web.Request) -> web.Response | None:
    """401 when a key is configured and this request did not bring it."""
    record, config = request[RECORD], request[CONFIG]
    if config.api_key is None or record.api_key_matched:
        return None
    message = WRONG_KEY if record.api_key_sent else NO_KEY
    return error_response(message, 401, "invalid_request_error", "invalid_api_key")


# ------------------------------------------------------------------- reading a request


def _check_fields(body: dict[str, Any]) -> None:
    """The fields Go would fail to unmarshal into ChatCompletionRequest (the others are
    accepted and, like temperature and seed, have no effect on a canned reply)."""
    expected: dict[str, tuple[tuple[type, ...], str]] = {
        "stream": ((bool,), "bool"),
        "stream_options": ((dict,), "openai.StreamOptions"),
        "max_tokens": ((int,), "int"),
        "max_completion_tokens": ((int,), "int"),
        "seed": ((int,), "int"),
        "temperature": ((int, float), "float64"),
        "top_p": ((int, float), "float64"),
        "reasoning_effort": ((str,), "string"),
        "messages": ((list,), "[]openai.Message"),
    }
    for key, (types, go_type) in expected.items():
        value = body.get(key)
        wrong = value is not None and (
            not isinstance(value, types) or (isinstance(value, bool) and bool not in types)
        )
        if wrong:
            raise BadRequest(type_error(value, f"{_REQUEST}.{key}", go_type))
    stop = body.get("stop")
    strings = isinstance(stop, list) and all(isinstance(s, str) for s in stop)
    if stop is not None and not isinstance(stop, str) and not strings:
        raise BadRequest(f"invalid type for 'stop' field: {_go_type(stop)}")


def native_request(body: dict[str, Any]) -> tuple[dict[str, Any], SentImages]:
    """The /api/chat request this one amounts to, and its images decoded.

    Unlike Ollama, which makes a message of each part, a message's parts stay one message
    (its texts joined by line breaks, its images with it), so the demo answers the last
    user message's text and describes that message's images, as on /api/chat."""
    messages = body.get("messages")
    if not messages:
        raise BadRequest(NO_MESSAGES)
    converted: list[dict[str, Any]] = []
    images: list[tuple[bytes, ...]] = []
    for message in messages:
        if not isinstance(message, dict):
            raise BadRequest(type_error(message, f"{_REQUEST}.messages", "openai.Message"))
        text, pictures = _content(message.get("content"), bool(message.get("tool_calls")))
        converted.append({"role": message.get("role"), "content": text})
        images.append(pictures)
    users = [i for i, m in enumerate(converted) if m["role"] == "user"]
    last = users[-1] if users else -1
    earlier = tuple(data for i, sent in enumerate(images) if i != last for data in sent)
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    native = {
        "model": body.get("model"),
        "messages": converted,
        "stream": body.get("stream") is True,  # OpenAI's default is a whole answer
        "options": {} if limit is None else {"num_predict": limit},
    }
    return native, SentImages(earlier, images[last] if users else ())


def _content(content: object, has_tool_calls: bool) -> tuple[str, tuple[bytes, ...]]:
    if isinstance(content, str):
        return content, ()
    if isinstance(content, list):
        texts: list[str] = []
        pictures: list[bytes] = []
        for part in content:
            if not isinstance(part, dict):
                raise BadRequest(BAD_MESSAGE)
            kind, text = part.get("type"), part.get("text")
            if kind == "text" and isinstance(text, str):
                texts.append(text)
            elif kind == "image_url":
                pictures.append(decode_image_url(_image_url(part.get("image_url"))))
            else:
                raise BadRequest(BAD_MESSAGE)
        return "\n".join(texts), tuple(pictures)
    if has_tool_calls:  # content is only optional beside tool calls
        return "", ()
    raise BadRequest(f"invalid message content type: {_go_type(content)}")


def _image_url(value: object) -> str:
    url = value.get("url") if isinstance(value, dict) else value
    if not isinstance(url, str):
        raise BadRequest(BAD_MESSAGE)
    return url


def decode_image_url(url: str) -> bytes:
    """decodeImageURL: a data URL of a JPEG, PNG or WebP (or no type), in Go's base64."""
    if url.startswith(("http://", "https://")):
        raise BadRequest(IMAGE_URL)
    prefix = next((p for p in (_BLANK_MIME, *_IMAGE_PREFIXES) if url.startswith(p)), None)
    if prefix is None:
        raise BadRequest(BAD_IMAGE)
    try:
        return vision.decode_base64(url[len(prefix) :])
    except BadRequest:
        raise BadRequest(BAD_IMAGE) from None


def _go_type(value: object) -> str:
    """How Go's %T names a JSON value decoded into `any`."""
    if value is None:
        return "<nil>"
    if isinstance(value, list):
        return "[]interface {}"
    return _GO_TYPES.get(type(value), "string")
