"""The machine's speed reference (bench/speed.py): the same work every time, charged
in the calling thread's CPU, not in wall time."""

from __future__ import annotations

import itertools
import threading
import time

from ollama_tui.bench import speed
from ollama_tui.bench.speed import LINKS, chase, reference_ms, work


def test_the_work_is_the_same_every_time_and_grows_with_its_rounds() -> None:
    assert work(10) == work(10) > 0
    assert work(20) == 2 * work(10)


def test_the_walk_visits_every_link_once_in_no_order_of_making() -> None:
    assert chase() == chase() == LINKS * (LINKS - 1) // 2
    # Shuffled, the same way each time: a step is almost never to the object made next
    # (in order, the walk would meet the caches' prefetching, not memory).
    chain = speed._chain
    assert sum(a.next is b for a, b in itertools.pairwise(chain)) < LINKS // 1000
    made = [link.next.value for link in chain]
    speed._chain.clear()  # made again: the same chain, whatever the process
    chase()
    assert [link.next.value for link in speed._chain] == made


def test_the_reference_is_cpu_time_so_a_wait_costs_nothing() -> None:
    # Sleeping 50 ms a sample takes wall time but no CPU: a wall clock would read 50.
    assert reference_ms(3, lambda: time.sleep(0.05)) < 10
    assert reference_ms(3, lambda: work(200)) > 0


def test_the_reference_is_this_threads_cpu_not_the_process() -> None:
    # Another thread burns CPU while this one sleeps: a process clock would read it.
    stop = threading.Event()

    def burn() -> None:
        while not stop.is_set():
            work(10)

    burner = threading.Thread(target=burn)
    burner.start()
    try:
        assert reference_ms(3, lambda: time.sleep(0.05)) < 10
    finally:
        stop.set()
        burner.join()
