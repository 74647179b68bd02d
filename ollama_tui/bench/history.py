"""Time the history store on a large database: python -m ollama_tui.bench.history

Builds (once; --dir keeps it for later runs) a database of 10,000 conversations with
500,000 messages in total (200 conversations in Chinese, written without spaces), plus
one long conversation of 50 replies and 500,000 characters, then times what the app
does with it: open, the first page of the list, searches (a rare, a middling and a very
common word, a title word, hostile text, prefixes of 1 to 5 letters as typed, CJK words
and a mixed query), and loading the long conversation. The figures are in
docs/history.md.

The bulk rows are written with the version 1 schema in one executemany transaction,
then `History.open` migrates the database to the latest version, so the run also times
the backfills (indexing every message for full-text search, with its prefix index and
CJK column). The sizes printed are from SQLite's dbstat: the tables, their indexes and
the full-text indexes.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ollama_tui.history.schema import migrate
from ollama_tui.history.store import DB_NAME, History

RARE = "zanzibarite"  # in one message of every 5,000
CLUSTERED = "lanternfish"  # in every message of the 120 newest bulk conversations: 6,000
LONG_TITLE = "The long conversation about lighthouses"
CJK_EVERY = 50
"""One bulk conversation in CJK_EVERY is in Chinese (no spaces): 200 of 10,000."""
CJK_WORD = "汉字"  # in one Chinese message of every 50 (its characters are nowhere else)
# Common characters for the Chinese conversations' made-up words ("的" is a word of
# its own, the most common, as in real text); 汉 and 字 are left out.
HANZI = (
    "我你他她们这那是不了在有人来到时大地为上个国中说要和就出也得里后自以会家可下而过天"
    "去能对小多然于心学么之都好看起发当没成只如事把还用第样道想作种开美总从无情己面最女"
    "但现前些所同日手又行意动方期它头经长儿回位分爱老因很给名法间知世什两次使身者被高已"
    "亲其进此话常与活正感见明问力理尔点文几定本公特做外孩相西果走将月十实向声车全信重三"
    "机工物气每并别真打太新比才便夫再书部水像眼等体却加电主界门利海受听表德少克代员许"
    "编程语言数据模型服务器代码函数变量"
)


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "su", "ra", "to", "vi", "de", "po", "an", "el", "or"]
    words = {"the", "and", "model", "python", "server", "token"}
    while len(words) < size:
        words.add("".join(rng.choices(syllables, k=rng.randint(1, 4))))
    return sorted(words, key=lambda w: (len(w), w))  # not set order: hash-seeded


def _text_pool(rng: random.Random, words: int) -> list[str]:
    vocab = _vocabulary(rng, 20_000)
    # Zipf-like: the shortest words are the most common, as in prose.
    weights = [1 / (rank + 1) for rank in range(len(vocab))]
    return rng.choices(vocab, weights, k=words)


def _chinese_pool(rng: random.Random, words: int) -> list[str]:
    vocab = {"的", "编程", "语言", "数据", "模型", "服务器", "代码"}
    while len(vocab) < 3000:
        vocab.add("".join(rng.choices(HANZI, k=rng.randint(1, 3))))
    ranked = sorted(vocab, key=lambda w: (len(w), w))
    ranked.remove("的")
    ranked.insert(0, "的")
    weights = [1 / (rank + 1) for rank in range(len(ranked))]
    return rng.choices(ranked, weights, k=words)


def _chinese(rng: random.Random, pool: list[str], words: list[str], n: int) -> list[str]:
    """A Chinese message as long as `words` (in words), with no spaces but after an
    English word now and then (as in "用 Python 写"), as one "word"."""
    at = rng.randrange(len(pool) - len(words))
    text = ""
    for k, word in enumerate(pool[at : at + len(words)]):
        text += word + ("，" if k % 7 == 6 else "")
        if k % 23 == 11:
            text += " python "
    if n % CJK_EVERY == 0:
        text += CJK_WORD + "很难。"
    return [text + "。"]


def _messages(
    rng: random.Random, pool: list[str], conversations: int, per: int, start: float
) -> Iterator[tuple[Any, ...]]:
    chinese = _chinese_pool(rng, 200_000)
    n = 0
    for cid in range(1, conversations + 1):
        for i in range(per):
            role = "user" if i % 2 == 0 else "assistant"
            length = rng.randint(5, 25) if role == "user" else rng.randint(30, 120)
            at = rng.randrange(len(pool) - length)
            words = pool[at : at + length]
            n += 1
            if cid % CJK_EVERY == CJK_EVERY // 2:
                words = _chinese(rng, chinese, words, n)
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


def _pad(text: str, width: int) -> str:
    """`text` padded to `width` terminal columns (a CJK character takes two)."""
    wide = sum(unicodedata.east_asian_width(ch) in "WF" for ch in text)
    return text + " " * max(0, width - len(text) - wide)


def index_sizes(conn: sqlite3.Connection) -> str:
    """Megabytes of the tables, of their indexes and of the full-text indexes."""
    sizes: dict[str, float] = {}
    for name, kind, size in conn.execute(
        "SELECT s.name, m.type, sum(s.pgsize) FROM dbstat s"
        " LEFT JOIN sqlite_master m ON m.name = s.name GROUP BY s.name"
    ):
        part = "full-text" if "_fts" in name else "indexes" if kind == "index" else "tables"
        sizes[part] = sizes.get(part, 0.0) + size / 1e6
    return "  ".join(f"{part} {mb:.0f} MB" for part, mb in sorted(sizes.items()))


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
        print(index_sizes(conn))
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
            ("search('k') one letter", lambda: history.search("k")),
            ("search('kal') three letters", lambda: history.search("kal")),
            ("search('pyth') prefix of a middling word", lambda: history.search("pyth")),
            ("search('lante') prefix, clustered", lambda: history.search("lante")),
            ("search('zanzi') prefix of a rare word", lambda: history.search("zanzi")),
            ("search('the mod') two words, last typed", lambda: history.search("the mod")),
            (f"search('{CJK_WORD}') CJK, 200 messages", lambda: history.search(CJK_WORD)),
            ("search('的') CJK, one common character", lambda: history.search("的")),
            ("search('编程') CJK, common word", lambda: history.search("编程")),
            ("search('python 编程') mixed", lambda: history.search("python 编程")),
            ("search('lighthouses') title word", lambda: history.search("lighthouses")),
            ("search('\"( AND * -') hostile", lambda: history.search('"( AND * -')),
            ("load(long conversation)", lambda: history.load(long_id)),
        ]
        print(f"{'':44} {'first':>8} {'median':>8} {'max':>8}  (ms; {args.repeat} runs)")
        for name, fn in cases:
            first, median, worst, result = _time(fn, args.repeat)
            extra = f"  {len(result)} results" if isinstance(result, list) else ""
            print(f"{_pad(name, 44)} {first:8.1f} {median:8.1f} {worst:8.1f}{extra}")
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
