"""A line-mode chat on stdin/stdout, like `ollama run`: the streaming core with no UI.

Useful over ssh, in pipes, and as the simplest honest client of the transports.
Commands: /transport NAME, /clear, /bye. Ctrl+C stops a reply; Ctrl+D quits.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from contextlib import aclosing, closing
from typing import TextIO

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.events import (
    ContentDelta,
    Done,
    Stopped,
    StreamError,
    StreamEvent,
    ThinkingDelta,
)
from ollama_tui.core.format import summary
from ollama_tui.core.protocol import ChatMessage, Request, chat_request
from ollama_tui.core.sanitize import clean
from ollama_tui.transports import TRANSPORT_NAMES, AsyncTransport, Transport, create_transport


class PlainChat:
    def __init__(
        self, settings: ConnectionSettings, model: str, transport: str, out: TextIO = sys.stdout
    ) -> None:
        self.settings = settings
        self.model = model
        self.out = out
        self.styled = out.isatty()
        self.history: list[ChatMessage] = []
        self.transports: dict[str, Transport] = {}
        self.transport_name = transport
        self.runner = asyncio.Runner()

    def transport(self) -> Transport:
        name = self.transport_name
        if name not in self.transports:
            self.transports[name] = create_transport(name, self.settings)
        return self.transports[name]

    def run(self, lines: Iterable[str]) -> int:
        self.say(
            f"{self.model} at {self.settings.base_url} via {self.transport_name}. "
            "/transport NAME, /clear, /bye; Ctrl+C stops a reply."
        )
        try:
            for line in lines:
                prompt = line.rstrip("\n")
                if not prompt.strip():
                    continue
                if prompt.startswith("/"):
                    if not self.command(prompt):
                        break
                    continue
                self.ask(prompt)
        finally:
            self.close()
        return 0

    def command(self, line: str) -> bool:
        word, _, arg = line.partition(" ")
        if word in ("/bye", "/exit", "/quit"):
            return False
        if word == "/clear":
            self.history.clear()
            self.say("Context cleared.")
        elif word == "/transport" and arg.strip() in TRANSPORT_NAMES:
            self.transport_name = arg.strip()
            self.say(f"Transport: {self.transport_name}")
        else:
            self.say(f"Commands: /transport {{{','.join(TRANSPORT_NAMES)}}}, /clear, /bye")
        return True

    def ask(self, prompt: str) -> None:
        self.history.append(ChatMessage("user", prompt))
        self.reply: list[str] = []
        self.end: StreamEvent | None = None
        try:
            self.stream(chat_request(self.model, self.history))
        except KeyboardInterrupt:
            self.end = None
        self.out.write("\n")
        end = self.end
        if isinstance(end, StreamError):
            self.say(f"Error: {end.message}")
        if self.reply or isinstance(end, Done):
            # A stopped or broken reply stays in the context, as it stays on screen;
            # an empty answer too, so the turns keep alternating.
            self.history.append(ChatMessage("assistant", "".join(self.reply)))
        else:
            self.history.pop()
        if isinstance(end, Done):
            self.say(summary(self.transport_name, end.timing, end.stats), dim=True)
        elif not isinstance(end, StreamError):
            self.say("(stopped)", dim=True)

    def stream(self, request: Request) -> None:
        transport = self.transport()
        if isinstance(transport, AsyncTransport):

            async def consume() -> None:
                async with aclosing(transport.astream(request)) as stream:
                    async for event in stream:
                        self.handle(event)

            # One loop for the whole session keeps the async transports' pools alive.
            self.runner.run(consume())
        else:
            with closing(transport.stream(request)) as stream:  # type: ignore[type-var]
                for event in stream:
                    self.handle(event)

    def handle(self, event: StreamEvent) -> None:
        if isinstance(event, ThinkingDelta):
            self.write(clean(event.text), dim=True)
        elif isinstance(event, ContentDelta):
            self.reply.append(event.text)
            self.write(clean(event.text))
        elif isinstance(event, Done | StreamError | Stopped):
            self.end = event

    def write(self, text: str, dim: bool = False) -> None:
        if dim and self.styled:
            text = f"\x1b[2m{text}\x1b[0m"
        self.out.write(text)
        self.out.flush()

    def say(self, text: str, dim: bool = False) -> None:
        self.write(text + "\n", dim=dim)

    def close(self) -> None:
        async def close_async() -> None:
            for transport in self.transports.values():
                if isinstance(transport, AsyncTransport):
                    await transport.aclose()

        for transport in self.transports.values():
            if not isinstance(transport, AsyncTransport):
                transport.close()
        self.runner.run(close_async())
        self.runner.close()
