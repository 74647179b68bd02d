"""Models: installed (`/api/tags`), loaded (`/api/ps`), details (`/api/show`), pull with
live progress per layer (`/api/pull`, streamed through the current transport), delete.

It only renders and asks: calls and the pull's stream go through the session's runner.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, ProgressBar, Static

from ollama_tui.core.events import Done, Progress, Stopped, StreamError
from ollama_tui.core.format import UNKNOWN, duration, human_bytes, human_time
from ollama_tui.core.models import ModelDetails, ModelInfo
from ollama_tui.core.protocol import pull_request
from ollama_tui.core.sanitize import clean
from ollama_tui.session.pull import PullMeter
from ollama_tui.session.runner import TERMINAL, LiveStream
from ollama_tui.transports.errors import ApiError
from ollama_tui.ui.messages import StreamUpdated, tell
from ollama_tui.ui.screens.dialogs import ConfirmScreen
from ollama_tui.ui.widgets.keys import TypingInput

if TYPE_CHECKING:
    from ollama_tui.ui.app import OllamaApp


V1_ONLY = (
    "{}\n\nThe OpenAI-compatible API names its models and nothing more: size, "
    "family and what is loaded come from Ollama's own API (--api ollama)."
)
V1_CANNOT = (
    "The OpenAI-compatible API cannot {} models: that is Ollama's own API (--api ollama), "
    "or the server's own tools."
)


def size(n: int) -> str:
    # 0 is what the parser gives for a size the server left out: not a real "0 B".
    return human_bytes(n) if n else UNKNOWN


def details_text(details: ModelDetails) -> str:
    """`/api/show`'s details as plain text for the side panel."""
    lines = []
    if details.context_length:
        lines.append(f"Context length: {details.context_length}")
    if details.capabilities:
        lines.append("Capabilities: " + ", ".join(details.capabilities))
    for title, value, limit in (
        ("Parameters", details.parameters, 12),
        ("Template", details.template, 8),
    ):
        if value.strip():
            body = value.strip().splitlines()
            more = ["…"] if len(body) > limit else []
            lines += ["", f"{title}:", *body[:limit], *more]
    if details.license.strip():
        lines += ["", "License: " + details.license.strip().splitlines()[0]]
    return clean("\n".join(lines)) or "No details."


class ModelsScreen(Screen[None]):
    AUTO_FOCUS = "#model-table"
    BINDINGS = [
        Binding(
            "escape",
            "back",
            "Back / cancel pull",
            id="models_back",
            tooltip="Cancel a pull, or go back",
        ),
        Binding(
            "f8", "delete", "Delete", id="models_delete", tooltip="Delete the highlighted model"
        ),
        Binding(
            "ctrl+l", "focus_pull", "Pull…", id="models_pull", tooltip="Type a model name to pull"
        ),
    ]

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        """`clock` dates "modified" and "expires" (tests fix it)."""
        super().__init__()
        self.clock = clock
        self.names: list[str] = []
        self.pulling: LiveStream | None = None
        self.pull_name = ""
        self.meter = PullMeter()
        self.bars: dict[str, ProgressBar] = {}

    @property
    def ollama(self) -> OllamaApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(id="models-header", markup=False)
        with Vertical(id="models-main"):
            table: DataTable[str] = DataTable(id="model-table", cursor_type="row")
            table.add_columns("NAME", "SIZE", "FAMILY", "PARAMS", "QUANT", "MODIFIED", "LOADED")
            yield table
            with VerticalScroll(id="model-details"):
                yield Static("", id="details-text", markup=False)
        with Horizontal(id="pull-row"):
            yield Label("Pull", classes="label")
            yield TypingInput(
                placeholder="model name, e.g. llama3.2:3b — Enter pulls", id="pull-name"
            )
        with Vertical(id="pull-progress"):
            yield Static("", id="pull-status", markup=False)
        yield Footer(compact=True)

    @property
    def native(self) -> bool:
        """Ollama's own API: /v1 only lists models (no sizes, pull, delete or /api/ps)."""
        return self.ollama.session.api == "ollama"

    def on_mount(self) -> None:
        keys = "Enter uses the model · F8 deletes" if self.native else "Enter uses the model"
        self.query_one("#models-header", Static).update(
            Content(f"Models · {self.ollama.where} · {keys}")
        )
        self.query_one("#pull-row").display = self.native
        self.reload()

    # ------------------------------------------------------------------ listing

    @work(exclusive=True, group="models-list", exit_on_error=False)
    async def reload(self) -> None:
        app = self.ollama
        try:
            tags = await app.call("GET", app.session.models_path())
            running = await app.call("GET", "/api/ps") if self.native else {}
        except ApiError as error:
            self.query_one("#details-text", Static).update(Content(str(error)))
            self.notify(str(error), severity="error", markup=False)
            return
        loaded = {m.name: m for m in ModelInfo.from_tags(running)}
        now = self.clock()
        table = self.query_one("#model-table", DataTable)
        table.clear()
        self.names = []
        for model in app.session.read_models(tags):
            run = loaded.get(model.name)
            in_memory = (
                f"{size(run.size_vram or run.size)}, until {human_time(run.expires_at, now)}"
                if run
                else ""
            )
            cells = (
                model.name,
                size(model.size),
                model.family,
                model.parameter_size,
                model.quantization,
                human_time(model.modified_at, now),
                in_memory,
            )
            # Text, not str: a DataTable reads a str cell as markup, and names come
            # from the server.
            table.add_row(*(Text(clean(cell)) for cell in cells), key=model.name)
            self.names.append(model.name)
        if not self.names:
            self.query_one("#details-text", Static).update(
                Content("No models installed. Type a name below to pull one, e.g. llama3.2")
            )
        app.models = []  # the picker reloads from the server next time
        await app.load_models()

    @on(DataTable.RowHighlighted, "#model-table")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.show_details(event.row_key.value)

    @work(exclusive=True, group="models-details", exit_on_error=False)
    async def show_details(self, name: str) -> None:
        if not self.native:
            self.query_one("#details-text", Static).update(Content(V1_ONLY.format(clean(name))))
            return
        try:
            show = await self.ollama.call("POST", "/api/show", {"model": name})
        except ApiError as error:
            text = str(error)
        else:
            text = f"{clean(name)}\n\n{details_text(ModelDetails.from_show(show))}"
        self.query_one("#details-text", Static).update(Content(text))

    @on(DataTable.RowSelected, "#model-table")
    def chosen(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.ollama.set_model(event.row_key.value)
            self.notify(f"Model: {clean(event.row_key.value)}", markup=False)
            self.dismiss()

    def current(self) -> str | None:
        table = self.query_one("#model-table", DataTable)
        if not self.names or table.cursor_row >= len(self.names):
            return None
        return self.names[table.cursor_row]

    # ------------------------------------------------------------------ delete

    def action_delete(self) -> None:
        name = self.current()
        if name is None:
            return
        if not self.native:
            self.notify(V1_CANNOT.format("delete"), severity="warning", markup=False)
            return

        async def delete() -> None:
            if not await self.app.push_screen_wait(ConfirmScreen(f"Delete {clean(name)}?")):
                return
            try:
                await self.ollama.call("DELETE", "/api/delete", {"model": name})
            except ApiError as error:
                self.notify(str(error), severity="error", markup=False)
                return
            self.notify(f"Deleted {clean(name)}.", markup=False)
            self.reload()
            # Back on the list: left in the Pull box, Enter would pull its name again.
            self.query_one("#model-table", DataTable).focus()

        self.run_worker(delete(), exit_on_error=False)

    # ------------------------------------------------------------------ pull

    def action_focus_pull(self) -> None:
        if not self.native:
            self.notify(V1_CANNOT.format("pull"), severity="warning", markup=False)
            return
        self.query_one("#pull-name", Input).focus()

    @on(Input.Submitted, "#pull-name")
    async def pull(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        if not name:
            return
        if self.pulling is not None:
            self.notify("A pull is running: Esc cancels it.", severity="warning")
            return
        area = self.query_one("#pull-progress", Vertical)
        for bar in self.bars.values():
            await bar.parent.remove()  # type: ignore[union-attr]
        self.bars = {}
        self.meter = PullMeter()
        self.pull_name = name
        self._status(f"Pulling {name}…")
        app = self.ollama
        self.pulling = app.runner.start(app.transport, pull_request(name), tell(self), smooth=False)
        area.display = True

    def _status(self, text: str) -> None:
        self.query_one("#pull-status", Static).update(Content(clean(text)))

    @on(StreamUpdated)
    async def pull_updated(self, message: StreamUpdated) -> None:
        if message.stream is not self.pulling:
            return
        for event in message.stream.take():
            if isinstance(event, Progress):
                await self._progress(event)
            elif isinstance(event, TERMINAL):
                await self._pull_ended(event)
                break

    async def _progress(self, event: Progress) -> None:
        if event.digest and event.total:
            bar = self.bars.get(event.digest)
            if bar is None:
                bar = ProgressBar(total=event.total, show_eta=False)
                self.bars[event.digest] = bar
                short = event.digest.removeprefix("sha256:")[:12]
                label = Label(Content(f"{clean(short)} {human_bytes(event.total):>9}"))
                row = Horizontal(label, bar, classes="layer")
                await self.query_one("#pull-progress", Vertical).mount(row)
            bar.update(total=event.total, progress=event.completed or 0)
        meter = self.meter
        meter.feed(event)
        parts = [f"{self.pull_name}: {event.status}"]
        if meter.total:
            parts.append(f"{human_bytes(meter.completed)} of {human_bytes(meter.total)}")
        if meter.speed is not None:
            parts.append(f"{human_bytes(round(meter.speed))}/s")
        if (left := meter.seconds_left) is not None and meter.completed < meter.total:
            parts.append(f"{duration(left)} left")
        self._status(" · ".join(parts))

    async def _pull_ended(self, end: Done | Stopped | StreamError) -> None:
        name, self.pulling = self.pull_name, None
        if isinstance(end, Done):
            self._status(f"{name}: pulled.")
            self.notify(f"Pulled {name}.", markup=False)
            self.reload()
            # Done with that name: Enter in the box must not pull it again.
            self.query_one("#pull-name", Input).clear()
            self.query_one("#model-table", DataTable).focus()
        elif isinstance(end, Stopped):
            self._status(f"{name}: pull cancelled.")
        else:
            self._status(f"{name}: {end.message}")
            self.notify(end.message, title="Pull failed", severity="error", markup=False)

    def on_unmount(self) -> None:
        # Leaving mid-pull (Enter on a model) must not leave a download running.
        if self.pulling is not None:
            self.pulling.stop()

    def action_back(self) -> None:
        if self.pulling is not None:
            self.pulling.stop()
            return
        self.dismiss()
