"""The garbage-collection policy that keeps full collections short while streaming."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from ollama_tui.ui import collector
from ollama_tui.ui.collector import CollectorPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def policy() -> Iterator[tuple[CollectorPolicy, Clock]]:
    clock = Clock()
    made = CollectorPolicy(clock)
    made.install()
    yield made, clock
    made.uninstall()
    assert gc.get_freeze_count() == 0


def test_survivors_of_a_full_collection_are_frozen_only_while_streaming(
    policy: tuple[CollectorPolicy, Clock],
) -> None:
    made, _ = policy
    gc.collect()
    assert gc.get_freeze_count() == 0
    made.begin()
    gc.collect()
    frozen = gc.get_freeze_count()
    assert frozen > 1000
    # The next full collection scans only what is new: nothing more is frozen by it
    # but what was made since.
    gc.collect()
    assert gc.get_freeze_count() - frozen < 1000


def test_cycles_that_die_while_frozen_are_collected_once_idle(
    policy: tuple[CollectorPolicy, Clock],
) -> None:
    made, clock = policy
    made.begin()
    cycles = [Cycle() for _ in range(100)]
    refs = [weakref.ref(c) for c in cycles]
    gc.collect()  # frozen with everything else alive now
    del cycles
    gc.collect()
    assert all(r() is not None for r in refs)  # dead, but frozen: not collected yet
    made.end()
    clock.now += collector.IDLE_S / 2
    made.tick()
    assert gc.get_freeze_count() > 0  # not idle long enough
    clock.now += collector.IDLE_S
    made.tick()
    assert gc.get_freeze_count() == 0
    assert made.last_release_s is not None
    assert all(r() is None for r in refs)


def test_too_many_frozen_objects_are_released_even_while_streaming(
    policy: tuple[CollectorPolicy, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    made, _ = policy
    made.begin()
    gc.collect()
    assert gc.get_freeze_count() > 0
    made.tick()
    assert gc.get_freeze_count() > 0
    monkeypatch.setattr(collector, "LIMIT", 10)
    made.tick()
    assert gc.get_freeze_count() == 0
