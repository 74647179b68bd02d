from hypothesis import given
from hypothesis import strategies as st

from ollama_tui.core.thinking import Routed, ThinkTagSplitter


def route(fragments: list[str]) -> tuple[str, str]:
    splitter = ThinkTagSplitter()
    parts = [splitter.feed(f) for f in fragments] + [splitter.flush()]
    return "".join(p.thinking for p in parts), "".join(p.content for p in parts)


def test_qwen3_style_tags_one_per_chunk() -> None:
    chunks = ["<think>", "\n", "Let me", " think", "\n", "</think>", "\n\n", "The", " answer"]
    assert route(chunks) == ("\nLet me think\n", "The answer")


def test_tags_split_across_chunks() -> None:
    assert route(["<th", "ink>why", " not</th", "ink>", "yes"]) == ("why not", "yes")


def test_no_tags_means_all_content_at_once() -> None:
    splitter = ThinkTagSplitter()
    assert splitter.feed("Hello") == Routed(content="Hello")
    assert splitter.feed(" <think> later is text") == Routed(content=" <think> later is text")


def test_unclosed_thinking_is_kept_as_thinking() -> None:
    assert route(["<think>", "still going </thi"]) == ("still going </thi", "")


@given(st.text(alphabet="<>/thinkab \n", max_size=30), st.text(max_size=30), st.data())
def test_any_split_gives_the_same_result(thought: str, answer: str, data: st.DataObject) -> None:
    text = f"<think>{thought.replace('</think>', '')}</think>{answer}"
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=8)))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    assert route(pieces) == route([text])
