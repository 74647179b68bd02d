"""Messages from the session layer to the screens."""

from __future__ import annotations

from textual.message import Message
from textual.message_pump import MessagePump

from ollama_tui.session.runner import LiveStream, Notify


class StreamUpdated(Message, bubble=False):
    """New events wait in `stream`: take them (`Reply.take()` or `stream.take()`).
    Posted to the screen that shows the stream, and handled there only (not bubbled to
    the app: tens a second, each one a dispatch for nothing)."""

    def __init__(self, stream: LiveStream) -> None:
        super().__init__()
        self.stream = stream


def tell(target: MessagePump) -> Notify:
    """A stream listener that posts `StreamUpdated` to `target`: from the network's
    threads, without waiting (`post_message` is thread-safe and does not block)."""
    return lambda stream: target.post_message(StreamUpdated(stream))
