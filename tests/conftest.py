"""Shared fixtures: one built-in Ollama-compatible server on loopback for the whole session.

Each test gets it back in its initial state (config, models, request log), so tests
can change fault modes and pacing without starting servers of their own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ollama_tui.demo import DemoConfig, DemoServer


@pytest.fixture(scope="session")
def _session_server() -> Iterator[DemoServer]:
    # Fast pacing keeps the suite quick; tests that time things set their own rate.
    with DemoServer(DemoConfig(token_rate=2000.0)) as server:
        yield server


@pytest.fixture
def server(_session_server: DemoServer) -> Iterator[DemoServer]:
    _session_server.reset()
    yield _session_server
    _session_server.reset()
