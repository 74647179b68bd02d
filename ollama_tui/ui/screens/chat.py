"""The chat screen: transcript, prompt, transport selector and live status bar.

It only renders: the session (`ollama_tui.session.chat`) sends, runs the streams below
the UI and keeps the conversation; what comes back is shown by `chat_receiving`, at the
turns its paint clock gives.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Collapsible, Footer, Label, Markdown, Select, Static

from ollama_tui.core.sanitize import clean
from ollama_tui.session.chat import Turn, read_kept_images
from ollama_tui.transports import TRANSPORT_NAMES
from ollama_tui.ui.messages import tell
from ollama_tui.ui.pacer import Pacer
from ollama_tui.ui.paint_now import PaintsNow
from ollama_tui.ui.screens.chat_copy import ReplyCopying
from ollama_tui.ui.screens.chat_keys import CHAT_BINDINGS, think_label
from ollama_tui.ui.screens.chat_receiving import ReplyReceiving
from ollama_tui.ui.screens.details import open_details
from ollama_tui.ui.screens.settings import SettingsScreen
from ollama_tui.ui.widgets.attachments import AttachmentChips
from ollama_tui.ui.widgets.chat_message import AssistantMessage, ShownImage, UserMessage
from ollama_tui.ui.widgets.figures_footer import FiguresFooter
from ollama_tui.ui.widgets.folding import FoldedParagraphs
from ollama_tui.ui.widgets.prompt import PromptInput
from ollama_tui.ui.widgets.status_bar import Figures, StatusBar
from ollama_tui.ui.widgets.transcript import Transcript, welcome_text

if TYPE_CHECKING:
    from ollama_tui.history.store import Conversation as KeptConversation


class ChatScreen(ReplyReceiving, ReplyCopying, PaintsNow):
    AUTO_FOCUS = "#prompt"

    BINDINGS = CHAT_BINDINGS

    def __init__(self) -> None:
        super().__init__()
        self.views: dict[Turn, AssistantMessage] = {}
        self.ending: set[Turn] = set()
        self.questions: dict[Turn, UserMessage] = {}
        self.taken_back: list[Widget] = []
        """The exchange F4 took back, hidden: shown again if the edit is given up (Esc),
        removed once the edit (or a regeneration) is sent."""
        self.typed_before_edit = ""
        self.pacer = Pacer(self, show=self.show_turn)

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
        yield Transcript(id="transcript")
        yield Static(id="below", markup=False)
        yield AttachmentChips(id="attachments")
        yield PromptInput(id="prompt")
        yield StatusBar(self.ollama.clock, id="status")
        yield Footer(compact=True)

    async def on_mount(self) -> None:
        self.watch(self.transcript, "scroll_y", lambda _: self.show_below(), init=False)
        if self.ollama.startup_images:
            await self.add_attachments(self.ollama.startup_images)
        self.query_one("#below").display = False
        self.refresh_labels()

    # ------------------------------------------------------------------ labels

    def refresh_labels(self) -> None:
        app = self.ollama
        model = clean(app.model or "no model")
        self.query_one("#header", Static).update(Content(f"ollama-tui · {model} · {app.where}"))
        self.query_one("#think-flag", Static).update(
            Content(f"think: {think_label(app.think)}  ^f")
        )
        self.transcript.welcome(self.welcome())
        status = self.query_one(StatusBar)
        status.transport = app.transport
        status.model = model
        select = self.query_one("#transport", Select)
        if select.value != app.transport:
            select.value = app.transport

    def welcome(self) -> Content:
        app = self.ollama
        return welcome_text(app.model, app.where, app.transport)

    @on(Select.Changed, "#transport")
    def transport_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.ollama.transport:
            self.ollama.set_transport(event.value)

    # ------------------------------------------------------------------ sending

    @on(PromptInput.Submitted)
    async def prompt_submitted(self, event: PromptInput.Submitted) -> None:
        if self.turn is not None:
            self.notify("A reply is still streaming: Esc stops it.", severity="warning")
            return
        if not self.ollama.model:
            self.notify("Choose a model first (Ctrl+L).", severity="warning")
            return
        images = await self.images_to_send(self.ollama.model)
        if images is None:
            return  # said why; the prompt and the attachments stay
        prompt = event.prompt
        prompt.remember(event.text)
        if prompt.text == event.text:  # not what was typed while the model was asked
            prompt.clear()
        self._drop_taken_back()
        # Sending is reading the answer: the newest text, followed as it grows.
        self.transcript.follow()
        question = UserMessage(event.text, [ShownImage.of(i) for i in images])
        self.mount_in_transcript(question)
        turn = self.session.send(event.text, images=images)
        self.questions[turn] = question
        await self._show(turn)

    async def _show(self, turn: Turn) -> None:
        """A reply view for `turn` and the status bar following it; then its updates."""
        reply = turn.reply
        view = AssistantMessage(reply.transport, reply.model)
        self.views[turn] = view
        self.query_one(StatusBar).begin(reply.transport, reply.model, lambda: reply.timing)
        await self.transcript.add(view)
        # Listening only now that the view is composed (what arrived meanwhile waits).
        reply.stream.listen(tell(self))

    # ------------------------------------------------------------------ actions

    def action_stop(self) -> None:
        if self.turn is not None:
            self.session.stop()
        else:
            self.cancel_edit()

    def action_cycle_transport(self) -> None:
        names = TRANSPORT_NAMES
        self.ollama.set_transport(names[(names.index(self.ollama.transport) + 1) % len(names)])

    def transport_changed(self) -> None:
        self.refresh_labels()
        if self.turn is not None:
            self.notify(
                f"Transport: {self.ollama.transport} — applies to the next request; "
                f"this reply continues on {self.turn.reply.transport}."
            )
        else:
            self.notify(f"Transport: {self.ollama.transport}")

    async def action_regenerate(self) -> None:
        """Ask for the last reply again, on the transport chosen now."""
        if self.turn is not None:
            self.notify("A reply is still streaming: Esc stops it.", severity="warning")
            return
        turn = self.session.regenerate()
        if turn is None:
            self.notify("Nothing to regenerate yet.", severity="warning")
            return
        self._drop_taken_back()
        self.transcript.follow()
        await self._show(turn)

    def action_settings(self) -> None:
        async def edit() -> None:
            app = self.ollama
            current = replace(self.session.conversation.settings, think=app.think)
            model, unsent = app.model or "no model", self.session.unsent_settings()
            chosen = await app.push_screen_wait(SettingsScreen(current, model, unsent))
            if chosen is None:
                return
            self.session.set_settings(chosen)
            self.refresh_labels()
            self.notify("Settings saved for this conversation.")

        self.run_worker(edit(), exit_on_error=False)

    def action_edit_last(self) -> None:
        """Take the last message back into the prompt box; sending it replaces that
        exchange (the history keeps the old one, marked as replaced)."""
        if self.turn is not None:
            self.notify("A reply is still streaming: Esc stops it.", severity="warning")
            return
        images = self.session.last_images()
        text = self.session.edit_last()
        if text is None:
            self.notify("No message to edit yet.", severity="warning")
            return
        self.edit_images(images)
        prompt = self.query_one(PromptInput)
        if not self.taken_back:
            self.typed_before_edit = prompt.text
        self.taken_back += self.transcript.take_back_last_exchange()
        prompt.load_text(text)
        prompt.move_cursor(prompt.document.end)  # typing goes on from the end
        prompt.focus()
        self.notify("Editing your last message: Enter sends it, Esc gives up the edit.")

    def cancel_edit(self) -> bool:
        """Esc while editing: the exchange comes back as it was, and what was typed."""
        if not self.taken_back or not self.session.cancel_edit():
            return False
        for widget in self.taken_back:
            widget.display = True
        self.taken_back = []
        self.edit_ended(given_up=True)
        prompt = self.query_one(PromptInput)
        prompt.load_text(self.typed_before_edit)
        prompt.move_cursor(prompt.document.end)
        return True

    def _drop_taken_back(self) -> None:
        self.edit_ended(given_up=False)
        if self.taken_back:
            for widget in self.taken_back:
                widget.remove()
            self.taken_back = []
            self.ollama.collector.compact_soon()  # the removed widgets may be frozen

    async def action_regenerate_next(self) -> None:
        if self.turn is None and self.session.conversation.last_user_index() is not None:
            self.action_cycle_transport()
        await self.action_regenerate()

    def action_new_chat(self) -> None:
        # A reply in flight is kept as it stands; its own end arrives after it is dropped.
        turn = self.turn
        self.session.new_chat()
        if turn is not None:
            self.pacer.forget(turn.reply.stream)  # the next reply's first words at once
        self.views.clear()
        self.questions.clear()
        self.taken_back = []
        self.transcript.clear(self.welcome())
        self.ollama.collector.compact_soon()  # the removed widgets may be frozen
        self.query_one(StatusBar).figures = Figures()
        self.query_one(PromptInput).focus()

    async def show_conversation(self, conversation: KeptConversation) -> None:
        """Continue a kept conversation: its messages become the transcript and context."""
        self.action_new_chat()
        kept_images = await asyncio.to_thread(read_kept_images, conversation)  # off the loop
        for sentence in self.session.continue_kept(conversation, kept_images):
            self.notify(clean(sentence), severity="warning", title="Reopened", markup=False)
        self.refresh_labels()
        await self.transcript.show_kept([m for m in conversation.messages if not m.superseded])
        # Reopened to go on: the end, where the next message goes, is what is shown.
        self.call_after_refresh(self.transcript.follow)
        self.notify(f"Opened “{clean(conversation.title)}”.", markup=False)

    def action_toggle_think(self) -> None:
        # Unset (the model decides) → on → off → unset.
        think = self.ollama.think
        self.ollama.think = True if think is None else False if think is True else None
        self.refresh_labels()
        self.notify(f"Thinking: {think_label(self.ollama.think)} for the next request.")

    def action_toggle_thinking_block(self) -> None:
        shown = [r for r in self.transcript.query(AssistantMessage) if r.thinking_text]
        if not shown:
            self.notify("No reply here has any thinking.", severity="warning")
            return
        block = shown[-1].query_one("#thinking", Collapsible)
        block.collapsed = not block.collapsed

    def action_details(self) -> None:
        shown = [r for r in self.transcript.query(AssistantMessage) if r.waterfall and r.display]
        open_details(self, shown[-1] if shown else None)

    @on(FiguresFooter.DetailsRequested)
    def details_requested(self, event: FiguresFooter.DetailsRequested) -> None:
        open_details(self, event.footer.parent)

    @on(Transcript.Trimmed)
    def shelved(self) -> None:
        self.ollama.collector.compact_soon()  # the shelved widgets may be frozen

    @on(Markdown.LinkClicked)
    @on(FoldedParagraphs.LinkClicked)
    def link_clicked(self, event: Markdown.LinkClicked | FoldedParagraphs.LinkClicked) -> None:
        event.stop()
        self.ollama.confirm_open_link(event.href)
