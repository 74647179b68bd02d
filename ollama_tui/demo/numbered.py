"""Numbered replies and send stamps, for measuring what reaches a terminal.

:func:`numbered_reply` builds a reply whose words are markers ``w00001``, ``w00002``, …:
each unique, short enough never to be cut by wrapping (a wrap happens at a space), and
made only of letters and digits, so Markdown renders them as they are (inside emphasis,
code spans and a highlighted code fence too). The shape keeps its Markdown character:

- ``prose``: sections of a heading, a paragraph with emphasis and a code span, a list;
- ``code-fence``: one fenced Python block of short lines (no line is clipped at 120 columns);
- ``paragraph``: one paragraph of sentences, no blank line.

With ``DemoConfig.stamp_file`` set, the server records ``time.perf_counter()`` right after
each content token was handed to the socket, and once the reply has streamed writes them
to that file (:func:`write_stamps`, replaced atomically): the stamps travel out of band,
never in the reply. On Linux ``perf_counter()`` is ``clock_gettime(CLOCK_MONOTONIC)``
(``time.get_clock_info("perf_counter")`` says so), one clock for every process on the
machine, so a reader in another process can subtract them from its own readings.

    python -m ollama_tui.demo.stamped --shape prose --tokens 2000 --rate 500 --stamps FILE

serves such a reply on 127.0.0.1 (a free port; the first line printed names the URL)
until SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator

from .replies import tokenize

SHAPES = ("prose", "code-fence", "paragraph")
DEFAULT_TOKENS = {"prose": 2_000, "code-fence": 3_000, "paragraph": 20_000}
"""Tokens (pieces the server sends) of each shape when no count is given."""


def _markers() -> Iterator[str]:
    for n in range(1, 100_000):
        yield f"w{n:05d}"
    raise ValueError("more than 99,999 markers: ask for fewer tokens")


def _words(source: Iterator[str], count: int) -> list[str]:
    return [next(source) for _ in range(count)]


def _sentences(source: Iterator[str], count: int, per_sentence: int = 12) -> str:
    words = _words(source, count)
    sentences = [" ".join(words[i : i + per_sentence]) for i in range(0, count, per_sentence)]
    return ". ".join(sentences) + "."


def _prose_section(source: Iterator[str]) -> str:
    heading = f"## Section {' '.join(_words(source, 3))}"
    before, bold, code, after = (
        _sentences(source, 18),
        next(source),
        next(source),
        _sentences(source, 18),
    )
    paragraph = f"{before} Then **{bold}** and `{code}`, {after}"
    items = "\n".join(f"- {' '.join(_words(source, 5))}" for _ in range(4))
    return f"{heading}\n\n{paragraph}\n\n{items}\n\n"


def _code_lines(source: Iterator[str]) -> str:
    a, b, c, d, e, f, g, h = _words(source, 8)
    return f"def {a}({b}, {c}):\n    {d} = {e} + {f} * 2\n    return {g}  # {h}\n\n"


def numbered_reply(shape: str, tokens: int | None = None) -> str:
    """A reply of at least `tokens` tokens (as :func:`~.replies.tokenize` cuts it)."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; choose from {', '.join(SHAPES)}")
    want = DEFAULT_TOKENS[shape] if tokens is None else tokens
    source = _markers()
    if shape == "paragraph":
        # A word a token, a period after every 12 words, the closing line break.
        return _sentences(source, max(1, round((want - 1) * 12 / 13))) + "\n"
    parts: list[str] = []
    count = 0
    while count < want:
        part = _prose_section(source) if shape == "prose" else _code_lines(source)
        parts.append(part)
        count += len(tokenize(part))
    if shape == "prose":
        return "".join(parts).rstrip("\n") + "\n"
    return "```python\n" + "".join(parts).rstrip("\n") + "\n```\n"


def write_stamps(path: str, stamps: list[tuple[float, str]]) -> None:
    """`{"clock": "perf_counter", "pieces": [[sent, text], ...]}`, replaced atomically."""
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump({"clock": "perf_counter", "pieces": stamps}, file)
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    from .config import DemoConfig
    from .server import run_standalone

    parser = argparse.ArgumentParser(prog="python -m ollama_tui.demo.stamped")
    parser.add_argument("--shape", choices=SHAPES, default="prose")
    parser.add_argument("--tokens", type=int, default=None)
    parser.add_argument("--rate", type=float, default=100.0, help="tokens per second")
    parser.add_argument("--stamps", required=True, metavar="FILE", help="send stamps go here")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    reply = numbered_reply(args.shape, args.tokens)
    config = DemoConfig(token_rate=args.rate, reply=reply, stamp_file=args.stamps)
    run_standalone("127.0.0.1", args.port, config)
    return 0
