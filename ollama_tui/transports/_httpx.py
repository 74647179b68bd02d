"""What the two httpx transports share: client settings and error classification."""

from __future__ import annotations

import socket
from typing import Any

import httpx

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.transports.errors import Failure, RawReply, caused_by


def client_options(settings: ConnectionSettings) -> dict[str, Any]:
    return {
        # A request waiting for a free connection waits as long as it must, as with
        # the other transports; that wait shows up in its time to first chunk.
        "timeout": httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.connect_timeout,
            pool=None,
        ),
        "limits": httpx.Limits(
            max_connections=settings.max_connections,
            max_keepalive_connections=settings.max_connections,
        ),
        "trust_env": False,
        "follow_redirects": False,
    }


def classify(exc: httpx.HTTPError) -> Failure:
    if isinstance(exc, httpx.ConnectTimeout):
        return Failure.CONNECT_TIMEOUT
    if isinstance(exc, httpx.TimeoutException):
        return Failure.READ_TIMEOUT
    if isinstance(exc, httpx.ConnectError):
        return Failure.DNS if caused_by(exc, socket.gaierror) else Failure.REFUSED
    return Failure.CUT


def socket_of(response: httpx.Response) -> socket.socket | None:
    stream = response.extensions.get("network_stream")
    return stream.get_extra_info("socket") if stream is not None else None


def reply_of(response: httpx.Response, body: bytes) -> RawReply:
    return RawReply(
        response.status_code, response.reason_phrase, body, response.headers.get("Location")
    )
