"""The sweep as a terminal chart: TTFC p50 and aggregate tokens/s against concurrency.

One line per project transport (baselines are left out: they would double the lines
and the pairs overlap anyway), or per transport and API when `label` names them apart:
a transport's second line keeps its colour and takes its second marker. `build_chart`
returns the chart as a string, so the bench prints it and the TUI can show it too;
plotext is imported only here, when a chart is drawn.

plotext keeps one global figure per process: `build_chart` clears it first, and must
not run on two threads at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from types import ModuleType
from typing import Protocol

from ollama_tui.bench.spec import is_baseline

# A fixed colour and marker per transport, so the same transport looks the same in
# every chart; the markers tell the lines apart when there is no colour.
STYLES = {
    "requests": ("blue", "•"),
    "httpx-sync": ("orange", "x"),
    "httpx-async": ("magenta", "+"),
    "aiohttp": ("green", "o"),
}
_OTHER = ("cyan", "*")
# A transport's second line (its second API): the same colour, this marker.
SECOND_MARKERS = {"requests": "-", "httpx-sync": "X", "httpx-async": "#", "aiohttp": "@"}
_OTHER_SECOND = "%"

PANELS = (  # (Row attribute, title, log y axis)
    ("ttfc_p50_ms", "TTFC p50 (ms), log scale", True),
    ("tokens_per_s", "aggregate tokens/s", False),
)


class ChartRow(Protocol):
    """What a chart needs of a row; `stats.Row` has it."""

    @property
    def client(self) -> str: ...
    @property
    def level(self) -> int: ...
    @property
    def ttfc_p50_ms(self) -> float | None: ...
    @property
    def tokens_per_s(self) -> float | None: ...


def _series(
    rows: Iterable[ChartRow], figure: str, label: Callable[[ChartRow], str]
) -> dict[str, list[tuple[int, float]]]:
    """Per line (transport, or its label), (level, value) in level order; missing values
    (all failed) left out."""
    lines: dict[str, list[tuple[int, float]]] = {}
    for row in rows:
        if is_baseline(row.client):
            continue
        value = getattr(row, figure)
        points = lines.setdefault(label(row), [])
        if value is not None:
            points.append((row.level, float(value)))
    return {name: sorted(points) for name, points in lines.items()}


def _styles(
    rows: Iterable[ChartRow], label: Callable[[ChartRow], str]
) -> dict[str, tuple[str, str, bool]]:
    """Per line: its colour, its marker without colour, and whether it is its transport's
    second line (then marked in colour too)."""
    styles: dict[str, tuple[str, str, bool]] = {}
    seen: set[str] = set()
    for row in rows:
        name = label(row)
        if is_baseline(row.client) or name in styles:
            continue
        colour, marker = STYLES.get(row.client, _OTHER)
        second = row.client in seen
        if second:
            marker = SECOND_MARKERS.get(row.client, _OTHER_SECOND)
        seen.add(row.client)
        styles[name] = (colour, marker, second)
    return styles


def _client(row: ChartRow) -> str:
    return row.client


def chart_levels(rows: Iterable[ChartRow]) -> list[int]:
    """The concurrency levels of the project transports' rows."""
    return sorted({row.level for row in rows if not is_baseline(row.client)})


def build_chart(
    rows: Sequence[ChartRow],
    width: int = 100,
    height: int = 36,
    color: bool = True,
    label: Callable[[ChartRow], str] | None = None,
) -> str:
    """Two panels, TTFC p50 (ms) above aggregate tokens/s, with concurrency on a log axis.

    `color=False` gives plain text (no escape sequences) with a distinct marker per
    transport, for a file, a pipe or a test. An empty string when no project transport
    has a figure to draw. `label`: a line per distinct label (default: per transport).
    """
    named = label or _client
    series = {figure: _series(rows, figure, named) for figure, _, _ in PANELS}
    styles = _styles(rows, named)
    if not any(points for lines in series.values() for points in lines.values()):
        return ""
    import plotext as plt  # about 30 ms, and only a chart needs it

    levels = chart_levels(rows)
    _reset(plt)
    plt.theme("pro" if color else "clear")  # "pro": no background, on dark and light alike
    # plotext fits the chart to the terminal (24 rows off one) and then leaves out a legend
    # that does not fit: labelled lines (two per transport) get the height asked for.
    several = label is not None
    plt.limitsize(not several, not several)
    plt.plotsize(width, height)
    plt.subplots(len(PANELS), 1)
    for index, (figure, title, log_y) in enumerate(PANELS, start=1):
        plt.subplot(index, 1)
        lines = {name: points for name, points in series[figure].items() if points}
        if not lines:  # plotext cannot scale an empty panel
            plt.title(f"{title}: no successful stream")
            continue
        plt.title(title)
        if len(levels) > 1:
            # Levels grow geometrically (1, 16, 64, 256): a linear axis would crush the
            # low ones into the left edge.
            plt.xscale("log")
        if log_y:
            plt.yscale("log")  # TTFC spans ~1 ms to seconds across transports
        for name, points in lines.items():
            colour, marker, second = styles[name]
            xs = [level for level, _ in points]
            ys = [value for _, value in points]
            if color:
                shape = marker if second else "braille"
                plt.plot(xs, ys, label=name, color=colour, marker=shape)
            else:
                plt.plot(xs, ys, label=name, marker=marker)
        plt.xticks(levels, [str(level) for level in levels])
        if index == len(PANELS):
            plt.xlabel("concurrent streams")
    text: str = plt.build()
    _reset(plt)
    return text if color else plt.uncolorize(text)


def _reset(plt: ModuleType) -> None:
    # clear_figure() clears only the active subplot: go back to the master figure first.
    plt.main()
    plt.clear_figure()
