"""The agent's languages: where its translations live and the button that switches them.

Japanese and English (:mod:`client_core.i18n`); the source strings are English and
``i18n/agent_ja.ts`` holds the Japanese. The switch button always shows the
*other* language in that language's own words ("English" / "日本語"), so a
customer who cannot read the current language can still find it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPushButton, QWidget

from client_core.i18n import Language, switch_language

__all__ = ["DOMAIN", "I18N_DIR", "LanguageButton", "apply_language"]

logger = logging.getLogger(__name__)

I18N_DIR = Path(__file__).with_name("i18n")
DOMAIN = "agent"

_OWN_NAMES: dict[Language, str] = {"ja": "日本語", "en": "English"}


def apply_language(language: Language) -> bool:
    """Install ``language`` on the running application; every widget gets a LanguageChange."""
    ok = switch_language(I18N_DIR, DOMAIN, language)
    logger.info("language -> %s (%s)", language, "ok" if ok else "translation missing")
    return ok


class LanguageButton(QPushButton):
    """Shows the other language; clicking asks for it (``requested``)."""

    requested = Signal(str)

    def __init__(self, language: Language, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("languageButton")
        self.setProperty("role", "language")
        self._language: Language = language
        self.clicked.connect(self._clicked)
        self._update()

    @property
    def language(self) -> Language:
        return self._language

    def set_language(self, language: Language) -> None:
        self._language = language
        self._update()

    def _other(self) -> Language:
        return "en" if self._language == "ja" else "ja"

    def _clicked(self) -> None:
        self.requested.emit(self._other())

    def _update(self) -> None:
        other = self._other()
        self.setText(_OWN_NAMES[other])
        # Bilingual on purpose: it must be understood in either language.
        self.setAccessibleName(f"{_OWN_NAMES[other]} (language / 言語)")
