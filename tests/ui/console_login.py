"""Log in through the real login dialog and open the console's window (shared by the UI tests)."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from client_core.loop_thread import LoopThread
from operator_console.ui.login import LoginDialog
from operator_console.ui.main_window import ConsoleWindow
from operator_console.ui.settings import ConsoleSettings, settings_at


def log_in_console(
    qtbot: QtBot,
    loop: LoopThread,
    relay_url: str,
    tmp_path: Path,
    password: str,
    *,
    size: tuple[int, int] | None = None,
    username: str = "",
) -> ConsoleWindow:
    """``hanako`` logs in; her first tab is open in a shown window (``username``: told to
    the window, as the console's start does)."""
    settings = ConsoleSettings(settings_at(tmp_path / "console.ini"))
    dialog = LoginDialog(loop, settings, relay_url=relay_url)
    qtbot.addWidget(dialog)
    dialog.username.setText("hanako")
    dialog.password.setText(password)
    dialog.login_button.click()
    qtbot.waitUntil(lambda: dialog.bridge is not None and dialog.bridge.token is not None, timeout=10_000)
    assert dialog.bridge is not None
    assert dialog.bridge.token is not None
    window = ConsoleWindow(loop, settings, relay_url=relay_url, token=dialog.bridge.token, username=username)
    qtbot.addWidget(window)
    window.add_session(dialog.bridge)
    if size is not None:
        window.resize(*size)
    window.show()
    return window
