"""A pull's progress: bytes, speed over the last seconds, time left; and durations."""

from __future__ import annotations

from ollama_tui.core.events import Progress
from ollama_tui.core.format import duration
from ollama_tui.session.pull import PullMeter


def layer(at: float, digest: str, completed: int, total: int = 1000) -> Progress:
    return Progress("pulling", at, digest, total, completed)


def test_speed_and_time_left_over_every_layer() -> None:
    meter = PullMeter()
    assert meter.speed is None and meter.seconds_left is None
    meter.feed(layer(0.0, "a", 0))
    meter.feed(layer(0.0, "b", 0, total=3000))
    meter.feed(layer(1.0, "a", 500))
    meter.feed(layer(2.0, "b", 500, total=3000))
    assert (meter.completed, meter.total) == (1000, 4000)
    assert meter.speed == 500.0
    assert meter.seconds_left == 6.0


def test_a_stall_shows_as_a_falling_speed() -> None:
    meter = PullMeter()
    for second in range(5):
        meter.feed(layer(float(second), "a", second * 100))
    fast = meter.speed
    for second in range(5, 12):
        meter.feed(layer(float(second), "a", 400))  # nothing more arrives
    assert fast == 100.0 and meter.speed == 0.0 and meter.seconds_left is None


def test_status_lines_without_layers_count_nothing() -> None:
    meter = PullMeter()
    meter.feed(Progress("pulling manifest", 0.0))
    assert meter.total == 0 and meter.seconds_left is None


def test_durations_read_as_a_person_says_them() -> None:
    assert [duration(s) for s in (0.4, 45, 60, 185, 3600, 7800)] == [
        "0 s",
        "45 s",
        "1 min",
        "3 min 5 s",
        "1 h",
        "2 h 10 min",
    ]
