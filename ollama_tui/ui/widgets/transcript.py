"""The conversation on screen: it follows the newest text until the person scrolls away.

Messages are only appended, removed from the last question on (an edit), or filled
from a kept conversation, newest first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widget import AwaitMount, Widget
from textual.widgets import Static

from ollama_tui.core.sanitize import clean
from ollama_tui.ui.widgets.chat_message import AssistantMessage, UserMessage

if TYPE_CHECKING:
    from ollama_tui.history.store import MessageRecord

RECENT = 6
"""Messages of a reopened conversation shown before the older ones are mounted."""


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


class Transcript(VerticalScroll):
    def on_mount(self) -> None:
        self.anchor()

    def welcome(self, text: Content) -> None:
        """Say `text` while the chat is empty (updated in place if it says it already)."""
        shown = self.query(Welcome)
        if shown:
            shown.first().update(text)
        elif not self.children:
            self.mount(Welcome(text))

    def clear(self, welcome: Content) -> None:
        """Empty again (a new chat): only the welcome."""
        self.remove_children()  # the children of now; the welcome comes after them
        self.mount(Welcome(welcome))

    def add(self, widget: Widget) -> AwaitMount:
        """Append a message; the welcome goes with the first one."""
        self.query(Welcome).remove()
        return self.mount(widget)

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
        parsed before the older ones are even mounted above them."""
        widgets: list[Widget] = []
        replies: list[tuple[AssistantMessage, MessageRecord]] = []
        for record in messages:
            if record.role == "assistant":
                widget = AssistantMessage(record.transport or "", record.model or "")
                replies.append((widget, record))
                widgets.append(widget)
            else:
                widgets.append(UserMessage(record.content))
        recent, older = widgets[-RECENT:], widgets[:-RECENT]
        await self.query(Welcome).remove()
        await self.mount_all(recent)
        for widget, record in reversed(replies):
            if widget in recent:
                await _fill(widget, record)
        if older:
            await self.mount_all(older, before=recent[0])
            for widget, record in reversed(replies):
                if widget not in recent:
                    await _fill(widget, record)


async def _fill(widget: AssistantMessage, record: MessageRecord) -> None:
    # Imported here: the history's modules cost ~12 ms of every start otherwise.
    from ollama_tui.history.export import figures_line, waterfall_of

    widget.waterfall = waterfall_of(record)
    widget.add_thinking(record.thinking or "")
    await widget.add_content(record.content)
    footer = figures_line(record) or widget.transport
    # As it was shown when it ended (stopped, error); "incomplete": it never ended (the
    # app was killed, or the reply was kept by an older version).
    ended = (record.figures or {}).get("outcome")
    if record.complete:
        await widget.finish(footer, "done")
    elif ended in ("stopped", "error"):
        await widget.finish(f"{ended} · {footer}", ended)
    else:
        await widget.finish(f"incomplete · {footer}", "stopped")
