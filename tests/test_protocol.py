"""The protocol layer on its own: request bodies, line splitting, decoding, events."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ollama_tui.core.events import (
    ContentDelta,
    Done,
    ErrorKind,
    FirstChunk,
    Progress,
    StreamError,
    StreamEvent,
    ThinkingDelta,
)
from ollama_tui.core.ndjson import LineSplitter, ProtocolError, StreamDecoder, parse_line
from ollama_tui.core.protocol import (
    ChatMessage,
    chat_request,
    generate_request,
    http_error_message,
)


def chat_line(content: str = "", thinking: str = "", **extra: object) -> bytes:
    message: dict[str, object] = {"role": "assistant", "content": content}
    if thinking:
        message["thinking"] = thinking
    obj = {"model": "m", "created_at": "2025-05-16T14:29:42Z", "message": message, "done": False}
    obj.update(extra)
    return json.dumps(obj, ensure_ascii=False).encode() + b"\n"


DONE = (
    b'{"model":"m","created_at":"2025-05-16T14:29:44Z","message":{"role":"assistant",'
    b'"content":""},"done":true,"done_reason":"stop","total_duration":4883583458,'
    b'"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,'
    b'"eval_count":282,"eval_duration":4535599000}\n'
)


def decode_all(chunks: list[bytes]) -> list[StreamEvent]:
    decoder = StreamDecoder(sent=0.0)
    events: list[StreamEvent] = []
    for i, chunk in enumerate(chunks, 1):
        events += decoder.feed(chunk, float(i))
    events += decoder.finish(float(len(chunks) + 1))
    return events


def text_of(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, ContentDelta))


class TestRequests:
    def test_chat_body_has_every_field_and_system_first(self) -> None:
        request = chat_request(
            "qwen3:1.7b",
            [ChatMessage("user", "hi"), ChatMessage("assistant", "hello", thinking="hmm")],
            system="be brief",
            options={"temperature": 0.2, "seed": 7},
            keep_alive="5m",
            think=True,
        )
        assert request.path == "/api/chat"
        assert json.loads(request.payload) == {
            "model": "qwen3:1.7b",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "hello", "thinking": "hmm"},
            ],
            "options": {"temperature": 0.2, "seed": 7},
            "keep_alive": "5m",
            "think": True,
            "stream": True,
        }

    def test_generate_body_omits_what_is_not_set(self) -> None:
        request = generate_request("m", "why is the sky blue?")
        assert request.path == "/api/generate"
        assert json.loads(request.payload) == {
            "model": "m",
            "prompt": "why is the sky blue?",
            "stream": True,
        }

    def test_generate_with_system_options_and_keep_alive_zero(self) -> None:
        body = json.loads(
            generate_request(
                "m",
                "p",
                system="s",
                options={"num_predict": 3},
                keep_alive=0,
                think=False,
                stream=False,
            ).payload
        )
        assert body == {
            "model": "m",
            "prompt": "p",
            "system": "s",
            "options": {"num_predict": 3},
            "keep_alive": 0,
            "think": False,
            "stream": False,
        }

    def test_payload_is_utf8_not_escaped(self) -> None:
        request = generate_request("m", "你好 🦙")
        assert "你好 🦙".encode() in request.payload


class TestLineSplitter:
    def test_joins_a_line_split_across_chunks_and_skips_blank_lines(self) -> None:
        splitter = LineSplitter()
        assert splitter.feed(b'{"a":') == []
        assert splitter.feed(b'1}\n\n  \n{"b"') == [b'{"a":1}']
        assert splitter.feed(b":2}\n") == [b'{"b":2}']
        assert splitter.flush() is None

    def test_never_splits_on_unicode_line_separators(self) -> None:
        text = "a\u2028b\u2029c\u0085d\x1ce\x1df\x1eg\rh"
        line = json.dumps({"response": text}, ensure_ascii=False).encode()
        assert LineSplitter().feed(line + b"\n") == [line]
        assert parse_line(line).content == text

    def test_bounds_a_line_that_never_ends(self) -> None:
        splitter = LineSplitter(max_line_bytes=1000)
        splitter.feed(b"x" * 600)
        with pytest.raises(ProtocolError, match="over 1,000 bytes"):
            splitter.feed(b"x" * 600)
        assert splitter.pending == 0

    @given(
        st.lists(st.binary(max_size=40).filter(lambda b: b"\n" not in b), max_size=20), st.data()
    )
    def test_any_chunking_gives_the_same_lines(
        self, lines: list[bytes], data: st.DataObject
    ) -> None:
        body = b"".join(line + b"\n" for line in lines)
        cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=15)))
        splitter = LineSplitter()
        got: list[bytes] = []
        for start, end in zip([0, *cuts], [*cuts, len(body)], strict=True):
            got += splitter.feed(body[start:end])
        assert got == [line for line in lines if line.strip()]


class TestParseLine:
    def test_chat_and_generate_lines(self) -> None:
        assert parse_line(chat_line("The")).content == "The"
        assert parse_line(b'{"response":" sky","done":false}').content == " sky"
        assert parse_line(b'{"response":"","thinking":"hmm","done":false}').thinking == "hmm"
        assert parse_line(chat_line(thinking="why")).thinking == "why"

    def test_done_line_carries_reason_and_stats(self) -> None:
        parsed = parse_line(DONE)
        assert parsed.done and parsed.done_reason == "stop"
        assert parsed.stats is not None
        assert parsed.stats.eval_count == 282
        assert parsed.stats.load_duration == 1334875
        assert parsed.stats.eval_rate == pytest.approx(282 / 4.535599)

    def test_error_line(self) -> None:
        assert parse_line(b'{"error":"boom"}').error == "boom"

    @pytest.mark.parametrize(
        ("line", "message"),
        [
            (b'{"message": {', "not JSON"),
            (b"[1, 2]", "not a JSON object"),
            (b'{"message": "x"}', "'message' that is not a JSON object"),
            (b'{"message": {"content": 5}}', "'content' as int"),
            (b'{"response": "\xff\xfe"}', "not valid UTF-8"),
        ],
    )
    def test_malformed_lines_raise_protocol_error(self, line: bytes, message: str) -> None:
        with pytest.raises(ProtocolError, match=message):
            parse_line(line)


class TestDecoder:
    def test_events_in_order_with_the_times_their_bytes_arrived(self) -> None:
        events = decode_all([chat_line(thinking="hm"), chat_line("Hi"), chat_line(" there"), DONE])
        kinds = [type(e) for e in events]
        assert kinds == [FirstChunk, ThinkingDelta, ContentDelta, ContentDelta, Done]
        assert [e.at for e in events] == [1.0, 1.0, 2.0, 3.0, 4.0]
        done = events[-1]
        assert isinstance(done, Done)
        timing = done.timing
        assert (timing.sent, timing.first_chunk, timing.first_token, timing.ended) == (
            0.0,
            1.0,
            1.0,
            4.0,
        )
        assert (timing.ttfc, timing.ttft, timing.total) == (1.0, 1.0, 4.0)
        assert timing.chunks == 4 and timing.tokens == 3
        assert timing.tokens_per_s == pytest.approx(2 / 2.0)
        assert done.stats.eval_count == 282

    def test_empty_first_line_counts_as_first_chunk_not_first_token(self) -> None:
        events = decode_all([chat_line(""), chat_line("a"), DONE])
        done = events[-1]
        assert isinstance(done, Done)
        assert done.timing.ttfc == 1.0 and done.timing.ttft == 2.0

    @pytest.mark.parametrize("text", ["你好，世界！这是中文。", "emoji 🦙🚀 and é", "a\u2028b"])
    def test_utf8_split_at_every_byte_decodes_exactly(self, text: str) -> None:
        body = chat_line(text) + DONE
        events = decode_all([body[i : i + 1] for i in range(len(body))])
        assert text_of(events) == text
        assert isinstance(events[-1], Done)

    def test_error_line_after_200_keeps_the_text_and_ends(self) -> None:
        events = decode_all([chat_line("kept"), b'{"error":"model crashed"}\n', chat_line("x")])
        assert text_of(events) == "kept"
        error = events[-1]
        assert isinstance(error, StreamError)
        assert error.kind is ErrorKind.SERVER
        assert error.message == "Ollama: model crashed"
        assert error.timing.tokens == 1

    def test_malformed_line_is_one_protocol_error_and_text_is_kept(self) -> None:
        events = decode_all([chat_line("kept"), b"<html>oops</html>\n", chat_line("x"), DONE])
        assert text_of(events) == "kept"
        errors = [e for e in events if isinstance(e, StreamError)]
        assert len(errors) == 1 and errors[0].kind is ErrorKind.PROTOCOL
        assert "not JSON" in errors[0].message and "<html>oops</html>" in errors[0].message

    def test_body_without_done_is_incomplete(self) -> None:
        events = decode_all([chat_line("a"), chat_line("b")])
        assert text_of(events) == "ab"
        assert isinstance(events[-1], StreamError)
        assert events[-1].kind is ErrorKind.INCOMPLETE

    def test_final_line_without_newline_is_decoded(self) -> None:
        events = decode_all([chat_line("a"), DONE.rstrip(b"\n")])
        assert isinstance(events[-1], Done) and text_of(events) == "a"

    def test_stop_keeps_timing(self) -> None:
        decoder = StreamDecoder(sent=0.0)
        decoder.feed(chat_line("a"), 1.0)
        stopped = decoder.stop(2.0)
        assert stopped.timing.tokens == 1 and stopped.timing.total == 2.0
        assert decoder.feed(chat_line("b"), 3.0) == []

    @settings(max_examples=200)
    @given(
        st.lists(st.text(max_size=12), min_size=1, max_size=12),
        st.lists(st.integers(min_value=0, max_value=2000), max_size=20),
    )
    def test_any_chunking_of_a_valid_stream_gives_the_same_events(
        self, tokens: list[str], cuts: list[int]
    ) -> None:
        body = b"".join(chat_line(t) for t in tokens) + DONE
        whole = decode_all([body])
        pieces = sorted(c % (len(body) + 1) for c in cuts)
        chunks = [body[a:b] for a, b in zip([0, *pieces], [*pieces, len(body)], strict=True)]
        chunked = decode_all(chunks)

        def shape(events: list[StreamEvent]) -> list[tuple[str, str]]:
            return [(type(e).__name__, getattr(e, "text", "")) for e in events]

        assert shape(chunked) == shape(whole)
        assert text_of(chunked) == "".join(tokens)

    @given(st.text(alphabet=st.characters(codec=None, blacklist_categories=()), max_size=20))
    def test_any_json_string_content_decodes_to_sendable_text(self, text: str) -> None:
        line = json.dumps({"response": text, "done": False}).encode()
        content = parse_line(line).content
        content.encode("utf-8")  # never a lone surrogate
        assert content.replace("\ufffd", "") == "".join(
            ch for ch in text if not 0xD800 <= ord(ch) < 0xE000
        ).replace("\ufffd", "")

    @settings(max_examples=300)
    @given(st.lists(st.binary(max_size=64), max_size=10))
    def test_random_bytes_never_raise(self, chunks: list[bytes]) -> None:
        events = decode_all(chunks)
        terminal = [e for e in events if isinstance(e, Done | StreamError)]
        assert len(terminal) == 1 and terminal[0] is events[-1]


class TestHttpErrorMessage:
    def test_ollama_error_body(self) -> None:
        body = b'{"error":"model \\"llama3\\" not found, try pulling it first"}'
        assert http_error_message(404, "Not Found", body, "http://h:1") == (
            'Ollama: model "llama3" not found, try pulling it first (HTTP 404)'
        )

    def test_non_json_body_shows_status_and_a_printable_excerpt(self) -> None:
        message = http_error_message(
            502, "Bad Gateway", b"<h1>bad\x1b[31m gateway</h1>" * 20, "http://h:1"
        )
        assert message.startswith("HTTP 502 Bad Gateway from http://h:1: '<h1>bad [31m gateway")
        assert "\x1b" not in message and message.endswith("…'")


class TestUntrustedText:
    def test_a_lone_surrogate_becomes_a_replacement_character(self) -> None:
        parsed = parse_line(b'{"message":{"role":"assistant","content":"a\\ud83db"},"done":false}')
        assert parsed.content == "a\ufffdb"
        # It can be sent back as context.
        chat_request("m", [ChatMessage("assistant", parsed.content)])

    def test_a_proper_surrogate_pair_is_kept(self) -> None:
        assert parse_line(b'{"response":"\\ud83e\\udd99","done":false}').content == "🦙"

    def test_error_text_from_the_server_loses_its_escape_sequences(self) -> None:
        line = b'{"error":"bad \\u001b[31mred\\u001b]0;pwned\\u0007 \\u009b2J"}'
        assert parse_line(line).error == "bad [31mred]0;pwned 2J"
        body = b'{"error":"x\\u001b[2Jy"}'
        assert http_error_message(500, "", body, "http://h:1") == "Ollama: x[2Jy (HTTP 500)"


def test_pull_status_lines_are_progress_and_success_ends_the_stream() -> None:
    decoder = StreamDecoder(0.0, progress=True)
    body = (
        b'{"status":"pulling manifest"}\n'
        b'{"status":"downloading","digest":"sha256:ab","total":100,"completed":40}\n'
        b'{"status":"verifying sha256 digest"}\n'
        b'{"status":"success"}\n'
    )
    events = decoder.feed(body, 1.0) + decoder.finish(2.0)
    progress = [e for e in events if isinstance(e, Progress)]
    assert [p.status for p in progress] == [
        "pulling manifest",
        "downloading",
        "verifying sha256 digest",
    ]
    assert (progress[1].digest, progress[1].total, progress[1].completed) == ("sha256:ab", 100, 40)
    assert isinstance(events[-1], Done) and events[-1].done_reason == "success"


def test_a_status_line_in_a_reply_is_not_progress_and_ends_nothing() -> None:
    decoder = StreamDecoder(0.0)
    events = decoder.feed(b'{"status":"success"}\n{"response":"still here","done":false}\n', 1.0)
    assert not any(isinstance(e, Progress | Done) for e in events)
    assert [e.text for e in events if isinstance(e, ContentDelta)] == ["still here"]


def test_an_error_line_during_a_pull_is_the_servers_error() -> None:
    decoder = StreamDecoder(0.0, progress=True)
    events = decoder.feed(b'{"status":"pulling manifest"}\n{"error":"file does not exist"}\n', 1.0)
    assert isinstance(events[-1], StreamError) and "file does not exist" in events[-1].message
