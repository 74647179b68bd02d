"""One turn of the transcript. Text from the model never passes through markup."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
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
from ollama_tui.ui import idle_owed, thumbnails
from ollama_tui.ui.paint_now import paint_for
from ollama_tui.ui.textual_fixes import RowsKept, add_class_alone
from ollama_tui.ui.widgets.cuts import between_blocks, boundary, fence_cut, paragraph_cut
from ollama_tui.ui.widgets.figures_footer import FiguresFooter
from ollama_tui.ui.widgets.folding import FrozenSegment, can_freeze, fold, freeze, laid_out, swap
from ollama_tui.ui.widgets.growing_code import fence_limit
from ollama_tui.ui.widgets.lines import CAN_DRAW
from ollama_tui.ui.widgets.live_segment import LiveSegment, settled
from ollama_tui.ui.widgets.markdown_feed import Along, MarkdownFeed
from ollama_tui.ui.widgets.probe_holder import holder_beside, probes_in
from ollama_tui.ui.widgets.probes import Probes
from ollama_tui.ui.widgets.segment import segment

Live = Markdown | LiveSegment

# Not exported by textual.widgets.markdown; the public block map names it.
MarkdownParagraph = Markdown.BLOCKS["paragraph_open"]


FREEZE_TRIES = 20
"""Frames a full segment waits to be laid out before it is frozen (then it stays live)."""

SEGMENT_BLOCKS = 8
"""A streaming answer moves on to a new Markdown widget after this many blocks (and the
full one is folded): every frame arranges every mounted block, so fewer live blocks make
each frame cheaper (40: 4.2 ms per frame to arrange on a real terminal, 8: 2.9)."""


def _blocks(live: Live) -> int:
    return live.block_count if isinstance(live, LiveSegment) else len(live.children)


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


class AssistantMessage(Vertical, RowsKept):
    """Thinking (collapsible, folded once the answer starts), the answer, its figures."""

    def __init__(self, transport: str, model: str, *, streamed: bool = True) -> None:
        """`streamed`: the answer arrives in pieces and is drawn as lines while it grows
        (`LiveSegment`); a kept answer shown again goes straight to Textual's Markdown."""
        super().__init__(classes="message assistant")
        self.transport = transport
        self.model = model
        self.thinking_text = ""
        self.text = ""
        self._feed: MarkdownFeed | None = None
        self._lines = streamed and CAN_DRAW
        self._live: Live = LiveSegment() if self._lines else segment()
        self._probing: asyncio.Future[Probes] | None = None
        self._probe: Markdown | None = None
        self._probe_of_own = False
        self._unfolded: list[Live] = []
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
        yield self._live
        footer = FiguresFooter(id="footer", markup=False)
        footer.display = False
        yield footer

    @property
    def markdown(self) -> Live:
        """The segment the answer is streaming into now (Textual's Markdown once ended)."""
        return self._live

    async def _append(self, text: str) -> None:
        """Append to the live segment; once it holds SEGMENT_BLOCKS blocks, continue at a
        block boundary in a new segment and fold the full one (see `fold`). A code fence
        longer than `fence_limit` lines is closed and reopened in a new segment."""
        live = self.markdown
        limit = partial(fence_limit, ansi=self.app.native_ansi_color)
        while True:
            room = max(1, SEGMENT_BLOCKS - _blocks(live))
            cut = boundary(text, room)
            if cut is not None and between_blocks(live.source + text[:cut]):
                live = await self._add(live, text[:cut])
                text = text[cut:]
                live = await self._next_segment(live)
                continue
            fence = fence_cut(live.source, text, limit)
            if fence is not None:
                cut, opener = fence
                live = await self._add(live, text[:cut] + "```\n")
                text = opener + "\n" + text[cut:]
                live = await self._next_segment(live, joined=True)
                continue
            cut = paragraph_cut(live.source, text)
            if cut is not None:
                live = await self._add(live, text[:cut].rstrip(" "))
                text = text[cut:]
                live = await self._next_segment(live, joined=True)
                continue
            break
        if text:
            live = await self._add(live, text)
        self._mark_continued(live)

    async def _add(self, live: Live, text: str) -> Live:
        """Append to the live segment; one this app cannot draw as lines (a quote, a
        table) becomes Textual's Markdown from there on. The segment appended to."""
        if isinstance(live, LiveSegment):
            if live.probes is None and not live.undrawable:
                live.probes = await self._probes_or_none()
                live.undrawable = live.probes is None
            await live.append(text)
            if not live.undrawable:
                return live
            live = await self._as_markdown(live)
            self._live = live
            return live
        await live.append(text)
        return live

    async def _probes_or_none(self) -> Probes | None:
        try:
            # Shielded: a cancelled append must not cancel the blocks other answers share.
            return await asyncio.shield(self._probes())
        except Exception as error:  # no hidden blocks, no lines: Textual draws the answer
            self.log.error("an answer's lines have no styles:", error)
            self._lines = False
            return None

    async def _drop_probes(self) -> None:
        """The answer has ended: its own hidden blocks go (after they are made, if they
        are being made; an error making them is the app's own, already shown, if any).
        Shared ones stay with their holder for the next answer."""
        making, self._probing = self._probing, None
        if making is not None and self._probe_of_own:
            await asyncio.wait([making])
            if not making.cancelled() and making.exception() is not None:
                self.log.error("drawing an answer as lines:", making.exception())
        if self._probe is not None:
            await self._probe.remove()
            self._probe = None

    def on_mount(self) -> None:
        if self._lines:
            # Asked for before the first words come, so they are not kept waiting for it.
            self._probes()

    def _probes(self) -> asyncio.Future[Probes]:
        if self._probing is None:
            holder = holder_beside(self)
            self._probe_of_own = holder is None
            own = self._make_probes
            self._probing = holder.probes() if holder else asyncio.ensure_future(own())
        return self._probing

    async def _make_probes(self) -> Probes:
        """Hidden blocks of its own, one of each kind (no holder beside it)."""
        probes = await probes_in(self)
        self._probe = probes.root
        return probes

    async def _as_markdown(self, live: LiveSegment) -> Markdown:
        """Textual's Markdown in place of `live`, its cut blocks marked as they were."""
        markdown = segment()
        with self.app.batch_update():
            await self.mount(markdown, before=live)
            # Appended, not `update`d: Textual's `update` notes the last line as parsed,
            # so a later `append` would re-parse only that line and drop the block's
            # first lines (a list, a table or a quote taken over mid-stream).
            await markdown.append(live.source)
            if markdown.children:
                if live.continued:
                    markdown.children[0].add_class("continued")
                if live.continues:
                    markdown.children[-1].add_class("continues")
            await live.remove()
        return markdown

    def _mark_continued(self, segment: Live) -> None:
        if not self._continued:
            return
        if isinstance(segment, LiveSegment) and segment.source:
            segment.mark(continued=True)
            self._continued = False
        elif isinstance(segment, Markdown) and segment.children:
            segment.children[0].add_class("continued")
            self._continued = False

    async def _next_segment(self, full: Live, joined: bool = False) -> Live:
        """Continue in a fresh segment; `joined`: its first block continues the last."""
        self._mark_continued(full)
        if joined and isinstance(full, LiveSegment):
            full.will_continue()  # put away in this frame (`_tidy`)
            self._continued = True
        elif joined and full.children:
            full.children[-1].add_class("continues")
            self._continued = True
        fresh: Live
        if not self._lines:
            fresh = segment()
        elif isinstance(full, LiveSegment):
            # Its rows in hand go to the fresh one: the answer keeps its height.
            fresh = full.let_go()
        else:
            fresh = LiveSegment()
        if self._continued and isinstance(fresh, LiveSegment):
            fresh.continued = True  # before its first words: drawn so from the start
            self._continued = False
        await self.mount(fresh, after=full)
        self._live = fresh
        self._unfolded.append(full)
        return fresh

    async def _tidy(self) -> None:
        """Fold full segments: after the append, so the new text is shown first."""
        while self._unfolded:
            full = self._unfolded.pop(0)
            if isinstance(full, LiveSegment):
                if not full.is_attached:
                    continue
                done = settled(full)
                if done is not None:
                    await swap(full, done)
                    continue
                full = await self._as_markdown(full)
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

    def add_content(self, text: str, along: Along | None = None) -> None:
        """Append `text`; `along()` runs in the frame that shows it (now if none comes)."""
        text = clean(text)
        if not text:
            if along is not None:
                along()
            return
        if not self.text:
            # The answer has started: fold the reasoning away.
            self.query_one("#thinking", Collapsible).collapsed = True
        self.text += text
        if self._feed is None:
            paint = partial(paint_for, self)
            self._feed = MarkdownFeed(
                self._append, self._tidy, self.app.batch_update, paint, idle_owed.owed_idles
            )
        self._feed.write(text, along)

    def on_unmount(self) -> None:
        # The app may close mid-reply: end the feed's task, and append nothing more
        # (its widgets are being removed; an append would fail and stop the app's own
        # clean-up, which stops the streams).
        if self._feed is not None:
            self._feed.cancel()
            self._feed = None
        if self._probe_of_own and self._probing is not None and not self._probing.done():
            self._probing.cancel()  # (shared ones are the holder's)

    def show(self, update: ReplyUpdate, along: Along | None = None) -> None:
        """What arrived since the last update (the text is already clean); `along()`
        runs in the frame that shows its text (the status bar's figures)."""
        self.add_thinking(update.thinking)
        self.add_content(update.content, along)

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

    async def drawn(self) -> None:
        """Draw what the feed holds now (the answer has ended: nothing more comes)."""
        if self._feed is not None:
            await self._feed.stop()
            self._feed = None

    async def finish(self, footer: str, state: str) -> None:
        await self.drawn()
        if isinstance(self._live, LiveSegment):
            # Ended: the last segment is Textual's Markdown, as every finished one is.
            self._live = await self._as_markdown(self._live)
        await self._drop_probes()
        add_class_alone(self, state)  # its border's colour (chat.tcss), not its parts'
        self.footer_text, self.state = footer, state
        widget = self.query_one("#footer", Static)
        widget.update(Content(footer))
        widget.display = True
