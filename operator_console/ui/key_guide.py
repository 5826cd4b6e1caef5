"""The keyboard-guide tool (R6 "キーボード表示"): pick keys, add a caption, send, clear.

The operator builds up to :data:`protocol.keys.MAX_COMBOS` combinations from a
palette of common ones or by typing a shortcut ("ctrl+shift+esc"; several with
commas), adds a caption, and sends; the customer's agent draws a keyboard with
those keys highlighted. Nothing here ever presses a key on the customer's machine
(R9): the message only names keys to draw.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from protocol.keys import MAX_COMBOS, MAX_KEYS_PER_COMBO, MODIFIERS, normalise_key

__all__ = ["PALETTE", "KeyGuidePanel", "ShortcutError", "parse_shortcut"]

logger = logging.getLogger(__name__)

PALETTE: tuple[tuple[str, ...], ...] = (
    ("Ctrl", "C"),
    ("Ctrl", "V"),
    ("Ctrl", "X"),
    ("Ctrl", "Z"),
    ("Ctrl", "A"),
    ("Ctrl", "S"),
    ("Ctrl", "F"),
    ("Ctrl", "P"),
    ("Win", "R"),
    ("Win", "D"),
    ("Win", "E"),
    ("Win", "L"),
    ("Alt", "Tab"),
    ("Alt", "F4"),
    ("Ctrl", "Shift", "Esc"),
    ("Ctrl", "Alt", "Delete"),
    ("F5",),
    ("Enter",),
    ("Tab",),
    ("Esc",),
    ("Backspace",),
    ("Delete",),
    ("PrintScreen",),
    ("HankakuZenkaku",),
)
"""Combinations call-centre guidance needs most, in palette order."""

_MODIFIER_ORDER = ("Ctrl", "Shift", "Alt", "Win", "Cmd", "Fn")
_COMBO_ROLE = Qt.ItemDataRole.UserRole


class ShortcutError(ValueError):
    """A typed shortcut that cannot be shown; ``key`` is the offending part, if any."""

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.key = key


def parse_shortcut(text: str) -> list[tuple[str, ...]]:
    """``"ctrl+shift+esc, win+r"`` -> ``[("Ctrl", "Shift", "Esc"), ("Win", "R")]``.

    Modifiers come first in the usual order (Ctrl, Shift, Alt, Win), as keyboards
    label them; a key named twice in one combination counts once.
    """
    combos: list[tuple[str, ...]] = []
    for raw_part in text.split(","):
        part = raw_part.strip()
        if not part:
            continue
        keys: list[str] = []
        for raw in part.replace(" ", "").split("+"):
            if not raw:
                raise ShortcutError("empty key", raw)
            key = normalise_key(raw)
            if key is None:
                raise ShortcutError(f"unknown key {raw!r}", raw)
            if key not in keys:
                keys.append(key)
        if len(keys) > MAX_KEYS_PER_COMBO:
            raise ShortcutError(f"at most {MAX_KEYS_PER_COMBO} keys in one combination")
        modifiers = [k for k in _MODIFIER_ORDER if k in keys]
        others = [k for k in keys if k not in MODIFIERS]
        combos.append(tuple(modifiers + others))
    if not combos:
        raise ShortcutError("no key")
    return combos


def combo_label(combo: tuple[str, ...], *, compact: bool = False) -> str:
    """How a combination reads in the console: key names as printed on the keys.

    ``compact`` (the palette buttons) leaves out the spaces around "+".
    """
    return ("+" if compact else " + ").join(key_label(k) for k in combo)


def key_label(key: str) -> str:
    """A key's name for the operator; the few that are not printed as their wire name are translated."""
    names = {
        "HankakuZenkaku": QCoreApplication.translate("KeyGuidePanel", "Hankaku/Zenkaku"),
        "PrintScreen": QCoreApplication.translate("KeyGuidePanel", "PrtSc"),
        "Space": QCoreApplication.translate("KeyGuidePanel", "Space"),
    }
    return names.get(key, key)


class KeyGuidePanel(QWidget):
    """Palette, typed shortcut, chosen combinations, caption; Send and Clear."""

    send_requested = Signal(object, str)
    """(list of combinations, caption)."""
    clear_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keyGuidePanel")
        self._palette_box = QGroupBox()
        grid = QGridLayout(self._palette_box)
        grid.setSpacing(4)
        self.palette_buttons: dict[tuple[str, ...], QPushButton] = {}
        for i, combo in enumerate(PALETTE):
            button = QPushButton()
            button.setObjectName("paletteKey")
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.clicked.connect(lambda _=False, c=combo: self.add_combo(c))
            grid.addWidget(button, i // 3, i % 3)
            self.palette_buttons[combo] = button

        self._typed_label = QLabel()
        self.typed = QLineEdit()
        self.typed.setObjectName("typedShortcut")
        self.typed.returnPressed.connect(self._add_typed)
        self._add_button = QPushButton()
        self._add_button.clicked.connect(self._add_typed)
        typed_row = QHBoxLayout()
        typed_row.addWidget(self.typed, 1)
        typed_row.addWidget(self._add_button)

        self._chosen_label = QLabel()
        self.chosen = QListWidget()
        self.chosen.setObjectName("chosenCombos")
        self.chosen.setMaximumHeight(110)
        self._remove_button = QPushButton()
        self._remove_button.clicked.connect(self._remove_selected)

        self._caption_label = QLabel()
        self.caption = QLineEdit()
        self.caption.setObjectName("keyCaption")
        self.caption.setMaxLength(200)
        self.caption.returnPressed.connect(self.send)

        self.error = QLabel()
        self.error.setObjectName("keyGuideError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c5221f;")

        self.send_button = QPushButton()
        self.send_button.setObjectName("sendKeyGuide")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        self.clear_button = QPushButton()
        self.clear_button.setObjectName("clearKeyGuide")
        self.clear_button.clicked.connect(self.clear)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.send_button)

        self.sent_note = QLabel()
        self.sent_note.setObjectName("keyGuideSent")
        self.sent_note.setWordWrap(True)
        self.sent_note.setStyleSheet("font-weight: bold;")

        chosen_row = QHBoxLayout()
        chosen_row.addWidget(self._chosen_label, 1)
        chosen_row.addWidget(self._remove_button)

        # What scrolls on a small laptop screen: the palette and the fields. Send, Hide and
        # what the customer's screen shows stay pinned below, always reachable and visible.
        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.addWidget(self._palette_box)
        content_layout.addWidget(self._typed_label)
        content_layout.addLayout(typed_row)
        content_layout.addLayout(chosen_row)
        content_layout.addWidget(self.chosen)
        content_layout.addWidget(self._caption_label)
        content_layout.addWidget(self.caption)
        content_layout.addWidget(self.error)
        content_layout.addStretch(1)
        self.fields_scroll = QScrollArea()
        self.fields_scroll.setObjectName("keyGuideScroll")
        self.fields_scroll.setWidgetResizable(True)
        self.fields_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.fields_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.fields_scroll.setWidget(content)
        self._content = content

        layout = QVBoxLayout(self)
        layout.addWidget(self.fields_scroll, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.sent_note)
        self._sent: list[tuple[str, ...]] | None = None
        self._closed_by_customer = False
        self.available = True
        """False for a customer whose screen cannot show the guide (the browser's normal mode)."""
        self._cobrowse = False
        """Off because the customer co-browses (the note says so)."""
        self.retranslate()

    def combos(self) -> list[tuple[str, ...]]:
        return [tuple(self.chosen.item(i).data(_COMBO_ROLE)) for i in range(self.chosen.count())]

    def add_combo(self, combo: tuple[str, ...]) -> bool:
        if combo in self.combos():
            return True
        if self.chosen.count() >= MAX_COMBOS:
            self.error.setText(self.tr("At most {n} combinations at once.").format(n=MAX_COMBOS))
            return False
        item = QListWidgetItem(combo_label(combo))
        item.setData(_COMBO_ROLE, list(combo))
        self.chosen.addItem(item)
        self.error.clear()
        return True

    def _add_typed(self) -> None:
        text = self.typed.text()
        if not text.strip():
            return
        try:
            combos = parse_shortcut(text)
        except ShortcutError as exc:
            if exc.key:
                self.error.setText(self.tr("Unknown key: {key}").format(key=exc.key))
            else:
                self.error.setText(self.tr("Type keys like ctrl+shift+esc (up to four keys)."))
            return
        if all(self.add_combo(c) for c in combos):
            self.typed.clear()

    def _remove_selected(self) -> None:
        for item in self.chosen.selectedItems():
            self.chosen.takeItem(self.chosen.row(item))

    def set_available(self, available: bool, *, cobrowse: bool = False) -> None:
        """Enable or disable the whole tool; the line below says why it is off."""
        self.available = available
        self._cobrowse = cobrowse
        for widget in (self.fields_scroll, self.send_button, self.clear_button):
            widget.setEnabled(available)
        self._show_sent()

    def send(self) -> None:
        if not self.available:
            return
        if self.typed.text().strip():
            self._add_typed()
        combos = self.combos()
        if not combos:
            self.error.setText(self.tr("Choose at least one key first."))
            return
        self.error.clear()
        self._sent = combos
        self._closed_by_customer = False
        self.send_requested.emit(combos, self.caption.text().strip())
        self._show_sent()

    def clear(self) -> None:
        if not self.available:
            return
        self.chosen.clear()
        self.caption.clear()
        self.typed.clear()
        self.error.clear()
        self._sent = None
        self._closed_by_customer = False
        self.clear_requested.emit()
        self._show_sent()

    def reset(self) -> None:
        """A new session starts: nothing of the previous customer's guide carries over."""
        self.chosen.clear()
        self.caption.clear()
        self.typed.clear()
        self.error.clear()
        self._sent = None
        self._closed_by_customer = False
        self._show_sent()

    def customer_closed(self) -> None:
        """The customer closed the guide on their screen: it is no longer shown there."""
        if self._sent is not None:
            self._sent = None
            self._closed_by_customer = True
            self._show_sent()

    @property
    def shown_to_customer(self) -> list[tuple[str, ...]] | None:
        """The combinations the customer's screen shows now, as far as the console knows."""
        return self._sent

    def _show_sent(self) -> None:
        if not self.available and self._cobrowse:
            self.sent_note.setText(
                self.tr("Not available in co-browsing: only the pointer is shown on the customer's page.")
            )
        elif not self.available:
            self.sent_note.setText(
                self.tr(
                    "Not available in normal mode: the keyboard guide cannot be drawn outside"
                    " the customer's browser."
                )
            )
        elif self._sent is None and self._closed_by_customer:
            self.sent_note.setText(self.tr("The customer closed the keyboard guide."))
        elif self._sent is None:
            self.sent_note.setText(self.tr("Nothing is shown to the customer."))
        else:
            shown = ", ".join(combo_label(c) for c in self._sent)
            self.sent_note.setText(self.tr("Shown to the customer: {keys}").format(keys=shown))

    def retranslate(self) -> None:
        for combo, button in self.palette_buttons.items():
            button.setText(combo_label(combo, compact=True))
        for i in range(self.chosen.count()):
            item = self.chosen.item(i)
            item.setText(combo_label(tuple(item.data(_COMBO_ROLE))))
        self._palette_box.setTitle(self.tr("Common keys"))
        self._typed_label.setText(self.tr("Or type a shortcut:"))
        self.typed.setPlaceholderText(self.tr("e.g. ctrl+shift+esc"))
        self._add_button.setText(self.tr("Add"))
        self._chosen_label.setText(self.tr("Keys to show:"))
        # Two different acts, two different words: take a key off this list (nothing is sent),
        # or take the keyboard off the customer's screen.
        self._remove_button.setText(self.tr("Remove from list"))
        self._remove_button.setToolTip(self.tr("Take the selected keys off this list (nothing is sent)"))
        self._caption_label.setText(self.tr("Caption:"))
        self.caption.setPlaceholderText(self.tr("e.g. Press these keys together"))
        send_keys = QKeySequence("Ctrl+Return").toString(QKeySequence.SequenceFormat.NativeText)
        self.send_button.setText(self.tr("Send"))
        self.send_button.setToolTip(
            self.tr("Show these keys on the customer's screen ({shortcut})").format(shortcut=send_keys)
        )
        self.clear_button.setText(self.tr("Hide from customer"))
        self.clear_button.setToolTip(self.tr("Remove the keyboard from the customer's screen"))
        self._show_sent()
        self._fit_width()

    def _fit_width(self) -> None:
        """Never narrower than the palette and fields: they scroll up and down, never sideways."""
        layout = self._content.layout()
        if layout is not None:
            layout.activate()
        scrollbar = self.fields_scroll.verticalScrollBar().sizeHint().width()
        self.fields_scroll.setMinimumWidth(self._content.minimumSizeHint().width() + scrollbar)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
