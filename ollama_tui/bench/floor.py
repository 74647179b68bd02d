"""Textual's own floor: what a bare Textual app costs to show a growing reply.

`python -m ollama_tui.bench.floor` runs a small Textual app (not ollama-tui) on a real
pseudo-terminal, 120×40, shaped like the chat screen: a header, a scrolling transcript
that follows its newest line (a question, then the reply), a prompt box, a status line
and a footer. A timer grows the reply by the words of one paint of the app's paint clock
(`ui/pacer.py`: every 45 ms, so 4-5 words a paint at 100 tok/s), and the app's CPU is read
from `/proc` over the run, as `ollama-tui bench --ui` reads the real app's. Each shape
is one way of drawing the reply:

- **static**: one `Static` given the whole text at each paint (it is wrapped again whole);
- **lines**: one widget drawn from lines (Line API): finished lines kept as strips, only
  the last ones wrapped at each paint; the transcript scrolls by a row per new line;
- **lines-in-hand**: the same, its height rounded up to 16 rows, so a new line lands on
  a blank row already on the screen and only the changed rows are painted (the
  transcript moves once per 16 lines);
- **log**: Textual's `Log`, the words written at each paint, a line ended wherever the
  text passes 110 columns (it never wraps);
- **small**: a one-line `Static` updated at each paint, nothing growing;
- **bytes**: no Textual at all: an asyncio loop that writes, at each paint, the growing
  row as Textual writes one (a synchronized frame, a cursor move, colours, the row's
  text): what any Python program painting at this rate costs.

With `--fixes`, each shape runs a second time with the app's fixes to Textual applied
(`ui/textual_fixes.py`: fix 4 renders a repainted row only, not every widget it crosses
whole). It prints figures and asserts nothing: the machine is shared, compare rows of
one run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from ollama_tui.bench.proctree import tree_cpu
from ollama_tui.bench.terminal import Terminal
from ollama_tui.bench.ui import quit_app
from ollama_tui.ui.pacer import PAINT_INTERVAL

SHAPES = ("static", "lines", "lines-in-hand", "log", "small", "bytes")
PAINT = PAINT_INTERVAL  # the app's paint clock
HAND = 16
WORDS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa")


def child(shape: str, words_per_paint: int, fixes: bool = False) -> None:
    """The bare app (in its own process, on the pty); `fixes`: with the app's fixes to
    Textual (`ui/textual_fixes.py`, `ui/lazy_strips.py`)."""
    # Imported here: the parent measures, and never needs Textual.
    if fixes:
        from ollama_tui.ui import lazy_strips, textual_fixes

        textual_fixes.apply()
        lazy_strips.apply()
    from textual.app import App, ComposeResult
    from textual.containers import VerticalScroll
    from textual.content import Content
    from textual.geometry import Region, Size
    from textual.strip import Strip
    from textual.widget import Widget
    from textual.widgets import Footer, Header, Log, Static, TextArea

    class Lines(Widget):
        DEFAULT_CSS = "Lines { height: auto; }"

        def __init__(self, hand: int) -> None:
            super().__init__()
            self.hand = hand
            self.done: list[Strip] = []
            self.tail = ""
            self.tail_strips: list[Strip] = []

        def add(self, text: str) -> None:
            self.tail += text
            before, old = len(self.done), len(self.done) + len(self.tail_strips)
            lines = Content(self.tail).wrap(self.size.width or 100)
            for line in lines[:-1]:  # finished lines: drawn once, kept
                self.done.append(Strip(line.render_segments()))
            self.tail = lines[-1].plain if lines else ""
            self.tail_strips = [Strip(line.render_segments()) for line in lines[-1:]]
            new = len(self.done) + len(self.tail_strips)
            if self.rows(new) != self.rows(old):
                self.refresh(layout=True)
            else:
                self.refresh(Region(0, before, self.size.width, max(1, new - before)))

        def rows(self, lines: int) -> int:
            return -(-lines // self.hand) * self.hand

        def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
            return self.rows(len(self.done) + len(self.tail_strips))

        def render_line(self, y: int) -> Strip:
            if y < len(self.done):
                return self.done[y]
            y -= len(self.done)
            if y < len(self.tail_strips):
                return self.tail_strips[y]
            return Strip.blank(self.size.width)

    class Floor(App[None]):
        CSS = """
        VerticalScroll { height: 1fr; }
        TextArea { height: 3; }
        #status { height: 1; background: $panel; }
        """

        def compose(self) -> ComposeResult:
            yield Header()
            self.reply: Widget
            if shape == "log":
                self.reply = Log()
                yield self.reply
            else:
                with VerticalScroll() as transcript:
                    self.transcript = transcript
                    yield Static("a question " * 10)
                    if shape.startswith("lines"):
                        self.reply = Lines(HAND if shape == "lines-in-hand" else 1)
                    else:
                        self.reply = Static("")
                    yield self.reply
            prompt = TextArea()
            prompt.cursor_blink = False  # as in the app: a blink repaints twice a second
            yield prompt
            yield Static("status", id="status")
            yield Footer()

        def on_mount(self) -> None:
            self.text = ""
            self.paints = 0
            if shape != "log":
                self.transcript.anchor()
            self.set_interval(PAINT, self.paint)

        def paint(self) -> None:
            self.paints += 1
            words = " ".join(WORDS[(self.paints + i) % len(WORDS)] for i in range(words_per_paint))
            reply = self.reply
            if isinstance(reply, Log):
                self.text += words + " "
                ends = len(self.text) > 110
                reply.write(words + ("\n" if ends else " "))
                self.text = "" if ends else self.text
            elif isinstance(reply, Lines):
                reply.add(words + " ")
            elif isinstance(reply, Static) and shape == "small":
                reply.update(Content(f"paint {self.paints}: {words}"))
            elif isinstance(reply, Static):
                self.text += words + " "
                reply.update(Content(self.text))

    Floor().run()


def bytes_child(words_per_paint: int) -> None:
    """The `bytes` shape: the same paints, written by a bare asyncio loop (raw mode, so
    the bench's Ctrl+Q reaches it and it quits as the Textual shapes do)."""
    import asyncio
    import termios
    import tty

    fd, out = sys.stdin.fileno(), sys.stdout.buffer
    saved = termios.tcgetattr(fd)
    tty.setraw(fd)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        done = asyncio.Event()

        def keys() -> None:
            if b"\x11" in os.read(fd, 1024):
                done.set()

        loop.add_reader(fd, keys)
        out.write(b"\x1b[?1049h\x1b[2J\x1b[40;1Hstatus")
        out.flush()
        paints, row, text = 0, 2, ""
        while not done.is_set():
            await asyncio.sleep(PAINT)
            paints += 1
            text += " ".join(WORDS[(paints + i) % len(WORDS)] for i in range(words_per_paint))
            text += " "
            if len(text) > 110:
                row, text = 2 + (row - 1) % 34, ""
            frame = f"\x1b[?2026h\x1b[{row};1H\x1b[38;2;224;224;224;48;2;30;30;30m"
            out.write(f"{frame}{text:<118}\x1b[0m\x1b[?2026l".encode())
            out.flush()

    try:
        asyncio.run(run())
    finally:
        out.write(b"\x1b[?1049l")
        out.flush()
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def measure(shape: str, rate: float, seconds: float, fixes: bool = False) -> float:
    """The bare app's CPU, seconds per 1,000 tokens at `rate`."""
    words = max(1, round(rate * PAINT))
    argv = [sys.executable, "-m", "ollama_tui.bench.floor", "--child", shape, str(words)]
    argv += ["--fixes"] if fixes else []
    term = Terminal(argv)
    try:
        term.wait_for(b"status", 20)
        time.sleep(1.0)  # past the first frames
        term.drain()
        cpu0, t0 = tree_cpu(term.pid), time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            term.read(0.2)
        cpu1, t1 = tree_cpu(term.pid), time.perf_counter()
    finally:
        quit_app(term.pid, term.fd)
    return (cpu1.total - cpu0.total) / (t1 - t0) / rate * 1000


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    if args[:1] == ["--child"]:
        if args[1] == "bytes":
            bytes_child(int(args[2]))
        else:
            child(args[1], int(args[2]), fixes="--fixes" in args[3:])
        return
    parser = argparse.ArgumentParser(prog="python -m ollama_tui.bench.floor")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--rate", type=float, default=100.0, help="tokens a second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=1, help="runs of each shape, alternated")
    parser.add_argument(
        "--fixes", action="store_true", help="also each shape with the app's fixes to Textual"
    )
    options = parser.parse_args(args)
    shapes = options.shapes.split(",")
    load = os.getloadavg()[0]
    print(f"load {load:.2f}; {options.rate:g} tok/s, a paint every {PAINT * 1000:g} ms")
    for run in range(options.runs):
        for shape in shapes:
            both = options.fixes and shape != "bytes"  # no Textual: nothing to fix
            for fixes in (False, True) if both else (False,):
                cost = measure(shape, options.rate, options.seconds, fixes)
                label = shape + (" +fixes" if fixes else "")
                print(f"{label:20} run {run + 1}  CPU {cost:5.2f} s per 1,000 tokens")


if __name__ == "__main__":
    main()
