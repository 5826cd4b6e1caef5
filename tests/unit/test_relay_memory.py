"""When the relay gives memory back: after a crowd of sockets left, not during churn."""

from __future__ import annotations

import gc
import weakref

from relay.memory import CrowdWatch, release_memory


def test_a_crowd_leaving_is_noticed_once() -> None:
    watch = CrowdWatch(crowd=1000)
    assert not any(watch.left(n) for n in range(0, 5001, 500))
    assert not watch.left(4200)  # some left, not half
    assert watch.left(2400)
    assert not watch.left(2300)  # the same crowd, already handled
    assert not watch.left(1300)  # 1,100 more left, but not half of 2,400
    assert watch.left(1200)


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
