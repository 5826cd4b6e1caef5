"""An asyncio event loop on its own thread, for the Qt programs.

The agent and the console keep Qt on the main thread and run the network side
(aiohttp, aiortc) on one dedicated loop thread, so a slow encoder or a TLS
handshake can never freeze a window. The UI hands work to the loop with
:meth:`LoopThread.submit` (returns a ``concurrent.futures.Future``) and receives
results through Qt signals emitted from loop callbacks: Qt queues a signal
emitted on another thread to the receiver's thread by itself.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["LoopThread"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


class LoopThread:
    """Owns a thread running an asyncio loop until :meth:`stop`."""

    def __init__(self, name: str = "madoguchi-net") -> None:
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()
        self._ready.wait()

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        assert self._loop is not None
        return self._loop

    def submit(self, coro: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        """Run ``coro`` on the loop thread; safe to call from any thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call_soon(self, callback: Callable[[], object]) -> None:
        """Run a plain callable on the loop thread."""
        self.loop.call_soon_threadsafe(callback)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop (cancelling what still runs) and join the thread."""
        if self._loop is None or not self._thread.is_alive():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.warning("network thread did not stop within %.0f s", timeout)
