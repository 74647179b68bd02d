"""The built-in server's OpenAI-compatible API under /v1, tested over loopback HTTP with the
standard library: Server-Sent Events byte for byte, usage and timings, reasoning, the
models list, every error body, the faults, images, and what the request log keeps.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import time
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image

from ollama_tui.demo import DemoServer, Fault, RequestRecord
from ollama_tui.demo.replies import tokenize
from ollama_tui.demo.routing import NOTICE

CHAT = "/v1/chat/completions"
# Go escapes <, > and & inside strings: the events show it.
REPLY = "Hi <you> & 你好"
REPLY_TOKENS = tokenize(REPLY)
THINKING = "Greet them back."
MID_ERROR = "an error was encountered while running the model: unexpected EOF"
KEY = "sk-demo-0123456789"


# ------------------------------------------------------------------------------ helpers


def request(
    server: DemoServer,
    path: str = CHAT,
    body: object = None,
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> tuple[http.client.HTTPResponse, bytes]:
    """One request; body is JSON-encoded unless it is already bytes."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    payload = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json"} if payload is not None else {}
    conn.request(method, path, body=payload, headers=sent | (headers or {}))
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def chat(prompt: str = "hi", model: str = "demo", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": prompt}], **extra}


def events(data: bytes) -> list[bytes]:
    """The data of each event: every event is one `data: ` line and a blank line."""
    assert data.endswith(b"\n\n"), data[-80:]
    raw = data[:-2].split(b"\n\n")
    assert all(e.startswith(b"data: ") and b"\n" not in e for e in raw), raw
    return [e.removeprefix(b"data: ") for e in raw]


def chunks(data: bytes) -> list[dict[str, Any]]:
    """The JSON chunks of a whole stream, checked to end with [DONE]."""
    found = events(data)
    assert found[-1] == b"[DONE]"
    return [json.loads(e) for e in found[:-1]]


def pieces(chunk_list: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(field, text) of each token chunk: "thinking" for reasoning_content."""
    result = []
    for chunk in chunk_list:
        for choice in chunk["choices"]:
            delta = choice["delta"]
            if "reasoning_content" in delta:
                result.append(("thinking", delta["reasoning_content"]))
            elif "content" in delta:
                result.append(("content", delta["content"]))
    return result


def text_of(chunk_list: list[dict[str, Any]], field: str = "content") -> str:
    return "".join(t for f, t in pieces(chunk_list) if f == field)


def finished(server: DemoServer, index: int = 0) -> RequestRecord:
    record = server.wait_for_requests(index + 1)[index]
    assert record.finished.wait(5), "handler did not finish"
    return record


def error(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


@dataclass
class EventStream:
    """A streamed response read event by event as it arrives (http.client undoes the
    chunked encoding)."""

    conn: http.client.HTTPConnection
    response: http.client.HTTPResponse

    @classmethod
    def open(cls, server: DemoServer, body: dict[str, Any]) -> EventStream:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("POST", CHAT, json.dumps(body), {"Content-Type": "application/json"})
        return cls(conn, conn.getresponse())

    def next_event(self) -> bytes | None:
        """The next event's data, or None at the end of the body (http.client's
        readline() does not tell a cut body from a finished one: read() does)."""
        line = self.response.readline()
        if not line:
            return None
        assert line.startswith(b"data: ") and self.response.readline() == b"\n", line
        return line.removeprefix(b"data: ").removesuffix(b"\n")

    def close(self) -> None:
        self.conn.close()


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 90)).save(out, "PNG")
    return out.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def seen(number: int, data: bytes, size: str) -> str:
    digest = hashlib.sha256(data).hexdigest()[:12]
    return f"Image {number}: PNG {size}, {len(data)} bytes, sha256 {digest}."


# -------------------------------------------------------------------------- streaming


def test_stream_is_server_sent_events_byte_for_byte(server: DemoServer) -> None:
    server.configure(reply=REPLY, token_rate=0)
    response, data = request(server, body=chat(stream=True))
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/event-stream"
    assert response.headers["Transfer-Encoding"] == "chunked"
    first = json.loads(events(data)[0])
    chunk_id, created = first["id"], first["created"]
    assert chunk_id.startswith("chatcmpl-") and isinstance(created, int)

    def event(delta: str, finish_reason: str, after: str = "}\n\n") -> str:
        return (
            f'data: {{"id":"{chunk_id}","object":"chat.completion.chunk","created":{created},'
            f'"model":"demo","choices":[{{"index":0,"delta":{delta},'
            f'"finish_reason":{finish_reason}}}]{after}'
        )

    texts = ['"Hi"', '" \\u003c"', '"you"', '"\\u003e"', '" \\u0026"', '" 你"', '"好"']
    assert len(texts) == len(REPLY_TOKENS)
    tokens = "".join(event(f'{{"role":"assistant","content":{t}}}', "null") for t in texts)
    # The timings are measured: the finish chunk is compared up to them, then they are
    # read back and their own shape is checked.
    prefix = tokens + event("{}", '"stop"', after=',"timings":')
    assert data.startswith(prefix.encode())
    rest = data[len(prefix.encode()) :]
    timings, end = rest.split(b"}", 1)
    assert end == b"}\n\ndata: [DONE]\n\n"
    figures = json.loads(timings + b"}")
    assert list(figures) == [
        "prompt_n",
        "prompt_ms",
        "prompt_per_token_ms",
        "prompt_per_second",
        "predicted_n",
        "predicted_ms",
        "predicted_per_token_ms",
        "predicted_per_second",
    ]
    assert (figures["prompt_n"], figures["predicted_n"]) == (1, len(REPLY_TOKENS))
    assert figures["predicted_per_second"] == pytest.approx(
        figures["predicted_n"] / figures["predicted_ms"] * 1000
    )
    record = finished(server)
    # One write per event: each token is an event of its own, then finish and [DONE].
    assert (record.outcome, record.lines_sent) == ("completed", len(REPLY_TOKENS) + 2)


def test_usage_comes_only_when_asked(server: DemoServer) -> None:
    server.configure(reply=REPLY)
    _, plain = request(server, body=chat(stream=True))
    assert not any("usage" in c for c in chunks(plain))
    _, asked = request(server, body=chat(stream=True, stream_options={"include_usage": True}))
    found = chunks(asked)
    *tokens, finish, usage = found
    assert text_of(tokens) == REPLY
    assert finish["choices"] == [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    assert "usage" not in finish and "timings" not in finish  # they go on the last chunk
    assert usage["choices"] == [] and usage["object"] == "chat.completion.chunk"
    assert usage["id"] == finish["id"] == tokens[0]["id"]
    n = len(REPLY_TOKENS)
    assert usage["usage"] == {"prompt_tokens": 1, "completion_tokens": n, "total_tokens": n + 1}
    assert usage["timings"]["predicted_n"] == n


def test_thinking_model_streams_reasoning_content_first(server: DemoServer) -> None:
    server.configure(reply=REPLY, thinking=THINKING)
    _, data = request(server, body=chat(model="demo-think", stream=True))
    found = pieces(chunks(data))
    fields = [f for f, _ in found]
    assert fields == sorted(fields, key=lambda f: f != "thinking")  # all reasoning first
    assert "".join(t for f, t in found if f == "thinking") == THINKING
    assert "".join(t for f, t in found if f == "content") == REPLY


def test_reasoning_effort_none_turns_reasoning_off(server: DemoServer) -> None:
    server.configure(reply=REPLY, thinking=THINKING)
    body = chat(model="demo-think", stream=True, reasoning_effort="none")
    _, data = request(server, body=body)
    assert pieces(chunks(data)) == [("content", t) for t in REPLY_TOKENS]


@pytest.mark.parametrize("model", ["demo", "demo-think"])
@pytest.mark.parametrize("earlier", [False, True])
def test_same_pieces_as_native_chat(server: DemoServer, model: str, earlier: bool) -> None:
    """The built-in reply for the same messages, token for token, notice included."""
    messages = [{"role": "system", "content": "Be brief."}]
    if earlier:  # a conversation's later reply has no notice
        messages += [
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": "Hello!"},
        ]
    messages.append({"role": "user", "content": "show me python code"})
    native_body: dict[str, Any] = {"model": model, "messages": messages}
    if model == "demo-think":
        native_body["think"] = True
    _, native = request(server, "/api/chat", native_body)
    lines = [json.loads(line) for line in native.split(b"\n") if line]
    expected = [
        ("thinking", m["thinking"]) if m.get("thinking") else ("content", m["content"])
        for m in (line["message"] for line in lines if not line["done"])
    ]
    _, data = request(server, body={"model": model, "messages": messages, "stream": True})
    assert pieces(chunks(data)) == expected
    assert text_of(chunks(data)).startswith(NOTICE) is not earlier


def test_max_tokens_cuts_with_finish_reason_length(server: DemoServer) -> None:
    server.configure(reply=REPLY)
    for field in ("max_tokens", "max_completion_tokens"):
        _, data = request(server, body=chat(stream=True) | {field: 3})
        *tokens, finish = chunks(data)
        assert text_of(tokens) == "".join(REPLY_TOKENS[:3])
        assert finish["choices"][0]["finish_reason"] == "length"


def test_options_are_accepted(server: DemoServer) -> None:
    server.configure(reply=REPLY)
    body = chat(stream=True, temperature=0.2, seed=42, stop=["\n\n", "END"], top_p=0.9)
    response, data = request(server, body=body)
    assert response.status == 200 and text_of(chunks(data)) == REPLY
    _, data = request(server, body=chat(stream=True, stop="END"))
    assert text_of(chunks(data)) == REPLY


def test_pacing_and_first_token_delay_as_on_native(server: DemoServer) -> None:
    server.configure(reply=REPLY, token_rate=100.0, first_token_delay=0.15)
    request(server, body=chat(stream=True))
    record = finished(server)
    assert record.first_line_at is not None and record.ended_at is not None
    # The server never sends early: the first event at the delay, the last token's at
    # n - 1 intervals after it, the finish after one more.
    assert record.first_line_at - record.received_at >= 0.15
    assert record.ended_at - record.received_at >= 0.15 + len(REPLY_TOKENS) / 100.0


# ---------------------------------------------------------------------- stream: false


@pytest.mark.parametrize("stream", [False, None])
def test_whole_completion_without_stream(server: DemoServer, stream: bool | None) -> None:
    server.configure(reply=REPLY, thinking=THINKING)
    body = chat(model="demo-think") | ({} if stream is None else {"stream": stream})
    response, data = request(server, body=body)  # OpenAI's default is stream: false
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    completion = json.loads(data)
    assert completion["id"].startswith("chatcmpl-")
    assert completion["object"] == "chat.completion" and completion["model"] == "demo-think"
    assert completion["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": REPLY, "reasoning_content": THINKING},
            "finish_reason": "stop",
        }
    ]
    n = len(tokenize(THINKING)) + len(REPLY_TOKENS)
    assert completion["usage"] == {
        "prompt_tokens": 1,
        "completion_tokens": n,
        "total_tokens": n + 1,
    }
    assert completion["timings"]["predicted_n"] == n


# ----------------------------------------------------------------------------- models


def test_models_lists_the_installed_models(server: DemoServer) -> None:
    _, tags = request(server, "/api/tags", method="GET")
    names = [m["name"] for m in json.loads(tags)["models"]]
    response, data = request(server, "/v1/models", method="GET")
    assert response.status == 200
    listing = json.loads(data)
    assert listing["object"] == "list"
    assert [m["id"] for m in listing["data"]] == names
    for entry in listing["data"]:
        assert set(entry) == {"id", "object", "created", "owned_by"}
        assert (entry["object"], entry["owned_by"]) == ("model", "library")
        assert isinstance(entry["created"], int) and entry["created"] > 1_700_000_000
    request(server, "/api/delete", {"model": "demo-large:8b"}, method="DELETE")
    _, data = request(server, "/v1/models", method="GET")
    assert "demo-large:8b" not in [m["id"] for m in json.loads(data)["data"]]


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (
            chat(model="nope"),
            404,
            error('model "nope" not found, try pulling it first', "not_found_error"),
        ),
        ({"model": "demo"}, 400, error("[] is too short - 'messages'", "invalid_request_error")),
        (
            chat() | {"messages": []},
            400,
            error("[] is too short - 'messages'", "invalid_request_error"),
        ),
        (
            {"messages": [{"role": "user", "content": "hi"}]},
            400,
            error("model is required", "invalid_request_error"),
        ),
        (
            chat(max_tokens="3"),
            400,
            error(
                "json: cannot unmarshal string into Go struct field "
                "ChatCompletionRequest.max_tokens of type int",
                "invalid_request_error",
            ),
        ),
        (
            chat(stop=3),
            400,
            error("invalid type for 'stop' field: float64", "invalid_request_error"),
        ),
        (
            {"model": "demo", "messages": [{"role": "user", "content": 7}]},
            400,
            error("invalid message content type: float64", "invalid_request_error"),
        ),
        (
            {"model": "demo", "messages": [{"role": "user", "content": [{"type": "audio"}]}]},
            400,
            error("invalid message format", "invalid_request_error"),
        ),
    ],
)
def test_bad_requests_get_openai_error_bodies(
    server: DemoServer, body: dict[str, Any], status: int, expected: dict[str, Any]
) -> None:
    response, data = request(server, body=body)
    assert response.status == status
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(data) == expected
    assert finished(server).outcome == "error"


@pytest.mark.parametrize("payload", [b'{"model": "demo", "messages": [', b"", b"[1, 2]"])
def test_malformed_json_is_400(server: DemoServer, payload: bytes) -> None:
    response, data = request(server, body=payload)
    assert response.status == 400
    body = json.loads(data)
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"] and set(body["error"]) == {"message", "type", "param", "code"}


def test_wire_shape_of_an_error_is_gos(server: DemoServer) -> None:
    _, data = request(server, body=chat(model="nope"))
    assert data == (
        b'{"error":{"message":"model \\"nope\\" not found, try pulling it first",'
        b'"type":"not_found_error","param":null,"code":null}}'
    )


def test_api_key_is_asked_for_when_configured(server: DemoServer) -> None:
    server.configure(api_key=KEY, reply=REPLY)
    no_key = "You didn't provide an API key."
    cases = [
        ({}, 401, no_key),
        ({"Authorization": "Bearer sk-wrong"}, 401, "Incorrect API key provided."),
        ({"Authorization": KEY}, 401, "Incorrect API key provided."),  # not Bearer
        ({"Authorization": f"Bearer {KEY}"}, 200, None),
        ({"Authorization": f"bearer {KEY}"}, 200, None),  # the scheme in any case
    ]
    for headers, status, message in cases:
        for path, method in ((CHAT, "POST"), ("/v1/models", "GET")):
            body = chat() if method == "POST" else None
            response, data = request(server, path, body, headers, method)
            assert response.status == status, (headers, path)
            if message is not None:
                got = json.loads(data)["error"]
                assert got["message"].startswith(message)
                assert (got["type"], got["code"]) == ("invalid_request_error", "invalid_api_key")
    # Ollama's own routes never ask for it.
    response, _ = request(server, "/api/chat", chat(stream=False))
    assert response.status == 200


def test_the_log_shows_whether_a_key_came_never_the_key(server: DemoServer) -> None:
    server.configure(api_key=KEY)
    request(server, body=chat(), headers={"Authorization": f"Bearer {KEY}"})
    request(server, body=chat(), headers={"Authorization": "Bearer sk-other"})
    request(server, body=chat())
    records = [finished(server, i) for i in range(3)]
    assert [(r.api_key_sent, r.api_key_matched, r.status) for r in records] == [
        (True, True, 200),
        (True, False, 401),
        (False, False, 401),
    ]
    assert records[0].headers["Authorization"] == "[redacted]"
    assert "Authorization" not in records[2].headers
    for record in records:
        assert KEY not in repr(record) and "sk-other" not in repr(record)


def test_without_a_configured_key_any_or_no_key_passes(server: DemoServer) -> None:
    server.configure(reply=REPLY)
    response, _ = request(server, body=chat(), headers={"Authorization": "Bearer anything"})
    assert response.status == 200
    response, _ = request(server, body=chat())
    assert response.status == 200
    first, second = finished(server, 0), finished(server, 1)
    assert (first.api_key_sent, first.api_key_matched) == (True, None)
    assert (second.api_key_sent, second.api_key_matched) == (False, None)


# ----------------------------------------------------------------------------- faults


def test_fault_rate_limit_is_429(server: DemoServer) -> None:
    server.configure(fault=Fault.RATE_LIMIT)
    response, data = request(server, body=chat(stream=True))
    assert (response.status, response.headers["Retry-After"]) == (429, "1")
    assert json.loads(data) == error(
        "Rate limit reached for requests. Please try again in 1s.",
        "requests",
        "rate_limit_exceeded",
    )
    record = finished(server)
    assert (record.fault, record.outcome) == (Fault.RATE_LIMIT, "fault")
    # Native routes too, in Ollama's error shape.
    response, data = request(server, "/api/chat", chat())
    assert response.status == 429
    assert json.loads(data) == {"error": "too many requests, please try again in 1s"}


def test_fault_not_found_is_404(server: DemoServer) -> None:
    server.configure(fault="not-found")
    response, data = request(server, body=chat(stream=True))
    assert response.status == 404
    assert json.loads(data) == error(
        'model "demo" not found, try pulling it first', "not_found_error"
    )
    assert finished(server).fault is Fault.NOT_FOUND


def test_fault_error_mid_is_an_error_event_then_the_end(server: DemoServer) -> None:
    server.configure(reply=REPLY, fault=Fault.ERROR_MID, fault_after=2)
    response, data = request(server, body=chat(stream=True))  # the body ends properly
    assert response.status == 200
    found = events(data)
    assert b"[DONE]" not in found
    assert pieces([json.loads(e) for e in found[:2]]) == [("content", t) for t in REPLY_TOKENS[:2]]
    assert found[2:] == [
        b'{"error":{"message":"' + MID_ERROR.encode() + b'","type":"server_error",'
        b'"param":null,"code":null}}'
    ]
    record = finished(server)
    assert (record.outcome, record.fault, record.lines_sent) == ("fault", Fault.ERROR_MID, 3)


def test_fault_error_mid_without_stream_is_500(server: DemoServer) -> None:
    server.configure(fault=Fault.ERROR_MID)
    response, data = request(server, body=chat())
    assert (response.status, json.loads(data)) == (500, error(MID_ERROR, "api_error"))


def test_fault_cut_ends_the_connection_inside_the_body(server: DemoServer) -> None:
    server.configure(reply=REPLY, fault=Fault.CUT, fault_after=3)
    stream = EventStream.open(server, chat(stream=True))
    received = [stream.next_event() for _ in range(3)]
    # No terminating chunk. (read(), not readline(): http.client's readline ends quietly.)
    with pytest.raises(http.client.IncompleteRead):
        stream.response.read()
    stream.close()
    assert text_of([json.loads(e) for e in received if e]) == "".join(REPLY_TOKENS[:3])
    record = finished(server)
    assert (record.outcome, record.fault, record.lines_sent) == ("fault", Fault.CUT, 3)


def test_fault_stall_goes_silent_until_the_client_leaves(server: DemoServer) -> None:
    server.configure(reply=REPLY, fault=Fault.STALL, fault_after=2)
    stream = EventStream.open(server, chat(stream=True))
    assert stream.next_event() and stream.next_event()
    assert stream.conn.sock is not None
    stream.conn.sock.settimeout(0.3)  # at 2000 tok/s the rest would have come long before
    with pytest.raises(TimeoutError):
        stream.next_event()
    record = server.wait_for_requests(1)[0]
    assert not record.finished.is_set()
    stream.close()
    assert record.finished.wait(2)
    assert (record.outcome, record.fault, record.lines_sent) == ("disconnected", Fault.STALL, 2)


def test_fault_malformed_is_an_event_that_is_not_json(server: DemoServer) -> None:
    server.configure(reply=REPLY, fault=Fault.MALFORMED, fault_after=2)
    _, data = request(server, body=chat(stream=True))
    found = events(data)
    assert found[2] == b'{"id": "chatcmpl-demo", "choices": [{'
    with pytest.raises(ValueError):
        json.loads(found[2])
    rest = [json.loads(e) for i, e in enumerate(found[:-1]) if i != 2]
    assert found[-1] == b"[DONE]" and text_of(rest) == REPLY
    assert finished(server).outcome == "fault"


def test_fault_no_done_ends_without_finish_or_done(server: DemoServer) -> None:
    server.configure(reply=REPLY, fault=Fault.NO_DONE)
    _, data = request(server, body=chat(stream=True, stream_options={"include_usage": True}))
    found = [json.loads(e) for e in events(data)]  # no [DONE] to parse around
    assert text_of(found) == REPLY
    assert all(c["choices"][0]["finish_reason"] is None for c in found)
    assert finished(server).fault is Fault.NO_DONE
    _, data = request(server, body=chat())
    whole = json.loads(data)
    assert whole["choices"][0]["finish_reason"] is None and "usage" not in whole


def test_slow_first_token_holds_the_headers_back(server: DemoServer) -> None:
    server.configure(reply=REPLY, first_token_delay=0.2)
    sent = time.perf_counter()
    stream = EventStream.open(server, chat(stream=True))
    # As on /api/chat, the status and headers go out with the first event.
    assert stream.response.status == 200 and time.perf_counter() - sent >= 0.2
    assert stream.next_event() is not None
    stream.close()
    record = finished(server)
    assert record.first_line_at is not None
    assert record.first_line_at - record.received_at >= 0.2


# ----------------------------------------------------------------------------- images


def test_demo_vision_describes_image_url_parts(server: DemoServer) -> None:
    server.configure(reply="Seen.")
    first, second, earlier = png(2, 3), png(5, 1), png(1, 1)
    content = [
        {"type": "text", "text": "What are these?"},
        {"type": "image_url", "image_url": {"url": data_url(first)}},
        {"type": "image_url", "image_url": data_url(second)},  # the short form Ollama takes
    ]
    messages = [
        {"role": "user", "content": [{"type": "image_url", "image_url": data_url(earlier)}]},
        {"role": "assistant", "content": "A pixel."},
        {"role": "user", "content": content},
    ]
    body = {"model": "demo-vision", "messages": messages, "stream": True}
    response, data = request(server, body=body)
    assert response.status == 200
    described = f"{seen(1, first, '2×3')}\n{seen(2, second, '5×1')}\n\nSeen."
    assert text_of(chunks(data)) == described
    # What /api/chat says of the same images.
    native = [
        {"role": "user", "content": "", "images": [base64.b64encode(earlier).decode()]},
        messages[1],
        {
            "role": "user",
            "content": "What are these?",
            "images": [base64.b64encode(i).decode() for i in (first, second)],
        },
    ]
    _, whole = request(
        server, "/api/chat", {"model": "demo-vision", "messages": native, "stream": False}
    )
    assert json.loads(whole)["message"]["content"] == described
    _, data = request(server, body=body | {"stream": False})
    assert json.loads(data)["choices"][0]["message"]["content"] == described


@pytest.mark.parametrize(
    ("url", "status", "expected"),
    [
        (
            "https://example.com/cat.png",
            400,
            error(
                "image URLs are not currently supported, please use base64 encoded data instead",
                "invalid_request_error",
            ),
        ),
        (
            data_url(png(1, 1), "image/gif"),
            400,
            error("invalid image input", "invalid_request_error"),
        ),
        (
            "data:image/png;base64,iVBOR!!",
            400,
            error("invalid image input", "invalid_request_error"),
        ),
        (
            data_url(b"not an image"),
            500,
            error(
                "Failed to create new sequence: failed to process inputs: image: unknown format",
                "api_error",
            ),
        ),
    ],
)
def test_image_errors(server: DemoServer, url: str, status: int, expected: dict[str, Any]) -> None:
    part = {"type": "image_url", "image_url": {"url": url}}
    body = {"model": "demo-vision", "messages": [{"role": "user", "content": [part]}]}
    response, data = request(server, body=body | {"stream": True})
    assert (response.status, json.loads(data)) == (status, expected)


def test_blank_mime_type_is_taken(server: DemoServer) -> None:
    image = png(4, 4)
    url = "data:;base64," + base64.b64encode(image).decode()
    part = {"type": "image_url", "image_url": {"url": url}}
    body = {"model": "demo-vision", "messages": [{"role": "user", "content": [part]}]}
    _, data = request(server, body=body)
    assert json.loads(data)["choices"][0]["message"]["content"].startswith(
        seen(1, image, "4×4") + "\n\n"
    )


# ------------------------------------------------------------------------ request log


def test_the_log_records_v1_requests(server: DemoServer) -> None:
    payload = json.dumps(chat(stream=True)).encode()
    request(server, body=payload, headers={"User-Agent": "probe/1"})
    request(server, "/v1/models", method="GET")
    chat_record, models_record = finished(server, 0), finished(server, 1)
    assert (chat_record.method, chat_record.path, chat_record.body) == ("POST", CHAT, payload)
    assert chat_record.headers["User-Agent"] == "probe/1"
    assert (chat_record.status, chat_record.outcome) == (200, "completed")
    assert (models_record.method, models_record.path, models_record.status) == (
        "GET",
        "/v1/models",
        200,
    )
