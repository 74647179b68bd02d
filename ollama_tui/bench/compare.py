"""Compare-view TTFC benchmark: `python -m ollama_tui.bench.compare [options]`.

What it measures: the time to first chunk (TTFC) of each transport in the compare view
(F2), when the transports stream one prompt concurrently, and when the view runs them
"one at a time" (each transport alone, in the same app). In concurrent mode the async
transports (httpx-async, aiohttp) read their sockets on Textual's event loop, which is
busy mounting and drawing the columns when their first bytes arrive; the sync ones read
in threads. The spread of a run (slowest TTFC minus fastest) shows that cost.

Where and with which clock: every TTFC is the app's own figure, `StreamTiming.ttfc`
(ollama_tui/core/timing.py): `time.perf_counter()` in the app's process, from just
before the request is handed to the HTTP library to just after the library handed over
the first non-empty line (in the transport's thread, or on the event loop for the async
ones). This script reads it from the JSON the view saves on Ctrl+S
(`outcomes[].transport`, `outcomes[].ttfc`, seconds). The only figure it times itself
is a run's wall time (Enter to the summary table on screen, perf_counter here).

How: the built-in server runs in its own process on 127.0.0.1 (`python -m ollama_tui
serve-demo --bind 127.0.0.1 --port 0 --token-rate R`, through `DemoProcess`). The real app
(`python -m ollama_tui --host ... --model demo`, a temporary data directory, an empty
config file, no OLLAMA* variables) runs on a 120×40 pseudo-terminal, TERM=xterm-256color,
its working directory a fresh temporary directory, and is driven by keys as a person
would: F2, the prompt, Enter. The end of a run is the summary table's header in the bytes
written to the terminal (" #  transport", its left end: the "Saved" toast of the previous
run can cover the right end); then Ctrl+S, and the JSON file once complete. Enter in the
prompt box runs the comparison again. Runs alternate concurrent and alone, so a change in
the load of the shared machine hits both: Tab to the "one at a time" checkbox, space,
Shift+Tab back. A key goes to the widget focused when the app reads it, so a space or an
Enter is sent only once the focus shows where it should (the focused checkbox's label is
drawn in another style); the saved JSON's `mode`, `transports` and `prompt` are checked.

    python -m ollama_tui.bench.compare [--runs 7] [--rate 100] [--prompt TEXT]
        [--transports requests,httpx-sync,httpx-async,aiohttp] [--no-alone] [--json FILE]

Each Enter is one run of the view (its "runs" box stays at 1), so the view launches the
transports in the same order every time. The first run also pays for importing each
transport's library (on first use, on the UI loop) and for opening its connection (the
view's warm-up request warms the first transport only); later runs reuse both.

It prints figures and asserts nothing. The machine may be shared: /proc/loadavg is
printed before and after.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ollama_tui.bench.server import DemoProcess
from ollama_tui.bench.terminal import Terminal
from ollama_tui.bench.ui import quit_app
from ollama_tui.transports import TRANSPORT_NAMES

F2 = b"\x1bOQ"
ENTER = b"\r"
CTRL_S = b"\x13"
TAB = b"\t"
SHIFT_TAB = b"\x1b[Z"
SPACE = b" "
FIRST_FRAME = b"ollama-tui"  # the header of the chat screen
COMPARE_HEADER = b"Compare transports"  # the compare view's header line
SUMMARY_HEADER = b" #  transport"  # the left end of the summary table's header row
SAVED = b"Saved"  # the toast after Ctrl+S
SEQUENTIAL = "one at a time"
CHECKBOXES = [*TRANSPORT_NAMES, SEQUENTIAL]  # in focus order, after the prompt box
REFERENCE = "warm-up"  # a checkbox never focused here: its label's style is the plain one
CONCURRENT, ALONE = "concurrent", "alone"
APP_MODE = {CONCURRENT: "concurrent", ALONE: "sequential"}  # the JSON's `mode`


@dataclass
class Run:
    mode: str  # CONCURRENT or ALONE
    number: int  # from 1
    ttfc_ms: dict[str, float | None]  # None: the stream did not complete
    states: dict[str, str]
    wall_s: float  # Enter to the summary table on screen, measured here
    saved: dict[str, Any]  # the view's JSON, as saved

    @property
    def spread_ms(self) -> float | None:
        values = [v for v in self.ttfc_ms.values() if v is not None]
        if len(values) < max(2, len(self.ttfc_ms)):
            return None
        return max(values) - min(values)


def label_style(raw: bytes, label: str) -> bytes | None:
    """The style (SGR) of the last checkbox label `label` drawn in `raw`."""
    pattern = rb"\xe2\x96\x8c(?:\x1b\[[0-9;]*m)*?(\x1b\[[0-9;]*m) ?" + re.escape(label.encode())
    found = list(re.finditer(pattern, raw))  # "▌", the checkbox's right edge, styles, label
    return found[-1].group(1) if found else None


def focused_label(raw: bytes) -> str | None:
    """The checkbox drawn focused (its label in another style than REFERENCE's) in the
    latest frames, "" when none is (the prompt box has the focus), None if not all shown."""
    plain = label_style(raw, REFERENCE)
    styles = {label: label_style(raw, label) for label in CHECKBOXES}
    if plain is None or None in styles.values():
        return None
    odd = [label for label, style in styles.items() if style != plain]
    return odd[0] if len(odd) == 1 else "" if not odd else None


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "n/a"


class CompareApp:
    """The real app on a pty, in its compare view, driven by keys."""

    def __init__(self, url: str, work: Path, timeout: float) -> None:
        self.cwd = work / "cwd"  # where Ctrl+S writes; nothing else is in it
        self.kept = work / "saved"  # each saved file is moved here once read
        for directory in (self.cwd, self.kept, work / "data"):
            directory.mkdir()
        config = work / "config.toml"
        config.write_text("")  # no user settings (theme, transport, think)
        argv = [sys.executable, "-m", "ollama_tui", "--host", url, "--model", "demo"]
        argv += ["--data-dir", str(work / "data"), "--config", str(config)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("OLLAMA")}
        self.timeout = timeout
        self.sequential = False  # the checkbox's state, as the view starts
        self.focused = 0  # the prompt box, as the view starts
        self.term = Terminal(argv, cwd=self.cwd, env=env)

    def open(self, prompt: str, transports: list[str]) -> None:
        """F2, the transports chosen, the prompt typed (the box keeps it for every run)."""
        self.term.wait_for(FIRST_FRAME, 60)
        # A key sent with the first frame can be lost while the terminal is being set
        # up: F2 again until the view shows (F2 in the compare view does nothing).
        for _ in range(10):
            self.term.send(F2)
            with contextlib.suppress(TimeoutError):
                self.term.wait_for(COMPARE_HEADER, 3)
                break
        else:
            raise TimeoutError("the compare view did not open on F2")
        if transports != list(TRANSPORT_NAMES):  # all four are ticked as the view opens
            for index, name in enumerate(TRANSPORT_NAMES, 1):
                if name not in transports:
                    self.focus(index)
                    self.term.send(SPACE)
            self.focus(0)
        self.term.send(prompt.encode())

    def focus(self, target: int) -> None:
        """Tab or Shift+Tab to the prompt box (0) or checkbox `target` of CHECKBOXES,
        and wait until it shows focused.

        A key goes to the widget focused when the app reads it: a space or Enter sent
        before the focus has moved lands in the wrong widget. Tab and Shift+Tab need no
        wait (whichever widget gets them, the screen moves the focus).
        """
        if target == self.focused:
            return
        key = TAB if target > self.focused else SHIFT_TAB
        self.term.send(key * abs(target - self.focused))
        want = CHECKBOXES[target - 1] if target else ""
        deadline = time.perf_counter() + 10
        while focused_label(self.term.raw) != want:
            if self.term.closed or time.perf_counter() > deadline:
                raise TimeoutError(f"the focus did not reach {want or 'the prompt box'!r}")
            self.term.read(0.5)
        self.focused = target

    def set_alone(self, alone: bool) -> None:
        if alone != self.sequential:
            self.focus(CHECKBOXES.index(SEQUENTIAL) + 1)
            self.term.send(SPACE)
            self.focus(0)  # Enter in the prompt box runs the comparison
            self.sequential = alone

    def run(self, mode: str, number: int, prompt: str, transports: list[str]) -> Run:
        self.set_alone(mode == ALONE)
        started = time.perf_counter()
        self.term.send(ENTER)
        self.term.wait_for(SUMMARY_HEADER, self.timeout)
        wall = time.perf_counter() - started
        saved = self.save()
        problems = []
        if saved.get("mode") != APP_MODE[mode]:
            problems.append(f"mode {saved.get('mode')!r}, not {APP_MODE[mode]!r}")
        if saved.get("prompt") != prompt:
            problems.append(f"prompt {saved.get('prompt')!r}")
        if saved.get("transports") != transports:
            problems.append(f"transports {saved.get('transports')}")
        outcomes = saved.get("outcomes", [])
        if sorted(o["transport"] for o in outcomes) != sorted(transports):
            problems.append(f"{len(outcomes)} outcomes")
        if problems:  # the keys did not land as meant: the figures are not what they say
            raise RuntimeError(f"run {number} ({mode}): the view saved " + ", ".join(problems))
        ttfc = {  # as the view's summary: a stream that did not complete has no TTFC
            o["transport"]: None if o["state"] != "done" or o["ttfc"] is None else o["ttfc"] * 1000
            for o in outcomes
        }
        states = {o["transport"]: o["state"] for o in outcomes}
        ordered = {t: ttfc[t] for t in transports}
        return Run(mode, number, ordered, states, wall, saved)

    def save(self) -> dict[str, Any]:
        """Ctrl+S; the JSON once the file is complete and its toast is on screen."""
        self.term.send(CTRL_S)
        deadline = time.perf_counter() + 30
        while True:
            files = sorted(self.cwd.glob("ollama-tui-compare-*.json"))
            if files and SAVED in self.term.text:
                with contextlib.suppress(json.JSONDecodeError):  # not written in full yet
                    data: dict[str, Any] = json.loads(files[0].read_text(encoding="utf-8"))
                    # Moved away: the next save (perhaps in the same second, so the same
                    # name) is then a new file again.
                    files[0].rename(self.kept / f"{len(os.listdir(self.kept)):03d}.json")
                    return data
            if self.term.closed:
                raise EOFError("the app exited")
            if time.perf_counter() > deadline:
                raise TimeoutError("Ctrl+S wrote no file in 30 s")
            self.term.read(0.05)  # keeps the pty drained while waiting

    def close(self) -> None:
        quit_app(self.term.pid, self.term.fd)
        with contextlib.suppress(OSError):
            os.close(self.term.fd)


def ms(value: float | None, width: int = 8) -> str:
    return f"{'—':>{width}}" if value is None else f"{value:{width}.1f}"


def median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def format_run(run: Run) -> str:
    figures = "".join(f"  {name} {ms(value, 6)}" for name, value in run.ttfc_ms.items())
    failed = [f"{t} {s}" for t, s in run.states.items() if s != "done"]
    return (
        f"run {run.number:>2} {run.mode:<10}{figures}  spread {ms(run.spread_ms, 6)} ms"
        f"  ({run.wall_s:.1f} s)" + (f"  NOT DONE: {', '.join(failed)}" if failed else "")
    )


def summary(runs: list[Run], transports: list[str]) -> dict[str, Any]:
    by_mode = {mode: [r for r in runs if r.mode == mode] for mode in (CONCURRENT, ALONE)}
    return {
        "median_ttfc_ms": {
            mode: {t: median([r.ttfc_ms[t] for r in chosen]) for t in transports}
            for mode, chosen in by_mode.items()
        },
        "spread_ms": {mode: [r.spread_ms for r in chosen] for mode, chosen in by_mode.items()},
        "median_spread_ms": {
            mode: median([r.spread_ms for r in chosen]) for mode, chosen in by_mode.items()
        },
    }


def print_summary(result: dict[str, Any], transports: list[str], runs: int) -> None:
    medians = result["median_ttfc_ms"]
    print(f"\nmedian TTFC over {runs} runs (ms)  concurrent     alone  conc − alone")
    for t in transports:
        conc, alone = medians[CONCURRENT][t], medians[ALONE][t]
        diff = None if conc is None or alone is None else conc - alone
        print(f"  {t:<28} {ms(conc, 10)} {ms(alone, 9)} {ms(diff, 13)}")
    for mode in (CONCURRENT, ALONE):
        spreads = result["spread_ms"][mode]
        if spreads:
            listed = " ".join(ms(s, 0) for s in spreads)
            print(
                f"spread per run, {mode} (ms): {listed}"
                f"  (median {ms(result['median_spread_ms'][mode], 0)})"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ollama_tui.bench.compare",
        description="TTFC per transport in the compare view, concurrent and alone, "
        "from the app's own saved JSON (the app on a real pty).",
    )
    parser.add_argument("--runs", type=int, default=7, help="runs of each mode (default 7)")
    parser.add_argument("--rate", type=float, default=100.0, help="server tokens/s (100)")
    parser.add_argument("--prompt", default="Show me a table 2", help="the prompt to compare")
    parser.add_argument(
        "--transports",
        default=",".join(TRANSPORT_NAMES),
        help="two to four, comma-separated, ticked by keyboard in the view (default: all)",
    )
    parser.add_argument("--no-alone", action="store_true", help="concurrent runs only")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a run may take")
    parser.add_argument("--json", metavar="FILE", help="write every figure as JSON")
    args = parser.parse_args(argv)
    transports = [t for t in TRANSPORT_NAMES if t in args.transports.split(",")]
    unknown = set(args.transports.split(",")) - set(TRANSPORT_NAMES)
    if unknown or not 2 <= len(transports) <= 4:
        parser.error(f"--transports: two to four of {', '.join(TRANSPORT_NAMES)}")
    if args.runs < 1 or not args.prompt.strip() or "\r" in args.prompt or "\n" in args.prompt:
        parser.error("--runs must be at least 1 and --prompt one non-empty line")
    modes = [CONCURRENT] if args.no_alone else [CONCURRENT, ALONE]

    load_before = loadavg()
    print(f"loadavg before: {load_before}", flush=True)
    runs: list[Run] = []
    with DemoProcess(args.rate, 0.0) as server, tempfile.TemporaryDirectory() as work:
        print(f"server {server.url} at {args.rate:g} tok/s; prompt {args.prompt!r}", flush=True)
        app = CompareApp(server.url, Path(work), args.timeout)
        try:
            app.open(args.prompt, transports)
            for number in range(1, args.runs + 1):
                for mode in modes:
                    runs.append(app.run(mode, number, args.prompt, transports))
                    print(format_run(runs[-1]), flush=True)
        finally:
            app.close()
    load_after = loadavg()
    result = summary(runs, transports)
    print_summary(result, transports, args.runs)
    print(f"loadavg after: {load_after}")
    if args.json:
        document = {
            "command": ["python", "-m", "ollama_tui.bench.compare", *(argv or sys.argv[1:])],
            "rate": args.rate,
            "prompt": args.prompt,
            "transports": transports,
            "loadavg_before": load_before,
            "loadavg_after": load_after,
            "runs": [{**asdict(r), "spread_ms": r.spread_ms} for r in runs],
            **result,
        }
        Path(args.json).write_text(json.dumps(document, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
