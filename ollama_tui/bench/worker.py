"""One cell in a fresh process: `python -m ollama_tui.bench.worker < spec.json > result.json`.

A fresh process per cell keeps CPU time and peak RSS honest: nothing another client
allocated or warmed up is counted. Every worker imports the same modules (the
project's transports, hence requests, httpx and aiohttp, and the baselines) so that
resident memory compares across rows. The measured phase starts after imports, client
set-up and a warm-up round of `level` full-length streams: they overlap, so the pool
ends up holding `level` open connections (short warm-up streams would hand their
connection to the next starter and leave part of the pool cold). Every row is thus
measured on warm keep-alive connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import os
import pstats
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

from ollama_tui.bench.baselines import ASYNC_BASELINES, SYNC_BASELINES
from ollama_tui.bench.harness import (
    Phase,
    current_rss_kib,
    peak_rss_kib,
    run_tasks,
    run_threads,
)
from ollama_tui.bench.project import ProjectAsync, ProjectSync
from ollama_tui.bench.spec import BARE_PREFIX, CellResult, CellSpec, StreamSample
from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.protocol import ChatMessage, Request, chat_request, generate_request
from ollama_tui.transports import TRANSPORT_NAMES, transport_class

# Every worker loads every transport module, so peak RSS compares across rows.
for _name in TRANSPORT_NAMES:
    transport_class(_name)

T = TypeVar("T")


class SyncClient(Protocol):
    def one(self, request: Request) -> StreamSample: ...
    def close(self) -> None: ...


class AsyncClient(Protocol):
    async def one(self, request: Request) -> StreamSample: ...
    async def aclose(self) -> None: ...


def is_async(client: str) -> bool:
    name = client.removeprefix(BARE_PREFIX)
    if client.startswith(BARE_PREFIX):
        if name not in SYNC_BASELINES and name not in ASYNC_BASELINES:
            raise ValueError(f"no baseline for {name!r}")
        return name in ASYNC_BASELINES
    return transport_class(name).is_async


def open_sync(client: str, settings: ConnectionSettings) -> SyncClient:
    if client.startswith(BARE_PREFIX):
        return SYNC_BASELINES[client.removeprefix(BARE_PREFIX)](settings)
    return ProjectSync(client, settings)


def open_async(client: str, settings: ConnectionSettings) -> AsyncClient:
    """Call inside the running loop: aiohttp binds its session to it."""
    if client.startswith(BARE_PREFIX):
        return ASYNC_BASELINES[client.removeprefix(BARE_PREFIX)](settings)
    return ProjectAsync(client, settings)


def build_request(spec: CellSpec, max_tokens: int | None) -> Request:
    options = {"num_predict": max_tokens} if max_tokens is not None else None
    if spec.request is not None:  # built by the parent: /v1/chat/completions
        return Request.of(spec.request["path"], spec.request["body"], spec.request["wire"])
    if spec.endpoint == "chat":
        return chat_request(spec.model, [ChatMessage("user", spec.prompt)], options=options)
    return generate_request(spec.model, spec.prompt, options=options)


class Profiler:
    """cProfile per thread (3.11's cProfile sees only the thread that enabled it), merged."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def _mine(self) -> cProfile.Profile:
        profile: cProfile.Profile | None = getattr(self._local, "profile", None)
        if profile is None:
            profile = self._local.profile = cProfile.Profile()
            with self._lock:
                self._all.append(profile)
        return profile

    def wrap_sync(self, one: Callable[[], T]) -> Callable[[], T]:
        def profiled() -> T:
            profile = self._mine()
            profile.enable()
            try:
                return one()
            finally:
                profile.disable()

        return profiled

    @contextmanager
    def whole(self) -> Iterator[None]:
        profile = self._mine()
        profile.enable()
        try:
            yield
        finally:
            profile.disable()

    def dump(self, path: str) -> None:
        if not self._all:
            return
        stats = pstats.Stats(self._all[0])
        for other in self._all[1:]:
            stats.add(other)
        stats.dump_stats(path)


def result_of(spec: CellSpec, phase: Phase, rss_start_kib: int) -> CellResult:
    start, end = phase.start, phase.end
    server = None
    if start.server is not None and end.server is not None:
        server = end.server - start.server
    return CellResult(
        client=spec.client,
        level=spec.level,
        api=spec.api,
        samples=phase.samples,
        cpu_user=end.user - start.user,
        cpu_sys=end.sys - start.sys,
        wall=end.wall - start.wall,
        peak_rss_kib=peak_rss_kib(),
        rss_start_kib=rss_start_kib,
        server_cpu=server,
    )


def measure_sync(spec: CellSpec, settings: ConnectionSettings) -> CellResult:
    request = build_request(spec, spec.max_tokens)
    client = open_sync(spec.client, settings)

    def one() -> StreamSample:
        return client.one(request)

    try:
        if spec.warmup:
            run_threads(spec.level, 1, one)
        profiler = Profiler() if spec.profile else None
        rss = current_rss_kib()
        measured = profiler.wrap_sync(one) if profiler is not None else one
        phase = run_threads(spec.level, spec.per_stream, measured, spec.server_pid)
        if profiler is not None and spec.profile:
            profiler.dump(spec.profile)
    finally:
        client.close()
    return result_of(spec, phase, rss)


async def measure_async(spec: CellSpec, settings: ConnectionSettings) -> CellResult:
    request = build_request(spec, spec.max_tokens)
    client = open_async(spec.client, settings)

    async def one() -> StreamSample:
        return await client.one(request)

    try:
        if spec.warmup:
            await run_tasks(spec.level, 1, one)
        rss = current_rss_kib()
        # The tasks all run on this thread, so one profiler around the phase sees them all.
        profiler = Profiler() if spec.profile else None
        with profiler.whole() if profiler is not None else contextlib.nullcontext():
            phase = await run_tasks(spec.level, spec.per_stream, one, spec.server_pid)
        if profiler is not None and spec.profile:
            profiler.dump(spec.profile)
    finally:
        await client.aclose()
    return result_of(spec, phase, rss)


def measure(spec: CellSpec) -> CellResult:
    # Same pool size for every client, as large as the level, so none queues in its pool.
    settings = ConnectionSettings(
        base_url=spec.base_url,
        connect_timeout=spec.connect_timeout,
        read_timeout=spec.read_timeout,
        max_connections=spec.level,
        api=spec.api,
        api_key=(os.environ.get(spec.api_key_env) or None) if spec.api_key_env else None,
    )
    if is_async(spec.client):
        return asyncio.run(measure_async(spec, settings))
    return measure_sync(spec, settings)


def main() -> int:
    try:
        spec = CellSpec.from_json(sys.stdin.read())
        result = measure(spec)
    except Exception:
        traceback.print_exc()
        return 1
    sys.stdout.write(result.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
