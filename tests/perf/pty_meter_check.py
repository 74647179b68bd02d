"""An independent check of `ollama-tui bench --ui`: the same server and app, measured by
code that shares nothing with the bench's meter (`ollama_tui/bench/meter.py`,
`pty_ui.py`, `proctree.py`): its own pty, read loop, escape stripping, marker scan and
`/proc` reading. Only the server (`python -m ollama_tui.demo.stamped`) is shared.

    PYTHONPATH=. python tests/perf/pty_meter_check.py [--transport T] [--shape S]
        [--tokens N] [--rate R ...]

For each rate: lag p50/p95 (first appearance of a marker on the terminal − the server's
send stamp, both `perf_counter()`, CLOCK_MONOTONIC on Linux) and the app's CPU per
1,000 tokens (utime+stime of the app and its children, from the Enter that sends the
prompt to the last marker shown). Like the bench, it types a key into the prompt every
250 ms while the reply streams (and erases it), so both measure the same work.
It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ollama_tui.demo.numbered import numbered_reply

CSI_OSC = re.compile(
    rb"\x1b(\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78])"
)
WORD = re.compile(rb"w\d{5}")


def ticks(pid: int) -> int:
    """utime+stime+cutime+cstime of `pid` and of every process whose parent it is."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        rest = raw.rsplit(b")", 1)[1].split()
        if int(entry) == pid or int(rest[1]) == pid:
            total += sum(int(x) for x in rest[11:15])
    return total


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def one(
    transport: str, shape: str, tokens: int, rate: float, every: float = 0.1, typing: bool = True
) -> str:
    reply = numbered_reply(shape, tokens)
    wanted = set(WORD.findall(reply.encode()))
    work = tempfile.mkdtemp(prefix="ptycheck-")
    stamps = Path(work, "stamps")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ollama_tui.demo.stamped",
            "--shape",
            shape,
            "--tokens",
            str(tokens),
            "--rate",
            str(rate),
            "--stamps",
            str(stamps),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    url = re.search(r"http://\S+", server.stdout.readline())
    assert url, "the server did not start"
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(TERM="xterm-256color", XDG_CONFIG_HOME=work, XDG_STATE_HOME=work)
        os.execvp(
            sys.executable,
            [
                sys.executable,
                "-m",
                "ollama_tui",
                "--host",
                url.group(),
                "--model",
                "demo",
                "--transport",
                transport,
                "--data-dir",
                work,
            ],
        )
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    seen: dict[bytes, float] = {}
    carry = b""

    def pump(timeout: float) -> bytes:
        nonlocal carry
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return b""
        chunk = os.read(fd, 1 << 16)
        now = time.perf_counter()
        # Hold back an unfinished escape sequence (an ESC in the last 64 bytes not yet
        # closed); keep the last 8 visible bytes to find a marker cut between reads.
        data = carry + chunk
        cut = data.rfind(b"\x1b")
        hold = b""
        if cut >= 0 and len(data) - cut < 64 and not CSI_OSC.match(data, cut):
            data, hold = data[:cut], data[cut:]
        visible = CSI_OSC.sub(b"", data)
        for m in WORD.finditer(visible):
            if m.group() in wanted and m.group() not in seen:
                seen[m.group()] = now
        carry = visible[-8:] + hold
        return chunk

    startup = b""
    started = time.perf_counter()
    while b"ollama-tui" not in startup and time.perf_counter() - started < 60:
        startup += pump(1.0)
    quiet = time.perf_counter()
    while time.perf_counter() - quiet < 0.5:
        if pump(0.1):
            quiet = time.perf_counter()
    carry = b""
    cpu0 = ticks(pid)
    os.write(fd, b"go\r")
    typed = time.perf_counter()
    done_by = typed + len(wanted) / rate * 4 + 60
    samples = [(time.perf_counter(), cpu0)]
    erase = False
    while time.perf_counter() < done_by and len(seen) < len(wanted):
        pump(0.05)
        now = time.perf_counter()
        if now - samples[-1][0] >= every:
            samples.append((now, ticks(pid)))
        if erase and now - typed >= 0.1:  # apart: a key right behind a backspace is lost
            os.write(fd, b"\x7f")
            erase = False
        elif typing and now - typed >= 0.25:
            os.write(fd, "¤".encode() if int(typed * 4) % 2 else "§".encode())
            typed, erase = now, True
    samples.append((time.perf_counter(), ticks(pid)))
    last = max(seen.values(), default=time.perf_counter())
    end_ticks = next(t for at, t in samples if at >= last)
    os.kill(pid, signal.SIGTERM)
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline and not os.waitpid(pid, os.WNOHANG)[0]:
        try:
            pump(0.1)
        except OSError:
            break
    for _ in range(100):  # written by the server once the reply has streamed
        if stamps.exists():
            break
        time.sleep(0.1)
    server.terminate()
    server.wait()
    pieces = json.loads(stamps.read_text())["pieces"]
    lags = [
        seen[m] - sent for sent, text in pieces for m in WORD.findall(text.encode()) if m in seen
    ]
    cpu = (end_ticks - cpu0) / os.sysconf("SC_CLK_TCK") * 1e6 / len(pieces)
    return (
        f"external  {transport:<12} {shape:<10} {rate:>5.0f}/s {len(pieces):>6} tok  "
        f"lag p50 {1000 * statistics.median(lags):6.1f} p95 {1000 * percentile(lags, 0.95):6.1f} ms"
        f"  cpu/1k {cpu:6.0f} ms  unseen {len(wanted) - len(seen)}  "
        f"load {os.getloadavg()[0]:.2f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", default="aiohttp")
    parser.add_argument("--shape", default="prose")
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--rate", type=float, nargs="+", default=[100.0, 500.0])
    parser.add_argument("--sample-every", type=float, default=0.1, help="CPU reads, seconds")
    parser.add_argument("--no-typing", action="store_true", help="type nothing while streaming")
    args = parser.parse_args()
    for rate in args.rate:
        figures = one(
            args.transport, args.shape, args.tokens, rate, args.sample_every, not args.no_typing
        )
        print(figures, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
