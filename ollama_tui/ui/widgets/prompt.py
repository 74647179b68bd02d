"""The prompt box: Enter sends, Ctrl+J inserts a newline, Up/Down recall past prompts."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from ollama_tui.session.attachments import pasted_files
from ollama_tui.ui.paint_now import inside_border, paint_for
from ollama_tui.ui.textual_fixes import ThemedOnce
from ollama_tui.ui.widgets.keys import KeysInOrder


class PromptInput(KeysInOrder, ThemedOnce):
    class Submitted(Message):
        def __init__(self, prompt: PromptInput, text: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text

        @property
        def control(self) -> PromptInput:
            return self.prompt

    class FilesPasted(Message):
        """Pasted text that names nothing but image files (a dropped file is pasted as
        its path): attached instead of typed; `text` goes in if they cannot be."""

        def __init__(self, prompt: PromptInput, files: list[Path], text: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.files = files
            self.text = text

    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            placeholder="Message (enter sends, ^j new line, ↑ earlier messages)",
            **kwargs,  # type: ignore[arg-type]
        )
        # A blinking cursor repaints twice a second forever: 1.2 % of a core idle.
        self.cursor_blink = False
        self.past_prompts: list[str] = []
        self._recall: int | None = None
        self._restyled = True

    # Nothing above the box listens to these: stopped here, they are not dispatched to
    # the screen and the app as well (two messages, four dispatches a key).
    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()

    def on_text_area_selection_changed(self, event: TextArea.SelectionChanged) -> None:
        event.stop()

    async def _on_paste(self, event: events.Paste) -> None:
        # Textual calls TextArea's own handler after this one, unless prevented.
        files = pasted_files(event.text)
        if files:
            event.stop()
            event.prevent_default()
            self.post_message(self.FilesPasted(self, files, event.text))

    async def _on_key(self, event: events.Key) -> None:
        await self._key(event)
        # Its echo is painted as its handling ends, as an append's is (`paint_now`): no
        # message to the screen, no wait for its tick. Keys that came together (typed
        # ahead of a busy moment, a paste without bracketed paste) are painted once,
        # after the last of them.
        if not self._keys_behind():
            if not self._restyled:
                inside_border(self)
            self._restyled = False
            paint_for(self)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # Its border may look otherwise now (the focus): the next key paints it too.
        self._restyled = True

    def _keys_behind(self) -> bool:
        # Textual's queue, and the message its loop took out of it to look at (8.2.8).
        queued = getattr(self._message_queue, "values", None)
        if queued is None:
            return False  # another Textual: each key painted
        behind = [self._pending_message, *queued]
        return any(isinstance(message, events.Key) for message in behind)

    async def _key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text
            if text.strip():
                self.post_message(self.Submitted(self, text))
            return
        if event.key in ("ctrl+j", "shift+enter"):
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        if event.key in ("up", "down") and self._recalling():
            event.stop()
            event.prevent_default()
            self._step(-1 if event.key == "up" else 1)
            return
        if await self.run_own_binding(event):
            return
        await super()._on_key(event)

    def _recalling(self) -> bool:
        """Up/Down walk the history from an empty box, or from an unedited recalled prompt;
        once the user edits a recalled prompt they move the cursor, so no edit is lost."""
        if not self.past_prompts:
            return False
        if self._recall is not None and self.text == self.past_prompts[self._recall]:
            return True
        self._recall = None
        return not self.text

    def _step(self, direction: int) -> None:
        index = len(self.past_prompts) if self._recall is None else self._recall
        index = max(0, min(len(self.past_prompts), index + direction))
        self._recall = None if index == len(self.past_prompts) else index
        self.load_text("" if self._recall is None else self.past_prompts[index])
        self.move_cursor(self.document.end)

    def remember(self, text: str) -> None:
        if not self.past_prompts or self.past_prompts[-1] != text:
            self.past_prompts.append(text)
        self._recall = None

    def restore(self, text: str) -> None:
        """Put `text` back (a request that got nothing), unless the user typed anew."""
        if not self.text.strip():
            self.load_text(text)
            self.move_cursor(self.document.end)
