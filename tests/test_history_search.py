"""Search as you type: words found by their first letters, CJK text found inside runs
written without spaces, mixed queries, the excerpt, the paths a search takes, and the
query's safety (a property test). Schema version 3 itself: test_history_schema.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ollama_tui.history import search
from ollama_tui.history.records import ConversationSummary
from ollama_tui.history.store import History
from ollama_tui.history.terms import GAP, cjk_column, first_match, fts_query, search_terms
from tests.test_history import Clock, conversation


def open_history(data_dir: Path) -> History:
    h, warning = History.open(data_dir, clock=Clock())
    assert warning is None
    return h


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    h = open_history(tmp_path / "data")
    yield h
    h.close()


def ids(found: list[ConversationSummary]) -> list[int]:
    return [s.id for s in found]


def check_indexes(h: History) -> None:  # FTS5's own check: each index matches its table
    for table in ("messages_fts", "conversations_fts"):
        h._conn.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)")


# -- prefixes ----------------------------------------------------------------------------


def test_the_word_being_typed_matches_by_its_start(history: History) -> None:
    sockets = conversation(history, "Networking", "How do sockets work?", "Through ports.")
    soup = conversation(history, "Dinner", "A recipe for soup", "Simmer it.")
    for typed in ("s", "so", "soc", "sock", "socke", "sockets", "SOCK"):
        assert sockets in ids(history.search(typed)), typed
    assert ids(history.search("sock")) == [sockets]
    assert ids(history.search("so")) == [soup, sockets]
    assert history.search("ockets") == []  # the start of a word, not its middle
    assert history.search("socketsx") == []
    assert ids(history.search("netw")) == [sockets]  # titles too


def test_every_word_must_match_and_each_is_a_prefix(history: History) -> None:
    both = conversation(history, "One", "Socket programming in Python")
    apart = conversation(history, "Two", "Python programming", "A socket? No.")
    assert ids(history.search("sock prog")) == [both]  # the earlier word is a prefix too
    assert ids(history.search("prog pyth")) == [apart, both]
    assert ids(history.search("python sock")) == [both]  # in any order
    assert history.search("sock rust") == []  # every word, in one message (or the title)
    assert ids(history.search("one pyth")) == []  # the title or a message, not both
    assert ids(history.search("one")) == [both]


def test_the_excerpt_shows_the_prefix_where_a_word_starts_with_it(history: History) -> None:
    text = "The unsocketed lamp. " + "filler " * 30 + "Sockets carry the data." + " more" * 30
    conversation(history, "Lamps", text)
    (hit,) = history.search("sock")
    assert hit.snippet is not None and "Sockets carry" in hit.snippet  # not "unsocketed"
    conversation(history, "Café", "Notes. " + "x " * 60 + "Un café très crémeux")
    (hit,) = history.search("cafe crem")
    assert hit.snippet is not None and "café très crémeux" in hit.snippet  # accents ignored


def test_the_excerpt_pattern_keeps_matches_where_a_word_starts() -> None:
    pattern = search._terms_pattern(["SOCK", "汉字", "don't", "École"])
    starts = {
        text: (found.start(), found.group()) if (found := first_match(pattern, text)) else None
        for text in ("unsocketed Sockets", "xsock", "_sock", "用sock", "I DON'T", "ecole", "为汉字")
    }
    assert starts == {
        "unsocketed Sockets": (11, "Sock"),
        "xsock": None,
        "_sock": (1, "sock"),  # "_" is not part of a word to the tokenizer
        "用sock": (1, "sock"),  # a word of its own in the CJK column
        "I DON'T": (2, "DON'T"),
        "ecole": (0, "ecole"),
        "为汉字": (1, "汉字"),
    }


# -- CJK text ----------------------------------------------------------------------------


def test_cjk_text_is_found_inside_a_run_without_spaces(history: History) -> None:
    cid = conversation(history, "Chat", "我喜欢汉字和编程")
    for typed in ("汉字", "汉", "字和编", "我喜欢汉字和编程", "喜欢", "程"):
        assert ids(history.search(typed)) == [cid], typed
    assert history.search("汉编") == []  # the characters, side by side
    assert history.search("汉字很") == []
    assert history.search("我喜欢汉字和编程呢") == []


def test_cjk_chunks_far_apart_are_not_side_by_side(history: History) -> None:
    cid = conversation(history, "Chat", "汉字 is hard, 编程 is fun，中文，很好")
    assert history.search("字编") == []  # other words stood between them
    assert ids(history.search("汉字 编程")) == [cid]
    assert ids(history.search("文很")) == [cid]  # only punctuation between: side by side
    assert cjk_column("汉字 is hard, 编程 is fun") == f"汉 字 {GAP} 编 程"
    assert cjk_column("no CJK here") is None


def test_japanese_and_korean_and_cjk_titles(history: History) -> None:
    japanese = conversation(history, "日本語の勉強", "ひらがなとカタカナを覚える")
    korean = conversation(history, "Korean", "한국어를 배우고 있어요")
    assert ids(history.search("勉強")) == [japanese]  # in the title
    assert ids(history.search("カタカナ")) == [japanese]
    assert ids(history.search("한국어")) == [korean]  # inside 한국어를
    (hit,) = history.search("覚え")
    assert hit.snippet == "ひらがなとカタカナを覚える"


def test_mixed_queries(history: History) -> None:
    mixed = conversation(history, "Code", "用Python写代码很有意思", "Sockets 和 ports")
    plain = conversation(history, "Other", "Python is fun")
    assert ids(history.search("python")) == [plain, mixed]  # also next to CJK characters
    assert ids(history.search("pyth 代码")) == [mixed]
    assert ids(history.search("用python写")) == [mixed]
    assert ids(history.search("Python写代")) == [mixed]
    assert ids(history.search("sock 和")) == [mixed]
    assert history.search("python 汉字") == []
    (hit,) = history.search("写代码")
    assert hit.snippet == "用Python写代码很有意思"
    pattern = search._terms_pattern(["pyth", "写代码"])
    assert [m.group() for m in pattern.finditer("用Python写代码")] == ["Pyth", "写代码"]


def test_cjk_search_follows_updates_renames_and_deletes(history: History) -> None:
    cid = conversation(history, "Draft", "问题")
    reply = history.add_message(cid, role="assistant", content="部分", complete=False)
    assert ids(history.search("部分")) == [cid]
    history.update_message(reply, content="完整的回答", complete=True)
    assert history.search("部分") == [] and ids(history.search("回答")) == [cid]
    history.rename(cid, "汉字练习")
    assert ids(history.search("练习")) == [cid] and history.search("Draft") == []
    history.update_message(reply, content="no CJK now", complete=True)
    assert history.search("回答") == []
    check_indexes(history)
    history.delete(cid)
    assert history.search("问题") == [] and history.search("练习") == []
    check_indexes(history)


# -- how the search runs -----------------------------------------------------------------


def test_which_queries_are_read_in_one_pass() -> None:
    def merges(text: str) -> bool:
        return search._merges(search_terms(text))

    assert search.INDEXED_PREFIX == 4
    assert not merges("s") and not merges("sock") and merges("socke")
    assert merges("socke a") and not merges("so a")
    assert not merges("汉字和编程") and not merges("don't") and not merges("编程python写")
    assert merges("编程python") and not merges("编程pyth")


@pytest.mark.parametrize(
    ("indexed", "budget", "misses", "one_pass"),
    [
        (0, 2, 0, 0),
        (3, 0, 0, 0),
        (3, 2, 1, 0),
        (3, 1000, 2, 0),
        (100, 1000, 1000, 0),
        (3, 2, 1, 99),
    ],
)
def test_one_pass_and_probes_give_the_same_results(
    history: History,
    monkeypatch: pytest.MonkeyPatch,
    indexed: int,
    budget: int,
    misses: int,
    one_pass: int,
) -> None:
    """Whatever path a query takes (one pass for long prefixes or few hits, the scan,
    the walk, the skip scan at any point of it) the answer is the one that reading
    every hit gives."""
    ids_ = [
        conversation(
            history,
            f"Chat {n}",
            *[f"common words, part {k} 共同" for k in range(n % 3 + 1)],
            f"odd{n % 2}",
            # Common lately, rare before: the walk misses, then the skip scan runs.
            *(["zed", "zed zed"] if n in (0, 7) or n >= 15 else []),
        )
        for n in range(20)
    ]
    for cid in (ids_[3], ids_[0], ids_[11]):
        history.add_message(cid, role="user", content="back again")
    history.rename(ids_[5], "common title")
    queries = ["comm", "c", "par odd1", "odd0", "common tit", "agai", "共", "co 同", "zed", "ze"]
    expected = {q: history.search(q) for q in queries}
    expected_limited = {q: history.search(q, limit=4) for q in queries}
    assert ids(expected["comm"][:3]) == [ids_[11], ids_[0], ids_[3]]
    assert len(expected["共"]) == 20
    monkeypatch.setattr(search, "INDEXED_PREFIX", indexed)
    monkeypatch.setattr(search, "SEARCH_SCAN_LIMIT", 3)
    monkeypatch.setattr(search, "SEARCH_SKIP_BUDGET", budget)
    monkeypatch.setattr(search, "WALK_MISS_BUDGET", misses)
    monkeypatch.setattr(search, "ONE_PASS_HITS", one_pass)
    monkeypatch.setattr(search, "SORT_IDS", budget)  # both ways of listing the known ones
    for q in queries:
        assert history.search(q) == expected[q], q
        assert history.search(q, limit=4) == expected_limited[q], q


# -- safety --------------------------------------------------------------------------------

SYNTAX = [
    '"', '""', "'", "*", "-", "+", "^", ":", "(", ")", "{", "}", "[", "]", ",", ".", "\\",
    "AND", "OR", "NOT", "NEAR", "NEAR(", "content:", "content_cjk:", "title:", "rank",
    "\x00", "\t", "\n", " ", "　", GAP, "sock", "汉字", "é", "ǅ", "ß", "x²", "🙂", "\u0301",
]  # fmt: skip
syntax_soup = st.lists(st.sampled_from(SYNTAX) | st.text(max_size=4), max_size=12)
hostile_text = syntax_soup.map("".join) | st.text(max_size=60)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[History, set[int]]]:
    h = open_history(tmp_path_factory.mktemp("data"))
    known = {
        conversation(h, "Menu", "fish and chips, NOT peas (content: none) * - ^"),
        conversation(h, "Sockets", 'A "socket" is one end; "port" AND address'),
        conversation(h, "汉字", "我喜欢汉字和编程, 用Python写代码"),
        conversation(h, "Café", "Un café très crémeux: ǅemal ß x² 🙂"),
    }
    yield h, known
    h.close()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=hostile_text)
def test_any_text_is_a_safe_query(shared: tuple[History, set[int]], text: str) -> None:
    h, known = shared
    found = h.search(text)  # never an sqlite3 error
    assert {s.id for s in found} <= known
    query = fts_query(text)
    assert (query is None) == (found == [] and not search_terms(text))
    if query is not None:
        assert query.startswith('"') and query.endswith("*")
        assert "\x00" not in query


WORDS = ["sockets", "programming", "crémeux", "straße", "Lighthouse", "x²"]
CJK_TEXT = "我喜欢汉字和编程，也喜欢日本語とひらがな，한국어도"


@pytest.fixture(scope="module")
def words(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[History, int]]:
    h = open_history(tmp_path_factory.mktemp("data"))
    cid = conversation(h, "Words", " ".join(WORDS) + " " + CJK_TEXT)
    conversation(h, "Other", "nothing to see")
    yield h, cid
    h.close()


@settings(max_examples=150, deadline=None)
@given(word=st.sampled_from(WORDS), length=st.integers(1, 12), upper=st.booleans())
def test_any_start_of_a_word_finds_it(
    words: tuple[History, int], word: str, length: int, upper: bool
) -> None:
    h, cid = words
    # Upper case where it is one letter (Python's "ß".upper() is "SS", another word).
    typed = "".join(c.upper() if upper and len(c.upper()) == 1 else c for c in word[:length])
    assert cid in ids(h.search(typed)), typed


@settings(max_examples=150, deadline=None)
@given(start=st.integers(0, len(CJK_TEXT) - 1), length=st.integers(1, 8))
def test_any_cjk_substring_finds_it(words: tuple[History, int], start: int, length: int) -> None:
    h, cid = words
    typed = CJK_TEXT[start : start + length]
    if any(ch.isalnum() for ch in typed):
        assert ids(h.search(typed)) == [cid], typed


# -- a reply being written (schema version 6) -------------------------------------------


def test_a_streaming_reply_is_indexed_once_it_ends_not_at_each_save(history: History) -> None:
    cid = conversation(history, "Draft", "question")
    reply = history.add_message(
        cid, role="assistant", content="early", complete=False, streaming=True
    )
    history.update_message(reply, content="early words", complete=False, streaming=True)
    assert history.search("early") == []  # (saved every second: not indexed each time)
    # Its end (a stop: still incomplete) is the save that indexes it, as it stands.
    history.update_message(reply, content="early words stopped", complete=False)
    assert ids(history.search("early stopped")) == [cid]
    check_indexes(history)
    # Written again as a stream (another instance indexed it at its opening): taken out.
    history.update_message(reply, content="early words again", complete=False, streaming=True)
    assert history.search("early") == [] and history.search("again") == []
    history.delete(cid)  # a row out of the index is deleted without touching it
    check_indexes(history)
    assert history.search("question") == []


def test_a_reply_left_streaming_is_indexed_at_the_next_opening(tmp_path: Path) -> None:
    h = open_history(tmp_path / "data")
    cid = conversation(h, "Killed", "question")
    h.add_message(cid, role="assistant", content="cut short", complete=False, streaming=True)
    assert h.search("short") == []
    h.close()
    h = open_history(tmp_path / "data")
    assert ids(h.search("short")) == [cid]
    assert h.load(cid).messages[1].complete is False
    check_indexes(h)
    h.close()
