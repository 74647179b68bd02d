"""Route `<think>…</think>` inlined in content to the thinking channel.

Reasoning models run without `think` (or behind an older Ollama) put their
reasoning inside `message.content`, wrapped in `<think>` tags, often one tag per
chunk. This splitter works fragment by fragment and holds back only what could be
the start of a tag, so text is never delayed by more than a few characters.
"""

from __future__ import annotations

from dataclasses import dataclass

OPEN = "<think>"
CLOSE = "</think>"


@dataclass(frozen=True, slots=True)
class Routed:
    thinking: str = ""
    content: str = ""


class ThinkTagSplitter:
    """Only a `<think>` at the very start of a reply (after whitespace) opens thinking."""

    __slots__ = ("_held", "_state")

    def __init__(self) -> None:
        self._state = "start"  # start → thinking → after → answer, or start → answer
        self._held = ""

    def feed(self, fragment: str) -> Routed:
        text = self._held + fragment
        self._held = ""
        if self._state == "start":
            stripped = text.lstrip()
            if not stripped:
                self._held = text
                return Routed()
            if stripped.startswith(OPEN):
                self._state = "thinking"
                text = stripped[len(OPEN) :]
            elif OPEN.startswith(stripped):
                self._held = text
                return Routed()
            else:
                self._state = "answer"
                return Routed(content=text)
        if self._state == "thinking":
            end = text.find(CLOSE)
            if end >= 0:
                self._state = "after"
                rest = self.feed(text[end + len(CLOSE) :])
                return Routed(thinking=text[:end], content=rest.content)
            keep = _partial_suffix(text, CLOSE)
            self._held = text[len(text) - keep :] if keep else ""
            return Routed(thinking=text[: len(text) - keep])
        if self._state == "after":
            # The newlines between </think> and the answer belong to neither.
            text = text.lstrip("\n")
            if text:
                self._state = "answer"
        return Routed(content=text)

    def flush(self) -> Routed:
        """The end of the reply: whatever was held back is what it looked like."""
        held, self._held = self._held, ""
        if self._state == "thinking":
            return Routed(thinking=held)
        return Routed(content=held)


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of `text` that is a proper start of `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0
