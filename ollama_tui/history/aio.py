"""The history store for asyncio code: every call runs on one worker thread.

The thread owns the SQLite connection (it opens it), so the event loop never waits on
the disk, and calls run one at a time in the order they were made: an update of a
streaming reply cannot overtake the message it updates.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ollama_tui.core.images import Attachment
from ollama_tui.history.store import (
    OPEN_BUSY_TIMEOUT,
    Conversation,
    ConversationSummary,
    History,
    KeptImage,
)

T = TypeVar("T")


class AsyncHistory:
    """`History` with every method a coroutine run on the store's own thread.

    A call, once made, runs to the end even if the task awaiting it is cancelled (the
    final save of a stopped reply must not be lost); the caller just stops waiting.
    """

    def __init__(self, history: History, executor: ThreadPoolExecutor) -> None:
        self._history = history
        self._executor = executor
        self._closed = False
        self.path: Path = history.path
        """The database file in use."""

    @classmethod
    async def open(
        cls, data_dir: Path, *, busy_timeout: float = OPEN_BUSY_TIMEOUT
    ) -> tuple[AsyncHistory, str | None]:
        """As `History.open`: the store and None, or a store on a fresh database and
        a warning for the user."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history")
        try:
            history, warning = await asyncio.wrap_future(
                executor.submit(History.open, Path(data_dir), busy_timeout=busy_timeout)
            )
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(history, executor), warning

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._closed:
            raise RuntimeError("the history store is closed")
        future = asyncio.wrap_future(self._executor.submit(functools.partial(fn, *args, **kwargs)))
        # shield: cancelling the caller must not cancel a queued write.
        return await asyncio.shield(future)

    async def create_conversation(
        self,
        *,
        title: str,
        model: str | None,
        transport: str | None,
        settings: dict[str, Any] | None = None,
        api: str | None = None,
    ) -> int:
        return await self._run(
            self._history.create_conversation,
            title=title,
            model=model,
            transport=transport,
            settings=settings,
            api=api,
        )

    async def add_message(
        self,
        conversation_id: int,
        *,
        role: str,
        content: str,
        thinking: str | None = None,
        model: str | None = None,
        transport: str | None = None,
        complete: bool = True,
        figures: dict[str, Any] | None = None,
        stats: dict[str, Any] | None = None,
        images: Sequence[Attachment] = (),
        api: str | None = None,
        streaming: bool = False,
    ) -> int:
        return await self._run(
            self._history.add_message,
            conversation_id,
            role=role,
            content=content,
            thinking=thinking,
            model=model,
            transport=transport,
            complete=complete,
            figures=figures,
            stats=stats,
            images=tuple(images),
            api=api,
            streaming=streaming,
        )

    async def update_message(
        self,
        message_id: int,
        *,
        content: str,
        thinking: str | None = None,
        complete: bool,
        figures: dict[str, Any] | None = None,
        stats: dict[str, Any] | None = None,
        streaming: bool = False,
    ) -> None:
        await self._run(
            self._history.update_message,
            message_id,
            content=content,
            thinking=thinking,
            complete=complete,
            figures=figures,
            stats=stats,
            streaming=streaming,
        )

    async def supersede(self, message_id: int) -> None:
        await self._run(self._history.supersede, message_id)

    async def list_conversations(
        self, limit: int = 200, offset: int = 0
    ) -> list[ConversationSummary]:
        return await self._run(self._history.list_conversations, limit, offset)

    async def search(self, query: str, limit: int = 200) -> list[ConversationSummary]:
        return await self._run(self._history.search, query, limit)

    async def load(self, conversation_id: int) -> Conversation:
        return await self._run(self._history.load, conversation_id)

    async def rename(self, conversation_id: int, title: str) -> None:
        await self._run(self._history.rename, conversation_id, title)

    async def set_settings(self, conversation_id: int, settings: dict[str, Any]) -> None:
        await self._run(self._history.set_settings, conversation_id, settings)

    async def set_model(
        self,
        conversation_id: int,
        model: str | None,
        transport: str | None,
        api: str | None = None,
    ) -> None:
        await self._run(self._history.set_model, conversation_id, model, transport, api)

    async def delete(self, conversation_id: int) -> None:
        await self._run(self._history.delete, conversation_id)

    async def image_bytes(self, digest: str) -> bytes:
        return await self._run(self._history.image_bytes, digest)

    async def attachments(self, images: Sequence[KeptImage]) -> list[Attachment]:
        return await self._run(self._history.attachments, tuple(images))

    async def close(self) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Finish every call already made, close the database and stop the thread."""
        if self._closed:
            return
        self._closed = True  # no call after this one
        future = asyncio.wrap_future(self._executor.submit(self._history.close))
        # The calls already queued still run, then close; the thread then ends.
        self._executor.shutdown(wait=False)
        await asyncio.shield(future)
