"""「終了しますか？」: asked before the packaged agent quits, because it then removes itself.

A customer who presses Cancel on the terms, the title bar's × or Close after a
dropped session by mistake would otherwise have to download the program again
(docs/packaging.md). The safe answer, 「戻る」, is the default: Enter or Esc keep
the program. A source checkout or an installed copy that stays does not ask.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from client_core.line_breaks import phrase_breaks

__all__ = ["QuitQuestion"]


class QuitQuestion(QMessageBox):
    """Window-modal, non-blocking (``open``); ``answered(True)``: quit, ``answered(False)``: stay."""

    answered = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("quitQuestion")
        self.setIcon(QMessageBox.Icon.Question)
        self.stay_button: QPushButton = self.addButton("", QMessageBox.ButtonRole.RejectRole)
        self.stay_button.setObjectName("quitStay")
        self.quit_button: QPushButton = self.addButton("", QMessageBox.ButtonRole.AcceptRole)
        self.quit_button.setObjectName("quitConfirm")
        self.quit_button.setProperty("role", "danger")
        for b in (self.stay_button, self.quit_button):
            b.setIcon(QIcon())
        self.setDefaultButton(self.stay_button)
        self.setEscapeButton(self.stay_button)
        self.setStyleSheet("QLabel#qt_msgbox_label, QLabel#qt_msgbox_informativelabel { min-width: 440px; }")
        self.retranslate()
        self.finished.connect(self._finished)

    def _finished(self, result: int) -> None:
        del result  # custom buttons: which one was clicked is what counts
        self.answered.emit(self.clickedButton() is self.quit_button)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Close the program?"))
        self.setText(self.tr("Close the screen sharing program?"))
        self.setInformativeText(
            phrase_breaks(
                self.tr(
                    "The program removes itself from this computer when it closes. To share your "
                    "screen again later, you would have to download it again."
                )
            )
        )
        self.stay_button.setText(self.tr("Go back"))
        self.stay_button.setAccessibleName(self.tr("Go back and keep the program open"))
        self.quit_button.setText(self.tr("Close the program"))
        self.quit_button.setAccessibleName(self.quit_button.text())
        self.setAccessibleName(self.text())
