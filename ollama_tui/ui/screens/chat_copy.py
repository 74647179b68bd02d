"""Copying from the chat: the last reply whole, or the last code block in it. Both copy
the text as the model sent it (the conversation's, not what the screen shows)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

from ollama_tui.core.codeblocks import code_blocks

if TYPE_CHECKING:
    from ollama_tui.ui.app import OllamaApp


class ReplyCopying(Screen[None]):
    """Mixed into the chat screen."""

    def _last_reply(self) -> str | None:
        app: OllamaApp = self.app  # type: ignore[assignment]
        return app.session.conversation.last_reply()

    def action_copy_reply(self) -> None:
        reply = self._last_reply()
        if reply is None:
            self.notify("No reply to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(reply)
        self.notify(f"Copied the last reply ({len(reply)} characters).")

    def action_copy_code(self) -> None:
        reply = self._last_reply()
        blocks = code_blocks(reply) if reply else []
        if not blocks:
            self.notify("The last reply has no code block.", severity="warning")
            return
        self.app.copy_to_clipboard(blocks[-1])
        self.notify(f"Copied the last code block ({len(blocks[-1].splitlines())} lines).")
