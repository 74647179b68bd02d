"""The `/v1` Server-Sent Events decoder, byte by byte, without a socket."""

from __future__ import annotations

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ollama_tui.core.decoding import decoder_for
from ollama_tui.core.events import (
    ContentDelta,
    Done,
    ErrorKind,
    FirstChunk,
    StreamError,
    StreamEvent,
    ThinkingDelta,
)
from ollama_tui.core.openai import chat_request, parse_models
from ollama_tui.core.protocol import ChatMessage
from ollama_tui.core.sse import EventSplitter, SseDecoder


def chunk(
    delta: dict[str, object] | None = None, reason: str | None = None, **extra: object
) -> bytes:
    choice = {"index": 0, "delta": delta or {}, "finish_reason": reason}
    body = {"id": "c1", "object": "chat.completion.chunk", "choices": [choice], **extra}
    return b"data: " + json.dumps(body, ensure_ascii=False).encode() + b"\n\n"


USAGE = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}
TIMINGS = {"prompt_n": 12, "prompt_ms": 20.5, "predicted_n": 3, "predicted_ms": 60.0}
STREAM = (
    b": ping\n\n"
    + chunk({"role": "assistant", "reasoning_content": "hm "})
    + chunk({"content": "Hi "})
    + chunk({"content": "thére 🦙\u2028"})
    + chunk({}, "stop")
    + b"data: "
    + json.dumps({"choices": [], "usage": USAGE, "timings": TIMINGS}).encode()
    + b"\n\n"
    + b"data: [DONE]\n\n"
)


def decode(parts: list[bytes], end: bool = True) -> list[StreamEvent]:
    decoder = SseDecoder(sent=0.0)
    events: list[StreamEvent] = []
    for i, part in enumerate(parts):
        events += decoder.feed(part, at=float(i + 1))
    if end:
        events += decoder.finish(at=float(len(parts) + 1))
    return events


def text_of(events: list[StreamEvent]) -> tuple[str, str]:
    content = "".join(e.text for e in events if isinstance(e, ContentDelta))
    thinking = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
    return content, thinking


def test_a_whole_stream_gives_text_thinking_reason_and_the_servers_figures() -> None:
    events = decode([STREAM])
    assert text_of(events) == ("Hi thére 🦙\u2028", "hm ")
    assert isinstance(events[0], FirstChunk)
    done = events[-1]
    assert isinstance(done, Done)
    assert done.done_reason == "stop"
    assert done.stats.prompt_eval_count == 12 and done.stats.eval_count == 3
    assert done.stats.eval_duration == 60_000_000 and done.stats.prompt_eval_duration == 20_500_000
    assert done.stats.eval_rate == 50.0
    assert done.timing.tokens == 3  # three deltas with text


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=len(STREAM) * 2), max_size=12),
    st.sampled_from([b"\n", b"\r\n", b"\r"]),
)
def test_split_anywhere_and_with_any_line_end_the_events_are_the_same(
    cuts: list[int], end: bytes
) -> None:
    stream = STREAM.replace(b"\n", end)
    points = sorted({min(c, len(stream)) for c in cuts})
    parts = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    events = decode([p for p in parts if p])
    assert text_of(events) == ("Hi thére 🦙\u2028", "hm ")
    assert isinstance(events[-1], Done) and events[-1].stats.eval_count == 3


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.text(st.characters(codec="utf-8"), min_size=1, max_size=8),
        min_size=1,
        max_size=6,
    ),
    st.integers(1, 7),
)
def test_any_text_arrives_whole_whatever_the_chunk_size(words: list[str], size: int) -> None:
    stream = b"".join(chunk({"content": w}) for w in words) + b"data: [DONE]\n\n"
    parts = [stream[i : i + size] for i in range(0, len(stream), size)]
    content, _ = text_of(decode(parts))
    assert content == "".join(words)


def test_a_data_field_over_several_lines_is_one_event() -> None:
    body = json.dumps({"choices": [{"index": 0, "delta": {"content": "x"}}]}, indent=1)
    event = b"".join(b"data: " + line.encode() + b"\n" for line in body.splitlines()) + b"\n"
    splitter = EventSplitter()
    assert splitter.feed(event + b"event: x\nid: 3\nretry: 10\n\n") == [body.encode()]
    assert text_of(decode([event, b"data: [DONE]\n\n"]))[0] == "x"


def test_a_crlf_cut_between_its_two_bytes_ends_one_line_not_two() -> None:
    body = json.dumps({"choices": [{"index": 0, "delta": {"content": "x"}}]}, indent=1)
    event = b"".join(b"data: " + line.encode() + b"\r\n" for line in body.splitlines()) + b"\r\n"
    for cut in range(len(event) + 1):
        splitter = EventSplitter()
        assert splitter.feed(event[:cut]) + splitter.feed(event[cut:]) == [body.encode()], cut


def test_other_fields_and_comments_are_no_events() -> None:
    decoder = SseDecoder(sent=0.0)
    assert decoder.feed(b": keep-alive\nevent: ping\nid: 1\nretry: 5\n\n", at=1.0) == []
    events = decoder.feed(b"data: [DONE]\n\n", at=2.0)
    assert isinstance(events[0], FirstChunk) and events[0].at == 2.0
    assert isinstance(events[-1], Done)


def test_a_body_that_ends_after_the_finish_reason_is_done_without_the_done_event() -> None:
    events = decode([chunk({"content": "a"}), chunk({}, "length")])
    assert isinstance(events[-1], Done) and events[-1].done_reason == "length"


def test_a_body_cut_before_the_finish_is_incomplete() -> None:
    events = decode([chunk({"content": "a"})])
    error = events[-1]
    assert isinstance(error, StreamError) and error.kind is ErrorKind.INCOMPLETE
    assert "[DONE]" in error.message


def test_an_error_event_mid_stream_is_one_sentence_and_keeps_the_text() -> None:
    error = {"error": {"message": "model crashed", "type": "server_error", "code": 500}}
    events = decode(
        [chunk({"content": "partial"}), b"data: " + json.dumps(error).encode() + b"\n\n"]
    )
    assert text_of(events)[0] == "partial"
    last = events[-1]
    assert isinstance(last, StreamError) and last.kind is ErrorKind.SERVER
    assert last.message == "The server: model crashed"


def test_escape_sequences_in_an_error_never_reach_the_person() -> None:
    error = {"error": {"message": "bad \x1b[31mred\x1b[0m"}}
    last = decode([b"data: " + json.dumps(error).encode() + b"\n\n"])[-1]
    assert isinstance(last, StreamError) and "\x1b" not in last.message


def test_an_event_that_is_not_json_is_a_protocol_error() -> None:
    last = decode([b"data: {oops\n\n"])[-1]
    assert isinstance(last, StreamError) and last.kind is ErrorKind.PROTOCOL
    assert "not JSON" in last.message


def test_an_endless_event_is_stopped_at_the_line_limit() -> None:
    decoder = SseDecoder(sent=0.0, max_line_bytes=64)
    events = decoder.feed(b"data: " + b"x" * 40 + b"\ndata: " + b"y" * 40 + b"\n", at=1.0)
    assert isinstance(events[-1], StreamError) and events[-1].kind is ErrorKind.PROTOCOL


def test_ttfc_is_the_first_data_event_and_ttft_the_first_text() -> None:
    decoder = SseDecoder(sent=0.0)
    decoder.feed(b": ping\n\n", at=1.0)
    decoder.feed(chunk({"role": "assistant", "content": ""}), at=2.0)
    decoder.feed(chunk({"content": "x"}), at=3.0)
    timing = decoder.timing()
    assert (timing.first_chunk, timing.first_token) == (2.0, 3.0)


def test_the_request_is_what_v1_servers_read() -> None:
    image = "iVBORw0KGgo="
    request = chat_request(
        "m",
        [ChatMessage("user", "hi", images=(image,)), ChatMessage("assistant", "yo", thinking="t")],
        system="be brief",
        options={"temperature": 0.5, "num_predict": 9, "num_ctx": 4096},
    )
    assert request.path == "/chat/completions" and request.wire == "sse"
    assert json.loads(request.payload) == {
        "model": "m",
        "messages": [
            {"role": "system", "content": "be brief"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "hi"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{image}"}},
                ],
            },
            {"role": "assistant", "content": "yo"},
        ],
        "temperature": 0.5,
        "max_tokens": 9,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert isinstance(decoder_for(request, 0.0, 1024), SseDecoder)


def test_models_come_from_the_list() -> None:
    listed = {"object": "list", "data": [{"id": "qwen3:1.7b"}, {"id": ""}, {"x": 1}]}
    assert [m.name for m in parse_models(listed)] == ["qwen3:1.7b"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.binary(max_size=64), max_size=4),
    st.text(max_size=30),
    st.dictionaries(st.text(max_size=5), st.text(max_size=10), max_size=3),
)
def test_verbatim_text_is_spliced_into_the_exact_bytes_json_would_give(
    images: list[bytes], text: str, extra: dict[str, str]
) -> None:
    from ollama_tui.core.protocol import Verbatim, encode_body

    encoded = [Verbatim(base64.b64encode(b).decode()) for b in images]
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": text, "images": encoded}],
        "parts": [{"image_url": {"url": Verbatim("data:image/png;base64," + e)}} for e in encoded],
        **extra,
    }
    assert encode_body(body) == json.dumps(body, ensure_ascii=False).encode("utf-8")


def test_llama_cpps_error_field_ends_the_reply_with_its_sentence() -> None:
    error = b'error: {"code":400,"message":"the request exceeds the available context size"}\n\n'
    events = decode([chunk({"content": "so far"}), error, b"data: [DONE]\n\n"])
    last = events[-1]
    assert isinstance(last, StreamError) and last.kind is ErrorKind.SERVER
    assert last.message == "The server: the request exceeds the available context size"
    assert text_of(events)[0] == "so far"


def test_an_error_event_and_the_older_vllm_error_object_end_the_reply() -> None:
    for body in (
        b'event: error\ndata: {"message": "boom"}\n\n',
        b'data: {"object": "error", "message": "boom", "code": 500}\n\n',
    ):
        last = decode([body, b"data: [DONE]\n\n"])[-1]
        assert isinstance(last, StreamError) and last.message == "The server: boom", body


def test_an_error_of_null_is_no_error() -> None:
    events = decode([chunk({"content": "ok"}, error=None), b"data: [DONE]\n\n"])
    assert text_of(events)[0] == "ok" and isinstance(events[-1], Done)


def test_v1_requests_carry_think_top_k_and_only_a_real_limit() -> None:
    off = json.loads(
        chat_request(
            "m", [ChatMessage("user", "x")], options={"top_k": 5, "num_predict": -1}, think=False
        ).payload
    )
    assert off["reasoning_effort"] == "none" and off["top_k"] == 5 and "max_tokens" not in off
    high = json.loads(chat_request("m", [ChatMessage("user", "x")], think="high").payload)
    assert high["reasoning_effort"] == "high"
    assert "reasoning_effort" not in json.loads(chat_request("m", [], think=True).payload)


def test_a_bmp_goes_over_v1_as_a_png() -> None:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (5, 3), (1, 2, 3)).save(out, "BMP")
    bmp = base64.b64encode(out.getvalue()).decode()
    body = json.loads(chat_request("m", [ChatMessage("user", "x", images=(bmp,))]).payload)
    url = body["messages"][0]["content"][1]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    with Image.open(BytesIO(base64.b64decode(url.split(",", 1)[1]))) as png:
        assert (png.format, png.size) == ("PNG", (5, 3))


WHOLE = json.dumps(
    {
        "id": "c2",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hi 🦙", "reasoning_content": "hm"},
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE,
    },
    indent=2,
    ensure_ascii=False,
).encode()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(WHOLE) + 3), max_size=8))
def test_a_server_that_does_not_stream_gives_the_whole_reply_at_the_end(cuts: list[int]) -> None:
    # A server that ignores "stream": true answers with one JSON object, here after a
    # blank line and split anywhere: no event until the body ends, then all of it.
    body = b"\n \n" + WHOLE
    points = sorted({min(c, len(body)) for c in cuts})
    parts = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    decoder = SseDecoder(sent=0.0)
    assert [e for i, p in enumerate(parts) if p for e in decoder.feed(p, at=float(i + 1))] == []
    events = decoder.finish(at=99.0)
    assert text_of(events) == ("Hi 🦙", "hm")
    assert isinstance(events[0], FirstChunk) and events[0].at == 99.0
    done = events[-1]
    assert isinstance(done, Done) and done.done_reason == "stop"
    assert done.stats.prompt_eval_count == 12 and done.stats.eval_count == 3


def test_a_whole_error_object_is_one_sentence() -> None:
    body = json.dumps({"error": {"message": "no such model", "type": "invalid_request_error"}})
    events = decode([body.encode()])
    assert isinstance(events[-1], StreamError) and events[-1].message.endswith("no such model")


def test_events_after_blank_lines_are_still_events() -> None:
    assert text_of(decode([b"\n\n", b"  \n", STREAM]))[0] == "Hi thére 🦙\u2028"
