"""`ollama-tui bench`: the four transports at the wire, alone and under concurrency.

For each transport and each concurrency level, a fresh worker process streams from
the built-in server (itself a separate process) or from `--host`, and reports time to
first chunk/token, total time, aggregate tokens/s, client CPU per 1,000 chunks, peak
RSS and errors; the same is measured for the shortest bare loop of each library, for
reference. Output: Rich tables and a plotext chart on stdout, `--json` and `--csv`
files. A quick request checks the server and the model before any cell runs. With
`--api openai` the cells stream Server-Sent Events from `<server>/v1/chat/completions`
instead of Ollama's NDJSON; `--api both` runs every cell once over each, alternating.

Only `argparse` and the small options module are imported here: the CLI imports this
package to build its parser, and must stay quick.
"""

from __future__ import annotations

import argparse

from ollama_tui.bench.options import (
    ALL_TRANSPORTS,
    API_CHOICES,
    DEFAULT_FIRST_TOKEN_DELAY,
    DEFAULT_LEVELS,
    DEFAULT_MAX_TOKENS,
    DEFAULT_PROMPT,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_REPEAT,
    DEFAULT_REQUESTS,
    DEFAULT_TOKEN_RATE,
    OLLAMA,
    PRESETS,
    level_list,
    non_negative,
    positive,
    positive_int,
    transport_list,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Stream from the built-in server (started as a subprocess) or a real Ollama with each "
        "transport and with the bare libraries, 1 and N streams at once, one fresh process "
        "per cell, and print latency, throughput, CPU and memory figures, and a chart."
    )
    parser.add_argument(
        "--transports",
        type=transport_list,
        default=ALL_TRANSPORTS,
        metavar="LIST",
        help=f"comma list (default {','.join(ALL_TRANSPORTS)})",
    )
    parser.add_argument(
        "--concurrency",
        type=level_list,
        default=None,  # None, not the default, so that --preset can tell it was not given
        metavar="LIST",
        help=f"streams at once, a comma list (default {','.join(map(str, DEFAULT_LEVELS))})",
    )
    parser.add_argument(
        "--requests",
        type=positive_int,
        default=DEFAULT_REQUESTS,
        metavar="N",
        help="streams per client and level, split over the --repeat runs; every run has at "
        f"least one stream per concurrent stream (default {DEFAULT_REQUESTS})",
    )
    parser.add_argument(
        "--repeat",
        type=positive_int,
        default=None,
        metavar="K",
        help="run every cell K times, in a rotated order, and pool the results "
        f"(default {DEFAULT_REPEAT}); with --ui, each cell K times (default 1), transports "
        "rotated, then the median of each figure",
    )
    # SUPPRESS: --api and --api-key-env also exist on the main parser
    # (`ollama-tui --api openai bench`); a default here would overwrite the value given there.
    parser.add_argument(
        "--api",
        choices=API_CHOICES,
        default=argparse.SUPPRESS,
        help="the wire API: Ollama's own (NDJSON, the default), the OpenAI-compatible "
        "<server>/v1/chat/completions (Server-Sent Events), or both: every cell once per "
        "API, alternating",
    )
    parser.add_argument(
        "--api-key-env",
        default=argparse.SUPPRESS,
        metavar="NAME",
        help="the environment variable holding the /v1 API key (default OPENAI_API_KEY)",
    )
    parser.add_argument(
        "--endpoint",
        choices=("generate", "chat"),
        default=None,
        help="/api/generate (default) or /api/chat; --api ollama only (/v1 has one)",
    )
    parser.add_argument("--prompt", default=DEFAULT_PROMPT, help="the prompt of every request")
    parser.add_argument(
        "--max-tokens",
        type=int,
        default=DEFAULT_MAX_TOKENS,
        metavar="N",
        help=f"options.num_predict of every request, 0 for no limit (default {DEFAULT_MAX_TOKENS})",
    )
    # SUPPRESS: --host and --model also exist on the main parser (`ollama-tui --host X bench`);
    # a default here would overwrite the value given there.
    parser.add_argument(
        "--host",
        default=argparse.SUPPRESS,
        metavar="URL",
        help="bench a running server (a real Ollama) instead of the built-in one",
    )
    parser.add_argument(
        "--model",
        default=argparse.SUPPRESS,
        metavar="NAME",
        help='model to request (default "demo"; required with --host)',
    )
    # Its own dest: the main parser's --read-timeout defaults to 600 s, far too long for
    # a bench, and would otherwise shadow this default.
    parser.add_argument(
        "--read-timeout",
        dest="bench_read_timeout",
        type=positive,
        default=None,
        metavar="S",
        help="longest silence from the server before a stream counts as failed "
        f"(default {DEFAULT_READ_TIMEOUT:g})",
    )
    parser.add_argument(
        "--token-rate",
        type=non_negative,
        default=DEFAULT_TOKEN_RATE,
        metavar="N",
        help=f"built-in server: tokens per second per stream (default {DEFAULT_TOKEN_RATE:g})",
    )
    parser.add_argument(
        "--first-token-delay",
        type=non_negative,
        default=DEFAULT_FIRST_TOKEN_DELAY,
        metavar="S",
        help="built-in server: seconds before the first token "
        f"(default {DEFAULT_FIRST_TOKEN_DELAY:g})",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results to PATH as JSON")
    parser.add_argument(
        "--csv",
        metavar="PATH",
        help="also write the results to PATH as CSV, one row per client and level",
    )
    parser.add_argument(
        "--no-chart",
        action="store_true",
        help="no terminal chart of TTFC p50 and tokens/s against concurrency (drawn when the "
        "sweep has two levels or more)",
    )
    parser.add_argument(
        "--preset",
        choices=tuple(PRESETS),
        help="; ".join(f"{p.name}: {p.summary}" for p in PRESETS.values()),
    )
    parser.add_argument(
        "--no-baselines", action="store_true", help="skip the bare-library reference rows"
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="write a cProfile of each cell's streaming phase to DIR (inflates CPU figures)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress display on stderr")


def run(args: argparse.Namespace) -> int:
    """Run the bench as parsed by `add_arguments`; returns the exit status."""
    import sys

    from ollama_tui.bench.options import BenchOptions
    from ollama_tui.bench.runner import run_bench

    try:
        options = BenchOptions.from_args(args)
    except ValueError as exc:
        print(f"ollama-tui bench: {exc}", file=sys.stderr)
        return 2
    if args.endpoint and OLLAMA not in options.apis:
        print(
            f"ollama-tui bench: --endpoint {args.endpoint} is ignored: it chooses between "
            "Ollama's /api/generate and /api/chat, and --api openai always sends "
            "/v1/chat/completions",
            file=sys.stderr,
        )
    return run_bench(options)


__all__ = ["add_arguments", "run"]
