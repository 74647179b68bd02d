"""What went wrong, in one sentence per failure, the same from every transport.

Each transport only classifies its library's exceptions into a `Failure`; the words
a person reads, and the events and exceptions that carry them, are made here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.events import ErrorKind, StreamError, StreamEvent
from ollama_tui.core.ndjson import StreamDecoder
from ollama_tui.core.protocol import http_error_message, preview
from ollama_tui.core.sanitize import clean
from ollama_tui.transports.cancel import CancelToken


@dataclass(frozen=True, slots=True)
class RawReply:
    """A whole, non-streamed response, as each library hands it over."""

    status: int
    reason: str
    body: bytes
    location: str | None = None


class Failure(Enum):
    """What went wrong, as each transport classifies its library's exceptions."""

    REFUSED = auto()
    DNS = auto()
    CONNECT_TIMEOUT = auto()
    READ_TIMEOUT = auto()
    CUT = auto()


def failure_message(
    failure: Failure, settings: ConnectionSettings, received_any: bool
) -> tuple[ErrorKind, str]:
    """One sentence per failure, the same from every transport."""
    url = settings.base_url
    # Over /v1 the server may be llama.cpp's, vLLM, LM Studio…: not named Ollama.
    ollama = settings.api == "ollama"
    who, whom = ("Ollama", "Ollama") if ollama else ("The server", "the server")
    match failure:
        case Failure.REFUSED:
            running = "is `ollama serve` running?" if ollama else "is the server running?"
            return ErrorKind.CONNECT, f"Cannot reach {whom} at {url} — {running}"
        case Failure.DNS:
            return (
                ErrorKind.CONNECT,
                f"Cannot reach {whom} at {url}: the host name could not be resolved. "
                "Check OLLAMA_HOST or --host.",
            )
        case Failure.CONNECT_TIMEOUT:
            return (
                ErrorKind.TIMEOUT,
                f"{who} at {url} did not accept a connection within "
                f"{settings.connect_timeout:g} s (connect timeout).",
            )
        case Failure.READ_TIMEOUT:
            return (
                ErrorKind.TIMEOUT,
                f"{who} sent nothing for {settings.read_timeout:g} s (read timeout). "
                "A slow model load may need more: --read-timeout SECONDS.",
            )
        case Failure.CUT if received_any:
            return (
                ErrorKind.DISCONNECTED,
                f"The connection to {whom} was cut mid-reply; the text so far is kept.",
            )
        case Failure.CUT:
            return (
                ErrorKind.DISCONNECTED,
                f"{who} at {url} closed the connection before answering.",
            )


def failure_event(
    decoder: StreamDecoder, failure: Failure, settings: ConnectionSettings, at: float
) -> StreamError:
    kind, text = failure_message(failure, settings, decoder.received_any)
    return decoder.fail(kind, text, at)


def failed(
    decoder: StreamDecoder,
    failure: Failure,
    settings: ConnectionSettings,
    cancel: CancelToken | None,
) -> StreamEvent:
    """The library raised: `Stopped` if our cancel caused it, else the failure's sentence."""
    at = settings.clock()
    if cancel is not None and cancel.cancelled:
        return decoder.stop(at)
    return failure_event(decoder, failure, settings, at)


def status_event(decoder: StreamDecoder, reply: RawReply, url: str, at: float) -> StreamError:
    """The error for a response whose status is not 200."""
    if 300 <= reply.status < 400:
        text = (
            f"Ollama at {url} answered with a redirect (HTTP {reply.status}) to "
            f"{clean(reply.location or '?')}; point OLLAMA_HOST or --host at the final address."
        )
    else:
        text = http_error_message(reply.status, reply.reason, reply.body, url, decoder.SERVER)
    return decoder.fail(ErrorKind.HTTP, text, at, status=reply.status)


def caused_by(exc: BaseException, *types: type[BaseException]) -> bool:
    """Whether `exc` or anything it wraps (cause, context, urllib3's `reason`) is one of `types`."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, types):
            return True
        for linked in (current.__cause__, current.__context__, getattr(current, "reason", None)):
            if isinstance(linked, BaseException):
                stack.append(linked)
        stack.extend(arg for arg in current.args if isinstance(arg, BaseException))
    return False


class ApiError(Exception):
    """A non-streamed call failed; `str(error)` is the sentence a person reads."""

    def __init__(self, kind: ErrorKind, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


def api_result(reply: RawReply, url: str) -> Any:
    """The JSON of a 200 reply (None for an empty body), or an `ApiError`."""
    if reply.status != 200:
        error = status_event(StreamDecoder(0.0), reply, url, 0.0)
        raise ApiError(error.kind, error.message, reply.status)
    if not reply.body.strip():
        return None
    try:
        return json.loads(reply.body)
    except ValueError as exc:
        raise ApiError(
            ErrorKind.PROTOCOL,
            f"The server at {url} did not answer with JSON: {preview(reply.body)}",
        ) from exc


def api_failure(failure: Failure, settings: ConnectionSettings) -> ApiError:
    kind, text = failure_message(failure, settings, received_any=False)
    return ApiError(kind, text)
