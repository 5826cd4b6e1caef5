"""Key names the keyboard guide may highlight (R6 "キーボード表示").

The names are layout-neutral labels, not key codes: the agent only *draws* them.
Nothing in Madoguchi ever turns a key name into a key press (R9).
"""

from __future__ import annotations

import string

__all__ = ["KEY_NAMES", "MODIFIERS", "MAX_KEYS_PER_COMBO", "MAX_COMBOS", "normalise_key"]

MODIFIERS: frozenset[str] = frozenset({"Ctrl", "Alt", "Shift", "Win", "Cmd", "Fn"})

_NAMED = {
    "Enter",
    "Tab",
    "Esc",
    "Backspace",
    "Delete",
    "Insert",
    "Space",
    "CapsLock",
    "Home",
    "End",
    "PageUp",
    "PageDown",
    "Up",
    "Down",
    "Left",
    "Right",
    "PrintScreen",
    "Menu",
    "NumLock",
    "Henkan",
    "Muhenkan",
    "KanaRoma",
    "HankakuZenkaku",
}
_PUNCTUATION = set("`-=[]\\;',./@:^")

KEY_NAMES: frozenset[str] = frozenset(
    MODIFIERS
    | _NAMED
    | set(string.ascii_uppercase)
    | set(string.digits)
    | {f"F{n}" for n in range(1, 13)}
    | _PUNCTUATION
)

MAX_KEYS_PER_COMBO = 4
MAX_COMBOS = 4

_ALIASES = {
    "control": "Ctrl",
    "ctl": "Ctrl",
    "escape": "Esc",
    "return": "Enter",
    "del": "Delete",
    "ins": "Insert",
    "windows": "Win",
    "super": "Win",
    "meta": "Win",
    "command": "Cmd",
    "option": "Alt",
    "pgup": "PageUp",
    "pgdn": "PageDown",
    "prtsc": "PrintScreen",
    "arrowup": "Up",
    "arrowdown": "Down",
    "arrowleft": "Left",
    "arrowright": "Right",
}
_BY_LOWER = {name.lower(): name for name in KEY_NAMES}


def normalise_key(name: str) -> str | None:
    """Map a user-typed key name ("ctrl", "escape", "f5") to its canonical name, or None."""
    lowered = name.strip().lower()
    return _BY_LOWER.get(lowered) or _ALIASES.get(lowered)
