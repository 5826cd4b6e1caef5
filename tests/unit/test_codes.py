from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import (
    AGENT_CODE_DIGITS,
    CodeSpaceExhausted,
    are_typo_neighbours,
    draw_code,
    is_code,
    typo_neighbours,
)

codes4 = st.text(alphabet="0123456789", min_size=4, max_size=4)


def test_is_code() -> None:
    assert is_code("0123", 4)
    assert not is_code("123", 4)
    assert not is_code("12a4", 4)
    assert not is_code("١٢٣٤", 4)  # Arabic-Indic digits are digits to str.isdigit, not to us


def test_neighbours_of_1234() -> None:
    neighbours = set(typo_neighbours("1234"))
    assert len(neighbours) == 4 * 9 + 3
    assert {"0234", "1235", "2134", "1324", "1243"} <= neighbours
    assert "1234" not in neighbours
    assert "4321" not in neighbours


def test_swap_of_equal_digits_is_not_a_neighbour() -> None:
    assert set(typo_neighbours("1123")) == {n for n in typo_neighbours("1123") if n != "1123"}


@given(codes4, codes4)
def test_neighbour_relation_matches_generator(a: str, b: str) -> None:
    assert are_typo_neighbours(a, b) == (b in set(typo_neighbours(a)))
    assert are_typo_neighbours(a, b) == are_typo_neighbours(b, a)


def test_drawn_codes_are_typo_safe_while_possible() -> None:
    live: set[str] = set()
    for _ in range(300):
        code = draw_code(AGENT_CODE_DIGITS, live)
        assert is_code(code, AGENT_CODE_DIGITS)
        assert code not in live
        assert not any(are_typo_neighbours(code, other) for other in live)
        live.add(code)


def test_crowded_space_still_gives_unique_codes_then_exhausts() -> None:
    live = {f"{i:02d}" for i in range(99)}  # 2-digit space, one code left
    assert draw_code(2, live) == "99"
    live.add("99")
    with pytest.raises(CodeSpaceExhausted):
        draw_code(2, live)


def test_codes_are_not_predictable_sequence() -> None:
    drawn = [draw_code(4, set()) for _ in range(50)]
    assert len(set(drawn)) > 40
    assert drawn != sorted(drawn)
    assert all(a != b for a, b in itertools.pairwise(drawn)) or len(set(drawn)) > 40
