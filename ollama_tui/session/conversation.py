"""The conversation as the model sees it: messages, edits, regenerations, settings.

Pure: no I/O, no UI. Every message has its history row beside it (`Saved`, None when
nothing is kept), so an edit or a regeneration can mark exactly the rows it replaces.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ollama_tui.core.chat_settings import ChatSettings
from ollama_tui.core.images import Attachment
from ollama_tui.core.protocol import ChatMessage, Role
from ollama_tui.session.recorder import Saved


@dataclass(eq=False)
class Exchange:
    """One request of the conversation: what is asked, with which context, and which
    kept rows its answer replaces."""

    prompt: str
    context: list[ChatMessage]
    regenerate: bool = False
    kept: list[Saved | None] = field(default_factory=list)
    """History rows of the context's messages that stay."""
    replaced: list[Saved | None] = field(default_factory=list)
    """Kept rows this exchange replaces (an edit, a regeneration): marked once it is
    answered."""
    saved_user: Saved | None = None
    saved_reply: Saved | None = None
    images: tuple[Attachment, ...] = ()
    """Attached to the question (sent as its `images`)."""


@dataclass(frozen=True, slots=True)
class Kept:
    """A message of a kept conversation, as the conversation takes it back."""

    role: Role
    content: str
    thinking: str | None
    row: int
    images: tuple[Attachment, ...] = ()


_Kept = tuple[list[ChatMessage], list["Saved | None"], list["Saved | None"]]


class Conversation:
    def __init__(self, settings: ChatSettings | None = None) -> None:
        self.messages: list[ChatMessage] = []
        self.rows: list[Saved | None] = []
        """The history's rows for `messages`, message for message."""
        self.settings = settings or ChatSettings()
        """The system prompt and options sent with each request."""
        self.editing: list[Saved | None] = []
        """Rows of the exchange taken back by `edit_last`: replaced once the edit is
        answered."""
        self._before_edit: _Kept | None = None
        """What an edit took back, until it is sent (or given up: `cancel_edit`)."""
        self.attached: dict[str, Attachment] = {}
        """The images of the questions, by the base64 the messages carry: an edit gives
        them back as attachments."""

    # ------------------------------------------------------------------ asking

    def ask(self, prompt: str, images: tuple[Attachment, ...] = ()) -> Exchange:
        self._before_edit = None  # an edit being sent stands
        for image in images:
            self.attached[image.base64()] = image
        question = ChatMessage("user", prompt, images=tuple(i.base64() for i in images))
        return Exchange(
            prompt,
            [*self.messages, question],
            kept=list(self.rows),
            replaced=self.editing,
            images=images,
        )

    def regenerate(self) -> Exchange | None:
        """The last question again (its answer, and an exchange being edited, are
        replaced); None if nothing was asked yet."""
        last = self.last_user_index()
        if last is None:
            return None
        context = self.messages[: last + 1]
        replaced = [*self.editing, *self.rows[last + 1 :]]
        self.editing = []
        self._before_edit = None
        return Exchange(
            context[-1].content,
            context,
            images=self.images_of(context[-1]),
            regenerate=True,
            kept=self.rows[: last + 1],
            replaced=replaced,
        )

    def answered(self, exchange: Exchange, text: str, thinking: str | None) -> None:
        """The reply to `exchange` stands (complete or not): it joins the context."""
        self.messages = [*exchange.context, ChatMessage("assistant", text, thinking=thinking)]
        asked = [] if exchange.regenerate else [exchange.saved_user]
        self.rows = [*exchange.kept, *asked, exchange.saved_reply]
        if not exchange.regenerate:
            self.editing = []

    def unanswered(self, exchange: Exchange) -> None:
        """Nothing came back: as if it was never asked (a retry still replaces what
        an edit took back)."""
        if not exchange.regenerate:
            self.editing = exchange.replaced

    def images_of(self, message: ChatMessage) -> tuple[Attachment, ...]:
        return tuple(self.attached[i] for i in message.images if i in self.attached)

    def edit_last(self) -> str | None:
        """Take the last question back (and what followed it); its text, or None.
        Its images: `images_of` the question, read before."""
        last = self.last_user_index()
        if last is None:
            return None
        text = self.messages[last].content
        if self._before_edit is None:
            self._before_edit = (self.messages, self.rows, self.editing)
        self.editing = [*self.editing, *self.rows[last:]]
        self.messages = self.messages[:last]
        self.rows = self.rows[:last]
        return text

    def cancel_edit(self) -> bool:
        """Give the edit up: what it took back is the conversation again. False if no
        edit is open."""
        if self._before_edit is None:
            return False
        self.messages, self.rows, self.editing = self._before_edit
        self._before_edit = None
        return True

    # ------------------------------------------------------------------ whole

    def clear(self, settings: ChatSettings) -> None:
        self._before_edit = None
        self.attached = {}
        self.messages = []
        self.rows = []
        self.editing = []
        self.settings = settings

    def load(self, messages: Iterable[Kept], settings: ChatSettings) -> None:
        """A kept conversation's shown messages become the context."""
        self.clear(settings)
        for message in messages:
            thinking = message.thinking if message.role == "assistant" else None
            for image in message.images:
                self.attached[image.base64()] = image
            images = tuple(i.base64() for i in message.images)
            self.messages.append(ChatMessage(message.role, message.content, thinking, images))
            self.rows.append(Saved(message.row))

    # ------------------------------------------------------------------ reading

    def last_question(self) -> ChatMessage | None:
        last = self.last_user_index()
        return None if last is None else self.messages[last]

    def last_user_index(self) -> int | None:
        return next(
            (i for i in range(len(self.messages) - 1, -1, -1) if self.messages[i].role == "user"),
            None,
        )

    def last_prompt(self) -> str:
        """The last message the user sent, or ""."""
        return next((m.content for m in reversed(self.messages) if m.role == "user"), "")

    def last_reply(self) -> str | None:
        replies = [m.content for m in self.messages if m.role == "assistant" and m.content]
        return replies[-1] if replies else None
