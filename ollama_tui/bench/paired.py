"""Two versions of the app measured at the same time, for a change of a few per cent.

    git worktree add /tmp/before <commit>
    python -m ollama_tui.bench.paired --before /tmp/before --transport aiohttp --pairs 3

This shared machine's speed moves the CPU figure by up to a half within an hour
(docs/ui-performance.md), so runs of A and then B compare the hours, not the code. Here
each pair is two `ollama-tui bench --ui` cells run side by side, each with its own
server and terminal: the app from `--before` (a checkout put first on its PYTHONPATH)
and the app from this tree (or `--after`), so both meet the same machine. Prints both
rows of each pair and the ratio of their CPU per 1,000 tokens, then the median ratio:
below 1, the "after" app is lighter. Two apps at once on two cores make each one's lag
a little worse than alone; read the lags in a pair against each other.

With `--untyped-after` the "after" cell types nothing while the reply streams (the bench
types a key every 250 ms and erases it, for the echo): `--before .` then gives what
those keys cost of the CPU figure, the same app on both sides.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from ollama_tui.bench import pty_ui
from ollama_tui.bench.pty_ui import HEADER, PtyRun, format_row, path_first, run_pty_bench


def side(
    tree: str | None,
    transport: str,
    shape: str,
    rate: float,
    tokens: int | None,
    untyped: bool = False,
) -> None:
    """One cell of the bench, the app (and its server) run from `tree` (this one's if None);
    `untyped`: no key typed while the reply streams.

    `python -m` puts the working directory first on the path, ahead of PYTHONPATH: the
    bench's code is already imported from this tree, so moving there changes only what
    the server and the app it starts will import."""
    out = os.environ["OLLAMA_TUI_PAIRED_OUT"]
    if tree:
        os.chdir(tree)
    if untyped:
        pty_ui.KEY_EVERY = math.inf
    run_pty_bench([transport], [shape], [rate], tokens, out, path_first(tree) if tree else None)


def launch(
    tree: str | None, args: argparse.Namespace, out: Path, untyped: bool = False
) -> subprocess.Popen[bytes]:
    tree = tree and str(Path(tree).resolve())
    argv = [sys.executable, "-m", "ollama_tui.bench.paired", "--side", tree or ""]
    argv += ["--transport", args.transport, "--shape", args.shape, "--rate", str(args.rate)]
    if args.tokens:
        argv += ["--tokens", str(args.tokens)]
    if untyped:
        argv.append("--untyped")
    env = {**os.environ, "OLLAMA_TUI_PAIRED_OUT": str(out)}
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)


def read_run(path: Path) -> PtyRun:
    return PtyRun(**json.loads(path.read_text())["runs"][0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ollama_tui.bench.paired", description=__doc__)
    parser.add_argument("--before", help="a checkout of the version to compare against")
    parser.add_argument("--after", help="another checkout (default: this tree)")
    parser.add_argument("--transport", default="aiohttp")
    parser.add_argument("--shape", default="prose", choices=["prose", "code-fence", "paragraph"])
    parser.add_argument("--rate", type=float, default=100.0, help="tokens a second")
    parser.add_argument("--tokens", type=int, help="default: the bench's for the shape")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument(
        "--untyped-after",
        action="store_true",
        help="the after cell types nothing while the reply streams",
    )
    parser.add_argument("--side", help=argparse.SUPPRESS)
    parser.add_argument("--untyped", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side is not None:
        side(args.side or None, args.transport, args.shape, args.rate, args.tokens, args.untyped)
        return 0
    if not args.before:
        parser.error("--before is required")
    ratios: list[float] = []
    print(f"{'':7}{HEADER}", flush=True)
    with tempfile.TemporaryDirectory(prefix="paired-") as scratch:
        for pair in range(args.pairs):
            outs = {name: Path(scratch, f"{pair}-{name}.json") for name in ("before", "after")}
            running = [
                launch(args.before, args, outs["before"]),
                launch(args.after, args, outs["after"], args.untyped_after),
            ]
            if any(process.wait() != 0 for process in running):
                print("a side failed: see its output above", file=sys.stderr)
                return 1
            runs = {name: read_run(path) for name, path in outs.items()}
            for name, run in runs.items():
                print(f"{name:<7}{format_row(run)}", flush=True)
            after, before = runs["after"], runs["before"]
            ratio = after.cpu_ms_per_1k_tokens / before.cpu_ms_per_1k_tokens
            ratios.append(ratio)
            # The main thread's alone (nan against a before that did not measure it).
            ui = after.ui_thread_cpu_ms_per_1k_tokens / before.ui_thread_cpu_ms_per_1k_tokens
            print(f"{'':7}CPU after / before: {ratio:.3f} (main thread {ui:.3f})", flush=True)
    print(f"median CPU after / before over {len(ratios)} pairs: {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
