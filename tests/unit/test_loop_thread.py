from __future__ import annotations

import asyncio
import threading

from client_core.loop_thread import LoopThread


def test_submit_runs_on_the_loop_thread_and_returns() -> None:
    runner = LoopThread()
    try:

        async def where() -> str:
            await asyncio.sleep(0)
            return threading.current_thread().name

        assert runner.submit(where()).result(5) == "madoguchi-net"
        seen: list[str] = []
        done = threading.Event()

        def record() -> None:
            seen.append(threading.current_thread().name)
            done.set()

        runner.call_soon(record)
        assert done.wait(5)
        assert seen == ["madoguchi-net"]
    finally:
        runner.stop()


def test_stop_cancels_pending_work() -> None:
    runner = LoopThread()
    cancelled = threading.Event()
    started = threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    runner.submit(forever())
    assert started.wait(5)
    runner.stop()
    assert cancelled.is_set()
