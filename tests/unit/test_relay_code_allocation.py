"""Which code a registration gets, and what that costs: the sans-IO registry with a test clock.

* Codes are not handed out again within ``retired_code_memory_s`` while unused ones
  remain; once every code was used recently, the least recently used go first.
* The work of one registration does not grow with the number of live codes, nor with
  the codes remembered as recently used (it used to jump ~100x past ~700 live codes).
  Work is counted in executed Python lines, not in seconds: the count is the same on a
  loaded machine, so the test cannot flake; the timings are in the benchmark.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import protocol as p

from .test_relay_registry import Harness

V = p.PROTOCOL_VERSION
SPACE = 10**p.AGENT_CODE_DIGITS


def _ip(i: int) -> str:
    """A distinct address per agent, so per-address limits stay out of the way."""
    return f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"


def _cycle(h: Harness, i: int, step_s: float) -> str:
    """One customer: register, get a code, hang up at once (the code is retired as used)."""
    code = h.agent(f"c{i}", ip=_ip(i)).code
    h.send(f"c{i}", p.Bye())
    h.inbox.clear()
    h.effects.clear()
    h.audits.clear()
    h.now += step_s
    return code


def test_codes_are_not_reused_within_the_memory_while_unused_ones_remain() -> None:
    h = Harness(registrations_per_ip=10**6)
    memory = h.config.limits.retired_code_memory_s
    step = 0.25  # 10,000 customers in 2,500 s: all within the hour
    assert SPACE * step < memory
    codes = [_cycle(h, i, step) for i in range(SPACE)]
    # Every code of the space was handed out exactly once before any came back.
    assert len(set(codes)) == SPACE
    # Now every code was used within the hour: the next one is among the least
    # recently used (to the minute), never one just given back.
    first_minute = set(codes[: int(60 / step)])
    for i in range(SPACE, SPACE + 20):
        assert _cycle(h, i, 0.0) in first_minute


def test_a_crowded_relay_hands_out_unused_codes_before_typo_safe_recent_ones() -> None:
    """Past ~700 live codes nothing is typo-safe and unused: an unused code still wins."""
    h = Harness(max_live_codes=2 * SPACE, registrations_per_ip=10**6)
    for i in range(3_000):  # an hour of customers: 3,000 codes remembered
        _cycle(h, i, 1.0)
    reused = 0
    for i in range(10_000, 11_000):
        code = h.agent(f"l{i}", ip=_ip(i)).code
        reused += h.store.retired_code(code, h.now) is not None
    assert h.registry.stats().codes_pending == 1_000
    assert reused == 0


def test_exhausted_space_answers_busy() -> None:
    h = Harness(max_live_codes=2 * SPACE, registrations_per_ip=10**6)
    live = {h.agent(f"a{i}", ip=_ip(i)).code for i in range(SPACE)}
    assert len(live) == SPACE
    h.inbox.clear()
    h.open("last", "agent", _ip(SPACE))
    h.send("last", p.Register(protocol_version=V, client_version="1", consent_accepted=True))
    error = h.error("last")
    assert (error.code, error.fatal) == (p.ErrorCode.BUSY, True)
    assert h.counts[-1].label == "busy"
    # One customer hangs up: exactly that code can be handed out again.
    freed = h.registry.connections()
    first = next(iter(freed))
    h.send(first, p.Bye())
    again = h.agent("again", ip=_ip(SPACE + 1)).code
    assert again in live


def _lines(call: Callable[[], Any]) -> int:
    """Python lines executed by ``call`` (a deterministic measure of its work)."""
    count = 0

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        call()
    finally:
        sys.settrace(previous)
    return count


def _registration_lines(h: Harness, first: int, n: int) -> float:
    total = 0
    for i in range(first, first + n):
        conn = f"m{i}"
        h.open(conn, "agent", _ip(i))
        register = p.Register(protocol_version=V, client_version="1", consent_accepted=True)
        total += _lines(functools.partial(h.registry.received, conn, register, h.now))
        h.now += 0.01
    return total / n


def test_registration_work_does_not_grow_with_live_or_remembered_codes() -> None:
    h = Harness(max_live_codes=2 * SPACE, registrations_per_ip=10**6)
    few = _registration_lines(h, 0, 20)  # about 10 live codes, nothing remembered
    # An hour of churn (3,000 codes remembered as recently used), then 1,000 live codes:
    # past ~700 live codes no typo-safe code is left, which used to mean a walk through
    # all 10,000 codes per draw, repeated for every recently used one it landed on.
    for i in range(100, 3_100):
        _cycle(h, i, 1.0)
    for i in range(10_000, 10_980):
        h.agent(f"l{i}", ip=_ip(i))
    h.inbox.clear()
    many = _registration_lines(h, 20_000, 20)
    assert h.registry.stats().codes_pending >= 1_000
    assert many <= 1.5 * few, (few, many)
