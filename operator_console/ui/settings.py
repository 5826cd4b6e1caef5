"""What the console remembers between runs (QSettings): relay URL, user name, window.

Never the password: it is typed at every start and kept only as long as the
login request needs it. Tests pass their own ``QSettings`` on a temporary file.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

__all__ = ["ConsoleSettings", "default_settings", "settings_at"]

logger = logging.getLogger(__name__)

_RELAY_URL = "login/relay_url"
_USERNAME = "login/username"
_LANGUAGE = "ui/language"
_GEOMETRY = "window/geometry"
_STATE = "window/state"
_VIEW_MODE = "view/mode"


def default_settings() -> QSettings:
    """The per-user settings file (an INI file, the same on every OS)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "Madoguchi", "console")


def settings_at(path: Path) -> QSettings:
    return QSettings(str(path), QSettings.Format.IniFormat)


class ConsoleSettings:
    """Typed access to the few keys the console keeps."""

    def __init__(self, settings: QSettings) -> None:
        self.qsettings = settings

    def _text(self, key: str) -> str:
        value = self.qsettings.value(key, "")
        return value if isinstance(value, str) else ""

    def _bytes(self, key: str) -> QByteArray | None:
        value = self.qsettings.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @property
    def relay_url(self) -> str:
        return self._text(_RELAY_URL)

    @property
    def username(self) -> str:
        return self._text(_USERNAME)

    def remember_login(self, relay_url: str, username: str) -> None:
        self.qsettings.setValue(_RELAY_URL, relay_url)
        self.qsettings.setValue(_USERNAME, username)
        self.qsettings.sync()

    @property
    def language(self) -> str:
        return self._text(_LANGUAGE)

    @language.setter
    def language(self, value: str) -> None:
        self.qsettings.setValue(_LANGUAGE, value)

    @property
    def view_mode(self) -> str:
        return self._text(_VIEW_MODE)

    @view_mode.setter
    def view_mode(self, value: str) -> None:
        self.qsettings.setValue(_VIEW_MODE, value)

    @property
    def geometry(self) -> QByteArray | None:
        return self._bytes(_GEOMETRY)

    @property
    def window_state(self) -> QByteArray | None:
        return self._bytes(_STATE)

    def remember_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qsettings.setValue(_GEOMETRY, geometry)
        self.qsettings.setValue(_STATE, state)
        self.qsettings.sync()

    def sync(self) -> None:
        self.qsettings.sync()
