"""The bench's settings as one dataclass, read from the parsed command line."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

# Kept here (not imported from ollama_tui.transports) so `add_arguments` stays cheap.
ALL_TRANSPORTS = ("requests", "httpx-sync", "httpx-async", "aiohttp")
DEFAULT_LEVELS = (1, 16, 64, 256)
DEFAULT_REQUESTS = 20
DEFAULT_REPEAT = 2
DEFAULT_TOKEN_RATE = 100.0
DEFAULT_FIRST_TOKEN_DELAY = 0.0
DEFAULT_MAX_TOKENS = 50
DEFAULT_PROMPT = "Tell me about streaming."  # the demo's longest reply (~450 tokens)
DEFAULT_MODEL = "demo"
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"

OLLAMA = "ollama"
"""Ollama's own API: /api/generate or /api/chat, NDJSON replies."""
OPENAI = "openai"
"""The OpenAI-compatible API: <server>/v1/chat/completions, Server-Sent Events."""
BOTH = "both"
API_CHOICES = (OLLAMA, OPENAI, BOTH)
WIRE_NAMES = {OLLAMA: "NDJSON", OPENAI: "SSE"}

SINGLE = "single"
"""Stage name: each client streams once, alone (the seed preset's first part)."""
SWEEP = "sweep"
"""Stage name: the concurrency sweep, i.e. every cell of an ordinary run."""


@dataclass(frozen=True, slots=True)
class Preset:
    """Named defaults; flags given on the command line still win."""

    name: str
    summary: str
    """What it sets, for --help."""
    single_stream_first: bool = False
    levels: tuple[int, ...] | None = None
    endpoint: str | None = None
    read_timeout: float | None = None


PRESETS = {
    "seed": Preset(
        "seed",
        "the published experiment: each transport streams once alone (1 request at "
        "concurrency 1, no repetition), then the sweep --concurrency 1,16,64,256 with the "
        "default --requests and --repeat; --endpoint generate; --read-timeout 600 (streams "
        "that Ollama queues behind its parallel slots wait in silence). Flags given "
        "explicitly override these (--concurrency, --requests and --repeat apply to the sweep)",
        single_stream_first=True,
        levels=(1, 16, 64, 256),
        endpoint="generate",
        read_timeout=600.0,
    ),
}


@dataclass(frozen=True, slots=True)
class BenchOptions:
    transports: tuple[str, ...] = ALL_TRANSPORTS
    levels: tuple[int, ...] = DEFAULT_LEVELS
    requests: int = DEFAULT_REQUESTS
    repeat: int = DEFAULT_REPEAT
    endpoint: str = "generate"
    prompt: str = DEFAULT_PROMPT
    model: str = DEFAULT_MODEL
    max_tokens: int | None = DEFAULT_MAX_TOKENS
    host: str | None = None
    """A running server (a real Ollama); None starts the built-in one."""
    token_rate: float = DEFAULT_TOKEN_RATE
    first_token_delay: float = DEFAULT_FIRST_TOKEN_DELAY
    baselines: bool = True
    json_path: str | None = None
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    profile_dir: str | None = None
    progress: bool = True
    csv_path: str | None = None
    chart: bool = True
    """Draw TTFC p50 and throughput against concurrency when the sweep has several levels."""
    preset: str | None = None
    single_stream_first: bool = False
    """Before the sweep, run each client once with one stream (stage "single")."""
    api: str = OLLAMA
    """OLLAMA, OPENAI, or BOTH: every cell once per API, the two alternating."""
    api_key_env: str = DEFAULT_API_KEY_ENV
    """The environment variable holding the /v1 API key (sent as a bearer token)."""

    @property
    def apis(self) -> tuple[str, ...]:
        """The wire APIs of the run, in the order each cell runs them."""
        return (OLLAMA, OPENAI) if self.api == BOTH else (self.api,)

    def per_stream(self, level: int) -> int:
        """Streams each of the `level` concurrent workers runs back to back in one run.

        `requests` is per client and level, split over the repetitions; every run has
        at least one stream per concurrent worker.
        """
        per_run = math.ceil(self.requests / self.repeat)
        return max(1, math.ceil(per_run / level))

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> BenchOptions:
        host = getattr(args, "host", None)
        model = getattr(args, "model", None)
        if host and not model:
            raise ValueError("--host needs --model NAME (a model the server has installed)")
        if host:
            from ollama_tui.core.connection import parse_host  # here: the parser must stay cheap

            try:
                parse_host(host)  # malformed: a usage error now, not a traceback later
            except ValueError as exc:
                raise ValueError(f"--host {host!r}: {exc}") from None
        api = getattr(args, "api", None) or OLLAMA  # also on the main parser: maybe None
        if api not in API_CHOICES:
            raise ValueError(f"--api {api!r}: choose from {', '.join(API_CHOICES)}")
        max_tokens = args.max_tokens if args.max_tokens and args.max_tokens > 0 else None
        preset = PRESETS[args.preset] if args.preset else Preset("", "")
        return cls(
            transports=args.transports,
            # The parser leaves these at None when not given, so a preset can tell an
            # explicit flag (which wins) from a default.
            levels=_first(args.concurrency, preset.levels, DEFAULT_LEVELS),
            requests=args.requests,
            repeat=_first(args.repeat, DEFAULT_REPEAT),
            endpoint=_first(args.endpoint, preset.endpoint, "generate"),
            prompt=args.prompt,
            model=model or DEFAULT_MODEL,
            max_tokens=max_tokens,
            host=host,
            token_rate=args.token_rate,
            first_token_delay=args.first_token_delay,
            baselines=not args.no_baselines,
            json_path=args.json,
            connect_timeout=getattr(args, "connect_timeout", DEFAULT_CONNECT_TIMEOUT),
            read_timeout=_first(args.bench_read_timeout, preset.read_timeout, DEFAULT_READ_TIMEOUT),
            profile_dir=args.profile,
            progress=not args.no_progress,
            csv_path=args.csv,
            chart=not args.no_chart,
            preset=preset.name or None,
            single_stream_first=preset.single_stream_first,
            api=api,
            api_key_env=getattr(args, "api_key_env", None) or DEFAULT_API_KEY_ENV,
        )


def _first(*values: T | None) -> T:
    """The first value that is not None (the last one is the default and never None)."""
    for value in values:
        if value is not None:
            return value
    raise ValueError("no default")


def transport_list(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in ALL_TRANSPORTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown transport {', '.join(unknown) or '(none)'}; "
            f"choose from {','.join(ALL_TRANSPORTS)}"
        )
    return names


def level_list(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(dict.fromkeys(int(n) for n in text.split(",") if n.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma list of integers: {text!r}") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError(f"levels must be integers >= 1: {text!r}")
    return levels


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0 or math.isnan(value):
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def positive(text: str) -> float:
    value = non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be above zero: {text!r}")
    return value
