"""Pairing-code rules: format, drawing, and typo safety.

Two kinds of code exist (REQUIREMENTS R1, R2):

* agent-issued, 4 digits: the customer reads it to the operator;
* operator-issued, 6 digits: the operator reads it to the customer (browser mode).

A code is spoken over the phone and typed by a person, so a misheard or mistyped
code must not land on *another* customer's live code. ``draw_code`` therefore
avoids codes that are one substitution or one adjacent swap away from any live
code of the same length, for as long as such a code exists; only when the space is
that crowded does it fall back to any unused code (uniqueness is never given up).
Codes are drawn with ``secrets`` so they cannot be predicted.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterator

__all__ = [
    "AGENT_CODE_DIGITS",
    "OPERATOR_CODE_DIGITS",
    "CodeSpaceExhausted",
    "draw_code",
    "is_code",
    "typo_neighbours",
    "are_typo_neighbours",
]

AGENT_CODE_DIGITS = 4
OPERATOR_CODE_DIGITS = 6

_RANDOM_TRIES = 64


class CodeSpaceExhausted(RuntimeError):
    """Every code of the requested length is live; the caller answers ``busy``."""


def is_code(value: str, digits: int) -> bool:
    """True if ``value`` is exactly ``digits`` ASCII digits."""
    return len(value) == digits and value.isascii() and value.isdigit()


def typo_neighbours(code: str) -> Iterator[str]:
    """Every code one digit substitution or one adjacent transposition away."""
    chars = list(code)
    for i, original in enumerate(chars):
        for digit in "0123456789":
            if digit != original:
                chars[i] = digit
                yield "".join(chars)
        chars[i] = original
    for i in range(len(chars) - 1):
        if chars[i] != chars[i + 1]:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
            yield "".join(chars)
            chars[i], chars[i + 1] = chars[i + 1], chars[i]


def are_typo_neighbours(a: str, b: str) -> bool:
    """True if ``a`` and ``b`` differ by one substitution or one adjacent swap."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) == 1:
        return True
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def _is_safe(candidate: str, live: Collection[str]) -> bool:
    return candidate not in live and not any(n in live for n in typo_neighbours(candidate))


def draw_code(digits: int, live: Collection[str]) -> str:
    """Draw a fresh random code of ``digits`` digits, unused and typo-safe if possible.

    ``live`` holds the codes currently in use (any length; only same-length ones
    matter). Raises ``CodeSpaceExhausted`` when every code of that length is live.
    """
    if digits < 1:
        raise ValueError("digits must be positive")
    space = 10**digits
    for _ in range(_RANDOM_TRIES):
        candidate = f"{secrets.randbelow(space):0{digits}d}"
        if _is_safe(candidate, live):
            return candidate
    # Crowded: walk the whole space from a random offset so the choice stays
    # unpredictable, first for a typo-safe code, then for any unused one.
    start = secrets.randbelow(space)
    order = [f"{(start + i) % space:0{digits}d}" for i in range(space)]
    for candidate in order:
        if _is_safe(candidate, live):
            return candidate
    for candidate in order:
        if candidate not in live:
            return candidate
    raise CodeSpaceExhausted(f"all {space} codes of {digits} digits are live")
