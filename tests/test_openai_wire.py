"""OpenAI-compatible `/v1` on every transport against the built-in server: the same
text, thinking, figures and error sentences as over Ollama's own API."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator, Sequence

import pytest
from PIL import Image

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.events import ContentDelta, Done, Stopped, StreamError, ThinkingDelta
from ollama_tui.core.openai import chat_request, parse_models
from ollama_tui.core.protocol import ChatMessage
from ollama_tui.demo import DemoServer, Fault
from ollama_tui.transports import TRANSPORT_NAMES, Transport, create_transport
from ollama_tui.transports.errors import ApiError
from tests.streaming import call, close, collect

REPLY = "Hello from /v1: 中文 and 🦙, over SSE."


def v1(server: DemoServer, key: str | None = None) -> ConnectionSettings:
    return ConnectionSettings(base_url=server.url + "/v1", api="openai", api_key=key)


@pytest.fixture(params=TRANSPORT_NAMES)
async def transport(request: pytest.FixtureRequest, server: DemoServer) -> AsyncIterator[Transport]:
    server.configure(reply=REPLY, token_rate=0)
    made = create_transport(request.param, v1(server))
    yield made
    await close(made)


def text(events: Sequence[object]) -> tuple[str, str]:
    content = "".join(e.text for e in events if isinstance(e, ContentDelta))
    thinking = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
    return content, thinking


async def test_a_reply_streams_whole_with_the_servers_figures(
    transport: Transport, server: DemoServer
) -> None:
    events = await collect(transport, chat_request("demo", [ChatMessage("user", "hi")]))
    assert text(events)[0] == REPLY
    done = events[-1]
    assert isinstance(done, Done), done
    assert done.done_reason == "stop"
    assert done.stats.eval_count and done.stats.eval_count > 0  # usage, asked for
    assert done.timing.first_chunk is not None and done.timing.first_token is not None
    (record,) = [r for r in server.log if r.path == "/v1/chat/completions"]
    body = json.loads(record.body)
    assert body["stream_options"] == {"include_usage": True}


async def test_a_server_that_ignores_stream_gives_its_whole_reply(
    transport: Transport, server: DemoServer
) -> None:
    server.configure(fault=Fault.WHOLE)
    events = await collect(transport, chat_request("demo-think", [ChatMessage("user", "hi")]))
    (record,) = [r for r in server.log if r.path == "/v1/chat/completions"]
    assert json.loads(record.body)["stream"] is True  # asked to stream; answered whole
    content, thinking = text(events)
    assert content == REPLY and thinking
    done = events[-1]
    assert isinstance(done, Done), done
    assert done.done_reason == "stop" and done.stats.eval_count


async def test_reasoning_arrives_as_thinking(transport: Transport) -> None:
    events = await collect(transport, chat_request("demo-think", [ChatMessage("user", "why")]))
    content, thinking = text(events)
    assert thinking and content
    assert isinstance(events[-1], Done)


async def test_an_image_goes_as_a_data_url_part_and_arrives_intact(transport: Transport) -> None:
    out = io.BytesIO()
    Image.new("RGB", (33, 21), (9, 99, 199)).save(out, "PNG")
    image = base64.b64encode(out.getvalue()).decode()
    question = ChatMessage("user", "what is it", images=(image,))
    events = await collect(transport, chat_request("demo-vision", [question]))
    assert f"PNG 33×21, {len(out.getvalue())} bytes" in text(events)[0]


async def test_an_unknown_model_is_one_sentence(transport: Transport) -> None:
    events = await collect(transport, chat_request("no-such", [ChatMessage("user", "hi")]))
    error = events[-1]
    assert isinstance(error, StreamError) and error.status == 404
    assert "no-such" in error.message and "\n" not in error.message


@pytest.mark.parametrize("name", TRANSPORT_NAMES)
async def test_the_key_is_sent_as_a_bearer_token(server: DemoServer, name: str) -> None:
    server.configure(reply=REPLY, token_rate=0, api_key="sk-test-1234")
    wrong = create_transport(name, v1(server, "sk-wrong"))
    right = create_transport(name, v1(server, "sk-test-1234"))
    try:
        refused = await collect(wrong, chat_request("demo", [ChatMessage("user", "hi")]))
        error = refused[-1]
        assert isinstance(error, StreamError) and error.status == 401
        assert "sk-wrong" not in error.message and "sk-test" not in error.message
        assert error.message.startswith("The server: Incorrect API key provided")
        assert "OPENAI_API_KEY" in error.message and "{" not in error.message
        accepted = await collect(right, chat_request("demo", [ChatMessage("user", "hi")]))
        assert isinstance(accepted[-1], Done)
    finally:
        await close(wrong)
        await close(right)


async def test_models_are_listed_by_v1(transport: Transport) -> None:
    listed = await call(transport, "GET", "/models")
    assert "demo" in [m.name.split(":")[0] for m in parse_models(listed)]


def test_the_key_never_shows_in_the_settings_repr() -> None:
    settings = ConnectionSettings(base_url="http://127.0.0.1:1/v1", api="openai", api_key="sk-x")
    assert "sk-x" not in repr(settings)
    assert settings.headers("sse")["Authorization"] == "Bearer sk-x"


async def test_a_call_error_from_v1_is_one_sentence(transport: Transport) -> None:
    with pytest.raises(ApiError) as caught:
        await call(transport, "GET", "/no-such-path")
    assert "\n" not in str(caught.value)


async def test_a_stop_mid_reply_keeps_what_arrived(
    transport: Transport, server: DemoServer
) -> None:
    server.configure(token_rate=50.0)  # time to stop it
    events = await collect(
        transport,
        chat_request("demo", [ChatMessage("user", "a long story")]),
        cancel_when=lambda seen: any(isinstance(e, ContentDelta) for e in seen),
    )
    assert isinstance(events[-1], Stopped)
    assert text(events)[0]  # what came before the stop stays


@pytest.mark.parametrize(
    ("fault", "status", "sentence"),
    [
        (Fault.RATE_LIMIT, 429, "Rate limit reached"),
        (Fault.NOT_FOUND, 404, "not found"),
    ],
)
async def test_each_error_status_is_one_sentence(
    server: DemoServer, fault: Fault, status: int, sentence: str
) -> None:
    server.configure(fault=fault)
    made = create_transport("requests", v1(server))
    try:
        events = await collect(made, chat_request("demo", [ChatMessage("user", "hi")]))
    finally:
        await close(made)
    error = events[-1]
    assert isinstance(error, StreamError) and error.status == status
    assert sentence in error.message and "\n" not in error.message
    assert "{" not in error.message  # the server's JSON read, not shown raw


@pytest.mark.parametrize("name", TRANSPORT_NAMES)
async def test_a_server_that_is_not_there_is_not_called_ollama(name: str) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = ConnectionSettings(base_url=f"http://127.0.0.1:{port}/v1", api="openai")
    made = create_transport(name, settings)
    try:
        events = await collect(made, chat_request("m", [ChatMessage("user", "hi")]))
    finally:
        await close(made)
    error = events[-1]
    assert isinstance(error, StreamError)
    where = settings.base_url
    assert error.message == f"Cannot reach the server at {where} — is the server running?"
