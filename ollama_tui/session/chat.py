"""A chat with one server: the choices (model, transport, think), the conversation, the
reply in flight and its recording. Both front ends — the TUI and `--plain` — drive
this and only render what it hands them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

from ollama_tui.core.chat_settings import OPTIONS as CHAT_OPTIONS
from ollama_tui.core.chat_settings import ChatDefaults, ChatSettings
from ollama_tui.core.events import Done, outcome
from ollama_tui.core.images import Attachment
from ollama_tui.core.models import ModelDetails, ModelInfo
from ollama_tui.core.openai import MODELS_PATH, SENT_OPTIONS, parse_models
from ollama_tui.core.openai import chat_request as openai_chat_request
from ollama_tui.core.protocol import ChatMessage, Request, Role, Think, chat_request
from ollama_tui.session.conversation import Conversation, Exchange, Kept
from ollama_tui.session.recorder import Recorder
from ollama_tui.session.reply import Reply
from ollama_tui.session.runner import Notify, StreamRunner

if TYPE_CHECKING:
    from ollama_tui.history.store import Conversation as KeptConversation


@dataclass(eq=False)
class Turn:
    """The exchange being answered and its reply."""

    exchange: Exchange
    reply: Reply


class ChatSession:
    def __init__(
        self,
        runner: StreamRunner,
        recorder: Recorder | None = None,
        *,
        model: str | None = None,
        transport: str = "httpx-async",
        think: Think | None = None,
        defaults: ChatDefaults | None = None,
    ) -> None:
        """`defaults`: what a new conversation starts with (the settings file's `[chat]`)."""
        self.runner = runner
        self.defaults = defaults or ChatDefaults()
        self.recorder = recorder
        self.model = model
        self.transport = transport
        self.think = think
        """None: the model decides."""
        self.conversation = Conversation(self.fresh_settings())
        if recorder is not None:
            recorder.set_settings(self.conversation.settings.to_dict())
        self.turn: Turn | None = None
        self._chosen = False
        """The settings were edited (F5): a model switch no longer changes them."""
        self._vision: dict[str, bool] = {}

    def fresh_settings(self) -> ChatSettings:
        """A new conversation's settings: the defaults for the model, with think as set."""
        return replace(self.defaults.for_model(self.model), think=self.think)

    def set_model(self, name: str) -> None:
        """Ask `name` from now on; a conversation not begun yet takes its defaults."""
        self.model = name
        if not self.conversation.messages and not self._chosen:
            self.conversation.settings = self.fresh_settings()
            if self.recorder is not None:
                self.recorder.set_settings(self.conversation.settings.to_dict())

    # ------------------------------------------------------------------ asking

    @property
    def api(self) -> str:
        """The server's API: "ollama", or "openai" (`/v1`)."""
        return self.runner.settings.api

    def unsent_settings(self) -> frozenset[str]:
        """Chat settings this server's API has no place for (none in Ollama's own)."""
        if self.api == "ollama":
            return frozenset()
        return frozenset({*CHAT_OPTIONS, "keep_alive"}) - SENT_OPTIONS

    def models_path(self) -> str:
        """Where the server lists its models."""
        return MODELS_PATH if self.api == "openai" else "/api/tags"

    def read_models(self, data: object) -> list[ModelInfo]:
        """The models of `models_path()`'s answer (none for what is not a list)."""
        if self.api == "openai":
            try:
                return parse_models(data)
            except ValueError:
                return []
        return ModelInfo.from_tags(data)

    def bare_request(
        self, prompt: str, options: dict[str, object] | None = None, stream: bool = True
    ) -> Request:
        """`prompt` alone, in this server's API (the compare view, its warm-up)."""
        question = [ChatMessage("user", prompt)]
        if self.api == "openai":
            return openai_chat_request(
                self.model or "", question, options=options, think=self.think, stream=stream
            )
        return chat_request(
            self.model or "", question, options=options, think=self.think, stream=stream
        )

    def request(self, context: Sequence[ChatMessage]) -> Request:
        settings = self.conversation.settings
        if self.api == "openai":
            # No keep_alive in this API: the server decides.
            return openai_chat_request(
                self.model or "",
                context,
                system=settings.system or None,
                options=settings.options() or None,
                think=self.think,
            )
        return chat_request(
            self.model or "",
            context,
            system=settings.system or None,
            options=settings.options() or None,
            keep_alive=settings.keep_alive_value(),
            think=self.think,
        )

    def send(
        self, prompt: str, notify: Notify | None = None, images: tuple[Attachment, ...] = ()
    ) -> Turn:
        """Ask `prompt` (with `images`) on the current transport; `notify` hears of the
        reply's events."""
        return self._start(self.conversation.ask(prompt, images), notify)

    def regenerate(self, notify: Notify | None = None) -> Turn | None:
        """Ask the last question again, on the current transport (None: nothing asked)."""
        exchange = self.conversation.regenerate()
        return None if exchange is None else self._start(exchange, notify)

    def _start(self, exchange: Exchange, notify: Notify | None) -> Turn:
        assert self.turn is None, "one reply at a time"
        stream = self.runner.start(self.transport, self.request(exchange.context), notify)
        self.turn = Turn(exchange, Reply(stream, self.model or ""))
        return self.turn

    # ------------------------------------------------------------------ receiving

    def progress(self, turn: Turn) -> None:
        """The reply grew: keep it (the recorder saves at most once a second)."""
        self._record(turn)

    def finish(self, turn: Turn) -> bool:
        """The reply ended: True if it stays in the conversation, False if nothing came
        back (the question is undone: its prompt goes back to the person)."""
        if self.turn is turn:
            self.turn = None
        reply = turn.reply
        if not reply.arrived and not isinstance(reply.end, Done):
            self.conversation.unanswered(turn.exchange)
            return False
        self._record(turn, force=True)  # first: it makes the rows `answered` keeps
        self.conversation.answered(turn.exchange, reply.text, reply.thinking or None)
        return True

    def save_now(self) -> None:
        """Keep the reply in flight as it stands (quitting, or leaving it)."""
        if self.turn is not None:
            self._record(self.turn, force=True)

    def leave(self) -> None:
        """Stop the reply in flight and drop it, kept as it stands (a new chat)."""
        turn = self.turn
        if turn is not None:
            self._record(turn, force=True)
            turn.reply.stop()
            self.turn = None

    def stop(self) -> None:
        if self.turn is not None:
            self.turn.reply.stop()

    def _record(self, turn: Turn, force: bool = False) -> None:
        recorder = self.recorder
        reply, exchange = turn.reply, turn.exchange
        end = reply.end
        if recorder is None or not recorder.on:
            return
        if not (reply.arrived or isinstance(end, Done)):
            return
        if exchange.saved_reply is None:
            # Only now that something came back: a request that fails with nothing
            # leaves no orphan question in the history either.
            for row in exchange.replaced:
                recorder.supersede(row)
            if not exchange.regenerate:
                exchange.saved_user = recorder.user(
                    exchange.prompt,
                    reply.model,
                    reply.transport,
                    images=exchange.images,
                    api=self.api,
                )
        exchange.saved_reply = recorder.reply(
            exchange.saved_reply,
            text=reply.text,
            thinking=reply.thinking or None,
            model=reply.model,
            transport=reply.transport,
            complete=isinstance(end, Done),
            timing=end.timing if end is not None else None,
            ended=outcome(end) if end is not None else None,
            stats=end.stats if isinstance(end, Done) else None,
            force=force or end is not None,
            api=self.api,
        )

    # ------------------------------------------------------------------ the whole chat

    def edit_last(self) -> str | None:
        """Take the last question back; its text (sending it again replaces the exchange).
        Its images: `last_images()`, asked before."""
        return None if self.turn is not None else self.conversation.edit_last()

    def last_images(self) -> tuple[Attachment, ...]:
        """The images of the last question (what an edit gives back to attach)."""
        question = self.conversation.last_question()
        return () if question is None else self.conversation.images_of(question)

    # ------------------------------------------------------------------ vision

    def vision_known(self, model: str) -> bool | None:
        """Whether `model` takes images, if `/api/show` was asked already."""
        return self._vision.get(model)

    def should_ask_vision(self, model: str) -> bool:
        """Whether `/api/show` is to be asked before sending `model` images: not known
        yet, and Ollama's own API (/v1 lists no capabilities: the server judges)."""
        return self.api == "ollama" and self.vision_known(model) is None

    def learn_vision(self, model: str, show: object) -> bool | None:
        """Read `/api/show`'s answer: True or False, None if it names no capabilities
        (an older server: then the request is sent and the server judges)."""
        if not isinstance(show, dict) or not isinstance(show.get("capabilities"), list):
            return None
        sees = "vision" in ModelDetails.from_show(show).capabilities
        self._vision[model] = sees
        return sees

    def vision_warning(self, model: str, choose: str = "^l") -> str:
        """Why the message was not sent; `choose`: how a model is chosen here."""
        return (
            f"{model} does not take images (its capabilities name no vision): choose a "
            f"vision model ({choose}), or remove the attachments to send the text alone."
        )

    def cancel_edit(self) -> bool:
        """Give up the edit `edit_last` opened (False if none is open)."""
        return self.conversation.cancel_edit()

    def set_settings(self, settings: ChatSettings) -> None:
        self._chosen = True
        self.conversation.settings = settings
        self.think = settings.think
        if self.recorder is not None:
            self.recorder.set_settings(settings.to_dict())

    def new_chat(self) -> None:
        self.leave()
        self._chosen = False
        self.conversation.clear(self.fresh_settings())
        if self.recorder is not None:
            self.recorder.new_conversation()
            self.recorder.set_settings(self.conversation.settings.to_dict())

    def continue_kept(self, kept: KeptConversation, images: KeptImages | None = None) -> list[str]:
        """A kept conversation becomes this one: its shown messages are the context,
        its settings and model come back. Returns what the person should know: a
        sentence for each image that can no longer be read (left out of the context),
        and one if it was kept over another API. `images`: `read_kept_images(kept)`,
        read off the caller's loop beforehand (they are read here otherwise)."""
        self.new_chat()
        found, notes = images if images is not None else read_kept_images(kept)
        notes = list(notes)
        self._chosen = True  # its own settings, kept with it
        settings = ChatSettings.from_dict(kept.settings)
        self.think = settings.think
        if kept.model:
            self.model = kept.model
        if kept.api != self.api:
            notes.append(
                f"This conversation was kept over the {kept.api} API; it goes on over the "
                f"{self.api} API, where its model may have another name."
            )
        if self.recorder is not None:
            self.recorder.continue_conversation(
                kept.id, kept.settings, kept.model, kept.transport, api=self.api
            )
        shown = [m for m in kept.messages if not m.superseded]
        # The history keeps only the roles a chat has (history.records.ROLES).
        kept_messages = [
            Kept(
                cast(Role, m.role),
                m.content,
                m.thinking,
                m.id,
                tuple(found[i.digest] for i in m.images if i.digest in found),
            )
            for m in shown
        ]
        self.conversation.load(kept_messages, settings)
        return notes


KeptImages = tuple[dict[str, Attachment], list[str]]


def read_kept_images(kept: KeptConversation) -> KeptImages:
    """The images of a kept conversation's shown messages with their bytes, by digest,
    to send again as it goes on; and a sentence for each that can no longer be read
    (left out). Reads files: call it off a UI's loop."""
    # Imported here: the history's modules cost ~12 ms of every start otherwise.
    from ollama_tui.history.images import ImageUnavailable

    found: dict[str, Attachment] = {}
    missing: list[str] = []
    for message in kept.messages:
        for image in message.images if not message.superseded else ():
            if image.digest in found:
                continue
            try:
                data = image.read()
            except ImageUnavailable as error:
                missing.append(str(error))
                continue
            found[image.digest] = Attachment(image.name, data, image.info, image.digest)
            found[image.digest].base64()  # encoded here, off the loop too
    return found, missing
