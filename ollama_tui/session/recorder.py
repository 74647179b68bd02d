"""Keeps the chat's conversation in the history as it happens.

Every call returns at once: the writes queue up and run in order, one at a time, on
the history's own thread (`AsyncHistory`), so the chat never waits for the disk. A
reply is saved as it grows (at most once a second, marked incomplete) and once more
when it ends, so a crash loses at most the last second of text.

Each message is kept with the wire API it went over (`api`: "ollama" for Ollama's
/api/chat, "openai" for /v1/chat/completions), and the conversation with the model,
transport and API it goes on over: those of the person's last message.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ollama_tui.core.events import ServerStats
from ollama_tui.core.timing import StreamTiming

if TYPE_CHECKING:
    from ollama_tui.core.images import Attachment
    from ollama_tui.history.aio import AsyncHistory

SAVE_EVERY_S = 1.0


@dataclass(eq=False)
class Saved:
    """A row being written: its id is known once the queued write has run."""

    id: int | None = None
    last_save: float = 0.0


class Recorder:
    def __init__(self, report: Callable[[str], None]) -> None:
        """`report(message)` tells the user when a write failed (the chat goes on)."""
        self.history: AsyncHistory | None = None
        self.conversation: Saved | None = None
        # The model, transport and API the conversation is kept with (the list shows
        # the model): stored again when a message goes out with others.
        self._model: tuple[str | None, str | None, str] | None = None
        self.settings: dict[str, Any] = {}
        """The conversation's request settings, stored with it."""
        self._report = report
        self._queue: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._failed = False

    def attach(self, history: AsyncHistory) -> None:
        self.history = history

    @property
    def on(self) -> bool:
        return self.history is not None

    # ------------------------------------------------------------------ queue

    def _submit(self, write: Callable[[], Awaitable[None]]) -> None:
        if self.history is None:
            return
        self._queue.put_nowait(write)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while not self._queue.empty():
            write = self._queue.get_nowait()
            try:
                await write()
            except Exception as error:  # a full disk must not stop the chat: say it once
                if not self._failed:
                    self._failed = True
                    self._report(f"History: could not save ({error}).")

    async def flush(self) -> None:
        """Wait until every queued write has run (tests, and before closing)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):  # reported as it happened
            await self.flush()
        if self.history is not None:
            history, self.history = self.history, None
            await history.aclose()

    # ------------------------------------------------------------------ conversation

    def new_conversation(self) -> None:
        self.conversation = None
        self.settings = {}
        self._model = None
        self._failed = False

    def continue_conversation(
        self,
        conversation_id: int,
        settings: dict[str, Any],
        model: str | None = None,
        transport: str | None = None,
        api: str = "ollama",
    ) -> None:
        """Go on with a kept conversation (`Conversation.api`: the API it was kept with)."""
        self.conversation = Saved(conversation_id)
        self.settings = dict(settings)
        self._model = (model, transport, api)
        self._failed = False

    def is_current(self, conversation_id: int) -> bool:
        return self.conversation is not None and self.conversation.id == conversation_id

    def _ensure_conversation(self, title: str, model: str, transport: str, api: str) -> Saved:
        if self.conversation is None:
            conversation = self.conversation = Saved()
            history = self.history
            settings = dict(self.settings)

            async def create() -> None:
                from ollama_tui.history.store import default_title

                assert history is not None
                conversation.id = await history.create_conversation(
                    title=default_title(title),
                    model=model,
                    transport=transport,
                    settings=settings,
                    api=api,
                )

            self._submit(create)
        return self.conversation

    def _set_model(self, conversation: Saved, model: str, transport: str, api: str) -> None:
        """The conversation is listed (and continued) with the model asked last, over
        the transport and API it was asked over."""
        history = self.history

        async def store() -> None:
            assert history is not None and conversation.id is not None
            await history.set_model(conversation.id, model, transport, api)

        self._submit(store)

    def set_settings(self, settings: dict[str, Any]) -> None:
        self.settings = dict(settings)
        conversation, history = self.conversation, self.history
        if conversation is None or history is None:
            return  # stored when the conversation is created

        async def store() -> None:
            if conversation.id is not None:
                await history.set_settings(conversation.id, dict(settings))

        self._submit(store)

    # ------------------------------------------------------------------ messages

    def user(
        self,
        text: str,
        model: str,
        transport: str,
        images: Sequence[Attachment] = (),
        *,
        api: str = "ollama",
    ) -> Saved:
        """Save the person's message and the images sent with it (their files are
        written on the history's thread, with the row), sent over wire API `api`."""
        known = self.conversation is not None
        conversation = self._ensure_conversation(text, model, transport, api)
        if known and self._model != (model, transport, api):
            self._set_model(conversation, model, transport, api)
        self._model = (model, transport, api)
        saved = Saved()
        history = self.history
        images = tuple(images)  # as sent, whatever the caller's list becomes

        async def add() -> None:
            assert history is not None and conversation.id is not None
            saved.id = await history.add_message(
                conversation.id,
                role="user",
                content=text,
                model=model,
                transport=transport,
                images=images,
                api=api,
            )

        self._submit(add)
        return saved

    def reply(
        self,
        saved: Saved | None,
        *,
        text: str,
        thinking: str | None,
        model: str,
        transport: str,
        complete: bool,
        timing: StreamTiming | None = None,
        ended: str | None = None,
        stats: ServerStats | None = None,
        force: bool = False,
        api: str = "ollama",
    ) -> Saved | None:
        """Save the reply so far (a new row the first time); at most once a second
        unless `force` (its end, the save that puts it in the search index: those before
        are `streaming`, out of it, schema.V6). Returns the row, or None with history
        off. `api`: the wire API it came over, kept with the row when it is added (the
        saves after it leave it as it is)."""
        if self.history is None:
            return None
        now = time.monotonic()
        if saved is not None and not force and now - saved.last_save < SAVE_EVERY_S:
            return saved
        conversation = self._ensure_conversation(text, model, transport, api)
        row = saved or Saved()
        row.last_save = now
        history = self.history
        from ollama_tui.history.store import server_stats, timing_figures

        figures = timing_figures(timing) if timing is not None else None
        if figures is not None and ended is not None:
            figures["outcome"] = ended  # how it ended, shown again when it is reopened
        server = server_stats(stats) if stats is not None else None

        async def write() -> None:
            assert history is not None and conversation.id is not None
            if row.id is None:
                row.id = await history.add_message(
                    conversation.id,
                    role="assistant",
                    content=text,
                    thinking=thinking,
                    model=model,
                    transport=transport,
                    complete=complete,
                    figures=figures,
                    stats=server,
                    api=api,
                    streaming=not force,
                )
            else:
                await history.update_message(
                    row.id,
                    content=text,
                    thinking=thinking,
                    complete=complete,
                    figures=figures,
                    stats=server,
                    streaming=not force,
                )

        self._submit(write)
        return row

    def supersede(self, saved: Saved | None) -> None:
        """An earlier reply was asked again: kept, marked as replaced."""
        history = self.history
        if saved is None or history is None:
            return

        async def mark() -> None:
            if saved.id is not None:
                await history.supersede(saved.id)

        self._submit(mark)
