"""The live status line: transport, model, state and the figures of the current reply.

Times come from the core's timestamps (taken where the bytes arrived); only the
ticking "elapsed" reads the app's clock, which tests replace with a fixed one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from ollama_tui.events import ServerStats
from ollama_tui.figures import rate, seconds
from ollama_tui.timing import StreamTiming


class State(StrEnum):
    IDLE = "ready"
    WAITING = "waiting for first chunk"
    STREAMING = "streaming"
    DONE = "done"
    STOPPED = "stopped"
    ERROR = "error"


STATE_STYLE = {
    State.IDLE: "$text-muted",
    State.WAITING: "bold $warning",
    State.STREAMING: "bold $accent",
    State.DONE: "bold $success",
    State.STOPPED: "bold $warning",
    State.ERROR: "bold $error",
}


@dataclass(frozen=True, slots=True)
class Figures:
    """What the bar shows for one reply; replaced, never mutated, so it can be reactive."""

    state: State = State.IDLE
    timing: StreamTiming | None = None
    stats: ServerStats | None = None


class StatusBar(Widget):
    transport: reactive[str] = reactive("")
    model: reactive[str] = reactive("")
    figures: reactive[Figures] = reactive(Figures, always_update=True)
    now: reactive[float] = reactive(0.0)

    def __init__(self, clock: Callable[[], float], **kwargs: str) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self._ticker = None

    def on_mount(self) -> None:
        # Elapsed time ticks while a reply is under way; nothing runs when idle.
        self._ticker = self.set_interval(0.1, self._tick, pause=True)

    def _tick(self) -> None:
        self.now = self.clock()

    def watch_figures(self, figures: Figures) -> None:
        if self._ticker is None:
            return
        if figures.state in (State.WAITING, State.STREAMING):
            self.now = self.clock()
            self._ticker.resume()
        else:
            self._ticker.pause()

    def begin(self, sent: float) -> None:
        self.figures = Figures(State.WAITING, StreamTiming(sent=sent))

    def update_timing(self, timing: StreamTiming, state: State | None = None) -> None:
        self.figures = replace(self.figures, timing=timing, state=state or self.figures.state)

    def end(self, state: State, timing: StreamTiming, stats: ServerStats | None = None) -> None:
        self.figures = Figures(state, timing, stats)

    def render(self) -> Content:
        # Compact, so the whole line fits 80 columns; the reply's footer has the long form.
        f = self.figures
        parts: list[str | tuple[str, str]] = [
            (f" ● {f.state.value} ", STATE_STYLE[f.state]),
            f"{self.transport} · {self.model}",
        ]
        t = f.timing
        if t is not None:
            parts.append(f" │ TTFC {seconds(t.ttfc)} · TTFT {seconds(t.ttft)} · ")
            if f.state in (State.WAITING, State.STREAMING):
                parts.append(f"{seconds(max(0.0, self.now - t.sent))}…")
            else:
                parts.append(f"total {seconds(t.total)}")
            parts.append(f" · {t.chunks} ch · {rate(t.tokens_per_s)}")
            if f.stats is not None and f.stats.eval_rate is not None:
                parts.append(f" (server {f.stats.eval_rate:.1f})")
                if f.stats.load_duration and f.stats.load_duration >= 1e6:
                    parts.append(f" · load {seconds(f.stats.load_duration / 1e9)}")
        return Content.assemble(*parts)
