"""Plan the cells, start the server, run each cell in a fresh worker, collect, report.

The parent process only orchestrates: it never imports the HTTP libraries being measured
(its one preflight request uses urllib), and nothing it does is counted in a cell's figures.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from ollama_tui.bench import preflight
from ollama_tui.bench.machine import describe, load_average
from ollama_tui.bench.options import BOTH, OLLAMA, OPENAI, SINGLE, BenchOptions
from ollama_tui.bench.results import BenchResult, Cell, clients_for
from ollama_tui.bench.server import DemoProcess, ServerError
from ollama_tui.bench.spec import CellResult, CellSpec, StreamSample
from ollama_tui.core.connection import parse_host


def plan(options: BenchOptions) -> list[Cell]:
    """Level by level; each repetition starts at a different place in the client list,
    so slow drift on a shared machine is spread over every client alike. A preset may
    put a single-stream stage (each client once) before the sweep. With two APIs, each
    client's cell runs once per API, back to back, the API that goes first swapping
    from one repetition to the next, so the machine's noise hits both alike."""
    clients, apis = clients_for(options), options.apis
    cells: list[Cell] = []
    if options.single_stream_first:
        cells += [Cell(client, 1, 0, SINGLE, api) for client in clients for api in apis]
    for level in options.levels:
        for rep in range(options.repeat):
            shift = rep * len(clients) // options.repeat
            order = apis if rep % 2 == 0 else apis[::-1]
            for client in clients[shift:] + clients[:shift]:
                cells += [Cell(client, level, rep, api=api) for api in order]
    return cells


def v1_url(server_url: str) -> str:
    """The OpenAI-compatible API's base: a bare server's /v1 (as the app's settings add
    it), or the URL as given when it has a path (`--host http://host:8080/v1`)."""
    if urllib.parse.urlsplit(server_url).path.strip("/"):
        return server_url
    return server_url.rstrip("/") + "/v1"


def api_urls(server_url: str, options: BenchOptions) -> dict[str, str]:
    """Each API's base URL. With both, a --host given as .../v1 serves Ollama's API
    from the same server without it."""
    urls: dict[str, str] = {}
    for api in options.apis:
        if api == OPENAI:
            urls[api] = v1_url(server_url)
        elif options.api == BOTH:
            urls[api] = server_url.removesuffix("/v1")
        else:
            urls[api] = server_url
    return urls


def openai_request(options: BenchOptions) -> dict[str, Any]:
    """The /v1 request of every openai cell, for its spec: the prompt as one user message,
    --max-tokens as num_predict (sent as max_tokens). Built here: see `CellSpec.request`."""
    from ollama_tui.core import openai  # loads Pillow: only when there are /v1 cells
    from ollama_tui.core.protocol import ChatMessage

    num_predict = {"num_predict": options.max_tokens} if options.max_tokens is not None else None
    request = openai.chat_request(
        options.model, [ChatMessage("user", options.prompt)], options=num_predict
    )
    return {"path": request.path, "body": dict(request.body), "wire": request.wire}


def spec_for(cell: Cell, options: BenchOptions, base_url: str, server_pid: int | None) -> CellSpec:
    """`base_url`: the cell's API's (see `api_urls`)."""
    profile = None
    if options.profile_dir:
        stage = f"{SINGLE}-" if cell.stage == SINGLE else ""
        api = f"-{cell.api}" if len(options.apis) > 1 else ""
        name = f"{stage}{cell.client.replace(':', '_')}{api}-c{cell.level}-r{cell.rep}.prof"
        profile = os.path.join(options.profile_dir, name)
    openai = cell.api == OPENAI
    return CellSpec(
        client=cell.client,
        level=cell.level,
        per_stream=cell.per_stream(options),
        base_url=base_url,
        endpoint=options.endpoint,
        model=options.model,
        prompt=options.prompt,
        max_tokens=options.max_tokens,
        connect_timeout=options.connect_timeout,
        read_timeout=options.read_timeout,
        server_pid=server_pid,
        profile=profile,
        api=cell.api,
        api_key_env=options.api_key_env if openai else None,
        request=openai_request(options) if openai else None,
    )


def run_worker(spec: CellSpec) -> CellResult:
    """One cell in a fresh interpreter; a worker that fails fails every stream it owed."""
    # A generous backstop: every stream may legitimately wait up to the read timeout.
    timeout = 60 + spec.read_timeout * (spec.per_stream + 2)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ollama_tui.bench.worker"],
            input=spec.to_json(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode == 0:
            return CellResult.from_json(done.stdout)
        lines = done.stderr.strip().splitlines()
        failure = f"worker exited {done.returncode}: {lines[-1] if lines else 'no output'}"
    except subprocess.TimeoutExpired:
        failure = f"worker did not finish within {timeout:g} s"
    except ValueError as exc:  # unreadable JSON on stdout
        failure = f"worker output unreadable: {exc}"
    failed = [StreamSample(ok=False, error=failure) for _ in range(spec.streams)]
    return CellResult(
        client=spec.client, level=spec.level, samples=failed, failure=failure, api=spec.api
    )


@contextlib.contextmanager
def target(options: BenchOptions) -> Iterator[tuple[str, int | None]]:
    """The server's URL and, for the built-in one, its pid (stopped on the way out)."""
    if options.host:
        yield parse_host(options.host), None
        return
    with DemoProcess(options.token_rate, options.first_token_delay) as server:
        yield server.url, server.pid


@contextlib.contextmanager
def progress_display(console: Console, total: int) -> Iterator[Callable[[str], None]]:
    """Call the yielded function before each cell: a live bar on a terminal, else a line."""
    if not console.is_terminal:
        count = 0

        def line(text: str) -> None:
            nonlocal count
            count += 1
            console.print(f"[{count}/{total}] {text}", highlight=False)

        yield line
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("starting", total=total)
        started = False

        def advance(text: str) -> None:
            nonlocal started
            if started:
                progress.advance(task)
            started = True
            progress.update(task, description=text)

        yield advance
        progress.advance(task)


def describe_cell(cell: Cell, options: BenchOptions) -> str:
    client = cell.client if options.apis == (OLLAMA,) else f"{cell.client} over {cell.api}"
    if cell.stage == SINGLE:
        return f"{client} × 1 (single stream)"
    return f"{client} × {cell.level} (run {cell.rep + 1}/{options.repeat})"


def fail(message: str) -> None:
    """One line on stderr: plain print, as Rich would wrap it at 80 columns off a terminal."""
    print(f"ollama-tui bench: {message}", file=sys.stderr)


def run_bench(options: BenchOptions) -> int:
    from ollama_tui.bench import report  # Rich tables: only once there is something to show

    err = Console(stderr=True)
    # Redirected to a file, the tables keep their full width instead of Rich's 80 columns.
    out = Console(width=None if sys.stdout.isatty() else 200)
    if options.profile_dir:
        os.makedirs(options.profile_dir, exist_ok=True)
    cells = plan(options)
    machine = describe()
    result = BenchResult(machine, options, base_url="")
    try:
        with target(options) as (base_url, server_pid):
            result.base_url = base_url
            result.api_urls = urls = api_urls(base_url, options)
            # Before any cell: a wrong --host or --model is one line, not a table of errors.
            check(urls, options)
            shown = progress_display(err, len(cells)) if options.progress else _silent()
            with shown as show:
                for cell in cells:
                    show(describe_cell(cell, options))
                    spec = spec_for(cell, options, urls[cell.api], server_pid)
                    result.cells.append((cell, run_worker(spec)))
    except (ServerError, preflight.PreflightError) as exc:
        fail(str(exc))
        return 1
    except KeyboardInterrupt:
        result.interrupted = True
    result.machine = dataclasses.replace(machine, load_end=load_average())
    report.render(result, out)
    for path, write in (
        (options.json_path, report.write_json),
        (options.csv_path, report.write_csv),
    ):
        if path:
            write(result, path)
            err.print(f"results written to {path}", highlight=False, markup=False)
    if result.interrupted:
        err.print("interrupted: the figures above are partial", highlight=False)
        return 130
    errors = sum(row.errors for stage in result.stages() for row in result.rows(stage))
    if errors:
        err.print(f"{errors} stream(s) failed; see the errors column", highlight=False)
        return 1
    return 0


def check(urls: dict[str, str], options: BenchOptions) -> None:
    """The preflight of each API of the run (raises `preflight.PreflightError`)."""
    builtin, timeout = not options.host, options.connect_timeout
    if OLLAMA in urls:
        preflight.check(urls[OLLAMA], options.model, timeout, builtin=builtin)
    if OPENAI in urls:
        key = os.environ.get(options.api_key_env) or None
        preflight.check_openai(
            urls[OPENAI], options.model, timeout, builtin, key, options.api_key_env
        )


@contextlib.contextmanager
def _silent() -> Iterator[Callable[[str], None]]:
    yield lambda _text: None
