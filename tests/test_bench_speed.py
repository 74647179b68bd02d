"""The machine's speed reference (bench/speed.py): the same work every time, charged
in the calling thread's CPU, not in wall time."""

from __future__ import annotations

import time

from ollama_tui.bench.speed import LINKS, chase, reference_ms, work


def test_the_work_is_the_same_every_time_and_grows_with_its_rounds() -> None:
    assert work(10) == work(10) > 0
    assert work(20) == 2 * work(10)


def test_the_walk_visits_every_link_once() -> None:
    assert chase() == chase() == LINKS * (LINKS - 1) // 2


def test_the_reference_is_cpu_time_so_a_wait_costs_nothing() -> None:
    # Sleeping 50 ms a sample takes wall time but no CPU: a wall clock would read 50.
    assert reference_ms(3, lambda: time.sleep(0.05)) < 10
    assert reference_ms(3, lambda: work(200)) > 0
