"""The login dialog against a real relay: wrong password, disabled account, unreachable
relay, a certificate that does not verify, and what is (and is not) remembered."""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from client_core.loop_thread import LoopThread
from operator_console.ui.login import LoginDialog
from operator_console.ui.main_window import ConsoleWindow
from operator_console.ui.messages import login_error_text
from operator_console.ui.session_tab import TabState
from operator_console.ui.settings import ConsoleSettings, settings_at
from relay.testing import self_signed_certificate
from testbed.world import World

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    world = World()
    world.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
    world.add_operator("taro", PASSWORD, "鈴木 太郎", "Madoguchi Securities")
    world.relay.accounts.set_disabled("taro", True)
    yield world
    world.close()


@pytest.fixture
def net() -> Iterator[LoopThread]:
    loop = LoopThread("console-net")
    yield loop
    loop.stop()


@pytest.fixture
def settings(tmp_path: Path) -> ConsoleSettings:
    return ConsoleSettings(settings_at(tmp_path / "console.ini"))


def attempt(qtbot: QtBot, dialog: LoginDialog, url: str, user: str, password: str) -> None:
    dialog.relay.setText(url)
    dialog.username.setText(user)
    dialog.password.setText(password)
    QTest.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.failure() is not None or dialog.bridge is not None, timeout=15_000)


def make_dialog(qtbot: QtBot, net: LoopThread, settings: ConsoleSettings, **kw: object) -> LoginDialog:
    dialog = LoginDialog(net, settings, **kw)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_wrong_password_is_said_plainly_and_the_password_is_cleared(
    qtbot: QtBot, world: World, net: LoopThread, settings: ConsoleSettings
) -> None:
    dialog = make_dialog(qtbot, net, settings)
    attempt(qtbot, dialog, world.url, "hanako", "not the password")
    assert dialog.failure() == "wrong_credentials"
    assert dialog.message.text() == "Wrong user name or password."
    assert dialog.password.text() == ""
    assert dialog.bridge is None
    assert dialog.login_button.isEnabled()


def test_disabled_account(qtbot: QtBot, world: World, net: LoopThread, settings: ConsoleSettings) -> None:
    dialog = make_dialog(qtbot, net, settings)
    attempt(qtbot, dialog, world.url, "taro", PASSWORD)
    assert dialog.failure() == "locked"
    assert "locked or disabled" in dialog.message.text()


def test_unreachable_relay(qtbot: QtBot, net: LoopThread, settings: ConsoleSettings) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        dialog = make_dialog(qtbot, net, settings)
        attempt(qtbot, dialog, f"http://127.0.0.1:{port}", "hanako", PASSWORD)
    assert dialog.failure() == "unreachable"
    assert dialog.message.text() == login_error_text("unreachable")
    assert "Cannot reach the relay" in dialog.message.text()


def test_not_a_url(qtbot: QtBot, net: LoopThread, settings: ConsoleSettings) -> None:
    dialog = make_dialog(qtbot, net, settings)
    attempt(qtbot, dialog, "relay.example.com", "hanako", PASSWORD)
    assert dialog.failure() == "bad_url"


def test_tls_certificate_is_verified(
    qtbot: QtBot, net: LoopThread, settings: ConsoleSettings, tmp_path: Path
) -> None:
    cert, key = self_signed_certificate(tmp_path)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    world = World(ssl_context=server)
    try:
        world.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
        assert world.url.startswith("https://")
        untrusting = make_dialog(qtbot, net, settings)
        attempt(qtbot, untrusting, world.url, "hanako", PASSWORD)
        assert untrusting.failure() == "certificate"
        assert "certificate could not be verified" in untrusting.message.text()

        trusting = make_dialog(qtbot, net, settings, ssl_context=ssl.create_default_context(cafile=str(cert)))
        attempt(qtbot, trusting, world.url, "hanako", PASSWORD)
        assert trusting.bridge is not None
        assert trusting.bridge.identity is not None
        trusting.bridge.close().result(10)
    finally:
        world.close()


def test_success_remembers_url_and_user_never_the_password(
    qtbot: QtBot, world: World, net: LoopThread, tmp_path: Path
) -> None:
    path = tmp_path / "console.ini"
    settings = ConsoleSettings(settings_at(path))
    dialog = make_dialog(qtbot, net, settings)
    attempt(qtbot, dialog, world.url, "hanako", PASSWORD)
    assert dialog.bridge is not None
    assert dialog.result() == LoginDialog.DialogCode.Accepted
    stored = path.read_text()
    assert world.url in stored
    assert "hanako" in stored
    assert PASSWORD not in stored
    assert "password" not in stored.lower()

    # The next start fills in what was remembered and asks only for the password.
    again = make_dialog(qtbot, net, ConsoleSettings(settings_at(path)))
    assert again.relay.text() == world.url
    assert again.username.text() == "hanako"
    assert again.password.text() == ""
    assert again.password.hasFocus() or not again.isActiveWindow()

    # The window opens more tabs with the login's token, not the password.
    assert dialog.bridge.token is not None
    window = ConsoleWindow(net, settings, relay_url=world.url, token=dialog.bridge.token)
    qtbot.addWidget(window)
    window.add_session(dialog.bridge)
    second = window.new_tab()
    qtbot.waitUntil(lambda: second.state is TabState.CODE, timeout=10_000)
    assert second.bridge.identity is not None
    assert second.bridge.identity.display_name == "佐藤 花子"
    assert "佐藤 花子" in window.identity_label.text()

    # Geometry is remembered on close and restored by the next window.
    window.show()
    screen = window.screen().availableGeometry()
    wanted = (
        min(window.minimumSizeHint().width() + 41, screen.width()),
        min(window.minimumSizeHint().height() + 23, screen.height()),
    )
    assert wanted != (1280, 800)  # not the default size, so restoring is visible
    window.resize(*wanted)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == wanted)
    window.close()
    assert window.session_tabs() == []
    restored = ConsoleWindow(net, ConsoleSettings(settings_at(path)), relay_url=world.url, token="unused")
    qtbot.addWidget(restored)
    assert (restored.width(), restored.height()) == wanted
