"""The live status line: transport, model, state and the figures of the current reply.

Times come from the core's timestamps (taken where the bytes arrived); only the
ticking "elapsed" reads the app's clock, which tests replace with a fixed one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from time import monotonic

from textual.content import Content
from textual.reactive import reactive
from textual.strip import Strip
from textual.timer import Timer

from ollama_tui.core.events import Done, ServerStats, Stopped, StreamError
from ollama_tui.core.format import seconds
from ollama_tui.core.sanitize import clean
from ollama_tui.core.timing import StreamTiming
from ollama_tui.session.reply import ReplyUpdate
from ollama_tui.ui.direct_rows import RowsDrawn, placed
from ollama_tui.ui.idle_owed import IdleOwed
from ollama_tui.ui.widgets.cells import Cells, Piece, plain_line


class State(StrEnum):
    OFFLINE = "no server"
    IDLE = "ready"
    WAITING = "waiting for first chunk"
    STREAMING = "streaming"
    DONE = "done"
    STOPPED = "stopped"
    ERROR = "error"


STATE_STYLE = {
    State.OFFLINE: "bold $error",
    State.IDLE: "$text-muted",
    State.WAITING: "bold $warning",
    State.STREAMING: "bold $accent",
    State.DONE: "bold $success",
    State.STOPPED: "bold $warning",
    State.ERROR: "bold $error",
}


END_STATE = {Done: State.DONE, Stopped: State.STOPPED, StreamError: State.ERROR}


@dataclass(frozen=True, slots=True)
class Figures:
    """What the bar shows for one reply; replaced, never mutated, so it can be reactive."""

    state: State = State.IDLE
    timing: StreamTiming | None = None
    stats: ServerStats | None = None
    transport: str | None = None  # the reply's own, which a switch since does not change
    model: str | None = None  # likewise: an error stays the model's that failed


TICK = 0.1
"""Seconds between two redraws of the live figures while a reply streams."""


class StatusBar(IdleOwed, RowsDrawn):
    transport: reactive[str] = reactive("")
    model: reactive[str] = reactive("")
    figures: reactive[Figures] = reactive(Figures, always_update=True)
    now: reactive[float] = reactive(0.0)

    def __init__(
        self, clock: Callable[[], float], *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        # No links in it: Textual would look up its link style (through every ancestor)
        # at each of its ten redraws a second.
        self.auto_links = False
        self.clock = clock
        self._ticker: Timer | None = None
        self._live: Callable[[], StreamTiming] | None = None
        self._ticked = 0.0  # monotonic(): when the live figures were last redrawn
        self._cells = Cells()

    def on_mount(self) -> None:
        # While a reply streams, the bar redraws ten times a second, whatever the token
        # rate: per-token redraws would cost more than the text itself. Its redraws ride
        # on the reply's own updates (`show`), so they share the frame the new text is
        # painted in; the timer only keeps the clock going when no text comes (waiting
        # for the first chunk, a stall), at half that rate.
        self._ticker = self.set_interval(TICK, self._idle_tick, pause=True)

    def _idle_tick(self) -> None:
        if monotonic() - self._ticked >= TICK * 1.5:
            self._tick()

    def _tick(self) -> None:
        self._ticked = monotonic()
        if self._live is not None:
            self.figures = replace(self.figures, timing=self._live())
        self.now = self.clock()

    def watch_figures(self, figures: Figures) -> None:
        if self._ticker is None:
            return
        if figures.state in (State.WAITING, State.STREAMING):
            self.now = self.clock()
            self._ticker.resume()
        else:
            self._ticker.pause()

    def begin(self, transport: str, model: str, live: Callable[[], StreamTiming]) -> None:
        """A reply started; `live()` gives its figures so far, read at each tick."""
        self._live = live
        self.figures = Figures(State.WAITING, live(), transport=transport, model=model)

    def reachable(self, yes: bool) -> None:
        """Whether the server answered (at start, or when the models are listed again)."""
        if not yes:
            self.figures = Figures(State.OFFLINE)
        elif self.figures.state is State.OFFLINE:
            self.figures = Figures()

    def streaming(self) -> None:
        if self._live is not None:
            self.figures = replace(self.figures, state=State.STREAMING, timing=self._live())

    def end(self, state: State, timing: StreamTiming, stats: ServerStats | None = None) -> None:
        self._live = None
        self.figures = replace(self.figures, state=state, timing=timing, stats=stats)

    def show(self, update: ReplyUpdate) -> None:
        """A reply's update: streaming from its first chunk, its end's figures at the end."""
        end = update.end
        if end is not None:
            self.end(END_STATE[type(end)], end.timing, end.stats if isinstance(end, Done) else None)
        elif update.first_chunk:
            self.streaming()
        elif monotonic() - self._ticked >= TICK:
            self._tick()

    def render(self) -> Content:
        return Content.assemble(*self._fitted())

    def render_line(self, y: int) -> Strip:
        # Its line made into cells directly (`cells`), not through Textual's `Content`:
        # most of each of its ten redraws a second (docs/ui-performance.md). Only the
        # line of this `render` (the compare view's columns wrap theirs).
        if y == 0 and type(self).render is StatusBar.render and plain_line(self):
            # `Content.assemble` spans each styled piece: unstyled ones next to each
            # other are one run of text, one piece.
            pieces: list[Piece] = []
            for text, style in self._fitted():
                if not style and pieces and not pieces[-1][1]:
                    pieces[-1] = (pieces[-1][0] + text, ())
                else:
                    pieces.append((text, (style,) if style else ()))
            line = self._cells.line(self, pieces, self.size.width)
            if line is not None:
                return placed(line, 0)  # each piece's place, for a mouse selection
        return super().render_line(y)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cells.forget()

    def _fitted(self) -> list[tuple[str, str]]:
        """(text, style) of the figures that fit the bar, in display order."""
        # Figures are dropped, least useful first, until the line fits the bar;
        # each reply's footer keeps the long form.
        segments = self.segments()
        width = self.size.width or 80
        while len(segments) > 1 and sum(len(text) for _, text, _ in segments) > width:
            segments.remove(max(segments, key=lambda seg: seg[0]))
        return [(text, style) for _, text, style in segments]

    def segments(self) -> list[tuple[int, str, str]]:
        """(priority: lower stays longer, text, style) in display order."""
        f = self.figures
        out = [
            (0, f" ● {f.state.value} ", STATE_STYLE[f.state]),
            # Names come from the server (and the person): never escape sequences.
            (1, clean(f"{f.transport or self.transport} · {f.model or self.model}"), ""),
        ]
        t = f.timing
        if t is None:
            return out
        live = f.state in (State.WAITING, State.STREAMING)
        out.append((2, f" │ TTFC {_short(t.ttfc)}", ""))
        out.append((6, f" TTFT {_short(t.ttft)}", ""))
        if live:
            out.append((3, f" {_short(max(0.0, self.now - t.sent))}…", ""))
        else:
            out.append((3, f" total {_short(t.total)}", ""))
        out.append((7, f" {t.tokens} tok", ""))
        tps = "—" if t.tokens_per_s is None else f"{t.tokens_per_s:.1f}"
        out.append((4, f" {tps} tok/s", ""))
        if f.stats is not None and f.stats.eval_rate is not None:
            out.append((5, f" server {f.stats.eval_rate:.1f}", "$text-muted"))
            if f.stats.load_duration and f.stats.load_duration >= 1e6:
                out.append((8, f" load {_short(f.stats.load_duration / 1e9)}", "$text-muted"))
        return out


def _short(value: float | None) -> str:
    return seconds(value).replace(" ", "")
