"""Log in again without leaving the window: a bar over the tabs asks for the password.

When the relay refuses a tab's token (it expired, the account's password was changed,
or a relay without the token in its database), the main window shows this bar. The
operator types the password; the bar asks the relay for a new token on the network
thread and hands it to the window, which reconnects the tabs that had lost their login.
Nothing else changes: every tab stays open, and a session on screen (its picture goes
peer to peer) carries on while the bar is shown. The password is cleared once sent.
"""

from __future__ import annotations

import concurrent.futures
import logging
import ssl

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from client_core.loop_thread import LoopThread
from operator_console.client import LoginFailed, fetch_token
from operator_console.ui.messages import login_error_text

__all__ = ["ReloginBar"]

logger = logging.getLogger(__name__)

_STYLE = "#reloginBar { background: #fef7e0; border-bottom: 1px solid #f9ab00; }"


class ReloginBar(QFrame):
    """Hidden until :meth:`ask`; emits ``token_renewed`` with the new token on success."""

    token_renewed = Signal(str)
    _finished = Signal(str, str)
    """From the network thread: (token, "") or ("", failure kind)."""

    def __init__(
        self,
        loop: LoopThread,
        relay_url: str,
        username: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reloginBar")
        self.setStyleSheet(_STYLE)
        self._loop = loop
        self._relay_url = relay_url
        self.username = username
        self._ssl = ssl_context
        self._failure: str | None = None
        self._busy = False

        self.message = QLabel()
        self.message.setObjectName("reloginMessage")
        self.message.setWordWrap(True)
        self.detail = QLabel()
        self.detail.setObjectName("reloginDetail")
        self.detail.setWordWrap(True)
        self._password_label = QLabel()
        self.password = QLineEdit()
        self.password.setObjectName("reloginPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.returnPressed.connect(self.submit)
        self.login_button = QPushButton()
        self.login_button.setObjectName("reloginButton")
        self.login_button.clicked.connect(self.submit)
        row = QHBoxLayout()
        row.addWidget(self._password_label)
        self.password.setMaximumWidth(420)
        row.addWidget(self.password, 1)
        row.addWidget(self.login_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.message)
        layout.addLayout(row)
        layout.addWidget(self.detail)
        self._finished.connect(self._on_finished)
        self.retranslate()
        self.hide()

    def ask(self) -> None:
        """Show the bar (again) with the password field focused; a request under way goes on."""
        if not self.isVisible():
            self._failure = None
            self._render_detail()
        self.show()
        self.password.setFocus()

    def failure(self) -> str | None:
        """The last failure kind shown (for tests and logs)."""
        return self._failure

    def submit(self) -> None:
        password = self.password.text()
        if self._busy:
            return
        if not password:
            self._failure = "missing"
            self._render_detail()
            return
        self._set_busy(True)
        self._failure = None
        self.password.clear()
        self.detail.setText(self.tr("Logging in…"))
        self.detail.setStyleSheet("")
        self.detail.show()
        future = self._loop.submit(
            fetch_token(self._relay_url, self.username, password, ssl_context=self._ssl)
        )
        future.add_done_callback(self._deliver)

    def _deliver(self, future: concurrent.futures.Future[str]) -> None:
        # The network thread: hand the outcome to the UI thread as a queued signal.
        try:
            token, kind = future.result(), ""
        except LoginFailed as exc:
            token, kind = "", exc.kind
        except Exception as exc:  # never a silent hang: a message, and the log says what
            logger.warning("login again failed: %s", type(exc).__name__)
            token, kind = "", "error"
        try:
            self._finished.emit(token, kind)
        except RuntimeError:
            logger.debug("relogin bar gone")

    def _on_finished(self, token: str, kind: str) -> None:
        self._set_busy(False)
        if token:
            logger.info("operator %s: login lost -> logged in again", self.username)
            self.hide()
            self.token_renewed.emit(token)
            return
        self._failure = kind
        self._render_detail()
        self.password.setFocus()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.password.setEnabled(not busy)
        self.login_button.setEnabled(not busy)

    def _render_detail(self) -> None:
        if self._failure == "missing":
            text = self.tr("Enter your password.")
        elif self._failure is not None:
            text = login_error_text(self._failure)
        else:
            text = ""
        self.detail.setText(text)
        self.detail.setStyleSheet("color: #c5221f;" if text else "")
        self.detail.setVisible(bool(text))

    def retranslate(self) -> None:
        self.message.setText(
            self.tr(
                "The relay no longer accepts your login as {user} (it expired or was ended). "
                "Enter your password to continue. Your tabs stay open; a session on screen goes on."
            ).format(user=self.username)
        )
        self._password_label.setText(self.tr("Password:"))
        self.login_button.setText(self.tr("Log in again"))
        self._render_detail()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
