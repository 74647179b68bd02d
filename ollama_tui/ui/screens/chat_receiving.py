"""The chat screen's receiving end: a reply's updates shown as its paint clock gives them
turns (`Pacer`), its end concluded once its last words are painted, and the note that
new text is below when the person has scrolled away."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from ollama_tui.core.events import StreamError
from ollama_tui.session.chat import ChatSession, Turn
from ollama_tui.session.reply import ReplyUpdate
from ollama_tui.session.runner import End, LiveStream
from ollama_tui.ui.messages import StreamUpdated
from ollama_tui.ui.pacer import Pacer
from ollama_tui.ui.screens.chat_images import ImageAttaching
from ollama_tui.ui.widgets.chat_message import AssistantMessage, Notice, UserMessage
from ollama_tui.ui.widgets.prompt import PromptInput
from ollama_tui.ui.widgets.status_bar import StatusBar
from ollama_tui.ui.widgets.transcript import Transcript

if TYPE_CHECKING:
    from ollama_tui.ui.app import OllamaApp


class ReplyReceiving(ImageAttaching):
    """Mixed into the chat screen, which sets these in its `__init__`."""

    views: dict[Turn, AssistantMessage]
    ending: set[Turn]
    """Turns whose end has come, concluded once their last words are painted."""
    questions: dict[Turn, UserMessage]
    """The question's bubble, removed again if nothing comes back."""
    pacer: Pacer

    @property
    def ollama(self) -> OllamaApp:
        return self.app  # type: ignore[return-value]

    @property
    def session(self) -> ChatSession:
        return self.ollama.session

    @property
    def turn(self) -> Turn | None:
        """The reply streaming now, if any."""
        return self.session.turn

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    def mount_in_transcript(self, widget: Widget) -> None:
        self.transcript.add(widget)

    @on(StreamUpdated)
    async def stream_updated(self, message: StreamUpdated) -> None:
        ended = self._take(message.stream)
        if ended is not None:
            await self._end(*ended)

    def show_turn(self, stream: LiveStream) -> bool:
        """The pacer's clock: `stream`'s turn came; shown now, not by a message (a step
        of this screen's loop at every paint). Its end goes by message (it awaits)."""
        if not self.app.is_running or self._closing or self._closed:
            return True  # quitting: its widgets are going (a message would not be read)
        ended = self._take(stream)
        if ended is not None:
            self.ending.add(ended[0])  # what is told meanwhile waits: its end is shown
            self.call_later(self._end, *ended)
        return True

    def _take(self, stream: LiveStream) -> tuple[Turn, ReplyUpdate] | None:
        """Show what `stream` holds, if its turn came; an update with its end is
        returned instead, to be shown by `_end`."""
        turn = self.turn
        if turn is None or stream is not turn.reply.stream or turn in self.ending:
            return None  # (not the reply streaming here, or its end is being shown)
        if not self.pacer.due(stream):
            return None
        update = self.pacer.take(turn.reply)
        if update.end is not None:
            return turn, update
        self._show_update(turn, update)
        return None

    def _show_update(self, turn: Turn, update: ReplyUpdate) -> None:
        view, status = self.views[turn], self.query_one(StatusBar)
        # The figures change in the frame that shows the text.
        view.show(update, lambda: status.show(update))
        self.session.progress(turn)
        self.show_below()

    async def _end(self, turn: Turn, update: ReplyUpdate) -> None:
        assert update.end is not None
        view = self.views.get(turn)
        if view is None or turn is not self.turn:  # dropped meanwhile (New chat)
            self.ending.discard(turn)
            return
        view.show(update)
        self.query_one(StatusBar).show(update)
        self.pacer.forget(turn.reply.stream)
        if update.content:
            # Its last words are drawn and painted first: ending the reply (its answer
            # made Textual's Markdown) takes frames, they would wait for them.
            await view.drawn()
            # Two rounds: the lines ask the screen for their repaint when they are idle
            # themselves, which may come after the screen's first round.
            self.ending.add(turn)
            self.call_after_refresh(self.call_after_refresh, self._finish_later, turn, update.end)
        else:
            self.ending.discard(turn)
            await self.finish(turn, update.end)
        self.show_below()

    async def _finish_later(self, turn: Turn, end: End) -> None:
        self.ending.discard(turn)
        if turn is self.turn and turn in self.views:  # not dropped meanwhile (New chat)
            await self.finish(turn, end)

    async def finish(self, turn: Turn, end: End) -> None:
        view = self.views.pop(turn)
        question = self.questions.pop(turn, None)
        try:
            await view.conclude(end)
        finally:
            # Only now: the reply is complete on screen before a new request can start.
            stays = self.session.finish(turn)
        if isinstance(end, StreamError):
            self.mount_in_transcript(Notice(end.message))
        if not stays:
            # Nothing came back: the request is undone (the error stays) and its prompt
            # goes back into the box, so a resend does not show the question twice.
            await view.remove()
            if question is not None:
                await question.remove()
            if not turn.exchange.regenerate:
                self.query_one(PromptInput).restore(turn.exchange.prompt)
                await self.add_attachments(list(turn.exchange.images))

    # ------------------------------------------------------------------ scrolling

    def show_below(self) -> None:
        away = self.turn is not None and self.transcript.away
        below = self.query_one("#below", Static)
        if away and not below.display:
            below.update(Content("↓ new text below — Ctrl+↓ to follow"))
        below.display = away

    def action_follow(self) -> None:
        self.transcript.follow()
        self.query_one("#below").display = False
