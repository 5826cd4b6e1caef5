"""Keyboard layouts for the keyboard guide (R6 "キーボード表示"): where each key is drawn.

Pure data, no Qt: a layout is a list of :class:`Key` in key units (1 unit = the
pitch of a letter key), so the picture can be scaled to any screen and tests
can check the geometry without a display.

Two layouts: Japanese JIS (what nearly every customer in Japan has in front of
them: 半角/全角, 変換, 無変換, the L-shaped Enter) and US ANSI for the English
UI. Both have the Windows laptop bottom row (Ctrl, Fn, Win, Alt), the F-keys,
the editing keys and the arrows; there is no numeric keypad, because guidance
never needs one and it would make every other key smaller.

Key names are :data:`protocol.KEY_NAMES`; a key without a name (¥ on JIS) is
drawn but can never be highlighted. ``Cmd`` (a Mac key) lights the key where a
Mac keyboard has it, the one next to the space bar's left end that Windows
calls Win.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

__all__ = ["ANSI", "JIS", "Key", "KeyboardLayout", "layout_for"]


@dataclasses.dataclass(frozen=True)
class Key:
    """One key cap: ``name`` (a protocol key name or None), its printed ``label``, its rectangle.

    ``extra`` is a second rectangle joined to the first (the lower half of the JIS Enter).
    """

    name: str | None
    label: str
    x: float
    y: float
    w: float = 1.0
    h: float = 1.0
    extra: tuple[float, float, float, float] | None = None

    def rects(self) -> list[tuple[float, float, float, float]]:
        main = (self.x, self.y, self.w, self.h)
        return [main] if self.extra is None else [main, self.extra]

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2


@dataclasses.dataclass(frozen=True)
class KeyboardLayout:
    name: str
    keys: tuple[Key, ...]

    @property
    def width(self) -> float:
        return max(x + w for k in self.keys for x, _, w, _ in k.rects())

    @property
    def height(self) -> float:
        return max(y + h for k in self.keys for _, y, _, h in k.rects())

    def keys_named(self, name: str) -> list[Key]:
        """Every key cap with this name (Shift, Ctrl and Alt appear twice); ``Cmd`` means Win."""
        wanted = "Win" if name == "Cmd" else name
        return [k for k in self.keys if k.name == wanted]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(k.name for k in self.keys if k.name is not None)

    def for_combos(self, combos: Iterable[Iterable[str]]) -> KeyboardLayout:
        """The part of the keyboard a guide needs: the main block always; the function
        row and the editing/arrow block only when a key to press is there. Guidance is
        nearly always Ctrl/Alt/Win + a letter, and the smaller picture leaves more of the
        customer's screen visible with larger key labels (issue 18, item 6)."""
        wanted = {("Win" if n == "Cmd" else n) for combo in combos for n in combo}
        lit = [k for k in self.keys if k.name in wanted]
        function_row = any(k.y < _TOP for k in lit)
        editing = any(k.x >= _EDITING_X for k in lit)
        keys = []
        for k in self.keys:
            if k.x >= _EDITING_X and not editing:
                continue
            if k.y < _TOP and not (
                function_row or (editing and k.x >= _EDITING_X and k.name == "PrintScreen")
            ):
                continue
            keys.append(k)
        if not function_row and not any(k.y < _TOP for k in keys):
            keys = [_shifted(k, -_TOP) for k in keys]
        return KeyboardLayout(self.name, tuple(keys))


def _shifted(key: Key, dy: float) -> Key:
    extra = None if key.extra is None else (key.extra[0], key.extra[1] + dy, key.extra[2], key.extra[3])
    return dataclasses.replace(key, y=key.y + dy, extra=extra)


def _row(y: float, x: float, caps: Iterable[tuple[str | None, str, float] | str]) -> list[Key]:
    """Keys left to right from ``x``; a plain string is a 1-unit key named and labelled alike."""
    keys: list[Key] = []
    for cap in caps:
        name, label, width = (cap, cap, 1.0) if isinstance(cap, str) else cap
        keys.append(Key(name, label, x, y, width))
        x += width
    return keys


_FN_ROW_Y = 0.0
_TOP = 1.5
"""The number row starts half a key below the F-keys, as on most keyboards."""


def _function_row() -> list[Key]:
    keys = [Key("Esc", "Esc", 0.0, _FN_ROW_Y)]
    for group, start in enumerate((1.5, 6.0, 10.5)):
        keys += _row(_FN_ROW_Y, start, [f"F{4 * group + i}" for i in range(1, 5)])
    return keys


_EDITING_X = 15.5


def _editing_block() -> list[Key]:
    x = _EDITING_X
    return [
        Key("PrintScreen", "PrtSc", x, _FN_ROW_Y),
        *_row(_TOP, x, [("Insert", "Ins", 1.0), ("Home", "Home", 1.0), ("PageUp", "PgUp", 1.0)]),
        *_row(_TOP + 1, x, [("Delete", "Del", 1.0), ("End", "End", 1.0), ("PageDown", "PgDn", 1.0)]),
        Key("Up", "↑", x + 1, _TOP + 3),
        *_row(_TOP + 4, x, [("Left", "←", 1.0), ("Down", "↓", 1.0), ("Right", "→", 1.0)]),
    ]


def _letters(y: float, x: float, letters: str) -> list[Key]:
    return _row(y, x, list(letters))


def _jis() -> KeyboardLayout:
    y1, y2, y3, y4, y5 = (_TOP + i for i in range(5))
    keys = _function_row()
    keys += _row(
        y1,
        0.0,
        [
            ("HankakuZenkaku", "半角/全角", 1.0),
            *"1234567890",
            "-",
            "^",
            (None, "¥", 1.0),
            ("Backspace", "BS", 1.0),
        ],
    )
    keys += _row(y2, 0.0, [("Tab", "Tab", 1.5), *"QWERTYUIOP", "@", "["])
    # The JIS Enter is an inverted L: 1.5 wide on the Q row, 1.25 wide on the A row.
    keys.append(Key("Enter", "Enter", 13.5, y2, 1.5, 1.0, extra=(13.75, y3, 1.25, 1.0)))
    keys += _row(y3, 0.0, [("CapsLock", "Caps\n英数", 1.75), *"ASDFGHJKL", ";", ":", "]"])
    keys += _row(y4, 0.0, [("Shift", "Shift", 2.25), *"ZXCVBNM", ",", ".", "/", ("\\", "\\ ろ", 1.0)])
    keys.append(Key("Shift", "Shift", 13.25, y4, 1.75))
    keys += _row(
        y5,
        0.0,
        [
            ("Ctrl", "Ctrl", 1.5),
            ("Fn", "Fn", 1.0),
            ("Win", "Win", 1.25),
            ("Alt", "Alt", 1.25),
            ("Muhenkan", "無変換", 1.25),
            ("Space", "", 2.25),
            ("Henkan", "変換", 1.25),
            ("KanaRoma", "カタカナ\nひらがな", 1.25),
            ("Alt", "Alt", 1.25),
            ("Menu", "Menu", 1.25),
            ("Ctrl", "Ctrl", 1.5),
        ],
    )
    keys += _editing_block()
    return KeyboardLayout("jis", tuple(keys))


def _ansi() -> KeyboardLayout:
    y1, y2, y3, y4, y5 = (_TOP + i for i in range(5))
    keys = _function_row()
    keys += _row(y1, 0.0, ["`", *"1234567890", "-", "=", ("Backspace", "Backspace", 2.0)])
    keys += _row(y2, 0.0, [("Tab", "Tab", 1.5), *"QWERTYUIOP", "[", "]", ("\\", "\\", 1.5)])
    keys += _row(y3, 0.0, [("CapsLock", "Caps Lock", 1.75), *"ASDFGHJKL", ";", "'", ("Enter", "Enter", 2.25)])
    keys += _row(y4, 0.0, [("Shift", "Shift", 2.25), *"ZXCVBNM", ",", ".", "/", ("Shift", "Shift", 2.75)])
    keys += _row(
        y5,
        0.0,
        [
            ("Ctrl", "Ctrl", 1.5),
            ("Fn", "Fn", 1.0),
            ("Win", "Win", 1.25),
            ("Alt", "Alt", 1.25),
            ("Space", "", 6.0),
            ("Alt", "Alt", 1.25),
            ("Menu", "Menu", 1.25),
            ("Ctrl", "Ctrl", 1.5),
        ],
    )
    keys += _editing_block()
    return KeyboardLayout("ansi", tuple(keys))


JIS = _jis()
ANSI = _ansi()


def layout_for(language: str) -> KeyboardLayout:
    """JIS for the Japanese UI, ANSI for English."""
    return JIS if language == "ja" else ANSI
