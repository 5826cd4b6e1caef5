"""The login dialog: relay URL, user name, password; clear words when it fails.

TLS certificates are always verified (the system's trust store, or ``--ca-file``
for a private CA); a certificate that does not verify is a failure with its own
message, never a prompt to continue anyway. The relay URL and user name are
remembered, the password never is.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
from urllib.parse import urlsplit

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client_core.i18n import Language
from client_core.loop_thread import LoopThread
from operator_console.ui.bridge import SessionBridge
from operator_console.ui.messages import login_error_text
from operator_console.ui.settings import ConsoleSettings

__all__ = ["LoginDialog"]

logger = logging.getLogger(__name__)


def _plain_http_off_machine(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme != "http":
        return False
    host = parts.hostname or ""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


class LoginDialog(QDialog):
    """On success ``bridge`` holds the logged-in connection for the first tab."""

    language_requested = Signal(str)

    def __init__(
        self,
        loop: LoopThread,
        settings: ConsoleSettings,
        *,
        relay_url: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        language: Language = "en",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("loginDialog")
        self._loop = loop
        self._settings = settings
        self._ssl = ssl_context
        self.bridge: SessionBridge | None = None
        self._pending: SessionBridge | None = None
        self._failure: str | None = None

        self._title = QLabel()
        title_font = QFont()
        title_font.setPixelSize(20)
        title_font.setBold(True)
        self._title.setFont(title_font)
        self.relay = QLineEdit(relay_url or settings.relay_url or "https://")
        self.relay.setObjectName("relayUrl")
        self.username = QLineEdit(settings.username)
        self.username.setObjectName("userName")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.language = QComboBox()
        self.language.setObjectName("loginLanguage")
        self.language.addItem("日本語", "ja")
        self.language.addItem("English", "en")
        self.language.setCurrentIndex(max(0, self.language.findData(language)))
        self.language.activated.connect(
            lambda row: self.language_requested.emit(str(self.language.itemData(row)))
        )
        self.message = QLabel()
        self.message.setObjectName("loginMessage")
        self.message.setWordWrap(True)
        self.message.setMinimumHeight(40)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.login_button = QPushButton()
        self.login_button.setObjectName("loginButton")
        self.login_button.setDefault(True)
        self.login_button.clicked.connect(self.submit)
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(self.reject)
        self.relay.textChanged.connect(lambda _: self._render_message())

        self._form = QFormLayout()
        self._relay_label = QLabel()
        self._user_label = QLabel()
        self._password_label = QLabel()
        self._language_label = QLabel()
        self._form.addRow(self._relay_label, self.relay)
        self._form.addRow(self._user_label, self.username)
        self._form.addRow(self._password_label, self.password)
        self._form.addRow(self._language_label, self.language)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.login_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self._title)
        layout.addSpacing(8)
        layout.addLayout(self._form)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.setMinimumWidth(480)
        self.retranslate()
        (self.password if self.username.text() else self.username).setFocus()

    def submit(self) -> None:
        url = self.relay.text().strip().rstrip("/")
        user = self.username.text().strip()
        password = self.password.text()
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            self._fail("bad_url")
            return
        if not user or not password:
            self._failure = "missing"
            self._render_message()
            return
        self._set_busy(True)
        self._failure = None
        self.message.setText(self.tr("Logging in…"))
        self.message.setStyleSheet("")
        bridge = SessionBridge(self._loop, url, ssl_context=self._ssl)
        bridge.logged_in.connect(lambda _identity: self._succeeded(bridge, url, user))
        bridge.login_failed.connect(lambda kind, _message: self._fail(kind))
        self._pending = bridge
        bridge.login(user, password)

    def _succeeded(self, bridge: SessionBridge, url: str, user: str) -> None:
        self.bridge = bridge
        self.password.clear()
        self._settings.remember_login(url, user)
        logger.info("logged in to %s as %s", url, user)
        self.accept()

    def _fail(self, kind: str) -> None:
        self._set_busy(False)
        self._failure = kind
        self._render_message()
        if kind == "wrong_credentials":
            self.password.clear()
            self.password.setFocus()
        elif kind in ("unreachable", "bad_url", "certificate"):
            self.relay.setFocus()

    def reject(self) -> None:
        # Quit while a login is under way: do not leave that connection open.
        if self._pending is not None and self.bridge is None:
            self._pending.close()
        super().reject()

    def failure(self) -> str | None:
        """The last failure kind shown (for tests and logs)."""
        return self._failure

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.relay, self.username, self.password, self.login_button):
            widget.setEnabled(not busy)

    def _render_message(self) -> None:
        if self._failure == "missing":
            self.message.setText(self.tr("Enter your user name and password."))
        elif self._failure is not None:
            self.message.setText(login_error_text(self._failure))
        elif _plain_http_off_machine(self.relay.text().strip()):
            self.message.setText(self.tr("Warning: this address is not encrypted (http://). Use https://."))
        else:
            self.message.setText("")
        self.message.setStyleSheet("color: #c5221f;" if self.message.text() else "")

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Madoguchi operator console – log in"))
        self._title.setText(self.tr("Log in to the relay"))
        self._relay_label.setText(self.tr("Relay address:"))
        self._user_label.setText(self.tr("User name:"))
        self._password_label.setText(self.tr("Password:"))
        self._language_label.setText(self.tr("Language:"))
        self.relay.setPlaceholderText("https://relay.example.com")
        self.login_button.setText(self.tr("Log in"))
        self.cancel_button.setText(self.tr("Quit"))
        self._render_message()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
