"""Time the history store on a large database: python -m ollama_tui.bench.history

Builds (once; --dir keeps it for later runs) a database of 10,000 conversations with
500,000 messages in total, plus one long conversation of 50 replies and 500,000
characters, then times what the app does with it: open, the first page of the list,
searches (a rare, a middling and a very common word, a title word, hostile text), and
loading the long conversation. The figures are in docs/history.md.

The bulk rows are written with the version 1 schema in one executemany transaction,
then `History.open` migrates the database to the latest version, so the run also times
the version 2 backfill (indexing every message for full-text search).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ollama_tui.history.schema import migrate
from ollama_tui.history.store import DB_NAME, History

RARE = "zanzibarite"  # in one message of every 5,000
CLUSTERED = "lanternfish"  # in every message of the 120 newest bulk conversations: 6,000
LONG_TITLE = "The long conversation about lighthouses"


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "su", "ra", "to", "vi", "de", "po", "an", "el", "or"]
    words = {"the", "and", "model", "python", "server", "token"}
    while len(words) < size:
        words.add("".join(rng.choices(syllables, k=rng.randint(1, 4))))
    return sorted(words, key=len)


def _text_pool(rng: random.Random, words: int) -> list[str]:
    vocab = _vocabulary(rng, 20_000)
    # Zipf-like: the shortest words are the most common, as in prose.
    weights = [1 / (rank + 1) for rank in range(len(vocab))]
    return rng.choices(vocab, weights, k=words)


def _messages(
    rng: random.Random, pool: list[str], conversations: int, per: int, start: float
) -> Iterator[tuple[Any, ...]]:
    n = 0
    for cid in range(1, conversations + 1):
        for i in range(per):
            role = "user" if i % 2 == 0 else "assistant"
            length = rng.randint(5, 25) if role == "user" else rng.randint(30, 120)
            at = rng.randrange(len(pool) - length)
            words = pool[at : at + length]
            n += 1
            if n % 5000 == 0:
                words = [*words, RARE]
            if cid > conversations - 120:
                words = [*words, CLUSTERED]
            figures = (
                '{"ttfc": 0.05, "ttft": 0.2, "total": 3.1, "chunks": 90, "tokens": 88,'
                ' "tokens_per_s": 30.2}'
                if role == "assistant"
                else None
            )
            stats = '{"eval_count": 88, "eval_duration": 2900000000}' if figures else None
            created = start + cid * 3600 + i * 10
            yield (
                (cid << 32) + i + 1,
                cid,
                role,
                " ".join(words),
                "bench",
                "httpx-async",
                figures,
                stats,
                created,
            )


def build(path: Path, conversations: int, per: int, long_chars: int) -> dict[str, float]:
    """Write the bulk database at `path` (version 1 schema); return timings."""
    rng = random.Random(1)
    pool = _text_pool(rng, 2_000_000)
    start = time.time() - conversations * 3600 - 86_400
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    migrate(conn, target=1)
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO conversations (id, title, model, transport, settings, created_at,"
        " updated_at) VALUES (?, ?, 'bench', 'httpx-async', '{}', ?, ?)",
        (
            (cid, " ".join(rng.choices(pool, k=6)), start + cid * 3600, start + cid * 3600 + per)
            for cid in range(1, conversations + 1)
        ),
    )
    conn.executemany(
        "INSERT INTO messages (id, conversation_id, role, content, model, transport, figures,"
        " stats, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        _messages(rng, pool, conversations, per, start),
    )
    # Conversations are not only continued in the order they were started: 2% of them
    # (old ones too) were continued lately, so the newest page of the list holds old ids.
    revisited = rng.sample(range(1, conversations + 1), conversations // 50)
    recent = time.time() - 86_400
    conn.executemany(
        "UPDATE conversations SET updated_at = ? WHERE id = ?",
        ((recent + rng.random() * 80_000, cid) for cid in revisited),
    )
    # The long conversation, the newest of all: 50 prompts, 50 long replies.
    now = time.time()
    long_id = conversations + 1
    conn.execute(
        "INSERT INTO conversations (id, title, model, transport, settings, created_at,"
        " updated_at) VALUES (?, ?, 'bench', 'httpx-async', '{}', ?, ?)",
        (long_id, LONG_TITLE, now, now),
    )
    reply_chars = long_chars // 50
    for i in range(50):
        at = rng.randrange(len(pool) - reply_chars // 4)
        reply = " ".join(pool[at : at + reply_chars])[:reply_chars]
        conn.execute(
            "INSERT INTO messages (id, conversation_id, role, content, created_at)"
            " VALUES (?, ?, 'user', ?, ?)",
            ((long_id << 32) + 2 * i + 1, long_id, f"Tell me more, part {i}", now),
        )
        conn.execute(
            "INSERT INTO messages (id, conversation_id, role, content, model, transport,"
            " created_at) VALUES (?, ?, 'assistant', ?, 'bench', 'httpx-async', ?)",
            ((long_id << 32) + 2 * i + 2, long_id, reply, now),
        )
    conn.execute("COMMIT")
    inserted = time.perf_counter() - t0
    conn.close()
    return {"insert_s": inserted}


def churn(history: History, conversations: int) -> float:
    """Use the store as the app does (a prompt, then a reply saved as it grows, each
    write its own transaction), leaving the full-text index in its everyday shape of
    several segments rather than the single one a backfill leaves. Returns seconds."""
    t0 = time.perf_counter()
    for n in range(conversations):
        cid = history.create_conversation(title=f"Churn {n}", model="bench", transport="aiohttp")
        history.add_message(cid, role="user", content=f"question {n} about the model")
        mid = history.add_message(cid, role="assistant", content="", complete=False)
        text = ""
        for step in range(5):
            text += f" part {step} of the answer about servers and tokens"
            history.update_message(mid, content=text, complete=step == 4)
    return time.perf_counter() - t0


def _time(fn: Callable[[], object], repeat: int) -> tuple[float, float, float, object]:
    """(first, median, max) in milliseconds over `repeat` calls, and the last result."""
    times = []
    result: object = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times[0], statistics.median(times), max(times), result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="keep the database here (reused if present)")
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--per", type=int, default=50, help="messages per conversation")
    parser.add_argument("--long-chars", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--churn", type=int, default=50, help="conversations to write as the app does first"
    )
    args = parser.parse_args(argv)

    directory = args.dir or Path(tempfile.mkdtemp(prefix="history-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / DB_NAME
    try:
        if not path.exists():
            built = build(path, args.conversations, args.per, args.long_chars)
            print(f"insert (executemany, one transaction): {built['insert_s']:.1f} s")
            t0 = time.perf_counter()
            history, warning = History.open(directory)
            print(f"open + migrate to latest (FTS backfill): {time.perf_counter() - t0:.1f} s")
            assert warning is None, warning
            history.close()
        size = sum(f.stat().st_size for f in directory.glob(DB_NAME + "*")) / 1e6
        t0 = time.perf_counter()
        history, warning = History.open(directory)
        print(f"open: {(time.perf_counter() - t0) * 1000:.1f} ms  ({size:.0f} MB on disk)")
        assert warning is None, warning
        if args.churn:
            took = churn(history, args.churn)
            writes = args.churn * 8
            print(f"churn: {writes:,} writes in {took:.1f} s ({took / writes * 1000:.2f} ms each)")
        conn = history._conn
        (count,) = conn.execute("SELECT count(*) FROM messages").fetchone()
        (segments,) = conn.execute("SELECT count(DISTINCT segid) FROM messages_fts_idx").fetchone()
        print(f"{count:,} messages; message index in {segments} segments")
        long_id = history.search("lighthouses", limit=1)[0].id
        cases: list[tuple[str, Callable[[], object]]] = [
            ("list_conversations() first page (200)", lambda: history.list_conversations()),
            ("list_conversations(limit=50)", lambda: history.list_conversations(limit=50)),
            (f"search('{RARE}') rare word", lambda: history.search(RARE)),
            ("search('python') middling word", lambda: history.search("python")),
            (
                f"search('{CLUSTERED}') 6,000 hits, 120 convs",
                lambda: history.search(CLUSTERED),
            ),
            ("search('the') in most messages", lambda: history.search("the")),
            ("search('ka') a short common word", lambda: history.search("ka")),
            ("search('the model') two words", lambda: history.search("the model")),
            ("search('lighthouses') title word", lambda: history.search("lighthouses")),
            ("search('\"( AND * -') hostile", lambda: history.search('"( AND * -')),
            ("load(long conversation)", lambda: history.load(long_id)),
        ]
        print(f"{'':44} {'first':>8} {'median':>8} {'max':>8}  (ms; {args.repeat} runs)")
        for name, fn in cases:
            first, median, worst, result = _time(fn, args.repeat)
            extra = f"  {len(result)} results" if isinstance(result, list) else ""
            print(f"{name:44} {first:8.1f} {median:8.1f} {worst:8.1f}{extra}")
        conversation = history.load(long_id)
        reply = conversation.messages[-1]
        big = "".join(m.content for m in conversation.messages if m.role == "assistant")
        for label, text in (("10k-char reply", reply.content), ("500k-char reply", big)):
            first, median, worst, _ = _time(
                lambda text=text: history.update_message(  # type: ignore[misc]
                    reply.id, content=text + str(time.perf_counter()), complete=False
                ),
                args.repeat,
            )
            print(f"{'update_message(' + label + ')':44} {first:8.1f} {median:8.1f} {worst:8.1f}")
        history.update_message(reply.id, content=reply.content, complete=True)
        history.close()
    finally:
        if args.dir is None:
            shutil.rmtree(directory)


if __name__ == "__main__":
    main()
