"""What the figures were measured on: CPU, cores, load, Python and library versions."""

from __future__ import annotations

import os
import platform
import shlex
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata

LIBRARIES = ("requests", "urllib3", "httpx", "httpcore", "h11", "anyio", "aiohttp", "rich")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except OSError:
        return None


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


@dataclass(frozen=True, slots=True)
class Machine:
    cpu: str
    cores: int
    usable_cores: int
    kernel: str
    python: str
    libraries: dict[str, str]
    started_utc: str
    command: str
    load_start: tuple[float, float, float] | None
    load_end: tuple[float, float, float] | None = field(default=None)


def command_line() -> str:
    """The command as typed, give or take the interpreter's path."""
    first = sys.argv[0] if sys.argv else ""
    if first.endswith("__main__.py"):
        head = ["python", "-m", "ollama_tui.bench"]
    else:
        head = [os.path.basename(first)]
    return shlex.join(head + sys.argv[1:])


def describe() -> Machine:
    return Machine(
        cpu=cpu_model(),
        cores=os.cpu_count() or 0,
        usable_cores=len(os.sched_getaffinity(0)),
        kernel=f"{platform.system()} {platform.release()}",
        python=f"{platform.python_implementation()} {platform.python_version()}",
        libraries={name: _version(name) for name in LIBRARIES},
        started_utc=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        command=command_line(),
        load_start=load_average(),
    )
