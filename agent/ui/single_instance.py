"""One agent at a time: a second start politely points the customer to the open window.

A customer who does not see the window (behind others, minimised while
sharing) may double-click the program again. Two agents would register two
numbers and confuse everyone, so the second one only asks the first to come to
the front (over a local socket) and tells the customer it is already running.

The lock is a :class:`QLockFile` (Qt removes it by itself when the owning
process died, checked by PID); the local socket name carries the user name so
two people on one PC do not block each other.
"""

from __future__ import annotations

import getpass
import logging
import re
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QDir, QLockFile, QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QMessageBox, QWidget

__all__ = ["SingleInstance", "already_running_box"]

logger = logging.getLogger(__name__)

_MESSAGE = b"show\n"


def _user() -> str:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "user"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "user"


class SingleInstance(QObject):
    activated = Signal()
    """Another start of the agent asked this one to show itself."""

    def __init__(self, key: str = "madoguchi-agent", directory: Path | None = None) -> None:
        super().__init__(None)
        self.name = f"{key}-{_user()}"
        folder = directory if directory is not None else Path(QDir.tempPath())
        self._lock = QLockFile(str(folder / f"{self.name}.lock"))
        # Never stale by age (a session may last hours); a dead owner is still detected.
        self._lock.setStaleLockTime(0)
        self._server: QLocalServer | None = None

    def acquire(self) -> bool:
        """True if this is the only agent; then it listens for later starts."""
        if not self._lock.tryLock(200):
            logger.info("another agent holds %s", self.name)
            return False
        # A crashed agent may have left its socket file behind (Unix).
        QLocalServer.removeServer(self.name)
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            logger.warning("single-instance socket: %s", server.errorString())
        server.newConnection.connect(self._incoming)
        self._server = server
        return True

    def notify_running(self, timeout_ms: int = 1000) -> bool:
        """Ask the running agent to come to the front; True if it heard us."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(timeout_ms):
            return False
        socket.write(_MESSAGE)
        socket.flush()
        # flush() may already have written everything; waitForBytesWritten() is
        # then false although nothing is pending.
        ok = socket.bytesToWrite() == 0 or socket.waitForBytesWritten(timeout_ms)
        socket.disconnectFromServer()
        return ok

    def release(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            server.deleteLater()
        self._lock.unlock()

    def _incoming(self) -> None:
        server = self._server
        if server is None:
            return
        while server.hasPendingConnections():
            socket = server.nextPendingConnection()
            # One short message per connection; read it when it arrives (or now).
            socket.readyRead.connect(self._readable)
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket)

    def _readable(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        data = bytes(socket.readAll().data())
        if _MESSAGE.strip() in data:
            logger.info("another start asked us to show the window")
            self.activated.emit()


def already_running_box(parent: QWidget | None = None) -> QMessageBox:
    """The polite message for a second start (translated by the installed translator)."""
    box = QMessageBox(parent)
    box.setObjectName("alreadyRunning")
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle(QCoreApplication.translate("SingleInstance", "Screen sharing support"))
    box.setText(
        QCoreApplication.translate("SingleInstance", "The screen sharing program is already running.")
    )
    box.setInformativeText(
        QCoreApplication.translate("SingleInstance", "Please use the window that is already open.")
    )
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    ok = box.button(QMessageBox.StandardButton.Ok)
    ok.setIcon(QIcon())  # the style's "apply" arrow means nothing to a customer
    ok.setAccessibleName(ok.text())
    box.setStyleSheet("QLabel#qt_msgbox_label, QLabel#qt_msgbox_informativelabel { min-width: 480px; }")
    box.setAccessibleName(box.text())
    return box
