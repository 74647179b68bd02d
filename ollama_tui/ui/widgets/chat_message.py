"""One turn of the transcript. Text from the model never passes through markup."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Markdown, Static

from ollama_tui.core.events import Done, Stopped, outcome
from ollama_tui.core.format import ReplyFigures
from ollama_tui.core.images import Attachment
from ollama_tui.core.sanitize import clean
from ollama_tui.core.waterfall import Waterfall
from ollama_tui.session.reply import ReplyUpdate
from ollama_tui.session.runner import End
from ollama_tui.ui import thumbnails
from ollama_tui.ui.widgets.figures_footer import FiguresFooter
from ollama_tui.ui.widgets.folding import (
    FrozenSegment,
    can_freeze,
    fold,
    freeze,
    laid_out,
    swap,
)
from ollama_tui.ui.widgets.markdown_feed import MarkdownFeed
from ollama_tui.ui.widgets.segment import segment

# Not exported by textual.widgets.markdown; the public block map names it.
MarkdownParagraph = Markdown.BLOCKS["paragraph_open"]


FREEZE_TRIES = 20
"""Frames a full segment waits to be laid out before it is frozen (then it stays live)."""

SEGMENT_BLOCKS = 8
"""A streaming answer moves on to a new Markdown widget after this many blocks (and the
full one is folded): every frame arranges every mounted block, so fewer live blocks make
each frame cheaper (40: 4.2 ms per frame to arrange on a real terminal, 8: 2.9)."""


def _boundary(text: str, room: int) -> int | None:
    """Where the `room`-th blank line of `text` ends, if it has that many."""
    end = 0
    for _ in range(room):
        found = text.find("\n\n", end)
        if found < 0:
            return None
        end = found + 2
    return end


FENCE_LINES = 24
"""A growing code block is re-highlighted and re-rendered whole on every append: past
this many lines, it continues as a new block in a new segment, so each append's cost
stays bounded (fence lag p95, docs/ui-performance.md: 80 lines 48 ms, 40 lines 34-40,
24 lines 26-32). The lexer restarts at each cut."""

_FENCE = re.compile(r"^```([^`\n]*)$", re.MULTILINE)


def _fence_cut(source: str, text: str) -> tuple[int, str] | None:
    """Where in `text` a fence passes FENCE_LINES lines (just after a line end), and the
    fence's opening line; None if no fence in `text` is that long.

    Only fences of three backticks at the start of a line are counted; anything else is
    left whole.
    """
    whole = source + text
    fences = list(_FENCE.finditer(whole))
    for index in range(0, len(fences), 2):
        opener = fences[index]
        end = fences[index + 1].start() if index + 1 < len(fences) else len(whole)
        position = opener.end()
        for _ in range(FENCE_LINES + 1):  # the opening line's end, then the code lines
            position = whole.find("\n", position, end) + 1
            if position == 0:
                break
        else:
            # Only a fence that goes on into the new text; if it passed the limit at the
            # very end of the last append (or before), it is cut where the new text starts.
            if position < end and end > len(source):
                return max(position - len(source), 0), opener.group(0)
    return None


PARAGRAPH_CHARS = 2000
"""A growing paragraph is re-parsed and re-wrapped whole on every append: past this many
characters, it continues as a new paragraph in a new segment, margins joined."""

_SENTENCE_ENDS = (". ", "! ", "? ", "。", "！", "？")
# A line that starts another block (list item, heading, quote, table, fence, setext
# underline): such a block is not one plain paragraph, and must not be cut.
_BLOCK_LINE = re.compile(r"\n {0,3}([-*+]\s|\d{1,9}[.)]\s|#|>|\||```|~~~|(-{3,}|={3,})\s*$)", re.M)
_MAX_TRIES = 64  # candidates examined per call: open markup can make them all fail
_NOT_PARAGRAPH = tuple("#`>|-*+ \t") + tuple("0123456789")


def _paragraph_cut(source: str, text: str) -> int | None:
    """Where in `text` a long trailing paragraph may be cut, if it is longer than
    PARAGRAPH_CHARS: after a sentence end (or, past 1.5× the size, any space), before a
    letter, with no code span, emphasis or link left open. None if it may not be cut.
    """
    whole = source + text
    start = whole.rfind("\n\n") + 2 if "\n\n" in whole else 0
    block = whole[start:]
    if len(block) < PARAGRAPH_CHARS or block.startswith(_NOT_PARAGRAPH):
        return None
    if not _between_blocks(whole[:start] or "\n\n"):
        return None  # inside a code fence
    if _BLOCK_LINE.search(block):
        return None  # a list, table or quote continues it: not a plain paragraph
    first = max(PARAGRAPH_CHARS, len(source) - start)
    for patient in (True, False):
        if not patient and len(block) < PARAGRAPH_CHARS * 1.5:
            return None
        tries = 0
        for index in range(first, len(block)):
            if not block[index].isalpha():
                continue
            if not block.endswith(_SENTENCE_ENDS if patient else " ", 0, index):
                continue
            tries += 1
            if tries > _MAX_TRIES:
                break
            head = block[:index]
            if head.count("`") % 2 or head.count("*") % 2 or head.count("**") % 2:
                continue
            if head.count("[") != head.count("]"):
                continue
            return start + index - len(source)
    return None


def _between_blocks(source: str) -> bool:
    """Whether `source` ends between two top-level blocks (not inside a code fence)."""
    fences = source.count("\n```") + source.startswith("```")
    return source.endswith("\n\n") and fences % 2 == 0


@dataclass(frozen=True, slots=True)
class ShownImage:
    """An image of a question, as the transcript shows it."""

    label: str
    """Name, format, size: always shown (the terminal may draw no thumbnail)."""
    source: bytes | Path
    """Its bytes (just attached) or its file (kept in the history)."""

    @classmethod
    def of(cls, attachment: Attachment) -> ShownImage:
        return cls(attachment.label(), attachment.data)


class UserMessage(Vertical):
    """A question: its text, and the images sent with it (a line each, and a thumbnail
    where the terminal can draw one)."""

    def __init__(self, text: str, images: Sequence[ShownImage] = ()) -> None:
        super().__init__(classes="message user")
        self.text = text
        self.images = tuple(images)

    def compose(self) -> ComposeResult:
        yield Static(Content(clean(self.text)), classes="question")
        for image in self.images:
            yield Static(Content(f"🖼 {clean(image.label)}"), classes="image-label")

    def on_mount(self) -> None:
        if self.images and thumbnails.available():
            self.run_worker(self._draw_thumbnails(), exit_on_error=False)

    async def _draw_thumbnails(self) -> None:
        """Each thumbnail below its image's line, once made (off the loop: a large
        image takes a while to decode)."""
        labels = list(self.query(".image-label"))
        for image, label in zip(self.images, labels, strict=True):
            small = await asyncio.to_thread(thumbnails.picture, image.source)
            thumbnail = thumbnails.widget(small, classes="thumbnail") if small else None
            if thumbnail is not None and label.is_attached:
                await self.mount(thumbnail, after=label)


class Notice(Static):
    """A line from the app in the transcript: an error, a note."""

    def __init__(self, text: str, kind: str = "error") -> None:
        super().__init__(Content(clean(text)), classes=f"notice {kind}")
        self.text = text
        self.kind = kind


class AssistantMessage(Vertical):
    """Thinking (collapsible, folded once the answer starts), the answer, its figures."""

    def __init__(self, transport: str, model: str) -> None:
        super().__init__(classes="message assistant")
        self.transport = transport
        self.model = model
        self.thinking_text = ""
        self.text = ""
        self._feed: MarkdownFeed | None = None
        self._live: Markdown | None = None
        self._unfolded: list[Markdown] = []
        self._continued = False  # the live segment's first block is to be marked so
        self.waterfall: Waterfall | None = None
        self.footer_text = ""
        self.state = ""
        """How it ended (done, stopped, error); empty while it streams."""
        """Where the reply's time went, once it ended (or was read back)."""

    def compose(self) -> ComposeResult:
        # Hidden from the start (not in on_mount, which may run after the first events).
        thinking = Collapsible(title="Thinking", collapsed=False, id="thinking")
        thinking.display = False
        with thinking:
            yield Static(id="thinking-text", markup=False)
        yield segment()
        footer = FiguresFooter(id="footer", markup=False)
        footer.display = False
        yield footer

    @property
    def markdown(self) -> Markdown:
        """The Markdown widget the answer is streaming into now."""
        return self._live or self.query(Markdown).last()

    async def _append(self, text: str) -> None:
        """Append to the live segment; once it holds SEGMENT_BLOCKS blocks, continue at a
        block boundary in a new segment and fold the full one (see `fold`). A code fence
        longer than FENCE_LINES is closed and reopened in a new segment (see `_fence_cut`)."""
        live = self.markdown
        while True:
            room = max(1, SEGMENT_BLOCKS - len(live.children))
            cut = _boundary(text, room)
            if cut is not None and _between_blocks(live.source + text[:cut]):
                await live.append(text[:cut])
                text = text[cut:]
                live = await self._next_segment(live)
                continue
            fence = _fence_cut(live.source, text)
            if fence is not None:
                cut, opener = fence
                await live.append(text[:cut] + "```\n")
                text = opener + "\n" + text[cut:]
                live = await self._next_segment(live, joined=True)
                continue
            cut = _paragraph_cut(live.source, text)
            if cut is not None:
                await live.append(text[:cut].rstrip(" "))
                text = text[cut:]
                live = await self._next_segment(live, joined=True)
                continue
            break
        if text:
            await live.append(text)
        self._mark_continued(live)

    def _mark_continued(self, segment: Markdown) -> None:
        if self._continued and segment.children:
            segment.children[0].add_class("continued")
            self._continued = False

    async def _next_segment(self, full: Markdown, joined: bool = False) -> Markdown:
        """Continue in a fresh segment; `joined`: its first block continues the last."""
        self._mark_continued(full)
        if joined and full.children:
            full.children[-1].add_class("continues")
            self._continued = True
        fresh = segment()
        await self.mount(fresh, after=full)
        self._live = fresh
        self._unfolded.append(full)
        return fresh

    async def _tidy(self) -> None:
        """Fold full segments: after the append, so the new text is shown first."""
        while self._unfolded:
            full = self._unfolded.pop(0)
            if not await fold(full):
                # Drawn from its blocks' own layout: only once the screen has laid it out.
                self.call_after_refresh(self._freeze_later, full)

    def _freeze_later(self, segment: Markdown, tries: int = FREEZE_TRIES) -> None:
        self.run_worker(self._freeze(segment, tries), group="freeze", exit_on_error=False)

    async def _freeze(self, segment: Markdown, tries: int) -> None:
        if not can_freeze(segment) or segment.parent is not self:
            return
        if not laid_out(segment):
            # Its blocks were mounted after the frame asked for (a busy machine, a
            # remount after a new theme): try at the next frames, not never.
            if tries > 1:
                self.call_after_refresh(self._freeze_later, segment, tries - 1)
            return
        await swap(segment, freeze(segment))

    async def on_frozen_segment_thawed(self, event: FrozenSegment.Thawed) -> None:
        frozen = event.frozen
        if frozen.parent is self:
            live = segment()
            await self.mount(live, before=frozen)
            await live.update(frozen.source)
            await frozen.remove()
            self.call_after_refresh(self._freeze_later, live)  # at the new width or theme

    def add_thinking(self, text: str) -> None:
        if not text:
            return
        self.thinking_text += clean(text)
        block = self.query_one("#thinking", Collapsible)
        block.display = True
        self.query_one("#thinking-text", Static).update(Content(self.thinking_text.strip("\n")))

    async def add_content(self, text: str) -> None:
        text = clean(text)
        if not text:
            return
        if not self.text:
            # The answer has started: fold the reasoning away.
            self.query_one("#thinking", Collapsible).collapsed = True
        self.text += text
        if self._feed is None:
            self._feed = MarkdownFeed(self._append, self._tidy)
        self._feed.write(text)

    def on_unmount(self) -> None:
        # The app may close mid-reply: end the feed's task, and append nothing more
        # (its widgets are being removed; an append would fail and stop the app's own
        # clean-up, which stops the streams).
        if self._feed is not None:
            self._feed.cancel()
            self._feed = None

    async def show(self, update: ReplyUpdate) -> None:
        """What arrived since the last update (the text is already clean)."""
        self.add_thinking(update.thinking)
        await self.add_content(update.content)

    async def conclude(self, end: End) -> None:
        """The reply ended: the rest is shown, the footer names how and its figures."""
        stats = getattr(end, "stats", None)
        live = ReplyFigures.live(self.transport, end.timing, stats)
        self.waterfall = Waterfall.of(live, stats, outcome(end))
        figures = live.text()
        if isinstance(end, Done):
            await self.finish(figures, "done")
        elif isinstance(end, Stopped):
            await self.finish(f"stopped · {figures}", "stopped")
        else:
            await self.finish(f"error · {figures}", "error")

    async def finish(self, footer: str, state: str) -> None:
        if self._feed is not None:
            await self._feed.stop()
            self._feed = None
        self.add_class(state)
        self.footer_text, self.state = footer, state
        widget = self.query_one("#footer", Static)
        widget.update(Content(footer))
        widget.display = True
