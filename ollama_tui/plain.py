"""A line-mode chat on stdin/stdout, like `ollama run`: the session with no UI.

Useful over ssh, in pipes, and as the simplest honest client of the transports: the
same session as the TUI (streams on the runner's threads and network loop, thinking
routed apart, text cleaned), printed as it arrives.
Commands: /transport NAME, /image PATH (attach to the next message), /clear, /bye.
Ctrl+C stops a reply; Ctrl+D quits. As in
`ollama run`, three double quotes open a message of several lines, which a line
ending in three double quotes closes; at a terminal, `>>> ` asks for a message and
`... ` for its next line.
"""

from __future__ import annotations

import concurrent.futures
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO

from ollama_tui.core.chat_settings import ChatDefaults
from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.events import Done, StreamError
from ollama_tui.core.format import summary
from ollama_tui.core.images import ImageError
from ollama_tui.core.protocol import Think
from ollama_tui.core.sanitize import clean
from ollama_tui.session.attachments import Attachments, load, pasted_files, resolve
from ollama_tui.session.chat import ChatSession, Turn
from ollama_tui.session.runner import StreamRunner
from ollama_tui.transports import TRANSPORT_NAMES
from ollama_tui.transports.errors import ApiError

MULTILINE = '"""'


class PlainChat:
    def __init__(
        self,
        settings: ConnectionSettings,
        model: str,
        transport: str,
        out: TextIO = sys.stdout,
        think: Think | None = None,
        interactive: bool = False,
        defaults: ChatDefaults | None = None,
    ) -> None:
        """`interactive`: a person types at a terminal (shown the prompt markers)."""
        self.settings = settings
        self.out = out
        self.interactive = interactive
        self.styled = out.isatty()
        self.runner = StreamRunner(settings)
        self.session = ChatSession(
            self.runner, model=model, transport=transport, think=think, defaults=defaults
        )
        self.attachments = Attachments()
        """Images for the next message (`--image`, `/image PATH`)."""

    def run(self, lines: Iterable[str]) -> int:
        session = self.session
        self.say(
            f"{session.model} at {self.settings.base_url} via {session.transport}. "
            "/transport NAME, /image PATH, /clear, /bye; Ctrl+C stops a reply."
        )
        if self.attachments:
            self.say_attached()
        try:
            for prompt in self.messages(lines):
                if not prompt.strip():
                    continue
                if prompt.startswith("/"):
                    if not self.command(prompt):
                        break
                    continue
                self.ask(prompt)
        finally:
            self.runner.close()
        return 0

    def messages(self, lines: Iterable[str]) -> Iterator[str]:
        """The messages typed: one per line, or the lines between two MULTILINE marks."""
        self.ask_for(">>> ")
        gathered: list[str] | None = None
        for raw in lines:
            line = raw.rstrip("\n")
            if gathered is None and line.lstrip().startswith(MULTILINE):
                gathered = []
                line = line.lstrip()[len(MULTILINE) :]
            if gathered is None:
                yield line
                self.ask_for(">>> ")
                continue
            closed = line.rstrip().endswith(MULTILINE)
            gathered.append(line.rstrip()[: -len(MULTILINE)] if closed else line)
            if closed:
                yield "\n".join(gathered).strip("\n")
                gathered = None
                self.ask_for(">>> ")
            else:
                self.ask_for("... ")
        if gathered:
            yield "\n".join(gathered).strip("\n")  # the input ended inside the message

    def ask_for(self, marker: str) -> None:
        if self.interactive:
            self.write(marker)

    def command(self, line: str) -> bool:
        word, _, arg = line.partition(" ")
        if word in ("/bye", "/exit", "/quit"):
            return False
        if word == "/clear":
            self.session.new_chat()
            self.say("Context cleared.")
        elif word == "/transport" and arg.strip() in TRANSPORT_NAMES:
            self.session.transport = arg.strip()
            self.say(f"Transport: {self.session.transport}")
        elif word == "/image":
            self.image(arg.strip())
        else:
            self.say(
                f"Commands: /transport {{{','.join(TRANSPORT_NAMES)}}}, "
                "/image PATH (or /image clear), /clear, /bye"
            )
        return True

    def image(self, path: str) -> None:
        if path == "clear":
            self.attachments.take()
            self.say("No images attached.")
            return
        if not path:
            self.say_attached()
            return
        # As a terminal pastes a dropped file: quoted, escaped, or a file:// URL.
        files = pasted_files(path) or [resolve(path.strip("'\""))]
        try:
            images = [load(file) for file in files]
        except ImageError as error:
            self.say(f"Not attached: {error}")
            return
        for image in images:
            if not self.attachments.add(image):
                self.say(f"{image.name} is attached already.")
        self.say_attached()

    def say_attached(self) -> None:
        if not self.attachments:
            self.say("No images attached: /image PATH attaches one to the next message.")
            return
        names = "; ".join(a.label() for a in self.attachments.items)
        self.say(f"For the next message: {names}", dim=True)

    def sees_images(self) -> bool:
        """Whether the model takes images: asked of the server once (`/api/show`)."""
        model = self.session.model or ""
        known = self.session.vision_known(model)
        if self.session.should_ask_vision(model):
            try:
                show = self.runner.call_future("POST", "/api/show", {"model": model}).result(30)
            except (ApiError, OSError, concurrent.futures.TimeoutError) as error:
                # The server judges the request itself.
                self.say(f"({model}'s capabilities unknown: {error}; sent as it is)", dim=True)
                return True
            known = self.session.learn_vision(model, show)
        return known is not False

    def ask(self, prompt: str) -> None:
        if self.attachments and not self.sees_images():
            model = self.session.model or ""
            self.say(f"Not sent: {self.session.vision_warning(model, '--model NAME')}")
            return
        images = self.attachments.take()
        turn = self.session.send(prompt, images=images)
        try:
            self.follow(turn)
        except KeyboardInterrupt:
            # Stopped: the connection is closed; what arrived stays.
            turn.reply.stop()
            self.follow(turn)
        self.out.write("\n")
        # A stopped or broken reply stays in the context, as it stays on screen; an empty
        # answer too, so the turns keep alternating. Nothing at all: not asked.
        if not self.session.finish(turn):
            self.attachments.extend(images)  # nothing came back: they wait, as the TUI's
        end = turn.reply.end
        if isinstance(end, StreamError):
            self.say(f"Error: {end.message}")
        elif isinstance(end, Done):
            self.say(summary(turn.reply.transport, end.timing, end.stats), dim=True)
        else:
            self.say("(stopped)", dim=True)

    def follow(self, turn: Turn) -> None:
        for update in turn.reply.follow():
            self.write(update.thinking, dim=True)
            self.write(update.content)

    def write(self, text: str, dim: bool = False) -> None:
        if not text:
            return
        if dim and self.styled:
            text = f"\x1b[2m{text}\x1b[0m"
        self.out.write(text)
        self.out.flush()

    def say(self, text: str, dim: bool = False) -> None:
        # File names and server sentences are not ours: no control characters.
        self.write(clean(text) + "\n", dim=dim)
