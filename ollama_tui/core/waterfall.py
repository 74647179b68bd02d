"""Where one reply's time went: the client's own clock split by the server's own figures.

Pure arithmetic, in seconds. The client measured two spans: request sent → first
chunk (TTFC) and first chunk → the end (its receive time). Ollama's done line says
what the server spent: loading the model (`load_duration`), reading the prompt
(`prompt_eval_duration`) and generating (`eval_duration`), in nanoseconds.

- before the first chunk: load + prompt evaluation, and the rest of TTFC (network,
  queue, client), which the server does not account for;
- generation: the server's eval time and rate, against the client's receive time;
- what the client added: receive time minus the server's eval time.

A rest that comes out negative means the two clocks disagree (another machine's
clock, or figures that count differently): it is shown as 0 and the gap is kept, so
it is said rather than hidden. A figure the server did not send stays None, never 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ollama_tui.core.events import ServerStats
from ollama_tui.core.format import ReplyFigures, bar, rate, seconds

NS = 1e9

CLOCK_SLACK = 0.0005
"""Below this (half a millisecond, which `seconds` shows as "0 ms") a negative rest is
rounding between a nanosecond count and a float clock, not clocks that disagree."""

OUTCOMES = ("done", "stopped", "error", "incomplete")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def stats_from(stored: Mapping[str, Any] | None) -> ServerStats | None:
    """A reply's kept `stats` dict (or an export's) as `ServerStats`; what is no number
    is absent. None if nothing in it is a number."""
    if not stored:
        return None
    values = {}
    for f in fields(ServerStats):
        number = _number(stored.get(f.name))
        values[f.name] = None if number is None else int(number)
    if all(v is None for v in values.values()):
        return None
    return ServerStats(**values)


def _span(ns: int | None) -> float | None:
    return None if ns is None else ns / NS


def _clamped(value: float | None) -> tuple[float | None, float | None]:
    """(the value, never below 0; by how much it was below 0 if beyond the slack)."""
    if value is None:
        return None, None
    if value >= 0:
        return value, None
    return 0.0, (-value if -value > CLOCK_SLACK else None)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the drawn waterfall; a heading has no value and no bar."""

    label: str
    value: str = ""
    bar: str = ""
    heading: bool = False


LABEL_WIDTH = 24
VALUE_WIDTH = 8


@dataclass(frozen=True, slots=True)
class Waterfall:
    """One reply's time, in seconds; None where a figure was not measured or not sent."""

    outcome: str
    """How the reply ended: "done", "stopped", "error" or "incomplete" (never ended)."""
    ttfc: float | None
    """Client: request sent → first chunk."""
    load: float | None
    """Server: loading the model (`load_duration`)."""
    prompt_eval: float | None
    """Server: reading the prompt (`prompt_eval_duration`)."""
    prompt_tokens: int | None
    server_before_first: float | None
    """load + prompt_eval, of those the server sent."""
    network_client: float | None
    """TTFC − server_before_first, never below 0: network, queue, client."""
    ttfc_clock_gap: float | None
    """By how much the server's figures exceeded TTFC (the clocks disagree), if they did."""
    receive: float | None
    """Client: first chunk → the done line (or the stop, the error)."""
    eval: float | None
    """Server: generating (`eval_duration`)."""
    eval_count: int | None
    server_rate: float | None
    """Tokens per second by the server's clock (eval_count / eval_duration)."""
    client_rate: float | None
    """Tokens per second by the client's clock, the first token's wait left out."""
    client_added: float | None
    """receive − eval, never below 0."""
    receive_clock_gap: float | None
    """By how much the server's eval time exceeded the receive time, if it did."""
    server_sent: bool
    """The server sent figures (a done line with durations)."""
    absent: tuple[str, ...] = ()
    """Fields the done line left out while it sent others (Ollama leaves out zeros)."""

    @classmethod
    def of(
        cls, figures: ReplyFigures, stats: ServerStats | None, outcome: str = "done"
    ) -> Waterfall:
        """From the client's figures of a reply (live or kept) and the server's stats."""
        ttfc = figures.ttfc if figures.timed else None
        total = figures.total if figures.timed else None
        receive = None if ttfc is None or total is None else max(total - ttfc, 0.0)
        server = stats is not None and any(
            getattr(stats, f.name) is not None for f in fields(ServerStats)
        )
        load = _span(stats.load_duration) if stats else None
        prompt_eval = _span(stats.prompt_eval_duration) if stats else None
        eval_ = _span(stats.eval_duration) if stats else None
        sent = [v for v in (load, prompt_eval) if v is not None]
        before = sum(sent) if sent else None
        rest, rest_gap = _clamped(None if ttfc is None or before is None else ttfc - before)
        added, added_gap = _clamped(None if receive is None or eval_ is None else receive - eval_)
        wanted = ("load_duration", "prompt_eval_duration", "eval_count", "eval_duration")
        absent = tuple(n for n in wanted if server and getattr(stats, n) is None)
        return cls(
            outcome=outcome,
            ttfc=ttfc,
            load=load,
            prompt_eval=prompt_eval,
            prompt_tokens=stats.prompt_eval_count if stats else None,
            server_before_first=before,
            network_client=rest,
            ttfc_clock_gap=rest_gap,
            receive=receive,
            eval=eval_,
            eval_count=stats.eval_count if stats else None,
            server_rate=stats.eval_rate if stats else None,
            client_rate=figures.tokens_per_s if figures.timed else None,
            client_added=added,
            receive_clock_gap=added_gap,
            server_sent=server,
            absent=absent,
        )

    @classmethod
    def stored(
        cls,
        transport: str | None,
        figures: Mapping[str, Any] | None,
        stats: Mapping[str, Any] | None,
        outcome: str,
    ) -> Waterfall:
        """From a kept reply's `figures` (seconds) and `stats` (nanoseconds) dicts."""
        kept = ReplyFigures.stored(transport, figures, stats)
        return cls.of(kept, stats_from(stats), outcome)

    @property
    def scale(self) -> float:
        """The longest span shown: the length every bar is drawn against."""
        ttfc = max(self.ttfc or 0.0, self.server_before_first or 0.0)
        after = max(self.receive or 0.0, self.eval or 0.0)
        return ttfc + after

    def to_json(self) -> dict[str, Any]:
        """The figures as JSON-ready values (seconds, counts, tokens per second)."""
        return {
            "outcome": self.outcome,
            "ttfc": self.ttfc,
            "load": self.load,
            "prompt_eval": self.prompt_eval,
            "prompt_eval_count": self.prompt_tokens,
            "server_before_first": self.server_before_first,
            "network_client": self.network_client,
            "ttfc_clock_gap": self.ttfc_clock_gap,
            "receive": self.receive,
            "eval": self.eval,
            "eval_count": self.eval_count,
            "server_tokens_per_s": self.server_rate,
            "client_tokens_per_s": self.client_rate,
            "client_added": self.client_added,
            "receive_clock_gap": self.receive_clock_gap,
            "server_sent": self.server_sent,
            "absent": list(self.absent),
        }

    def notes(self) -> list[str]:
        """What is missing or does not add up, one sentence each."""
        notes = []
        if self.ttfc is None:
            notes.append("No client timing: the first chunk never came, or none was kept.")
        if not self.server_sent:
            why = {
                "stopped": "the reply was stopped before its done line",
                "error": "the reply failed before its done line",
                "incomplete": "the reply never ended (the app was closed while it streamed)",
            }.get(self.outcome, "its done line carried no durations")
            notes.append(f"No server figures: {why}.")
        if self.absent:
            notes.append(f"Not in the done line: {', '.join(self.absent)} (Ollama omits zeros).")
        if self.ttfc_clock_gap is not None:
            notes.append(
                f"! The clocks disagree: the server's load + prompt exceed TTFC by "
                f"{seconds(self.ttfc_clock_gap)}; network + client shown as 0."
            )
        if self.receive_clock_gap is not None:
            notes.append(
                f"! The clocks disagree: the server's eval time exceeds the client's receive "
                f"time by {seconds(self.receive_clock_gap)}; client added shown as 0."
            )
        return notes

    def line(self) -> str:
        """The waterfall in one line: for Markdown exports."""
        parts = [f"TTFC {seconds(self.ttfc)}"]
        if self.server_sent:
            parts += [
                f"load {seconds(self.load)}",
                f"prompt {seconds(self.prompt_eval)}",
                f"network+client {seconds(self.network_client)}"
                + (" (clocks disagree)" if self.ttfc_clock_gap is not None else ""),
                f"gen {seconds(self.eval)} at {rate(self.server_rate)}",
                f"received in {seconds(self.receive)}",
                f"client added {seconds(self.client_added)}"
                + (" (clocks disagree)" if self.receive_clock_gap is not None else ""),
            ]
        else:
            parts += [f"received in {seconds(self.receive)}", "no server figures"]
        return " · ".join(parts)

    def rows(self, width: int) -> list[Row]:
        """The waterfall drawn in `width` cells: each span a bar on one time line from
        the request's send, so the segments follow each other as they happened."""
        cells = max(width - LABEL_WIDTH - VALUE_WIDTH - 2, 8)
        scale = self.scale

        def row(label: str, value: float | None, start: float, gap: float | None = None) -> Row:
            # A span clamped at 0 because the clocks disagree is marked (see `notes`).
            shown = seconds(value) + (" !" if gap is not None else "")
            # What reads as "0 ms" is drawn as nothing, not as a sliver.
            drawn = 0.0 if value is not None and value < CLOCK_SLACK else value
            return Row(label, shown, bar(start, drawn, scale, cells))

        load, prompt = self.load or 0.0, self.prompt_eval or 0.0
        first = self.ttfc or 0.0
        prompt_label = "prompt processing"
        if self.prompt_tokens is not None:
            prompt_label = f"prompt ({self.prompt_tokens} tok)"
        eval_label = "server eval"
        if self.eval_count is not None:
            eval_label = f"server eval ({self.eval_count} tok)"
        return [
            Row("sent → first chunk", heading=True),
            row("TTFC (client clock)", self.ttfc, 0.0),
            row("model load (server)", self.load, 0.0),
            row(prompt_label, self.prompt_eval, load),
            row("network, queue, client", self.network_client, load + prompt, self.ttfc_clock_gap),
            Row("generation", heading=True),
            row(eval_label, self.eval, first),
            row("client receive", self.receive, first),
            row(
                "client added",
                self.client_added,
                first + (self.eval or 0.0),
                self.receive_clock_gap,
            ),
        ]

    def rates(self) -> str:
        """Server tok/s against the client's, one line."""
        return f"server {rate(self.server_rate)} · client {rate(self.client_rate)}"
