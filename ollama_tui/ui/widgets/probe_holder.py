"""The hidden blocks answers are drawn with, made once per container of answers.

An answer streaming as lines takes its styles from a hidden Markdown holding one block
of each kind (`probes.Probes`). Making one mounts a dozen blocks: 80-130 ms on this
machine, which a fast server's first words used to wait for at every reply. The holder
is made ahead, beside the answers (in the transcript, in a compare column), with an
answer's classes, so its blocks are styled exactly as an answer's are; every answer in
that container shares it.
"""

from __future__ import annotations

import asyncio

from textual.widget import Widget

from ollama_tui.ui.widgets.growing_code import warm
from ollama_tui.ui.widgets.probes import PROBE, Probes
from ollama_tui.ui.widgets.segment import segment


class ProbeHolder(Widget):
    DEFAULT_CSS = "ProbeHolder { height: auto; }"

    def __init__(self) -> None:
        # An answer's classes: chat.tcss styles its blocks as `.message.assistant ...`.
        super().__init__(classes="message assistant")
        self.display = False
        self._making: asyncio.Task[Probes] | None = None

    def on_mount(self) -> None:
        # After the frame: the screen shows first, the blocks are made while it is read.
        self.call_after_refresh(self._ahead)

    def _ahead(self) -> None:
        self.probes().add_done_callback(self._made)
        # Python's lexer loaded and checked, and its rules read, off the main thread,
        # once: the first code block drawn waited 40-60 ms for it, its first words with
        # it (docs/ui-performance.md).
        warming = asyncio.get_running_loop().run_in_executor(None, warm, "python")
        warming.add_done_callback(self._warmed)

    def _warmed(self, warming: asyncio.Future[int]) -> None:
        if not warming.cancelled() and (error := warming.exception()) is not None:
            self.log.warning("Python's lexer was not loaded ahead:", error)

    def _made(self, making: asyncio.Future[Probes]) -> None:
        # (Read here, or asyncio reports it unretrieved; an answer asking again retries.)
        if not making.cancelled() and (error := making.exception()) is not None:
            self.log.warning("the blocks answers are drawn with were not made:", error)

    @property
    def ready(self) -> bool:
        """The blocks are made (asked for or not)."""
        made = self._making
        return made is not None and made.done() and not _failed(made)

    def probes(self) -> asyncio.Future[Probes]:
        """The shared probes: made on the first call, and again if making them failed
        (the app closing meanwhile, say)."""
        made = self._making
        if made is None or _failed(made):
            made = self._making = asyncio.ensure_future(self._make())
        return made

    async def _make(self) -> Probes:
        return await probes_in(self)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # A new theme: the styles kept are read again, once the blocks have theirs (after
        # the frame), for the answers drawn next as for the one streaming.
        if self.ready and self._making is not None:
            self.call_after_refresh(self._making.result().restyle)


async def probes_in(parent: Widget) -> Probes:
    """One block of each kind mounted in `parent`, hidden, and their styles' reader."""
    probe = segment()
    probe.display = False
    await parent.mount(probe)
    try:
        await probe.update(PROBE)
        Probes.mark(probe)
        return Probes(probe)
    except BaseException:  # (cancelled too: no half-made blocks left behind)
        await probe.remove()
        raise


def _failed(made: asyncio.Future[Probes]) -> bool:
    return made.done() and (made.cancelled() or made.exception() is not None)


def holder_beside(widget: Widget) -> ProbeHolder | None:
    """The holder in `widget`'s container, if it has one."""
    parent = widget.parent
    if parent is None:
        return None
    return next((w for w in parent.children if isinstance(w, ProbeHolder)), None)
