"""Find fenced code blocks in Markdown, for "copy the last code block"."""

from __future__ import annotations

from markdown_it import MarkdownIt

_parser = MarkdownIt("commonmark")


def code_blocks(markdown: str) -> list[str]:
    """The contents of every fenced or indented code block, in order."""
    return [
        token.content for token in _parser.parse(markdown) if token.type in ("fence", "code_block")
    ]
