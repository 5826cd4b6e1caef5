"""When the relay gives memory back: after a crowd of sockets left, not during churn."""

from __future__ import annotations

import gc
import weakref

from relay.memory import CrowdWatch, release_memory


def _ticks(watch: CrowdWatch, *counts: int) -> list[bool]:
    return [watch.left(n) for n in counts]


def test_a_crowd_leaving_is_noticed_once_it_has_left() -> None:
    watch = CrowdWatch(crowd=1000)
    assert not any(_ticks(watch, *range(0, 5001, 500), 5000))
    assert _ticks(watch, 4200, 4200) == [False, False]  # some left, not half
    assert _ticks(watch, 3000, 2400, 2400) == [False, False, True]  # once it stopped falling
    assert _ticks(watch, 2300, 2300) == [False, False]  # the same crowd, already handled
    assert _ticks(watch, 1300, 1300) == [False, False]  # 1,100 more left, but not half of 2,400
    assert _ticks(watch, 1200, 1200) == [False, True]


def test_steady_churn_never_triggers() -> None:
    watch = CrowdWatch(crowd=1000)
    assert not any(watch.left(5000 + (i % 7) * 100) for i in range(1000))


class _Node:
    other: object = None


def test_release_memory_frees_cycles_now() -> None:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    alive = weakref.ref(a)
    gc.disable()  # as if the collector had not come round yet
    try:
        del a, b
        assert alive() is not None
        release_memory()
        assert alive() is None
    finally:
        gc.enable()
