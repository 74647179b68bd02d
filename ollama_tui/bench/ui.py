"""UI streaming benchmark: `ollama-tui bench --ui` (or `python -m ollama_tui.bench.ui`).

By default the real app on a real pseudo-terminal, timed from the bytes it writes
(`pty_ui.py`): lag from the server's send stamp to a token's first appearance on the
terminal, CPU per 1,000 tokens, the longest gap between writes, keystroke echo and idle
CPU, at each rate of `--rate` (default 100 and 500 tokens/s). `--headless` runs the older
in-process bench (`ui_headless.py`), which stops timing when `Markdown.append` returns,
before a frame becomes terminal bytes, and under-reports lag several times over.

Only `argparse` and the small options module are imported here: the CLI builds its
parser from this module on every start.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ollama_tui.bench.options import ALL_TRANSPORTS, positive_int, transport_list

if TYPE_CHECKING:  # at run time through __getattr__, so the CLI does not import them
    from ollama_tui.bench.ui_headless import Server, make_reply, quit_app, startup_time

__all__ = ["Server", "add_arguments", "main", "make_reply", "quit_app", "run", "startup_time"]

SHAPES = ("prose", "code-fence", "paragraph")
DEFAULT_RATES = (100.0, 500.0)


def rate_list(text: str) -> tuple[float, ...]:
    try:
        rates = tuple(dict.fromkeys(float(n) for n in text.split(",") if n.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma list of numbers: {text!r}") from None
    if not rates or min(rates) <= 0:
        raise argparse.ArgumentTypeError(f"rates must be above zero: {text!r}")
    return rates


def shape_list(text: str) -> tuple[str, ...]:
    shapes = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    unknown = [s for s in shapes if s not in SHAPES]
    if unknown or not shapes:
        raise argparse.ArgumentTypeError(
            f"unknown shape {', '.join(unknown) or '(none)'}; choose from {','.join(SHAPES)}"
        )
    return shapes


def add_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """The UI bench's own flags; `--transports` and `--json` are the wire bench's."""
    parser.add_argument(
        "--tokens",
        type=int,
        default=None,
        help="reply length in tokens (default per shape: prose 2,000, code-fence 3,000, "
        "paragraph 20,000; --headless: 20,000, code-fence at most 3,000)",
    )
    parser.add_argument(
        "--rate",
        type=rate_list,
        default=DEFAULT_RATES,
        metavar="LIST",
        help="server tokens per second, a comma list (default 100,500)",
    )
    parser.add_argument(
        "--shapes",
        type=shape_list,
        default=SHAPES,
        metavar="LIST",
        help="reply shapes (default prose,code-fence,paragraph)",
    )
    parser.add_argument(
        "--headless",
        action="store_true",
        help="the older in-process bench (Textual's headless driver): lag to the end of "
        "Markdown.append, not to the terminal; under-reports lag",
    )
    parser.add_argument(
        "--ui-transports",
        default=None,
        help="--headless only: transports (default: --transports)",
    )
    parser.add_argument("--ui-json", metavar="PATH", help="--headless only: JSON file")
    parser.add_argument(
        "--ui-history",
        choices=("off", "on", "both"),
        default="off",
        help="--headless only: keep the conversation (in a temporary data directory) while "
        "streaming; 'both' runs each cell without and with, back to back",
    )


def run(args: argparse.Namespace) -> int:
    if args.headless:
        from ollama_tui.bench.ui_headless import run as run_headless

        args.shapes = ",".join(args.shapes)
        return run_headless(args)
    from ollama_tui.bench.pty_ui import run_pty_bench

    repeat = getattr(args, "repeat", None) or 1
    return run_pty_bench(
        args.transports, args.shapes, args.rate, args.tokens, args.json, repeat=repeat
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ollama_tui.bench.ui")
    parser.add_argument(
        "--transports",
        type=transport_list,
        default=ALL_TRANSPORTS,
        metavar="LIST",
        help=f"comma list (default {','.join(ALL_TRANSPORTS)})",
    )
    parser.add_argument("--json", metavar="PATH", help="write the runs to PATH as JSON")
    parser.add_argument(
        "--repeat",
        type=positive_int,
        default=1,
        metavar="K",
        help="each cell K times, transports rotated, then the median of each figure",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


def __getattr__(name: str) -> object:
    # Older callers (the compare bench, tests/perf) import these from here.
    if name in ("quit_app", "Server", "make_reply", "startup_time"):
        from ollama_tui.bench import ui_headless

        return getattr(ui_headless, name)
    raise AttributeError(name)


if __name__ == "__main__":
    sys.exit(main())
