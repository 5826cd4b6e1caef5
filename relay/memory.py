"""Giving memory back once a crowd of sockets has left.

Two things keep a relay's memory at its peak after thousands of sockets closed:

* a socket's aiohttp objects (protocol, transport, request, response, tasks) refer to
  each other, so they are freed only by a full garbage collection, which a quiet relay
  may not run for hours;
* freed memory stays with the allocators: CPython's pymalloc keeps a 1 MiB arena while
  any object in it lives (a few hundred long-lived objects pin most of them), glibc's
  malloc keeps freed chunks until ``malloc_trim``.

:class:`CrowdWatch` (sans-IO: it is told the socket count on every timer tick) says
when a crowd has left; :func:`release_memory` then collects and trims. Under steady
churn the count never halves, so this does not run in the middle of the traffic.
With ``PYTHONMALLOC=malloc`` nearly everything goes back to the system; with pymalloc
(the default) the pinned arenas stay and are reused by the next crowd (measured in
``benchmarks/relay_load.py``, docs/performance.md "Relay under load").
"""

from __future__ import annotations

import ctypes
import functools
import gc
import logging
import sys
from collections.abc import Callable

__all__ = ["CrowdWatch", "release_memory"]

logger = logging.getLogger(__name__)


class CrowdWatch:
    """Says when at least ``crowd`` sockets and half of the peak have gone since the last time.

    Only once the count has stopped falling (two ticks alike): sockets that are still
    closing would free their memory after the trim, and it would stay.
    """

    def __init__(self, crowd: int = 1000) -> None:
        self.crowd = crowd
        self.peak = 0
        self._last = 0

    def left(self, sockets: int) -> bool:
        settled, self._last = sockets == self._last, sockets
        self.peak = max(self.peak, sockets)
        if settled and self.peak - sockets >= self.crowd and sockets <= self.peak // 2:
            self.peak = sockets
            return True
        return False


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``; None elsewhere (macOS, Windows, musl)."""
    if sys.platform == "linux":
        try:
            trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            pass
        else:
            return trim
    return None


def release_memory() -> None:
    """Free unreachable cycles now, then hand free heap pages back to the system (glibc)."""
    unreachable = gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
    logger.info("memory: collected %d unreachable objects, trimmed: %s", unreachable, trim is not None)
