"""Compare view: one prompt through two to four transports, a live column each.

It only renders and sequences: streams run below the UI on the session's runner
(sync transports on threads of their own, async ones on the network loop, each timed
where its bytes arrive), their events arrive as `StreamUpdated` messages, and the
ranking is `session.compare.summarize`.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Checkbox, DataTable, Footer, Input, Static

from ollama_tui.core.events import StreamError
from ollama_tui.core.format import rate, seconds
from ollama_tui.core.sanitize import clean
from ollama_tui.files import write_private
from ollama_tui.session.compare import CompareSettings, Mode, Outcome, run_order, summarize, to_json
from ollama_tui.session.reply import Reply
from ollama_tui.session.runner import End, LiveStream
from ollama_tui.transports import TRANSPORT_NAMES
from ollama_tui.ui.messages import StreamUpdated, tell
from ollama_tui.ui.pacer import Pacer
from ollama_tui.ui.screens.details import open_details
from ollama_tui.ui.widgets.chat_message import AssistantMessage, Notice
from ollama_tui.ui.widgets.figures_footer import FiguresFooter
from ollama_tui.ui.widgets.keys import TypingInput
from ollama_tui.ui.widgets.probe_holder import ProbeHolder
from ollama_tui.ui.widgets.status_bar import Figures, State, StatusBar
from ollama_tui.ui.widgets.tick import Tick

if TYPE_CHECKING:
    from ollama_tui.ui.app import OllamaApp

PARALLEL_NOTE = (
    "Concurrent: Ollama serves at most OLLAMA_NUM_PARALLEL requests of a model at once; "
    "a queued request's wait shows up as its TTFC."
)


SUMMARY_COLUMNS = (
    "#",
    "transport",
    "ok",
    "TTFC",
    "server\nbefore 1st",
    "network\n+client",
    "TTFT",
    "total",
    "gen\n(server)",
    "client\nadded",
    "tok/s",
    "server\ntok/s",
)
"""The summary's columns; the TTFC split and generation by the server's own figures."""


class ColumnStatus(StatusBar):
    """The status bar's figures for one column, wrapped instead of cut to fit."""

    def watch_figures(self, figures: Figures) -> None:
        super().watch_figures(figures)
        self.refresh(layout=True)  # wrapped figures change the height

    def render(self) -> Content:
        parts: list[tuple[str, str] | str] = []
        # The transport and model are the column's title and the view's header already.
        for priority, text, style in self.segments():
            if priority == 1:
                continue
            if parts:
                parts.append(" ")  # unstyled, so wrapping breaks here and keeps it
            parts.append((text.strip(" │"), style))
        return Content.assemble(*parts)


@dataclass(eq=False)
class Column:
    transport: str
    box: Vertical
    status: ColumnStatus
    reply: Reply | None = None
    """The run in flight, if any."""
    view: AssistantMessage | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    run: int = 0


class CompareScreen(Screen[None]):
    AUTO_FOCUS = "#compare-prompt"
    BINDINGS = [
        Binding(
            "escape",
            "cancel",
            "Cancel / back",
            id="compare_cancel",
            tooltip="Cancel the runs, or go back",
        ),
        Binding(
            "ctrl+s", "save", "Save JSON", id="compare_save", tooltip="Save the results as JSON"
        ),
    ]

    def __init__(self, prompt: str = "", save_dir: Path | None = None) -> None:
        super().__init__()
        self.initial_prompt = prompt
        self.save_dir = save_dir or Path.cwd()
        self.columns: list[Column] = []
        self.outcomes: list[Outcome] = []
        self.settings: CompareSettings | None = None
        self.prompt = ""
        self.running = False
        self.pacer = Pacer(self)
        self.cancelled = False
        self.saved: Path | None = None

    @property
    def ollama(self) -> OllamaApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(id="compare-header", markup=False)
        yield TypingInput(self.initial_prompt, placeholder="Prompt to compare", id="compare-prompt")
        with Horizontal(classes="compare-controls", id="compare-transports"):
            for name in TRANSPORT_NAMES:
                yield Tick(name, True, name=name, classes="transport")
        with Horizontal(classes="compare-controls"):
            yield Tick("one at a time", False, id="compare-sequential")
            yield Tick("warm-up", True, id="compare-warmup")
            yield Static("runs", classes="label")
            yield TypingInput("1", id="compare-runs", type="integer", max_length=3)
            yield Button("Run", id="compare-run", compact=True, variant="primary")
        yield Static(PARALLEL_NOTE, id="compare-note", markup=False)
        yield Horizontal(id="compare-columns")
        table: DataTable[str] = DataTable(
            id="compare-summary", cursor_type="none", zebra_stripes=True, header_height=2
        )
        table.display = False
        yield table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        app = self.ollama
        app.compare_runner.open()  # the worker imports the libraries while the prompt is typed
        model = clean(app.model or "—")
        # What runs where: the figures are taken where no drawing can hold them up.
        timed = (
            "streams in a worker process"
            if app.compare_runner is not app.runner
            else "streams on the app's network threads"
        )
        header = f"Compare transports · {model} · {app.where} · {timed}"
        self.query_one("#compare-header", Static).update(Content(header))

    def on_resize(self) -> None:
        # Too narrow for four boxes on a line: two lines of two, each name whole.
        self.query_one("#compare-transports").set_class(self.size.width < 72, "narrow")

    @on(Checkbox.Changed, "#compare-sequential")
    def mode_chosen(self, event: Checkbox.Changed) -> None:
        # The note on queueing is about concurrent runs only.
        self.query_one("#compare-note").display = not event.value

    # ------------------------------------------------------------------ starting

    def chosen_settings(self) -> CompareSettings:
        transports = tuple(
            box.name or "" for box in self.query(Checkbox).filter(".transport") if box.value
        )
        runs_text = self.query_one("#compare-runs", Input).value or "1"
        sequential = self.query_one("#compare-sequential", Checkbox).value
        return CompareSettings(
            transports,
            Mode.SEQUENTIAL if sequential else Mode.CONCURRENT,
            runs=int(runs_text),
            warmup=self.query_one("#compare-warmup", Checkbox).value,
        )

    @on(Input.Submitted, "#compare-prompt")
    @on(Button.Pressed, "#compare-run")
    def run_requested(self) -> None:
        if self.running:
            self.notify("A comparison is running: Esc cancels it.", severity="warning")
            return
        prompt = self.query_one("#compare-prompt", Input).value.strip()
        if not prompt:
            self.notify("Type a prompt to compare.", severity="warning")
            return
        if not self.ollama.model:
            self.notify("Choose a model first (Ctrl+L in the chat).", severity="warning")
            return
        try:
            settings = self.chosen_settings()
        except ValueError as error:
            self.notify(str(error).capitalize() + ".", severity="warning", markup=False)
            return
        self.start(prompt, settings)

    def start(self, prompt: str, settings: CompareSettings) -> None:
        self.prompt, self.settings = prompt, settings
        self.outcomes = []
        self.saved = None
        self.running = True
        self.cancelled = False
        self.query_one("#compare-note").display = settings.mode is Mode.CONCURRENT
        self.query_one("#compare-summary", DataTable).display = False
        self.run_all(prompt, settings)

    @work(exclusive=True, group="compare", exit_on_error=False)
    async def run_all(self, prompt: str, settings: CompareSettings) -> None:
        try:
            await self._build_columns(settings.transports)
            if settings.warmup and not await self._warm_up(settings.transports):
                return
            for run in range(settings.runs):
                if self.cancelled:
                    return
                order = run_order(settings.transports, run)
                by_name = {c.transport: c for c in self.columns}
                for column in self.columns:
                    await self._prepare(column, run, settings.runs)
                if settings.mode is Mode.CONCURRENT:
                    # All launched back to back with no await between them (the barrier);
                    # each stream is timed from its own send.
                    self.ollama.collector.between_streams()
                    for name in order:
                        self._launch(by_name[name], prompt)
                    await asyncio.gather(*(c.ended.wait() for c in self.columns))
                else:
                    for name in order:
                        if self.cancelled:
                            return
                        self.ollama.collector.between_streams()
                        self._launch(by_name[name], prompt)
                        await by_name[name].ended.wait()
        finally:
            self.running = False
            self._show_summary()

    async def _build_columns(self, transports: tuple[str, ...]) -> None:
        area = self.query_one("#compare-columns", Horizontal)
        await area.remove_children()
        self.columns = []
        for name in transports:
            status = ColumnStatus(self.ollama.clock, classes="column-status")
            status.transport = name
            status.model = self.ollama.model or ""
            box = Vertical(
                Static(Content(name), classes="column-title"),
                status,
                # The hidden blocks its answers are drawn with (probe_holder.py): made
                # once, so a second run's answer does not wait for its own.
                VerticalScroll(ProbeHolder(), classes="column-reply"),
                classes="column",
            )
            self.columns.append(Column(name, box, status))
        await area.mount_all([c.box for c in self.columns])

    async def _warm_up(self, transports: tuple[str, ...]) -> bool:
        """A one-token request on each transport in turn: a model load is timed against
        none of them, and each has its connection open and its library warm, as in a
        chat after the first message."""
        app = self.ollama
        request = app.session.bare_request("hi", options={"num_predict": 1}, stream=False)
        for transport in transports:
            try:
                await app.compare_runner.call("POST", request.path, request.body, transport)
            except Exception as error:  # an ApiError, shown; the comparison is not started
                self.notify(f"Warm-up failed: {error}", severity="error", markup=False)
                return False
        return True

    async def _prepare(self, column: Column, run: int, runs: int) -> None:
        """A fresh reply widget and state for run `run` of `column`."""
        app = self.ollama
        scroll = column.box.query_one(".column-reply", VerticalScroll)
        await scroll.remove_children([w for w in scroll.children if not isinstance(w, ProbeHolder)])
        column.view = AssistantMessage(column.transport, app.model or "")
        await scroll.mount(column.view)
        column.ended = asyncio.Event()
        title = column.box.query_one(".column-title", Static)
        suffix = f" · run {run + 1}/{runs}" if runs > 1 else ""
        title.update(Content(column.transport + suffix))
        column.run = run
        column.status.figures = Figures(State.IDLE, transport=column.transport)

    def _launch(self, column: Column, prompt: str) -> None:
        app = self.ollama
        request = app.session.bare_request(prompt)
        stream = app.compare_runner.start(column.transport, request, tell(self))
        reply = Reply(stream, app.model or "")
        column.reply = reply
        column.status.begin(column.transport, reply.model, lambda: reply.timing)

    # ------------------------------------------------------------------ receiving

    def _column_of(self, stream: LiveStream) -> Column | None:
        return next((c for c in self.columns if c.reply and c.reply.stream is stream), None)

    @on(StreamUpdated)
    async def stream_updated(self, message: StreamUpdated) -> None:
        column = self._column_of(message.stream)
        if column is None or column.reply is None or column.view is None:
            return
        if not self.pacer.due(message.stream):
            return
        update, status = self.pacer.take(column.reply), column.status
        # The figures change in the frame that shows the text; the end's at once.
        column.view.show(update, None if update.end else lambda: status.show(update))
        if update.end is not None:
            status.show(update)
            self.pacer.forget(message.stream)
            await self._end(column, update.end)

    async def _end(self, column: Column, end: End) -> None:
        assert column.view is not None
        await column.view.conclude(end)
        if isinstance(end, StreamError):
            await column.box.query_one(".column-reply", VerticalScroll).mount(Notice(end.message))
        self.outcomes.append(Outcome.of(column.transport, column.run, end))
        column.reply = None
        column.ended.set()

    @on(FiguresFooter.DetailsRequested)
    def details_requested(self, event: FiguresFooter.DetailsRequested) -> None:
        open_details(self, event.footer.parent)

    # ------------------------------------------------------------------ results

    def _show_summary(self) -> None:
        if self.settings is None:
            return
        table = self.query_one("#compare-summary", DataTable)
        table.clear(columns=True)
        table.add_columns(*SUMMARY_COLUMNS)
        for rank, row in enumerate(summarize(self.settings.transports, self.outcomes), 1):
            table.add_row(
                str(rank) if row.completed else "—",
                row.transport,
                f"{row.completed}/{row.completed + row.failed}",
                seconds(row.ttfc),
                # TTFC split: what the server says it spent (a model load) and the rest.
                seconds(row.server_before_first),
                seconds(row.network_client),
                seconds(row.ttft),
                seconds(row.total),
                seconds(row.server_eval),
                seconds(row.client_added),
                rate(row.tokens_per_s).removesuffix(" tok/s"),
                rate(row.server_eval_rate).removesuffix(" tok/s"),
            )
        table.display = bool(self.outcomes)

    def action_cancel(self) -> None:
        if not self.running:
            self.dismiss()
            return
        # Nothing more starts; what runs now stops (a warm-up call runs to its end).
        self.cancelled = True
        for column in self.columns:
            if column.reply is not None:
                column.reply.stop()
        self.notify("Comparison cancelled.")

    def action_save(self) -> None:
        if self.settings is None or not self.outcomes:
            self.notify("Nothing to save yet: run a comparison first.", severity="warning")
            return
        data = to_json(
            self.settings,
            prompt=self.prompt,
            model=self.ollama.model or "",
            host=self.ollama.settings.base_url,
            outcomes=self.outcomes,
        )
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = self.save_dir / f"ollama-tui-compare-{stamp}.json"
        try:
            # User-only: a comparison holds the prompt.
            write_private(path, json.dumps(data, indent=2, ensure_ascii=False))
        except OSError as error:
            self.notify(f"Could not save: {error}", severity="error", markup=False)
            return
        self.saved = path
        self.notify(f"Saved {path}", markup=False)
