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
from collections.abc import Callable, Iterator

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
from ollama_tui.bench.options import SINGLE, BenchOptions
from ollama_tui.bench.results import BenchResult, Cell, clients_for
from ollama_tui.bench.server import DemoProcess, ServerError
from ollama_tui.bench.spec import CellResult, CellSpec, StreamSample
from ollama_tui.core.connection import parse_host


def plan(options: BenchOptions) -> list[Cell]:
    """Level by level; each repetition starts at a different place in the client list,
    so slow drift on a shared machine is spread over every client alike. A preset may
    put a single-stream stage (each client once) before the sweep."""
    clients = clients_for(options)
    cells: list[Cell] = []
    if options.single_stream_first:
        cells += [Cell(client, 1, 0, SINGLE) for client in clients]
    for level in options.levels:
        for rep in range(options.repeat):
            shift = rep * len(clients) // options.repeat
            for client in clients[shift:] + clients[:shift]:
                cells.append(Cell(client, level, rep))
    return cells


def spec_for(cell: Cell, options: BenchOptions, base_url: str, server_pid: int | None) -> CellSpec:
    profile = None
    if options.profile_dir:
        stage = f"{SINGLE}-" if cell.stage == SINGLE else ""
        name = f"{stage}{cell.client.replace(':', '_')}-c{cell.level}-r{cell.rep}.prof"
        profile = os.path.join(options.profile_dir, name)
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
    return CellResult(client=spec.client, level=spec.level, samples=failed, failure=failure)


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
    if cell.stage == SINGLE:
        return f"{cell.client} × 1 (single stream)"
    return f"{cell.client} × {cell.level} (run {cell.rep + 1}/{options.repeat})"


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
            # Before any cell: a wrong --host or --model is one line, not a table of errors.
            preflight.check(
                base_url, options.model, options.connect_timeout, builtin=not options.host
            )
            shown = progress_display(err, len(cells)) if options.progress else _silent()
            with shown as show:
                for cell in cells:
                    show(describe_cell(cell, options))
                    spec = spec_for(cell, options, base_url, server_pid)
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


@contextlib.contextmanager
def _silent() -> Iterator[Callable[[str], None]]:
    yield lambda _text: None
