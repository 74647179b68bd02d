"""Images on the wire: each transport sends them to the built-in server's ``demo-vision``,
which answers with what it decoded (format, size, byte count, sha256), so an image that
arrives changed in any byte fails the test. Errors are Ollama's: bad base64 is refused
with 400 before anything else, an image the runner cannot decode with 500.

The decoder and the error sentences themselves are tested at the end, over plain HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.events import ContentDelta, Done, ErrorKind, StreamError, StreamEvent
from ollama_tui.core.protocol import ChatMessage, Request, chat_request
from ollama_tui.demo import DemoServer
from ollama_tui.demo.vision import decode_base64, go_base64
from ollama_tui.demo.wire import BadRequest
from ollama_tui.transports import TRANSPORT_NAMES, Transport, create_transport
from tests.streaming import close, collect

REPLY = "Seen."
UNKNOWN = "Failed to create new sequence: failed to process inputs: image: unknown format"
NO_VISION = (
    "Failed to create new sequence: failed to process inputs: "
    "this model is missing data required for image input"
)


@pytest.fixture(params=TRANSPORT_NAMES)
async def transport(request: pytest.FixtureRequest, server: DemoServer) -> AsyncIterator[Transport]:
    server.configure(reply=REPLY)
    made = create_transport(request.param, ConnectionSettings(base_url=server.url))
    yield made
    await close(made)


# ------------------------------------------------------------------------------ images


def encode(image: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def picture(width: int, height: int, kind: str = "PNG") -> bytes:
    """A small image with some structure (a gradient), so no two sizes share bytes."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    return encode(image, kind)


@pytest.fixture(scope="module")
def noisy_png() -> bytes:
    """~5 MB: noise does not compress, so the request body is ~7 MB of base64."""
    width, height = 1400, 1200
    noise = random.Random(15).randbytes(width * height * 3)
    data = encode(Image.frombytes("RGB", (width, height), noise), "PNG")
    assert len(data) > 5_000_000
    return data


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def line(number: int, kind: str, width: int, height: int, data: bytes) -> str:
    """What demo-vision must say of `data`, worked out here from the bytes sent."""
    digest = hashlib.sha256(data).hexdigest()[:12]
    return f"Image {number}: {kind} {width}×{height}, {len(data)} bytes, sha256 {digest}."


def chat(*images: str, model: str = "demo-vision") -> Request:
    message = ChatMessage("user", "What is in this picture?", images=images)
    return chat_request(model, [message])


def text_of(events: list[StreamEvent]) -> str:
    assert isinstance(events[-1], Done), events[-1]
    return "".join(e.text for e in events if isinstance(e, ContentDelta))


def error_of(events: list[StreamEvent]) -> StreamError:
    error = events[-1]
    assert isinstance(error, StreamError), events
    assert not [e for e in events if isinstance(e, ContentDelta)]
    return error


# ------------------------------------------------------------------- on every transport


async def test_a_png_arrives_intact(transport: Transport, server: DemoServer) -> None:
    data = picture(640, 480)
    request = chat(b64(data))
    events = await collect(transport, request)
    assert text_of(events) == line(1, "PNG", 640, 480, data) + "\n\n" + REPLY
    (record,) = server.wait_for_requests(1)
    assert record.body == request.payload


async def test_a_5_mb_image_arrives_intact(
    transport: Transport, server: DemoServer, noisy_png: bytes
) -> None:
    request = chat(b64(noisy_png))
    assert len(request.payload) > 6_000_000  # aiohttp's default limit was 1 MiB
    events = await collect(transport, request, timeout=30)
    assert text_of(events) == line(1, "PNG", 1400, 1200, noisy_png) + "\n\n" + REPLY
    (record,) = server.wait_for_requests(1)
    assert record.body == request.payload


async def test_two_images_in_one_message_are_described_in_order(transport: Transport) -> None:
    png, jpeg = picture(33, 17), picture(800, 600, "JPEG")
    events = await collect(transport, chat(b64(png), b64(jpeg)))
    expected = [line(1, "PNG", 33, 17, png), line(2, "JPEG", 800, 600, jpeg)]
    assert text_of(events) == "\n".join(expected) + "\n\n" + REPLY


async def test_generate_takes_images_at_the_top_level(transport: Transport) -> None:
    data = picture(64, 64, "WEBP")
    body = {"model": "demo-vision", "prompt": "Describe it.", "images": [b64(data)]}
    events = await collect(transport, Request.of("/api/generate", body))
    assert text_of(events) == line(1, "WEBP", 64, 64, data) + "\n\n" + REPLY


async def test_invalid_base64_is_the_servers_400(transport: Transport) -> None:
    valid = b64(picture(40, 30))
    events = await collect(transport, chat(valid[:100] + "*" + valid[100:]))
    error = error_of(events)
    assert (error.kind, error.status) == (ErrorKind.HTTP, 400)
    assert "illegal base64 data at input byte 100" in error.message


async def test_bytes_that_are_no_image_are_the_runners_500(transport: Transport) -> None:
    events = await collect(transport, chat(b64(b"plain text, not a picture")))
    error = error_of(events)
    assert (error.kind, error.status) == (ErrorKind.HTTP, 500)
    assert UNKNOWN in error.message


async def test_a_text_gemma3_refuses_an_image(transport: Transport, server: DemoServer) -> None:
    server.configure(pull_duration=0.0)
    status, _ = post(server, "/api/pull", {"model": "gemma3:1b", "stream": False})
    assert status == 200
    events = await collect(transport, chat(b64(picture(8, 8)), model="gemma3:1b"))
    error = error_of(events)
    assert (error.kind, error.status) == (ErrorKind.HTTP, 500)
    assert NO_VISION in error.message


async def test_a_text_llama_ignores_the_image(transport: Transport) -> None:
    events = await collect(transport, chat(b64(picture(8, 8)), model="demo"))
    assert text_of(events) == REPLY


# ----------------------------------------------------------------- the server, in detail


def post(server: DemoServer, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """One non-streamed request with http.client: the status and the JSON answer."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def ask(server: DemoServer, *images: Any, model: str = "demo-vision") -> tuple[int, str]:
    """A stream:false chat with `images` as sent: (status, reply text or error)."""
    message = {"role": "user", "content": "hi", "images": list(images)}
    status, answer = post(
        server, "/api/chat", {"model": model, "messages": [message], "stream": False}
    )
    return status, answer["message"]["content"] if status == 200 else answer["error"]


@pytest.mark.parametrize(("kind", "name"), [("BMP", "BMP"), ("TIFF", "TIFF"), ("JPEG", "JPEG")])
def test_the_formats_ollamas_runner_decodes(server: DemoServer, kind: str, name: str) -> None:
    server.configure(reply=REPLY)
    data = picture(21, 13, kind)
    assert ask(server, b64(data)) == (200, line(1, name, 21, 13, data) + "\n\n" + REPLY)


def test_gif_is_no_format_ollamas_runner_decodes(server: DemoServer) -> None:
    assert ask(server, b64(picture(21, 13, "GIF"))) == (500, UNKNOWN)


@pytest.mark.parametrize("cut", [1, 20, 100])
def test_a_png_cut_short_is_an_unexpected_eof(server: DemoServer, cut: int) -> None:
    data = picture(64, 48)
    reason = "Failed to create new sequence: failed to process inputs: unexpected EOF"
    assert ask(server, b64(data[:-cut])) == (500, reason)


def test_only_the_last_user_message_is_described_but_every_image_is_decoded(
    server: DemoServer,
) -> None:
    server.configure(reply=REPLY)
    old, new = picture(10, 10), picture(20, 20)
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "first", "images": [b64(old)]},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "second", "images": [b64(new)]},
    ]
    body = {"model": "demo-vision", "messages": messages, "stream": False}
    status, answer = post(server, "/api/chat", body)
    assert (status, answer["message"]["content"]) == (
        200,
        line(1, "PNG", 20, 20, new) + "\n\n" + REPLY,
    )
    messages[0]["images"] = [b64(b"not an image")]
    assert post(server, "/api/chat", body) == (500, {"error": UNKNOWN})


def test_bad_base64_is_refused_before_the_model_is_looked_up(server: DemoServer) -> None:
    status, answer = ask(server, "QUJD=", model="no-such-model")
    assert (status, answer) == (400, "illegal base64 data at input byte 4")


def test_an_image_of_the_wrong_json_type(server: DemoServer) -> None:
    assert ask(server, 42) == (
        400,
        "json: cannot unmarshal number into Go struct field Message.messages.images "
        "of type api.ImageData",
    )


# Go's own cases (encoding/base64 TestDecodeCorrupt, TestNewLineCharacters): the offset of
# the first corrupt byte, or None where Go decodes the input.
GO_CASES = [
    ("", None),
    ("\n", None),
    ("AAA=\n", None),
    ("AAAA\n", None),
    ("!!!!", 0),
    ("====", 0),
    ("x===", 1),
    ("=AAA", 0),
    ("A=AA", 1),
    ("AA=A", 2),
    ("AA==A", 4),
    ("AAA=AAAA", 4),
    ("AAAAA", 4),
    ("AAAAAA", 4),
    ("A=", 1),
    ("A==", 1),
    ("AA=", 3),
    ("AA==", None),
    ("AAA=", None),
    ("AAAA", None),
    ("AAAAAA=", 7),
    ("YWJjZA=====", 8),
    ("A!\n", 1),
    ("A=\n", 1),
    ("c3VyZQ=\r\n\r\n=", None),
    ("c3V\ryZ\nQ==", None),
]


@pytest.mark.parametrize(("text", "offset"), GO_CASES)
def test_base64_is_decoded_as_go_decodes_it(text: str, offset: int | None) -> None:
    if offset is None:
        assert decode_base64(text) == go_base64(text.encode())[0]
    else:
        with pytest.raises(BadRequest, match=f"^illegal base64 data at input byte {offset}$"):
            decode_base64(text)


@given(st.text("AQw/+=\r\n!é", max_size=16))
def test_the_fast_path_agrees_with_gos_algorithm(text: str) -> None:
    decoded, offset = go_base64(text.encode())
    try:
        assert (decode_base64(text), None) == (decoded, offset)
    except BadRequest as exc:
        assert str(exc) == f"illegal base64 data at input byte {offset}"


@given(st.binary(max_size=300))
def test_what_python_encodes_comes_back(data: bytes) -> None:
    assert decode_base64(base64.b64encode(data).decode()) == data
    assert decode_base64(base64.encodebytes(data).decode()) == data  # lines of 76
