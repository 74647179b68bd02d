"""The conversation on screen: it follows the newest text until the person scrolls away.

Messages are only appended, removed from the last question on (an edit), or filled
from a kept conversation, newest first. A long chat keeps only its last messages
mounted: older ones are shelved as their text (a reply's widgets cost about 36 KiB
each, its text a few hundred bytes) and mounted again when the person scrolls up to
them, so a chat of any length costs the memory and the frames of its last ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.content import Content
from textual.events import Click
from textual.message import Message
from textual.scrollbar import ScrollBar
from textual.widget import AwaitMount, Widget
from textual.widgets import Static

from ollama_tui.core.sanitize import clean
from ollama_tui.core.waterfall import Waterfall
from ollama_tui.ui import kept_bar
from ollama_tui.ui.scroll_ahead import ScrollsAhead
from ollama_tui.ui.textual_fixes import FocusedAlone, SizedOnce
from ollama_tui.ui.widgets.chat_message import (
    AssistantMessage,
    Notice,
    ShownImage,
    UserMessage,
)
from ollama_tui.ui.widgets.probe_holder import ProbeHolder

if TYPE_CHECKING:
    from ollama_tui.history.store import MessageRecord

RECENT = 6
"""Messages of a reopened conversation shown before the older ones are mounted."""

KEEP = 40
"""Messages kept mounted while the person follows the newest text."""
SHELVE = 20
"""Messages shelved (or mounted again) at a time: past KEEP + SHELVE, the oldest go."""


@dataclass(frozen=True, slots=True)
class Shelved:
    """A message taken off the screen, as what rebuilds it."""

    kind: str  # "user", "assistant" or a notice's kind
    text: str
    thinking: str = ""
    transport: str = ""
    model: str = ""
    footer: str = ""
    state: str = ""
    waterfall: Waterfall | None = None
    images: tuple[ShownImage, ...] = ()

    @classmethod
    def of(cls, widget: Widget) -> Shelved | None:
        """None for a widget that is not a finished message (it stays mounted)."""
        if isinstance(widget, UserMessage):
            return cls("user", widget.text, images=widget.images)
        if isinstance(widget, Notice):
            return cls(widget.kind, widget.text)
        if isinstance(widget, AssistantMessage) and widget.state:
            return cls(
                "assistant",
                widget.text,
                widget.thinking_text,
                widget.transport,
                widget.model,
                widget.footer_text,
                widget.state,
                widget.waterfall,
            )
        return None

    def rebuild(self) -> Widget:
        """A widget showing it again (a reply must be mounted first: see `fill`)."""
        if self.kind == "user":
            return UserMessage(self.text, self.images)
        if self.kind != "assistant":
            return Notice(self.text, self.kind)
        return AssistantMessage(self.transport, self.model, streamed=False)

    async def fill(self, widget: Widget) -> None:
        if isinstance(widget, AssistantMessage):
            widget.waterfall = self.waterfall
            widget.add_thinking(self.thinking)
            widget.add_content(self.text)
            await widget.finish(self.footer, self.state)


class Earlier(Static):
    """Above the oldest message mounted: how many are shelved (scroll up or click)."""

    def on_click(self, event: Click) -> None:
        event.stop()
        parent = self.parent
        if isinstance(parent, Transcript):
            self.run_worker(parent.unshelve(), exit_on_error=False)


def welcome_text(model: str | None, where: str, transport: str) -> Content:
    """The empty chat's words: with whom, over what, and the three keys to start."""
    if model:
        who = Content.assemble(
            "Chatting with ",
            (clean(model), "bold"),
            f" on {clean(where)}, over ",
            (transport, "bold"),
            ".",
        )
    else:
        who = Content("No model chosen yet: ^l lists the server's models.")
    keys = [
        ("enter", "sends your message (^j: a new line in it)"),
        ("^l", "chooses the model; ^t switches the HTTP client"),
        ("f1", "every key, and what the figures below mean"),
    ]
    rows = [Content.assemble((f"  {key:<6}", "bold $accent"), text) for key, text in keys]
    return Content("\n").join([who, Content(""), *rows])


class Welcome(Static):
    """What an empty chat says: with whom, over what, and the keys to start with."""


class Transcript(VerticalScroll, SizedOnce, FocusedAlone, ScrollsAhead):
    class Trimmed(Message):
        """Messages were taken off the screen (shelved): their widgets are garbage now, frozen
        garbage if a collection froze them (ui/collector.py)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shelved: list[Shelved] = []
        """Messages above the oldest one mounted, oldest first."""
        self._unshelving = False

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        # Its rows kept across the moves of each growth's layout (ui/kept_bar.py).
        return kept_bar.vertical_bar(self) or super().vertical_scrollbar

    def on_mount(self) -> None:
        self.anchor()
        # Hidden: the blocks every answer here is drawn with, made once (probe_holder.py).
        self.mount(ProbeHolder())

    def welcome(self, text: Content) -> None:
        """Say `text` while the chat is empty (updated in place if it says it already)."""
        shown = self.query(Welcome)
        if shown:
            shown.first().update(text)
        elif not self.messages:
            self.mount(Welcome(text))

    def clear(self, welcome: Content) -> None:
        """Empty again (a new chat): only the welcome."""
        self.shelved = []
        # The children of now but the probe holder; the welcome comes after them.
        self.remove_children([w for w in self.children if not isinstance(w, ProbeHolder)])
        self.mount(Welcome(welcome))

    @property
    def messages(self) -> list[Widget]:
        """Its children but the hidden probe holder."""
        return [w for w in self.children if not isinstance(w, ProbeHolder)]

    def add(self, widget: Widget) -> AwaitMount:
        """Append a message; the welcome goes with the first one; the oldest messages
        are shelved if there are too many and the person follows the newest."""
        self.query(Welcome).remove()
        if not self.away:
            self.shelve()
        return self.mount(widget)

    def shelve(self) -> None:
        messages = [w for w in self.messages if not isinstance(w, Earlier | Welcome)]
        if len(messages) < KEEP + SHELVE:
            return
        going: list[Widget] = []
        for widget in messages[:SHELVE]:
            shelved = Shelved.of(widget) if widget.display else None
            if shelved is None:
                break  # something not finished or hidden (an edit): keep it and the rest
            self.shelved.append(shelved)
            going.append(widget)
        if going:
            self.remove_children(going)
            self._say_earlier()
            self.post_message(self.Trimmed())

    async def unshelve(self) -> None:
        """Mount the last shelved messages again, above the oldest one shown, and keep
        the reader's place. One at a time: a second scroll to the top meanwhile waits."""
        if not self.shelved or self._unshelving:
            return
        self._unshelving = True
        try:
            coming = self.shelved[-SHELVE:]
            widgets = [item.rebuild() for item in coming]
            first = next(w for w in self.messages if not isinstance(w, Earlier))
            await self.mount_all(widgets, before=first)
            # Off the shelf once mounted: if filling is cut short, they are shown, not lost.
            del self.shelved[-len(coming) :]
            for item, widget in reversed(list(zip(coming, widgets, strict=True))):
                await item.fill(widget)  # newest first: the nearest to the reader
            self._say_earlier()
            self.call_after_refresh(self._keep_place, first)
        finally:
            self._unshelving = False

    def _keep_place(self, first: Widget) -> None:
        """Back to the message that was at the top before the older ones came."""
        if first.is_mounted:
            self.scroll_to(y=first.virtual_region.y, animate=False, immediate=True)

    def _say_earlier(self) -> None:
        shown = self.query(Earlier)
        if not self.shelved:
            shown.remove()
            return
        text = Content(f"▲ {len(self.shelved)} earlier messages: scroll up or click to show")
        if shown:
            shown.first().update(text)
        else:
            self.mount(Earlier(text), before=0)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new <= 0 < old and self.shelved:
            self.run_worker(self.unshelve(), group="unshelve", exit_on_error=False)

    @property
    def away(self) -> bool:
        """The person scrolled up, away from the newest text."""
        # Textual (8.2.8) keeps no public flag for a released anchor; False if it goes.
        return bool(getattr(self, "_anchor_released", False))

    def follow(self) -> None:
        """Jump to the newest text and follow it again."""
        self.scroll_end(animate=False)
        self.anchor()

    def take_back_last_exchange(self) -> list[Widget]:
        """Hide the last question shown and everything after it (an edit, which may be
        given up); the widgets hidden."""
        questions = [q for q in self.query(UserMessage) if q.display]
        if not questions:
            return []
        children = list(self.children)
        hidden = [w for w in children[children.index(questions[-1]) :] if w.display]
        for widget in hidden:
            widget.display = False
        return hidden

    async def show_kept(self, messages: list[MessageRecord]) -> None:
        """A kept conversation's messages, the last few (what is on screen) mounted and
        parsed before the older ones are even mounted above them; past KEEP, shelved."""
        items = [_from_record(record) for record in messages]
        self.shelved, items = items[:-KEEP], items[-KEEP:]
        widgets = [item.rebuild() for item in items]
        recent, older = widgets[-RECENT:], widgets[:-RECENT]
        await self.query(Welcome).remove()
        await self.mount_all(recent)
        pairs = list(zip(items, widgets, strict=True))
        for item, widget in reversed(pairs[-RECENT:]):
            await item.fill(widget)
        if older:
            await self.mount_all(older, before=recent[0])
            for item, widget in reversed(pairs[:-RECENT]):
                await item.fill(widget)
        self._say_earlier()


def _from_record(record: MessageRecord) -> Shelved:
    # Imported here: the history's modules cost ~12 ms of every start otherwise.
    from ollama_tui.history.export import figures_line, reply_outcome, waterfall_of

    if record.role != "assistant":
        images = tuple(ShownImage(i.label(), i.path or b"") for i in record.images)
        return Shelved("user", record.content, images=images)
    footer = figures_line(record) or record.transport or ""
    # As it was shown when it ended; "incomplete" (it never ended) looks stopped.
    ended = reply_outcome(record)
    if ended != "done":
        footer = f"{ended} · {footer}"
    state = "stopped" if ended == "incomplete" else ended
    return Shelved(
        "assistant",
        record.content,
        record.thinking or "",
        record.transport or "",
        record.model or "",
        footer,
        state,
        waterfall_of(record),
    )
