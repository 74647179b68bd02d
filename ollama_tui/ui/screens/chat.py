"""The chat screen: transcript, prompt, transport selector and live status bar.

It only renders: requests go out through the app's `StreamController`, and what
comes back arrives as `StreamUpdated` messages whose events are applied in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Label, Markdown, Select, Static

from ollama_tui.core.chat_settings import ChatSettings
from ollama_tui.core.codeblocks import code_blocks
from ollama_tui.core.events import (
    Done,
    Stopped,
    StreamError,
)
from ollama_tui.core.format import summary
from ollama_tui.core.protocol import ChatMessage, chat_request
from ollama_tui.core.sanitize import clean
from ollama_tui.core.thinking import ThinkTagSplitter
from ollama_tui.session.recorder import Saved
from ollama_tui.tracker import TimingTracker
from ollama_tui.transports import TRANSPORT_NAMES
from ollama_tui.ui.controller import LiveStream, StreamCrashed, StreamUpdated, read_batch
from ollama_tui.ui.screens.settings import SettingsScreen
from ollama_tui.ui.widgets.chat_message import (
    AssistantMessage,
    FoldedParagraphs,
    Notice,
    UserMessage,
)
from ollama_tui.ui.widgets.prompt import PromptInput
from ollama_tui.ui.widgets.status_bar import Figures, State, StatusBar

if TYPE_CHECKING:
    from ollama_tui.history.store import Conversation, MessageRecord
    from ollama_tui.ui.app import OllamaApp


THINK_LABEL = {None: "model default", True: "on", False: "off"}
RECENT = 6
"""Messages of a reopened conversation shown before the older ones are mounted."""


@dataclass
class Turn:
    """The reply being streamed and what it needs to finish."""

    live: LiveStream
    prompt: str
    widget: AssistantMessage
    tracker: TimingTracker
    splitter: ThinkTagSplitter
    context: list[ChatMessage]
    regenerate: bool = False
    question: UserMessage | None = None  # its bubble, removed again if nothing came back
    saved_context: list[Saved | None] = field(default_factory=list)  # history rows of context
    replaced: list[Saved | None] = field(default_factory=list)  # kept rows it replaces
    saved_user: Saved | None = None
    saved_reply: Saved | None = None


class ChatScreen(Screen[None]):
    AUTO_FOCUS = "#prompt"

    BINDINGS = [
        Binding("escape", "stop", "Stop", id="stop", tooltip="Stop the reply being streamed"),
        Binding(
            "ctrl+t",
            "cycle_transport",
            "Transport",
            id="transport",
            tooltip="Switch to the next HTTP transport",
        ),
        Binding("ctrl+l", "pick_model", "Model", id="model", tooltip="Choose the model"),
        Binding(
            "ctrl+r",
            "regenerate",
            "Regenerate",
            id="regenerate",
            tooltip="Ask for the last reply again",
        ),
        Binding(
            "ctrl+g",
            "regenerate_next",
            "Regen. on next",
            id="regenerate_next",
            show=False,
            tooltip="Ask again on the next transport",
        ),
        Binding("ctrl+n", "new_chat", "New chat", id="new_chat", tooltip="Start over"),
        Binding(
            "f5",
            "settings",
            "Settings",
            id="settings",
            show=False,
            tooltip="System prompt and options of this conversation",
        ),
        Binding(
            "f4",
            "edit_last",
            "Edit last",
            id="edit_last",
            show=False,
            tooltip="Edit your last message and send it again",
        ),
        Binding("ctrl+o", "copy_reply", "Copy", id="copy", tooltip="Copy the last reply"),
        Binding(
            "ctrl+b",
            "copy_code",
            "Copy code",
            id="copy_code",
            show=False,
            tooltip="Copy the last code block of the last reply",
        ),
        Binding(
            "ctrl+f",
            "toggle_think",
            "Think",
            id="think",
            show=False,
            tooltip="Ask thinking models to think (or not)",
        ),
        Binding(
            "ctrl+down",
            "follow",
            "Jump to latest",
            id="follow",
            show=False,
            tooltip="Scroll to the newest text and follow it",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.history: list[ChatMessage] = []
        self.saved: list[Saved | None] = []
        """The history's rows for `history`, message for message (None: not kept)."""
        self.chat_settings = ChatSettings()
        """This conversation's system prompt and options, sent with each request."""
        self.editing: list[Saved | None] = []
        """Rows of the exchange being edited (F4): replaced once the edit is answered."""
        self.turn: Turn | None = None

    @property
    def ollama(self) -> OllamaApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(id="header", markup=False)
        with Horizontal(id="toolbar"):
            yield Label("Transport", classes="label")
            yield Select(
                [(name, name) for name in TRANSPORT_NAMES],
                value=self.ollama.transport,
                allow_blank=False,
                id="transport",
                compact=True,
            )
            yield Static(id="think-flag", markup=False)
        yield VerticalScroll(id="transcript")
        yield Static(id="below", markup=False)
        yield PromptInput(id="prompt")
        yield StatusBar(self.ollama.clock, id="status")
        yield Footer()

    def on_mount(self) -> None:
        transcript = self.query_one("#transcript", VerticalScroll)
        transcript.anchor()
        self.watch(transcript, "scroll_y", lambda _: self.show_below(), init=False)
        self.query_one("#below").display = False
        self.refresh_labels()

    # ------------------------------------------------------------------ labels

    def refresh_labels(self) -> None:
        app = self.ollama
        model = clean(app.model or "no model")
        self.query_one("#header", Static).update(Content(f"ollama-tui · {model} · {app.where}"))
        self.query_one("#think-flag", Static).update(
            Content(f"think: {THINK_LABEL[app.think]}  ^F")
        )
        status = self.query_one(StatusBar)
        status.transport = app.transport
        status.model = model
        select = self.query_one("#transport", Select)
        if select.value != app.transport:
            select.value = app.transport

    @on(Select.Changed, "#transport")
    def transport_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.ollama.transport:
            self.ollama.set_transport(event.value)

    # ------------------------------------------------------------------ sending

    @on(PromptInput.Submitted)
    def prompt_submitted(self, event: PromptInput.Submitted) -> None:
        if self.turn is not None:
            self.notify("A reply is still streaming: Esc stops it.", severity="warning")
            return
        if not self.ollama.model:
            self.notify("Choose a model first (Ctrl+L).", severity="warning")
            return
        prompt = event.prompt
        prompt.remember(event.text)
        prompt.clear()
        question = UserMessage(event.text)
        self.mount_in_transcript(question)
        self.send(event.text, [*self.history, ChatMessage("user", event.text)], question=question)

    def send(
        self,
        prompt: str,
        context: list[ChatMessage],
        regenerate: bool = False,
        question: UserMessage | None = None,
    ) -> None:
        app = self.ollama
        settings = self.chat_settings
        request = chat_request(
            app.model or "",
            context,
            system=settings.system or None,
            options=settings.options() or None,
            keep_alive=settings.keep_alive_value(),
            think=app.think,
        )
        widget = AssistantMessage(app.transport, app.model or "")
        self.mount_in_transcript(widget)
        live = app.controller.start(self, app.transport, request)
        kept = len(context) - (0 if regenerate else 1)  # the new question is not kept yet
        # A regenerate after F4 replaces the exchange taken back too.
        replaced = [*self.editing, *self.saved[kept:]] if regenerate else self.editing
        if regenerate:
            self.editing = []
        self.turn = Turn(
            live,
            prompt,
            widget,
            TimingTracker(live.started),
            ThinkTagSplitter(),
            context,
            regenerate,
            question,
            saved_context=self.saved[:kept],
            replaced=replaced,
        )
        self.query_one(StatusBar).begin(live.transport, self.turn.tracker.snapshot)

    def mount_in_transcript(self, widget: Static | AssistantMessage) -> None:
        transcript = self.query_one("#transcript", VerticalScroll)
        transcript.mount(widget)

    # ------------------------------------------------------------------ receiving

    @on(StreamUpdated)
    async def stream_updated(self, message: StreamUpdated) -> None:
        turn = self.turn
        if turn is None or message.stream is not turn.live:
            return
        batch = read_batch(message.stream.take(), turn.tracker, turn.splitter)
        if batch.first_chunk:
            self.query_one(StatusBar).streaming()
        turn.widget.add_thinking(batch.thinking)
        await turn.widget.add_content(batch.content)
        if batch.end is not None:
            await self.finish(turn, batch.end)
        else:
            self.record(turn)
        self.show_below()

    def record(
        self, turn: Turn, end: Done | Stopped | StreamError | None = None, force: bool = False
    ) -> None:
        """Keep the reply so far in the history (the recorder paces and queues it)."""
        recorder = self.ollama.recorder
        widget = turn.widget
        if not recorder.on or not (widget.text or widget.thinking_text or isinstance(end, Done)):
            return
        transport = turn.live.transport
        if turn.saved_reply is None:
            # Only now that something came back: a request that fails with nothing
            # leaves no orphan question in the history either.
            for row in turn.replaced:
                recorder.supersede(row)
            if not turn.regenerate:
                turn.saved_user = recorder.user(turn.prompt, widget.model, transport)
        turn.saved_reply = recorder.reply(
            turn.saved_reply,
            text=widget.text,
            thinking=widget.thinking_text or None,
            model=widget.model,
            transport=transport,
            complete=isinstance(end, Done),
            timing=end.timing if end is not None else None,
            stats=end.stats if isinstance(end, Done) else None,
            force=force or end is not None,
        )

    async def finish(self, turn: Turn, end: Done | Stopped | StreamError) -> None:
        try:
            await self._finish(turn, end)
        finally:
            # Only now: the reply is complete on screen before a new request can start.
            self.turn = None

    async def _finish(self, turn: Turn, end: Done | Stopped | StreamError) -> None:
        rest = turn.splitter.flush()
        turn.widget.add_thinking(rest.thinking)
        await turn.widget.add_content(rest.content)
        status = self.query_one(StatusBar)
        figures = summary(turn.live.transport, end.timing, getattr(end, "stats", None))
        if isinstance(end, Done):
            status.end(State.DONE, end.timing, end.stats)
            await turn.widget.finish(figures, "done")
        elif isinstance(end, Stopped):
            status.end(State.STOPPED, end.timing)
            await turn.widget.finish(f"stopped · {figures}", "stopped")
        else:
            status.end(State.ERROR, end.timing)
            await turn.widget.finish(f"error · {figures}", "error")
            self.mount_in_transcript(Notice(end.message))
        arrived = turn.widget.text or turn.widget.thinking_text
        if not arrived and not isinstance(end, Done):
            # Nothing came back: the request is undone (the error stays) and its prompt
            # goes back into the box, so a resend does not show the question twice.
            await turn.widget.remove()
            if turn.question is not None:
                await turn.question.remove()
            if not turn.regenerate:
                self.query_one(PromptInput).restore(turn.prompt)
                self.editing = turn.replaced  # a retry still replaces the edited exchange
            return
        thinking = turn.widget.thinking_text or None
        reply = ChatMessage("assistant", turn.widget.text, thinking=thinking)
        self.history = [*turn.context, reply]
        self.record(turn, end)
        if not turn.regenerate:
            self.editing = []
        asked = [] if turn.regenerate else [turn.saved_user]
        self.saved = [*turn.saved_context, *asked, turn.saved_reply]

    @on(StreamCrashed)
    async def stream_crashed(self, message: StreamCrashed) -> None:
        turn = self.turn
        if turn is None or message.stream is not turn.live:
            return
        self.turn = None
        await turn.widget.finish("error", "error")
        self.mount_in_transcript(Notice(f"Internal error: {message.error!r}"))
        self.query_one(StatusBar).end(State.ERROR, turn.tracker.snapshot())

    # ------------------------------------------------------------------ scrolling

    def show_below(self) -> None:
        transcript = self.query_one("#transcript", VerticalScroll)
        # Textual keeps no public flag for "the user scrolled away from the anchor".
        away = self.turn is not None and getattr(transcript, "_anchor_released", False)
        below = self.query_one("#below", Static)
        if away and not below.display:
            below.update(Content("↓ new text below — Ctrl+↓ to follow"))
        below.display = away

    def action_follow(self) -> None:
        transcript = self.query_one("#transcript", VerticalScroll)
        transcript.scroll_end(animate=False)
        transcript.anchor()
        self.query_one("#below").display = False

    # ------------------------------------------------------------------ actions

    def action_stop(self) -> None:
        if self.turn is not None:
            self.turn.live.stop()

    def action_cycle_transport(self) -> None:
        names = TRANSPORT_NAMES
        self.ollama.set_transport(names[(names.index(self.ollama.transport) + 1) % len(names)])

    def transport_changed(self) -> None:
        self.refresh_labels()
        if self.turn is not None:
            self.notify(
                f"Transport: {self.ollama.transport} — applies to the next request; "
                f"this reply continues on {self.turn.live.transport}."
            )
        else:
            self.notify(f"Transport: {self.ollama.transport}")

    def action_regenerate(self) -> None:
        """Ask for the last reply again, on the transport chosen now."""
        if self.turn is not None:
            self.notify("A reply is still streaming: Esc stops it.", severity="warning")
            return
        last_user = self.last_user_index()
        if last_user is None:
            self.notify("Nothing to regenerate yet.", severity="warning")
            return
        context = self.history[: last_user + 1]
        self.send(context[-1].content, context, regenerate=True)

    def action_settings(self) -> None:
        async def edit() -> None:
            app = self.ollama
            current = replace(self.chat_settings, think=app.think)
            chosen = await app.push_screen_wait(SettingsScreen(current, app.model or "no model"))
            if chosen is None:
                return
            self.chat_settings = chosen
            app.think = chosen.think  # type: ignore[assignment]
            app.recorder.set_settings(chosen.to_dict())
            self.refresh_labels()
            self.notify("Settings saved for this conversation.")

        self.run_worker(edit(), exit_on_error=False)

    def action_edit_last(self) -> None:
        """Take the last message back into the prompt box; sending it replaces that
        exchange (the history keeps the old one, marked as replaced)."""
        if self.turn is not None:
            self.notify("A reply is still streaming: Esc stops it.", severity="warning")
            return
        last_user = self.last_user_index()
        if last_user is None:
            self.notify("No message to edit yet.", severity="warning")
            return
        text = self.history[last_user].content
        self.editing = [*self.editing, *self.saved[last_user:]]
        self.history = self.history[:last_user]
        self.saved = self.saved[:last_user]
        transcript = self.query_one("#transcript", VerticalScroll)
        questions = list(transcript.query(UserMessage))
        if questions:
            children = list(transcript.children)
            for widget in children[children.index(questions[-1]) :]:
                widget.remove()
            self.ollama.collector.compact_soon()  # the removed widgets may be frozen
        prompt = self.query_one(PromptInput)
        prompt.load_text(text)
        prompt.focus()

    def action_regenerate_next(self) -> None:
        if self.turn is None and any(m.role == "user" for m in self.history):
            self.action_cycle_transport()
        self.action_regenerate()

    def action_new_chat(self) -> None:
        if self.turn is not None:
            # Kept as it stands now: its own end arrives after the turn is dropped.
            self.record(self.turn, force=True)
            self.turn.live.stop()
            self.turn = None
        self.history = []
        self.saved = []
        self.editing = []
        self.chat_settings = ChatSettings(think=self.ollama.think)
        self.ollama.recorder.new_conversation()
        self.query_one("#transcript", VerticalScroll).remove_children()
        self.ollama.collector.compact_soon()  # the removed widgets may be frozen
        self.query_one(StatusBar).figures = Figures()
        self.query_one(PromptInput).focus()

    async def show_conversation(self, conversation: Conversation) -> None:
        """Continue a kept conversation: its messages become the transcript and context."""
        self.action_new_chat()
        self.chat_settings = ChatSettings.from_dict(conversation.settings)
        self.ollama.think = self.chat_settings.think  # type: ignore[assignment]
        self.ollama.recorder.continue_conversation(
            conversation.id, conversation.settings, conversation.model, conversation.transport
        )
        if conversation.model:
            self.ollama.set_model(conversation.model)
        shown = [m for m in conversation.messages if not m.superseded]
        widgets: list[Static | AssistantMessage] = []
        replies: list[tuple[AssistantMessage, MessageRecord]] = []
        for record in shown:
            if record.role == "assistant":
                widget = AssistantMessage(record.transport or "", record.model or "")
                replies.append((widget, record))
                widgets.append(widget)
                self.history.append(ChatMessage("assistant", record.content, record.thinking))
            else:
                widgets.append(UserMessage(record.content))
                self.history.append(ChatMessage(record.role, record.content))
            self.saved.append(Saved(record.id))
        # Newest first: the last few messages (what is on screen) are mounted and
        # parsed before the older ones are even mounted above them.
        transcript = self.query_one("#transcript", VerticalScroll)
        recent, older = widgets[-RECENT:], widgets[:-RECENT]
        await transcript.mount_all(recent)
        for widget, record in reversed(replies):
            if widget in recent:
                await self._fill(widget, record)
        if older:
            await transcript.mount_all(older, before=recent[0])
            for widget, record in reversed(replies):
                if widget not in recent:
                    await self._fill(widget, record)
        self.notify(f"Opened “{clean(conversation.title)}”.", markup=False)

    @staticmethod
    async def _fill(widget: AssistantMessage, record: MessageRecord) -> None:
        # Imported here: the history's modules cost ~12 ms of every start otherwise.
        from ollama_tui.history.export import figures_line

        widget.add_thinking(record.thinking or "")
        await widget.add_content(record.content)
        footer = figures_line(record) or widget.transport
        await widget.finish(
            footer if record.complete else f"incomplete · {footer}",
            "done" if record.complete else "stopped",
        )

    def last_user_index(self) -> int | None:
        """Where the user's last message is in `history`, if anywhere."""
        return next(
            (i for i in range(len(self.history) - 1, -1, -1) if self.history[i].role == "user"),
            None,
        )

    def last_prompt(self) -> str:
        """The last message the user sent in this conversation, or ""."""
        return next((m.content for m in reversed(self.history) if m.role == "user"), "")

    def last_reply(self) -> str | None:
        replies = [m.content for m in self.history if m.role == "assistant" and m.content]
        return replies[-1] if replies else None

    def action_copy_reply(self) -> None:
        reply = self.last_reply()
        if reply is None:
            self.notify("No reply to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(reply)
        self.notify(f"Copied the last reply ({len(reply)} characters).")

    def action_copy_code(self) -> None:
        reply = self.last_reply()
        blocks = code_blocks(reply) if reply else []
        if not blocks:
            self.notify("The last reply has no code block.", severity="warning")
            return
        self.app.copy_to_clipboard(blocks[-1])
        self.notify(f"Copied the last code block ({len(blocks[-1].splitlines())} lines).")

    def action_toggle_think(self) -> None:
        # Unset (the model decides) → on → off → unset.
        self.ollama.think = {None: True, True: False, False: None}[self.ollama.think]
        self.refresh_labels()
        self.notify(f"Thinking: {THINK_LABEL[self.ollama.think]} for the next request.")

    def action_pick_model(self) -> None:
        self.ollama.action_pick_model()

    @on(Markdown.LinkClicked)
    @on(FoldedParagraphs.LinkClicked)
    def link_clicked(self, event: Markdown.LinkClicked | FoldedParagraphs.LinkClicked) -> None:
        event.stop()
        self.ollama.confirm_open_link(event.href)
