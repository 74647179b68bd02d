"""What each kind of frame costs while a reply streams, on a real pseudo-terminal.

    python -m ollama_tui.bench.frames --transport aiohttp --shape prose --rate 100

Runs one `ollama-tui bench --ui` cell (the same server, reply and typing) with a probe
loaded into the app (`frame_probe`, through a `sitecustomize` on its PYTHONPATH) that
times each frame with the main thread's CPU clock, those of Textual's update timer and
those the app paints as an append or a key ends (`paint_now`, kinds "now ..."), and
notes what each found to do: a layout, and the widgets it repainted. Prints the bench's
row, then, for the frames between the first and the last that repainted the live answer, each kind
of frame: how many a second, the CPU of one (median and mean), and its CPU per 1,000
tokens at the stream's rate. The probe's own cost is in the bench's CPU figure (small:
one clock read and one list append a frame), not in the frames'.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from collections import defaultdict
from pathlib import Path

from ollama_tui.bench.frame_probe import ENV
from ollama_tui.bench.pty_ui import path_first, run_pty_bench
from ollama_tui.ui import TEXTUAL_FPS

LIVE = "LiveSegment"
"""A frame that repaints the live answer (its growing rows)."""

# Textual reads its frame rate when first imported: the probe imports it before the
# app's `main` sets the app's rate, so it is set here as `main` sets it.
SITECUSTOMIZE = f"""\
import os
if os.environ.get({ENV!r}):
    os.environ.setdefault("TEXTUAL_FPS", {TEXTUAL_FPS!r})
    from ollama_tui.bench.frame_probe import install
    install(os.environ[{ENV!r}])
"""

Frame = tuple[float, str, float]


def streaming(frames: list[Frame]) -> list[Frame]:
    """The frames from the first to the last that repainted the live answer."""
    live = [i for i, (_, what, _) in enumerate(frames) if LIVE in what]
    return frames[live[0] : live[-1] + 1] if live else []


def report(frames: list[Frame], rate: float) -> str:
    window = streaming(frames)
    if len(window) < 2:
        return "no frames repainted the answer: nothing to report"
    seconds = window[-1][0] - window[0][0]
    kinds: dict[str, list[float]] = defaultdict(list)
    for _, what, cpu in window:
        kinds[what].append(cpu)
    per_1k = 1000 / rate  # seconds of stream per 1,000 tokens
    lines = [
        f"{len(window)} frames in {seconds:.1f} s of streaming, "
        f"{sum(c for _, _, c in window) / seconds * per_1k * 1000:.0f} ms per 1,000 tokens",
        f"{'frame':<48} {'a second':>8} {'median':>8} {'mean':>8} {'per 1k tokens':>14}",
    ]
    for what, cpus in sorted(kinds.items(), key=lambda item: -sum(item[1])):
        lines.append(
            f"{what[:48]:<48} {len(cpus) / seconds:>8.1f} "
            f"{statistics.median(cpus) * 1000:>6.2f}ms {statistics.fmean(cpus) * 1000:>6.2f}ms "
            f"{sum(cpus) / seconds * per_1k * 1000:>11.0f} ms"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ollama_tui.bench.frames", description=__doc__)
    parser.add_argument("--transport", default="aiohttp")
    parser.add_argument("--shape", default="prose", choices=["prose", "code-fence", "paragraph"])
    parser.add_argument("--rate", type=float, default=100.0, help="tokens a second")
    parser.add_argument("--tokens", type=int, help="default: the bench's for the shape")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="frames-") as scratch:
        Path(scratch, "sitecustomize.py").write_text(SITECUSTOMIZE)
        out = Path(scratch, "frames.json")
        app_env = {**path_first(scratch), ENV: str(out)}
        run_pty_bench([args.transport], [args.shape], [args.rate], args.tokens, None, app_env)
        written = json.loads(out.read_text()) if out.exists() else []
    frames = [(float(t), str(what), float(cpu)) for t, what, cpu in written]
    print(report(frames, args.rate))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
