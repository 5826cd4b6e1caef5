"""agent.capture.budget.CpuBudget with made-up clocks: lowers the rate under load, recovers after."""

from __future__ import annotations

import pytest

from agent.capture import CpuBudget


class Clocks:
    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    def run(self, seconds: float, share: float) -> None:
        self.wall += seconds
        self.cpu += seconds * share


def budget(clocks: Clocks, **kwargs: float) -> CpuBudget:
    return CpuBudget(30.0, cpu_clock=lambda: clocks.cpu, wall_clock=lambda: clocks.wall, **kwargs)


def test_within_budget_keeps_the_full_rate() -> None:
    clocks = Clocks()
    b = budget(clocks, core_share=0.7)
    assert b.update() == 30.0
    for _ in range(5):
        clocks.run(1.0, 0.5)
        assert b.update() == 30.0
    assert b.last_share == pytest.approx(0.5)


def test_over_budget_lowers_the_rate_in_proportion_and_never_below_min() -> None:
    clocks = Clocks()
    b = budget(clocks, core_share=0.5, min_fps=5.0)
    b.update()
    clocks.run(1.0, 1.0)  # twice the budget
    assert b.update() == pytest.approx(15.0)
    clocks.run(0.5, 1.0)  # inside the window: no decision yet
    assert b.update() == pytest.approx(15.0)
    clocks.run(0.5, 1.0)
    assert b.update() == pytest.approx(7.5)
    clocks.run(1.0, 4.0)  # hopeless: the floor holds
    assert b.update() == 5.0


def test_recovers_gradually_once_well_under_budget() -> None:
    clocks = Clocks()
    b = budget(clocks, core_share=0.5)
    b.update()
    clocks.run(1.0, 1.5)
    assert b.update() == pytest.approx(10.0)
    clocks.run(1.0, 0.45)  # under budget, but not well under: hold (no hunting)
    assert b.update() == pytest.approx(10.0)
    rates = []
    for _ in range(8):
        clocks.run(1.0, 0.1)
        rates.append(b.update())
    assert rates[0] == pytest.approx(12.5)
    assert rates == sorted(rates)
    assert rates[-1] == 30.0


def test_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        CpuBudget(30.0, min_fps=40.0)
    with pytest.raises(ValueError):
        CpuBudget(30.0, core_share=0.0)
