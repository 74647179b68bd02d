"""The built-in Ollama-compatible server, tested over real loopback HTTP.

The standard library talks to it here (http.client, raw sockets), and two of the app's
transports ask the keyword-chosen replies; all four are tested against this server in
test_transports.py.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.events import ContentDelta, Done, ThinkingDelta
from ollama_tui.core.protocol import ChatMessage, Role, chat_request
from ollama_tui.demo import DemoConfig, DemoServer, Fault, RequestRecord
from ollama_tui.demo.replies import RUST_CODE, tokenize
from ollama_tui.demo.routing import (
    DEFAULT,
    NOTICE,
    ROUTES,
    Route,
    choose_reply,
    choose_thinking,
    route_for,
    with_notice,
)
from ollama_tui.transports import Transport, create_transport
from tests.streaming import close, collect

REPLY = "Hello, **world**! 你好 🎉 <tag> & done."
REPLY_TOKENS = tokenize(REPLY)
MID_ERROR = "an error was encountered while running the model: unexpected EOF"
STATS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)")


# ------------------------------------------------------------------------------ helpers


def call(
    server: DemoServer, method: str, path: str, body: object = None
) -> tuple[http.client.HTTPResponse, bytes]:
    """One request with http.client; body is JSON-encoded unless it is already bytes."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    payload = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if payload is not None else {}
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def ndjson(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.split(b"\n") if line]


def chat_body(prompt: str = "hi", model: str = "demo", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": prompt}], **extra}


def content_of(lines: list[dict[str, Any]]) -> str:
    return "".join(line["message"]["content"] for line in lines if not line["done"])


@dataclass
class RawStream:
    """A hand-parsed HTTP/1.1 response read from a raw socket, chunk by chunk, with the
    perf_counter() time at which each chunk was complete in our receive buffer."""

    sock: socket.socket
    sent_at: float
    buffer: bytes = b""
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    arrivals: list[float] = field(default_factory=list)

    @classmethod
    def open(cls, server: DemoServer, path: str, body: dict[str, Any]) -> RawStream:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        payload = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        sent_at = time.perf_counter()
        sock.sendall(head + payload)
        stream = cls(sock, sent_at)
        stream._read_head()
        return stream

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buffer += data
        self.received_at = time.perf_counter()

    def _take_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            self._fill()
        part, self.buffer = self.buffer.split(marker, 1)
        return part

    def _read_head(self) -> None:
        lines = self._take_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()

    def next_chunk(self) -> bytes | None:
        """The next chunk's payload, or None at the terminating zero-length chunk."""
        size = int(self._take_until(b"\r\n"), 16)
        while len(self.buffer) < size + 2:
            self._fill()
        chunk, self.buffer = self.buffer[:size], self.buffer[size + 2 :]
        if size == 0:
            return None
        self.arrivals.append(self.received_at)
        return chunk

    def chunks(self) -> list[bytes]:
        """All remaining chunks up to the terminating one (EOFError if the body is cut)."""
        result = []
        while (chunk := self.next_chunk()) is not None:
            result.append(chunk)
        return result

    def close(self) -> None:
        self.sock.close()


def finished(server: DemoServer, index: int = 0) -> RequestRecord:
    """The index-th request's record, once its handler has exited."""
    record = server.wait_for_requests(index + 1)[index]
    assert record.finished.wait(5), "handler did not finish"
    return record


# -------------------------------------------------------------------- simple endpoints


def test_root_answers_get_and_head(server: DemoServer) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}"
    response, data = call(server, "GET", "/")
    assert (response.status, data) == (200, b"Ollama is running")
    response, data = call(server, "HEAD", "/")
    assert (response.status, data) == (200, b"")


def test_version(server: DemoServer) -> None:
    response, data = call(server, "GET", "/api/version")
    assert response.status == 200
    assert response.getheader("Content-Type", "").startswith("application/json")
    assert isinstance(json.loads(data)["version"], str)


def test_tags_lists_default_models_in_ollama_shape(server: DemoServer) -> None:
    response, data = call(server, "GET", "/api/tags")
    models = json.loads(data)["models"]
    assert response.status == 200
    names = {m["name"] for m in models}
    assert {"demo:latest", "demo-think:latest"} <= names and len(models) >= 3
    for model in models:
        assert model["model"] == model["name"]
        assert RFC3339.fullmatch(model["modified_at"])
        assert isinstance(model["size"], int) and re.fullmatch(r"[0-9a-f]{64}", model["digest"])
        assert set(model["details"]) == {
            "parent_model",
            "format",
            "family",
            "families",
            "parameter_size",
            "quantization_level",
        }


def test_show_reports_capabilities_and_model_info(server: DemoServer) -> None:
    response, data = call(server, "POST", "/api/show", {"model": "demo"})  # no tag: :latest
    show = json.loads(data)
    assert response.status == 200
    assert {"modelfile", "parameters", "template", "details", "model_info", "modified_at"} <= set(
        show
    )
    assert show["capabilities"] == ["completion"]
    assert show["model_info"]["llama.context_length"] == 131072
    _, data = call(server, "POST", "/api/show", {"name": "demo-think:latest"})
    assert "thinking" in json.loads(data)["capabilities"]
    response, data = call(server, "POST", "/api/show", {"model": "nope"})
    assert (response.status, json.loads(data)) == (404, {"error": "model 'nope' not found"})


def test_ps_lists_models_used_recently(server: DemoServer) -> None:
    _, data = call(server, "GET", "/api/ps")
    assert json.loads(data) == {"models": []}
    call(server, "POST", "/api/chat", chat_body())
    _, data = call(server, "GET", "/api/ps")
    (loaded,) = json.loads(data)["models"]
    assert loaded["name"] == "demo:latest"
    assert RFC3339.fullmatch(loaded["expires_at"]) and isinstance(loaded["size_vram"], int)
    # keep_alive 0 unloads, and an empty request answers with done_reason "unload".
    _, data = call(server, "POST", "/api/chat", {"model": "demo", "messages": [], "keep_alive": 0})
    assert json.loads(data)["done_reason"] == "unload"
    _, data = call(server, "GET", "/api/ps")
    assert json.loads(data) == {"models": []}


# ------------------------------------------------------------------------ chat/generate


def test_chat_stream_is_chunked_ndjson_one_line_per_token(server: DemoServer) -> None:
    server.configure(reply=REPLY)
    stream = RawStream.open(server, "/api/chat", chat_body())
    chunks = stream.chunks()
    stream.close()
    assert stream.status == 200
    assert stream.headers["content-type"] == "application/x-ndjson"
    assert stream.headers["transfer-encoding"] == "chunked"
    assert all(c.endswith(b"\n") and c.count(b"\n") == 1 for c in chunks)  # one line each
    lines = [json.loads(c) for c in chunks]
    tokens = [line["message"]["content"] for line in lines[:-1]]
    assert tokens == REPLY_TOKENS
    assert all(line["model"] == "demo" and RFC3339.fullmatch(line["created_at"]) for line in lines)
    final = lines[-1]
    assert final["done"] is True and final["done_reason"] == "stop"
    assert final["message"] == {"role": "assistant", "content": ""}
    assert all(type(final[key]) is int and final[key] > 0 for key in STATS)
    assert final["eval_count"] == len(tokens)
    # Go escapes <, > and & in JSON strings: the raw bytes must not contain them.
    wire = b"".join(chunks)
    assert b'"content":" \\u003c"' in wire and b'"content":" \\u0026"' in wire
    assert not any(char in wire for char in (b"<", b">", b"&"))
    assert finished(server).lines_sent == len(chunks)


def test_chat_reply_is_chosen_from_builtins_by_prompt(server: DemoServer) -> None:
    _, first = call(server, "POST", "/api/chat", chat_body("What is Rust?"))
    _, second = call(server, "POST", "/api/chat", chat_body("What is Rust?"))
    expected = with_notice(choose_reply("What is Rust?"))  # a first reply: the notice leads
    assert content_of(ndjson(first)) == content_of(ndjson(second)) == expected
    assert choose_reply("What is Rust?") == RUST_CODE


def test_generate_stream_has_response_and_context(server: DemoServer) -> None:
    server.configure(reply=REPLY)
    response, data = call(server, "POST", "/api/generate", {"model": "demo", "prompt": "hi"})
    lines = ndjson(data)
    assert response.getheader("Content-Type") == "application/x-ndjson"
    assert "".join(line["response"] for line in lines) == REPLY
    final = lines[-1]
    assert final["done"] is True and final["response"] == ""
    assert final["context"] and all(type(n) is int for n in final["context"])
    assert final["eval_count"] == len(lines) - 1


@pytest.mark.parametrize("path", ["/api/chat", "/api/generate"])
def test_stream_false_returns_one_object(server: DemoServer, path: str) -> None:
    server.configure(reply=REPLY)
    body = (
        chat_body(stream=False)
        if path == "/api/chat"
        else {
            "model": "demo",
            "prompt": "hi",
            "stream": False,
        }
    )
    response, data = call(server, "POST", path, body)
    answer = json.loads(data)
    assert response.getheader("Content-Type", "").startswith("application/json")
    text = answer["message"]["content"] if path == "/api/chat" else answer["response"]
    assert text == REPLY
    assert answer["done"] is True and answer["eval_count"] == len(REPLY_TOKENS)


def test_num_predict_cuts_with_done_reason_length(server: DemoServer) -> None:
    server.configure(reply=REPLY)
    _, data = call(server, "POST", "/api/chat", chat_body(options={"num_predict": 3}))
    lines = ndjson(data)
    assert content_of(lines) == "".join(REPLY_TOKENS[:3])
    assert lines[-1]["done_reason"] == "length" and lines[-1]["eval_count"] == 3


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/chat", {"model": "demo", "messages": []}),
        ("/api/generate", {"model": "demo", "prompt": ""}),
    ],
)
def test_empty_request_only_loads(server: DemoServer, path: str, body: dict[str, Any]) -> None:
    response, data = call(server, "POST", path, body)
    answer = json.loads(data)
    assert response.status == 200
    assert answer["done"] is True and answer["done_reason"] == "load"


def test_chat_thinking_comes_before_content(server: DemoServer) -> None:
    server.configure(reply=REPLY, thinking="Let me think.")
    _, data = call(server, "POST", "/api/chat", chat_body(model="demo-think", think=True))
    lines = ndjson(data)
    thinking = [line for line in lines if line["message"].get("thinking")]
    assert "".join(line["message"]["thinking"] for line in thinking) == "Let me think."
    assert all(line["message"]["content"] == "" for line in thinking)
    assert lines[: len(thinking)] == thinking  # all thinking first, then the answer
    assert content_of(lines) == REPLY
    assert lines[-1]["eval_count"] == len(lines) - 1


def test_generate_thinking_is_top_level(server: DemoServer) -> None:
    server.configure(reply=REPLY, thinking="Hmm.")
    body = {"model": "demo-think", "prompt": "hi", "think": "high"}
    _, data = call(server, "POST", "/api/generate", body)
    lines = ndjson(data)
    assert "".join(line.get("thinking", "") for line in lines) == "Hmm."
    assert "".join(line["response"] for line in lines) == REPLY


def test_thinking_model_without_think_inlines_think_tags(server: DemoServer) -> None:
    server.configure(reply=REPLY, thinking="Hmm.")
    _, data = call(server, "POST", "/api/chat", chat_body(model="demo-think"))
    lines = ndjson(data)
    assert [line["message"]["content"] for line in lines[:2]] == ["<think>", "\n"]
    assert content_of(lines) == "<think>\nHmm.\n</think>\n\n" + REPLY


def test_think_on_model_without_thinking_is_400(server: DemoServer) -> None:
    response, data = call(server, "POST", "/api/chat", chat_body(think=True))
    assert response.status == 400
    assert json.loads(data) == {"error": '"demo" does not support thinking'}


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b'{"model": "demo", "messages": [', 400, None),
        (b"", 400, "missing request body"),
        ({"messages": []}, 400, "model is required"),
        (chat_body(model="llama3"), 404, 'model "llama3" not found, try pulling it first'),
    ],
)
def test_bad_chat_requests(
    server: DemoServer, body: object, status: int, error: str | None
) -> None:
    response, data = call(server, "POST", "/api/chat", body)
    assert response.status == status
    assert isinstance(json.loads(data)["error"], str)
    if error is not None:
        assert json.loads(data) == {"error": error}
    assert finished(server).outcome == "error"


# -------------------------------------------------------------------------------- pacing


def test_paced_lines_arrive_one_by_one_over_time(server: DemoServer) -> None:
    rate = 50.0
    server.configure(reply="a b c d e f g h i j", token_rate=rate)
    stream = RawStream.open(server, "/api/chat", chat_body())
    chunks = stream.chunks()
    stream.close()
    record = finished(server)
    assert len(chunks) == 11 and len(stream.arrivals) == 11
    # Line i is not written before i / rate after the request (absolute schedule)...
    for i, arrival in enumerate(stream.arrivals):
        assert arrival - stream.sent_at >= i / rate
    # ...and lines come while the server is still generating, not all at the end.
    assert record.ended_at is not None and stream.arrivals[0] < record.ended_at
    assert len(set(stream.arrivals)) > len(chunks) // 2


def test_first_line_waits_for_first_token_delay(server: DemoServer) -> None:
    delay = 0.2
    server.configure(reply=REPLY, first_token_delay=delay)
    stream = RawStream.open(server, "/api/chat", chat_body())
    stream.next_chunk()
    first_arrival = stream.arrivals[0]
    stream.chunks()
    stream.close()
    record = finished(server)
    assert first_arrival - stream.sent_at >= delay
    assert record.first_line_at is not None
    assert delay <= record.first_line_at - record.received_at < delay + 0.06
    assert record.outcome == "completed"


def test_done_line_durations_are_the_servers_own_and_add_up(server: DemoServer) -> None:
    """What the waterfall splits TTFC with: the simulated load is reported as
    load_duration, and the parts add up to total_duration by the server's clock."""
    delay = 0.2
    server.configure(reply=REPLY, first_token_delay=delay)
    _, data = call(server, "POST", "/api/chat", chat_body())
    done = ndjson(data)[-1]
    assert done["done"] is True
    parts = done["load_duration"] + done["prompt_eval_duration"] + done["eval_duration"]
    assert abs(done["total_duration"] - parts) <= 3  # each part rounded to the nanosecond
    # The first token is due `delay` after the request: prompt evaluation and load
    # together took at least that long (the split between them is the server's).
    assert done["prompt_eval_duration"] + done["load_duration"] >= delay * 1e9
    assert done["eval_count"] == len(REPLY_TOKENS)


# -------------------------------------------------------------------------------- faults


@pytest.mark.parametrize("path", ["/api/chat", "/api/generate"])
def test_fault_not_found(server: DemoServer, path: str) -> None:
    server.configure(fault=Fault.NOT_FOUND)
    body = chat_body() if path == "/api/chat" else {"model": "demo", "prompt": "hi"}
    response, data = call(server, "POST", path, body)
    assert response.status == 404
    assert json.loads(data) == {"error": 'model "demo" not found, try pulling it first'}
    assert finished(server).fault is Fault.NOT_FOUND


def test_fault_error_mid_sends_error_line_then_ends_body(server: DemoServer) -> None:
    server.configure(reply=REPLY, fault=Fault.ERROR_MID, fault_after=3)
    stream = RawStream.open(server, "/api/chat", chat_body())
    lines = [json.loads(c) for c in stream.chunks()]  # ends with the terminating chunk
    stream.close()
    assert stream.status == 200
    assert content_of(lines[:3]) == "".join(REPLY_TOKENS[:3])
    assert lines[3:] == [{"error": MID_ERROR}]
    record = finished(server)
    assert (record.outcome, record.fault, record.lines_sent) == ("fault", Fault.ERROR_MID, 4)


def test_fault_error_mid_without_stream_is_500(server: DemoServer) -> None:
    server.configure(fault="error-mid")  # a plain string is accepted too
    response, data = call(server, "POST", "/api/chat", chat_body(stream=False))
    assert (response.status, json.loads(data)) == (500, {"error": MID_ERROR})


def test_fault_cut_aborts_inside_the_chunked_body(server: DemoServer) -> None:
    server.configure(reply=REPLY, fault=Fault.CUT, fault_after=3)
    stream = RawStream.open(server, "/api/chat", chat_body())
    received = [stream.next_chunk() for _ in range(3)]
    with pytest.raises((EOFError, ConnectionResetError)):
        stream.next_chunk()  # no terminating chunk: the connection just ends
    stream.close()
    assert content_of([json.loads(c) for c in received if c]) == "".join(REPLY_TOKENS[:3])
    record = finished(server)
    assert (record.outcome, record.fault, record.lines_sent) == ("fault", Fault.CUT, 3)


def test_fault_stall_goes_silent_until_client_leaves(server: DemoServer) -> None:
    server.configure(reply=REPLY, fault=Fault.STALL, fault_after=2)
    stream = RawStream.open(server, "/api/chat", chat_body())
    assert stream.next_chunk() and stream.next_chunk()
    stream.sock.settimeout(0.3)  # at 2000 tok/s the rest would have come long before
    with pytest.raises(TimeoutError):
        stream.next_chunk()
    record = server.wait_for_requests(1)[0]
    assert not record.finished.is_set()
    stream.close()
    assert record.finished.wait(2)
    assert (record.outcome, record.fault, record.lines_sent) == ("disconnected", Fault.STALL, 2)


def test_fault_malformed_line_then_normal_end(server: DemoServer) -> None:
    server.configure(reply=REPLY, fault=Fault.MALFORMED, fault_after=2)
    _, data = call(server, "POST", "/api/chat", chat_body())
    raw_lines = data.split(b"\n")[:-1]
    bad = [i for i, line in enumerate(raw_lines) if not _is_json(line)]
    assert bad == [2]
    lines = [json.loads(line) for i, line in enumerate(raw_lines) if i != 2]
    assert content_of(lines) == REPLY and lines[-1]["done"] is True
    assert lines[-1]["eval_count"] == len(REPLY_TOKENS)
    assert finished(server).outcome == "fault"


def test_fault_no_done_ends_body_without_done_line(server: DemoServer) -> None:
    server.configure(reply=REPLY, fault=Fault.NO_DONE)
    stream = RawStream.open(server, "/api/generate", {"model": "demo", "prompt": "hi"})
    lines = [json.loads(c) for c in stream.chunks()]
    stream.close()
    assert "".join(line["response"] for line in lines) == REPLY
    assert not any(line["done"] for line in lines)
    assert finished(server).fault is Fault.NO_DONE


def _is_json(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------------ pull / delete


def test_pull_streams_progress_then_model_is_listed(server: DemoServer) -> None:
    server.configure(pull_duration=0.05)
    response, data = call(server, "POST", "/api/pull", {"model": "qwen3:1.7b"})
    lines = ndjson(data)
    statuses = [line["status"] for line in lines]
    assert response.getheader("Content-Type") == "application/x-ndjson"
    assert statuses[0] == "pulling manifest"
    assert statuses[-3:] == ["verifying sha256 digest", "writing manifest", "success"]
    layers = lines[1:-3]
    assert len(layers) > 3
    for line in layers:
        assert line["status"] == f"pulling {line['digest'][7:19]}"
        assert line["digest"].startswith("sha256:") and line["total"] >= line.get("completed", 0)
    assert any(line.get("completed") == line["total"] for line in layers)
    _, tags = call(server, "GET", "/api/tags")
    assert "qwen3:1.7b" in {m["name"] for m in json.loads(tags)["models"]}
    _, show = call(server, "POST", "/api/show", {"model": "qwen3:1.7b"})
    assert "thinking" in json.loads(show)["capabilities"]


def test_pull_unknown_model_reports_error_line(server: DemoServer) -> None:
    response, data = call(server, "POST", "/api/pull", {"name": "no-such-model"})
    assert response.status == 200
    assert ndjson(data) == [
        {"status": "pulling manifest"},
        {"error": "pull model manifest: file does not exist"},
    ]


def test_pull_without_stream(server: DemoServer) -> None:
    server.configure(pull_duration=0.01)
    response, data = call(server, "POST", "/api/pull", {"model": "gemma3:1b", "stream": False})
    assert (response.status, json.loads(data)) == (200, {"status": "success"})
    response, data = call(server, "POST", "/api/pull", {"model": "nope", "stream": False})
    assert response.status == 500 and "error" in json.loads(data)


def test_delete_then_gone(server: DemoServer) -> None:
    response, data = call(server, "DELETE", "/api/delete", {"model": "demo"})
    assert (response.status, data) == (200, b"")
    response, data = call(server, "DELETE", "/api/delete", {"model": "demo"})
    assert (response.status, json.loads(data)) == (404, {"error": "model 'demo' not found"})
    response, _ = call(server, "POST", "/api/chat", chat_body())
    assert response.status == 404


# ------------------------------------------------------------------ records and control


def test_client_disconnect_is_recorded(server: DemoServer) -> None:
    server.configure(reply=" word" * 100, token_rate=50.0)
    stream = RawStream.open(server, "/api/chat", chat_body())
    for _ in range(3):
        stream.next_chunk()
    stream.close()
    record = finished(server)
    assert record.outcome == "disconnected"
    assert 3 <= record.lines_sent < 100


def test_log_keeps_raw_request(server: DemoServer) -> None:
    raw = b'{ "model" : "demo",\n  "messages": [] }'
    call(server, "POST", "/api/chat", raw)
    call(server, "GET", "/api/tags")
    first, second = server.wait_for_requests(2)
    assert (first.method, first.path, first.body) == ("POST", "/api/chat", raw)
    assert first.headers["Content-Type"] == "application/json"
    assert (second.method, second.path, second.body) == ("GET", "/api/tags", b"")
    assert finished(server, 1).outcome == "completed"
    assert first.ended_at is not None and first.received_at <= first.ended_at
    with pytest.raises(TimeoutError):
        server.wait_for_requests(3, timeout=0.05)


def test_configure_and_reset(server: DemoServer) -> None:
    with pytest.raises(TypeError):
        server.configure(no_such_option=1)
    server.configure(fault="cut", token_rate=0)
    assert server.config.fault is Fault.CUT
    call(server, "DELETE", "/api/delete", {"model": "demo"})
    server.reset()
    assert server.config == DemoConfig(token_rate=2000.0)
    assert server.log == []
    response, _ = call(server, "POST", "/api/show", {"model": "demo"})
    assert response.status == 200


def test_stop_ends_open_streams_and_frees_the_port() -> None:
    config = DemoConfig(token_rate=0, fault=Fault.STALL, fault_after=1)
    with DemoServer(config) as own:
        stream = RawStream.open(own, "/api/chat", chat_body())
        assert stream.next_chunk() is not None
        with pytest.raises(OSError):  # the port is taken while it runs
            DemoServer(port=own.port).start()
        started = time.perf_counter()
        own.stop()
        assert time.perf_counter() - started < 3
        record = own.log[0]
        assert record.finished.is_set() and record.outcome == "stopped"
        with pytest.raises((EOFError, ConnectionResetError)):
            stream.next_chunk()
        stream.close()


LISTENING = r"ollama-tui demo server listening on http://127\.0\.0\.1:(\d+)\n"


@contextlib.contextmanager
def standalone(
    argv: list[str], env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """A server in its own process, once it has said where it listens: it and its port."""
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.fullmatch(LISTENING, line)
        assert match, line
        yield proc, int(match[1])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def status_of(port: int, path: str, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_run_standalone_serves_until_signal(sig: signal.Signals) -> None:
    code = (
        "from ollama_tui.demo import run_standalone, DemoConfig; "
        "run_standalone('127.0.0.1', 0, DemoConfig())"
    )
    with standalone([sys.executable, "-c", code]) as (proc, port):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"Ollama is running"
        conn.close()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
    assert (proc.returncode, out, err) == (0, "", "")


def test_serve_demo_asks_for_the_key_held_in_the_named_variable(tmp_path: Path) -> None:
    # The key is read from the environment, never from the command line (ps shows that).
    env = {**os.environ, "DEMO_KEY_FOR_TEST": "sk-demo-123", "XDG_CONFIG_HOME": str(tmp_path)}
    argv = [sys.executable, "-m", "ollama_tui", "serve-demo", "--port", "0", "--require-key-env"]
    missing = subprocess.run(
        [*argv, "NO_SUCH_VARIABLE_HERE"], env=env, capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2
    assert missing.stderr == "ollama-tui: $NO_SUCH_VARIABLE_HERE is not set: no key to ask for.\n"
    with standalone([*argv, "DEMO_KEY_FOR_TEST"], env) as (proc, port):
        statuses = [
            status_of(port, "/v1/models", {"Authorization": f"Bearer {key}"} if key else {})
            for key in (None, "wrong", "sk-demo-123")
        ]
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert statuses == [401, 401, 200]
    assert "sk-demo-123" not in out + err


# ---------------------------------------------------------------------------- replies


@given(st.text())
def test_tokenize_round_trips_any_text(text: str) -> None:
    assert "".join(tokenize(text)) == text
    assert all(tokenize(text))


@given(st.text(alphabet=st.sampled_from("你好世界ab ,\n🎉")))
def test_tokenize_keeps_cjk_and_emoji_alone(text: str) -> None:
    for token in tokenize(text):
        if any(char in "你好世界🎉" for char in token):
            assert token.lstrip(" ") in ("你", "好", "世", "界", "🎉")


def test_tokenize_splits_like_a_model() -> None:
    assert tokenize("Hello, world!") == ["Hello", ",", " world", "!"]
    assert tokenize("你好！ ok") == ["你", "好", "！", " ok"]
    assert tokenize("hi 🎉👩‍💻\n\nx") == ["hi", " 🎉", "👩‍💻", "\n\n", "x"]
    assert tokenize("  def f():\n") == ["  def", " f", "(", ")", ":", "\n"]


def test_builtin_replies_are_varied_markdown() -> None:
    texts = [route.reply for route in (*ROUTES, DEFAULT)]
    text = "\n".join(texts)
    assert len(set(texts)) == len(texts) >= 10
    for needle in ("```python", "```rust", "```sh", "\n1. ", "\n- ", "\n# ", "**", "\n> "):
        assert needle in text, needle
    assert re.search(r"\n\|[-:| ]+\|\n", text)  # a table's delimiter row
    assert "中文" in text and "🎉" in text
    assert max(len(tokenize(reply)) for reply in texts) >= 350
    assert all(route.thinking for route in (*ROUTES, DEFAULT))
    assert choose_reply("same prompt") == choose_reply("same prompt")


def test_without_a_log_the_server_keeps_no_request() -> None:
    import urllib.request

    with DemoServer(keep_log=False) as server:
        urllib.request.urlopen(f"{server.url}/api/tags", timeout=5).read()
        urllib.request.urlopen(f"{server.url}/api/version", timeout=5).read()
        assert server.log == []


# ---------------------------------------------------------- keywords and first reply
# Through two of the app's own transports, one sync and one async, as the app asks.


@pytest.fixture(params=["requests", "aiohttp"])
async def transport(request: pytest.FixtureRequest, server: DemoServer) -> AsyncIterator[Transport]:
    made = create_transport(request.param, ConnectionSettings(base_url=server.url))
    yield made
    await close(made)


def route(name: str) -> Route:
    (found,) = [r for r in (*ROUTES, DEFAULT) if r.name == name]
    return found


async def answer(
    transport: Transport, *turns: str, model: str = "demo", think: bool | None = None
) -> tuple[str, str]:
    """The reply's (content, thinking) to `turns`: user, assistant, user... messages."""
    roles: tuple[Role, Role] = ("user", "assistant")
    messages = [ChatMessage(roles[i % 2], text) for i, text in enumerate(turns)]
    events = await collect(transport, chat_request(model, messages, think=think))
    assert isinstance(events[-1], Done), events[-1]
    content = "".join(e.text for e in events if isinstance(e, ContentDelta))
    return content, "".join(e.text for e in events if isinstance(e, ThinkingDelta))


@pytest.mark.parametrize(
    ("prompt", "name"),
    [
        ("Show me some Python code", "code"),
        ("What is Rust?", "rust"),
        ("Compare the HTTP clients", "table"),
        ("Give me the steps", "list"),
        ("Write a LONG essay", "long"),
        ("Format it as markdown, please", "markdown"),
        ("Why is the sky blue?", "think"),
        ("请用中文回答", "cjk"),
        ("I got an error", "faults"),
        ("hello there", "intro"),
        ("Count to ten for me", "default"),
    ],
)
async def test_keywords_choose_the_reply(
    transport: Transport, server: DemoServer, prompt: str, name: str
) -> None:
    content, thinking = await answer(transport, prompt)
    assert content == with_notice(route(name).reply)
    assert thinking == ""
    assert finished(server).fault is None  # not even "error" injects a fault


def test_each_family_reply_shows_what_its_words_ask_for() -> None:
    shows = {
        "code": ["```python\n", "def "],
        "rust": ["```rust\n", "fn main"],
        "table": ["\n|------------|:----:|"],
        "list": ["\n1. ", "\n2. ", "\n3. "],
        "long": ["\n## ", "\n1. "],
        "markdown": ["\n## ", "**bold**", "*italic*", "\n> ", "](https://"],
        "think": ["step", "\n1. ", "\n**So:**"],
        "cjk": ["中文", "🎉", "👩‍💻"],
        "faults": ["serve-demo --fault", "--fault-after", *(f"`{f.value}`" for f in Fault)],
        "intro": ["built-in demo server"],
    }
    assert set(shows) == {r.name for r in ROUTES}
    for name, needles in shows.items():
        for needle in needles:
            assert needle in route(name).reply, (name, needle)
    assert len(tokenize(route("long").reply)) >= 350
    for listing in (route("intro").reply, DEFAULT.reply):  # both list every route's words
        for r in ROUTES:
            assert f"- {r.label}: " + ", ".join(f"`{w}`" for w in r.words) in listing


@pytest.mark.parametrize(
    ("prompt", "name"),
    [
        ("PYTHON", "code"),
        ("a python function", "code"),
        ("用python写一个函数", "code"),  # CJK may touch an ASCII word
        ("Write a markdown table", "table"),  # table comes before markdown
        ("help me with Python code", "code"),  # intro comes last
        ("Tell me about streaming.", "long"),  # the bench's default prompt
        ("What\nare   you?", "intro"),
        ("Hi!", "intro"),
        ("emoji 🎉", "cjk"),
        ("这是中文", "cjk"),  # CJK words match inside CJK text
        ("listen to this stable whyever unlisted", "default"),  # "list", "hi", "table", "why"
        ("", "default"),
    ],
)
def test_keywords_are_whole_words_in_any_case(prompt: str, name: str) -> None:
    assert route_for(prompt).name == name
    assert choose_reply(prompt) == route(name).reply
    assert choose_thinking(prompt) == route(name).thinking


async def test_first_reply_notice_once_per_conversation(transport: Transport) -> None:
    first, _ = await answer(transport, "Show me a table")
    assert first == f"{NOTICE}\n\n{route('table').reply}"
    assert "\n" not in NOTICE and "not a real model" in NOTICE and "OLLAMA_HOST" in NOTICE
    second, _ = await answer(transport, "Show me a table", first, "Now some Python code")
    assert second == route("code").reply
    third, _ = await answer(
        transport, "Show me a table", first, "Now some Python code", second, "hello"
    )
    assert third == route("intro").reply
    # A regenerated first reply is a first reply again.
    assert (await answer(transport, "Show me a table"))[0] == first


def test_generate_notice_unless_it_continues_a_context(server: DemoServer) -> None:
    body = {"model": "demo", "prompt": "Show me a table"}
    lines = ndjson(call(server, "POST", "/api/generate", body)[1])
    assert "".join(line["response"] for line in lines) == with_notice(route("table").reply)
    follow_up = {"model": "demo", "prompt": "why?", "context": lines[-1]["context"]}
    lines = ndjson(call(server, "POST", "/api/generate", follow_up)[1])
    assert "".join(line["response"] for line in lines) == route("think").reply
    empty = {"model": "demo", "prompt": "why?", "context": [], "stream": False}
    assert json.loads(call(server, "POST", "/api/generate", empty)[1])["response"].startswith(
        NOTICE
    )


async def test_thinking_model_reasons_in_thinking_or_inline_tags(transport: Transport) -> None:
    think = route("think")
    content, thinking = await answer(
        transport, "Why is the sky blue?", model="demo-think", think=True
    )
    assert (content, thinking) == (with_notice(think.reply), think.thinking)
    content, thinking = await answer(transport, "Why is the sky blue?", model="demo-think")
    assert thinking == ""
    assert content == f"<think>\n{think.thinking}\n</think>\n\n{with_notice(think.reply)}"
    later, _ = await answer(transport, "hi", content, "Why?", model="demo-think", think=True)
    assert later == think.reply


async def test_fixed_reply_and_thinking_win_over_keywords(
    transport: Transport, server: DemoServer
) -> None:
    server.configure(reply=REPLY)
    assert await answer(transport, "Show me a table") == (REPLY, "")  # and no notice
    assert await answer(transport, "Why?", "x", "Write a long essay") == (REPLY, "")
    server.configure(reply=None, thinking="Hmm.")
    content, thinking = await answer(transport, "Show me a table", model="demo-think", think=True)
    assert (content, thinking) == (with_notice(route("table").reply), "Hmm.")


async def test_no_keyword_gets_the_default(transport: Transport) -> None:
    content, _ = await answer(transport, "Count to ten for me")
    assert content == with_notice(DEFAULT.reply)
    assert "`table`" in DEFAULT.reply and "`error`" in DEFAULT.reply
    content, _ = await answer(transport, "Count to ten", content, "And then?")
    assert content == DEFAULT.reply
