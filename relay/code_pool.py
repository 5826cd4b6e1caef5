"""Which pairing code to hand out next: unused, typo-safe, least recently used; O(1) per step.

A :class:`CodePool` knows every code of one length (10,000 four-digit codes, a
million six-digit ones) and keeps each code that is not live in one of four tiers,
updated incrementally as codes are taken and released:

1. **safe, fresh**: no live code is one digit substitution or one adjacent swap away
   (:func:`protocol.typo_neighbours`), and it was not released within ``memory_s``;
2. **near, fresh**: one typo away from a live code, not released recently;
3. **safe, recent**: typo-safe, but released within ``memory_s``;
4. **near, recent**.

:meth:`CodePool.draw` picks uniformly at random (``secrets``) from the first
non-empty tier; in the recent tiers, from the codes released longest ago, to the
minute (``memory_s / 60``). Only when every code is live does it raise
:class:`protocol.CodeSpaceExhausted` (the relay answers ``busy``). So: a code used
within ``memory_s`` never comes back while an unused one remains; a new code is
never a typo away from a live one while an unused typo-safe code exists; and once
every code was used recently, the least recently used come back first (typo-safe
ones first), still unpredictably within their minute.

Freshness comes before typo safety because docs/security.md promises both "while
possible" and they only conflict on a crowded relay: past ~700 live codes no code is
typo-safe anyway, and from ~6,000 customers an hour with 100 live codes the safe
codes left are all recent. Then an unused code a typo away from one live code is
preferred to handing a code used minutes ago to a new customer.

The cost of one step does not depend on how many codes are live or remembered:
``take`` and ``release`` touch the code's 36-59 typo neighbours, a draw is one
random pick (plus at most 61 minute buckets to look at when fresh codes are gone).
The four-digit space keeps its safe, fresh tier as an explicit list; larger spaces
(where live codes are a tiny fraction) draw that tier by rejection sampling.

The pool is node-local memory derived from the live and retired codes in
:class:`relay.store.Store` (see docs/operations.md for several relay nodes).
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import itertools
import logging
import math
import secrets
from collections.abc import Iterable, Iterator

from protocol import CodeSpaceExhausted

__all__ = ["CodeAllocator", "CodePool", "Tier", "neighbours"]

logger = logging.getLogger(__name__)


class Tier(enum.IntEnum):
    """Where a code stands; :meth:`CodePool.draw` takes from the lowest non-empty tier above LIVE."""

    LIVE = 0
    SAFE_FRESH = 1
    NEAR_FRESH = 2
    SAFE_RECENT = 3
    NEAR_RECENT = 4


_EXPLICIT_MAX = 100_000
"""Spaces up to this size list their safe, fresh codes (10,000 ints: well under 1 MB)."""

_MINUTES = 60
"""Granularity of "least recently used": ``memory_s / _MINUTES`` (a minute for an hour)."""

_SAMPLE_FRACTION = 8
"""Rejection sampling while at least one code in this many qualifies (<= 8 tries expected)."""


class _IndexedSet:
    """A set of ints with O(1) add, discard and uniform random choice."""

    __slots__ = ("_index", "_items")

    def __init__(self, items: Iterable[int] = ()) -> None:
        self._items = list(items)
        self._index = {c: i for i, c in enumerate(self._items)}

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, code: int) -> bool:
        return code in self._index

    def __iter__(self) -> Iterator[int]:
        return iter(self._items)

    def add(self, code: int) -> None:
        if code not in self._index:
            self._index[code] = len(self._items)
            self._items.append(code)

    def discard(self, code: int) -> None:
        i = self._index.pop(code, None)
        if i is None:
            return
        last = self._items.pop()
        if i < len(self._items):  # move the last item into the hole
            self._items[i] = last
            self._index[last] = i

    def choice(self) -> int:
        return self._items[secrets.randbelow(len(self._items))]


@dataclasses.dataclass(eq=False)
class _Bucket:
    """Codes released within one minute (one ``memory_s / 60``), split by typo safety."""

    index: int
    expires_at: float
    safe: _IndexedSet = dataclasses.field(default_factory=_IndexedSet)
    near: _IndexedSet = dataclasses.field(default_factory=_IndexedSet)


def neighbours(code: int, digits: int) -> list[int]:
    """:func:`protocol.typo_neighbours` on integers: substitutions, then adjacent swaps."""
    out: list[int] = []
    place = 1
    for _ in range(digits):
        digit = code // place % 10
        base = code - digit * place
        out.extend(base + d * place for d in range(10) if d != digit)
        place *= 10
    place = 1
    for _ in range(digits - 1):
        low, high = code // place % 10, code // (place * 10) % 10
        if low != high:
            out.append(code + (high - low) * place + (low - high) * place * 10)
        place *= 10
    return out


class CodePool:
    """Every code of ``digits`` digits, sorted into live and the four tiers (module docstring)."""

    def __init__(self, digits: int, memory_s: float, *, explicit: bool | None = None) -> None:
        if digits < 1:
            raise ValueError("digits must be positive")
        self.digits = digits
        self.size = 10**digits
        self.memory_s = memory_s
        self._width = memory_s / _MINUTES
        self._live: set[int] = set()
        self._near: dict[int, int] = {}
        """Codes with live typo neighbours -> how many (live codes included)."""
        self._recent: dict[int, _Bucket] = {}
        """Codes released within the memory -> their minute."""
        self._buckets: collections.deque[_Bucket] = collections.deque()
        self._near_fresh = _IndexedSet()
        if explicit is None:
            explicit = self.size <= _EXPLICIT_MAX
        # None: implicit, every code not live, near or recent (large spaces only).
        self._safe_fresh = _IndexedSet(range(self.size)) if explicit else None

    # --- the three operations ----------------------------------------------------

    def draw(self, now: float) -> str:
        """A code from the best non-empty tier; it stays free until :meth:`take`."""
        self._expire(now)
        code = self._draw_safe_fresh()
        if code is None and self._near_fresh:
            code = self._near_fresh.choice()
        if code is None:
            code = self._draw_recent(near=False)
        if code is None:
            code = self._draw_recent(near=True)
        if code is None:
            raise CodeSpaceExhausted(f"all {self.size} codes of {self.digits} digits are live")
        return self._text(code)

    def take(self, code: str) -> None:
        """``code`` is live from now on (drawn here, or found in the store at start-up)."""
        c = self._int(code)
        if c in self._live:
            raise ValueError(f"code {code} is already live")
        self._unplace(c)
        self._recent.pop(c, None)
        self._live.add(c)
        for n in neighbours(c, self.digits):
            count = self._near.get(n, 0)
            if count == 0 and n not in self._live:
                self._unplace(n)
                self._near[n] = 1
                self._place(n)
            else:
                self._near[n] = count + 1

    def release(self, code: str, now: float) -> None:
        """``code`` was used or expired: remembered as recent for ``memory_s``."""
        c = self._int(code)
        if c not in self._live:
            raise ValueError(f"code {code} is not live")
        self._live.remove(c)
        for n in neighbours(c, self.digits):
            count = self._near[n] - 1
            if count == 0 and n not in self._live:
                self._unplace(n)
                del self._near[n]
                self._place(n)
            elif count == 0:
                del self._near[n]
            else:
                self._near[n] = count
        if self.memory_s > 0:
            self._recent[c] = self._bucket(now)
        self._place(c)

    # --- what tests and the benchmark look at ---------------------------------------

    def live(self) -> set[str]:
        return {self._text(c) for c in self._live}

    def tier(self, code: str, now: float) -> Tier:
        self._expire(now)
        c = self._int(code)
        if c in self._live:
            return Tier.LIVE
        return Tier((2 if c in self._near else 1) + (2 if c in self._recent else 0))

    def tier_sizes(self, now: float) -> dict[Tier, int]:
        self._expire(now)
        recent_safe = sum(len(b.safe) for b in self._buckets)
        recent_near = sum(len(b.near) for b in self._buckets)
        return {
            Tier.LIVE: len(self._live),
            Tier.SAFE_FRESH: self.size - len(self._live) - len(self._near_fresh) - len(self._recent),
            Tier.NEAR_FRESH: len(self._near_fresh),
            Tier.SAFE_RECENT: recent_safe,
            Tier.NEAR_RECENT: recent_near,
        }

    # --- internals ---------------------------------------------------------------

    def _int(self, code: str) -> int:
        if len(code) != self.digits or not (code.isascii() and code.isdigit()):
            raise ValueError(f"not a {self.digits}-digit code")
        return int(code)

    def _text(self, code: int) -> str:
        return f"{code:0{self.digits}d}"

    def _place(self, c: int) -> None:
        """Put a code that is not live into the set of its tier."""
        bucket = self._recent.get(c)
        near = c in self._near
        if bucket is not None:
            (bucket.near if near else bucket.safe).add(c)
        elif near:
            self._near_fresh.add(c)
        elif self._safe_fresh is not None:
            self._safe_fresh.add(c)

    def _unplace(self, c: int) -> None:
        """Take a code out of its tier's set: call it before changing what :meth:`_place` reads."""
        bucket = self._recent.get(c)
        near = c in self._near
        if bucket is not None:
            (bucket.near if near else bucket.safe).discard(c)
        elif near:
            self._near_fresh.discard(c)
        elif self._safe_fresh is not None:
            self._safe_fresh.discard(c)

    def _bucket(self, now: float) -> _Bucket:
        index = math.floor(now / self._width)
        if self._buckets and index <= self._buckets[-1].index:
            # Same minute, or the wall clock stepped back: the newest minute is
            # remembered longest, so this code is never forgotten too early.
            return self._buckets[-1]
        bucket = _Bucket(index, max((index + 1) * self._width, now) + self.memory_s)
        self._buckets.append(bucket)
        return bucket

    def _expire(self, now: float) -> None:
        while self._buckets and self._buckets[0].expires_at <= now:
            bucket = self._buckets.popleft()
            for c in itertools.chain(bucket.safe, bucket.near):
                del self._recent[c]
                self._place(c)

    def _draw_safe_fresh(self) -> int | None:
        if self._safe_fresh is not None:
            return self._safe_fresh.choice() if self._safe_fresh else None
        free = self.size - len(self._live) - len(self._near_fresh) - len(self._recent)
        if free <= 0:
            return None
        if free * _SAMPLE_FRACTION >= self.size:
            while True:
                c = secrets.randbelow(self.size)
                if c not in self._live and c not in self._near and c not in self._recent:
                    return c
        # A crowded large space (impossible with limits far below its size): list them.
        found = [
            c
            for c in range(self.size)
            if c not in self._live and c not in self._near and c not in self._recent
        ]
        return found[secrets.randbelow(len(found))]

    def _draw_recent(self, *, near: bool) -> int | None:
        for bucket in self._buckets:  # oldest minute first
            codes = bucket.near if near else bucket.safe
            if codes:
                return codes.choice()
        return None


class CodeAllocator:
    """The relay's code pools, one per length, created on first use."""

    def __init__(self, memory_s: float) -> None:
        self.memory_s = memory_s
        self._pools: dict[int, CodePool] = {}

    def pool(self, digits: int) -> CodePool:
        pool = self._pools.get(digits)
        if pool is None:
            pool = self._pools[digits] = CodePool(digits, self.memory_s)
            logger.debug("code pool: none -> %d digits", digits)
        return pool

    def allocate(self, digits: int, now: float) -> str:
        """Draw a code and make it live; raises :class:`protocol.CodeSpaceExhausted`."""
        pool = self.pool(digits)
        code = pool.draw(now)
        pool.take(code)
        return code

    def take(self, code: str) -> None:
        self.pool(len(code)).take(code)

    def release(self, code: str, now: float) -> None:
        self.pool(len(code)).release(code, now)

    def live(self) -> set[str]:
        return set().union(*(pool.live() for pool in self._pools.values()))
