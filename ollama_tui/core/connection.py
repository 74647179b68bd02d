"""Where Ollama is and how long to wait for it.

`OLLAMA_HOST` is parsed as the official Python client (`ollama._client._parse_host`)
parses it, so a value that works for `ollama` works here unchanged.
"""

from __future__ import annotations

import ipaddress
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_HOST = "http://127.0.0.1:11434"
DEFAULT_PORT = 11434
DEFAULT_CONNECT_TIMEOUT = 10.0
# Loading a large model before the first byte can take minutes on a slow disk.
DEFAULT_READ_TIMEOUT = 600.0
DEFAULT_MAX_CONNECTIONS = 100
# One NDJSON line larger than this ends the stream with an error (bounded memory).
DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024

# Addresses a server binds to but a client cannot connect to.
_BIND_ALL = {"0.0.0.0": "127.0.0.1", "::": "::1"}


def parse_host(value: str | None) -> str:
    """Turn an `OLLAMA_HOST`-style value into a base URL with scheme and port.

    >>> parse_host(None)
    'http://127.0.0.1:11434'
    >>> parse_host("example.com:56789/")
    'http://example.com:56789'
    >>> parse_host("https://example.com")
    'https://example.com:443'
    >>> parse_host("[::1]:8000")
    'http://[::1]:8000'
    >>> parse_host("0.0.0.0")
    'http://127.0.0.1:11434'
    """
    value = (value or "").strip()
    port = DEFAULT_PORT
    scheme, _, hostport = value.partition("://")
    if not hostport:
        scheme, hostport = "http", value
    elif scheme == "http":
        port = 80
    elif scheme == "https":
        port = 443
    split = urllib.parse.urlsplit(f"{scheme}://{hostport}")
    host = split.hostname or "127.0.0.1"
    try:
        split_port = split.port
    except ValueError as exc:
        raise ValueError(f"Invalid port in Ollama host {value!r}") from exc
    port = split_port or port
    host = _BIND_ALL.get(host, host)
    try:
        if isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address):
            host = f"[{host}]"
    except ValueError:
        pass  # a name, not an address
    if path := split.path.strip("/"):
        return f"{scheme}://{host}:{port}/{path}"
    return f"{scheme}://{host}:{port}"


def is_remote_plain_http(base_url: str) -> bool:
    parts = urllib.parse.urlsplit(base_url)
    host = parts.hostname or ""
    if parts.scheme != "http" or host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """What every transport needs to reach one server."""

    base_url: str = DEFAULT_HOST
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    """Longest silence allowed between two reads, the wait for the first byte included."""
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    """Pool size of every transport, the same for all so they compare fairly."""
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    clock: Callable[[], float] = field(default=time.perf_counter, compare=False, repr=False)
    """Read where bytes arrive; tests replace it so displayed times are fixed."""
    api: str = "ollama"
    """The wire API: "ollama" (`/api/chat`, NDJSON) or "openai" (`/v1`, Server-Sent Events)."""
    api_key: str | None = field(default=None, compare=False, repr=False)
    """Sent as a bearer token (OpenAI-compatible servers); never shown, logged or kept."""

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def headers(self, wire: str = "ndjson") -> dict[str, str]:
        """The headers of every request: JSON out, the stream's format back, the key."""
        accept = "text/event-stream" if wire == "sse" else "application/x-ndjson"
        headers = {"Content-Type": "application/json", "Accept": accept}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers
