"""The code pool against a brute-force model: same guarantees as scanning the whole space.

Small spaces (2 and 3 digits) let the model recompute every code's tier from scratch
after each step; hypothesis drives random takes, releases and clock steps, in both
representations of the safe, fresh tier (an explicit list, rejection sampling).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import protocol as p
from relay.code_pool import CodeAllocator, CodePool, Tier, neighbours


class Model:
    """What the pool must answer, computed the slow way."""

    def __init__(self, digits: int, memory_s: float) -> None:
        self.digits = digits
        self.memory_s = memory_s
        self.width = memory_s / 60
        self.live: set[str] = set()
        self.released: dict[str, float] = {}

    def codes(self) -> list[str]:
        return [f"{i:0{self.digits}d}" for i in range(10**self.digits)]

    def minute(self, code: str) -> int:
        return math.floor(self.released[code] / self.width)

    def recent(self, code: str, now: float) -> bool:
        if self.memory_s <= 0 or code not in self.released:
            return False
        t = self.released[code]
        return max((self.minute(code) + 1) * self.width, t) + self.memory_s > now

    def tier(self, code: str, now: float) -> Tier:
        if code in self.live:
            return Tier.LIVE
        near = any(n in self.live for n in p.typo_neighbours(code))
        return Tier((2 if near else 1) + (2 if self.recent(code, now) else 0))

    def check_draw(self, code: str, now: float) -> None:
        tiers = {c: self.tier(c, now) for c in self.codes()}
        best = min((t for t in tiers.values() if t is not Tier.LIVE), default=None)
        assert best is not None, "drew from a full space"
        assert tiers[code] is best, (code, tiers[code], best)
        if best in (Tier.SAFE_RECENT, Tier.NEAR_RECENT):
            oldest = min(self.minute(c) for c, t in tiers.items() if t is best)
            assert self.minute(code) == oldest, "not the least recently used minute"


step = st.tuples(
    # "cycle": drawn and released at once (a customer who hangs up), to use up fresh codes
    st.sampled_from(["draw", "release", "cycle"]),
    st.integers(min_value=1, max_value=60),  # how many codes in a row: runs reach crowded spaces
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from([0.0, 0.0, 1.0, 7.0, 30.0, 61.0, 200.0]),
)


def _run(digits: int, memory_s: float, explicit: bool, steps: list[tuple[str, int, int, float]]) -> None:
    pool = CodePool(digits, memory_s, explicit=explicit)
    model = Model(digits, memory_s)
    now = 1_000_000.0
    for action, count, pick, dt in steps:
        now += dt
        for _ in range(count):
            if action != "release" and len(model.live) == 10**digits:
                with pytest.raises(p.CodeSpaceExhausted):
                    pool.draw(now)
            elif action != "release":
                code = pool.draw(now)
                model.check_draw(code, now)
                pool.take(code)
                model.live.add(code)
                model.released.pop(code, None)
                if action == "cycle":
                    pool.release(code, now)
                    model.live.remove(code)
                    model.released[code] = now
            elif model.live:
                code = sorted(model.live)[pick % len(model.live)]
                pool.release(code, now)
                model.live.remove(code)
                model.released[code] = now
            now += dt / 10
        assert pool.live() == model.live
        sizes = pool.tier_sizes(now)
        expected = {tier: 0 for tier in Tier}
        for c in model.codes():
            tier = model.tier(c, now)
            expected[tier] += 1
            assert pool.tier(c, now) is tier, c
        assert sizes == expected


@settings(max_examples=60, deadline=None)
@given(st.booleans(), st.sampled_from([0.0, 120.0, 3600.0]), st.lists(step, max_size=30))
def test_two_digit_pool_matches_the_model(
    explicit: bool, memory_s: float, steps: list[tuple[str, int, int, float]]
) -> None:
    _run(2, memory_s, explicit, steps)


@settings(max_examples=5, deadline=None)
@given(st.booleans(), st.lists(step, max_size=8))
def test_three_digit_pool_matches_the_model(explicit: bool, steps: list[tuple[str, int, int, float]]) -> None:
    _run(3, 600.0, explicit, steps)


@given(st.sampled_from([1, 2, 4, 6]), st.data())
def test_integer_neighbours_are_the_protocols(digits: int, data: st.DataObject) -> None:
    code = data.draw(st.integers(min_value=0, max_value=10**digits - 1))
    text = f"{code:0{digits}d}"
    mine = [f"{n:0{digits}d}" for n in neighbours(code, digits)]
    assert len(mine) == len(set(mine))
    assert set(mine) == set(p.typo_neighbours(text))


def test_a_full_space_is_exhausted_and_a_release_frees_exactly_that_code() -> None:
    pool = CodePool(2, 3600.0)
    for _ in range(100):
        pool.take(pool.draw(0.0))
    with pytest.raises(p.CodeSpaceExhausted):
        pool.draw(0.0)
    pool.release("42", 1.0)
    assert pool.draw(2.0) == "42"  # recent, but the only one


def test_take_and_release_refuse_inconsistent_calls() -> None:
    pool = CodePool(4, 60.0)
    pool.take("1234")
    with pytest.raises(ValueError, match="already live"):
        pool.take("1234")
    with pytest.raises(ValueError, match="not live"):
        pool.release("4321", 0.0)
    with pytest.raises(ValueError, match="4-digit"):
        pool.take("123")


def test_six_digit_codes_are_drawn_by_sampling_and_stay_typo_safe() -> None:
    codes = CodeAllocator(3600.0)
    drawn = [codes.allocate(6, float(i)) for i in range(300)]
    assert len(set(drawn)) == 300
    assert all(p.is_code(c, 6) for c in drawn)
    live = set(drawn)
    assert not any(n in live for c in drawn for n in p.typo_neighbours(c))
    assert codes.live() == live
    for i, code in enumerate(drawn):
        codes.release(code, 400.0 + i)
    assert codes.pool(6).tier_sizes(1000.0)[Tier.SAFE_RECENT] == 300


def test_draws_are_not_predictable() -> None:
    a, b = CodePool(4, 60.0), CodePool(4, 60.0)
    first = [a.draw(0.0) for _ in range(20)]
    second = [b.draw(0.0) for _ in range(20)]
    assert first != second
    assert len(set(first)) > 15
