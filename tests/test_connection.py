"""OLLAMA_HOST parsing, checked against the official client's own examples."""

from __future__ import annotations

import re

import pytest

from ollama_tui.core.connection import ConnectionSettings, parse_host


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "http://127.0.0.1:11434"),
        ("", "http://127.0.0.1:11434"),
        ("1.2.3.4", "http://1.2.3.4:11434"),
        (":56789", "http://127.0.0.1:56789"),
        ("1.2.3.4:56789", "http://1.2.3.4:56789"),
        ("http://1.2.3.4", "http://1.2.3.4:80"),
        ("https://1.2.3.4", "https://1.2.3.4:443"),
        ("https://1.2.3.4:56789", "https://1.2.3.4:56789"),
        ("example.com", "http://example.com:11434"),
        ("example.com:56789", "http://example.com:56789"),
        ("http://example.com", "http://example.com:80"),
        ("https://example.com", "https://example.com:443"),
        ("https://example.com:56789", "https://example.com:56789"),
        ("example.com/", "http://example.com:11434"),
        ("example.com:56789/", "http://example.com:56789"),
        ("example.com/path", "http://example.com:11434/path"),
        ("example.com:56789/path", "http://example.com:56789/path"),
        ("https://example.com:56789/path", "https://example.com:56789/path"),
        ("[0001:002:003:0004::1]", "http://[0001:002:003:0004::1]:11434"),
        ("[0001:002:003:0004::1]:56789", "http://[0001:002:003:0004::1]:56789"),
        ("http://[0001:002:003:0004::1]", "http://[0001:002:003:0004::1]:80"),
        ("https://[0001:002:003:0004::1]:56789", "https://[0001:002:003:0004::1]:56789"),
        ("[::1]:11434", "http://[::1]:11434"),
        # A bind-all address names no server to connect to: use loopback.
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("0.0.0.0:8080", "http://127.0.0.1:8080"),
        ("[::]:11434", "http://[::1]:11434"),
        ("  localhost:11434 ", "http://localhost:11434"),
    ],
)
def test_parse_host_like_the_official_client(value: str | None, expected: str) -> None:
    assert parse_host(value) == expected


def test_bad_port_is_a_clear_error() -> None:
    message = re.escape("Invalid port in Ollama host 'example.com:99999'")
    with pytest.raises(ValueError, match=message):
        parse_host("example.com:99999")


def test_a_path_joins_the_base_url() -> None:
    settings = ConnectionSettings(base_url=parse_host("example.com/ollama/"))
    assert settings.url("/api/chat") == "http://example.com:11434/ollama/api/chat"
