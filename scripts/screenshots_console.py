"""Screenshots of the operator console's main states, in Japanese and English.

Runs everything for real on this machine: a relay on 127.0.0.1, a private Xvfb
showing the deterministic ``picture`` scene, a customer's agent capturing it
(Allow is clicked by the script where a customer would), and the console on
Qt's offscreen platform, grabbed widget by widget. Writes
``docs/screenshots/console-<state>-<lang>.png``::

    .venv/bin/python scripts/screenshots_console.py [--out docs/screenshots] [--lang ja en]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

logger = logging.getLogger("screenshots_console")

WIDTH, HEIGHT = 1280, 720
PASSWORD = "correct horse battery"  # noqa: S105 (a throw-away account on a private relay)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--lang", nargs="+", default=["ja", "en"], choices=["ja", "en"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    import tempfile

    from PySide6.QtCore import QCoreApplication, QEvent, QPointF, Qt
    from PySide6.QtWidgets import QApplication, QWidget

    from client_core.i18n import switch_language
    from client_core.loop_thread import LoopThread
    from operator_console.ui.login import LoginDialog
    from operator_console.ui.main_window import I18N_DIR, I18N_DOMAIN, ConsoleWindow
    from operator_console.ui.session_tab import SessionTab, TabState
    from operator_console.ui.settings import ConsoleSettings, settings_at
    from operator_console.ui.theme import apply_console_theme
    from testbed.qt_input import mouse
    from testbed.world import World, picture_display

    app = QApplication.instance() or QApplication(["screenshots"])
    assert isinstance(app, QApplication)
    apply_console_theme(app)  # as `madoguchi console` looks
    args.out.mkdir(parents=True, exist_ok=True)

    def wait(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("the console did not reach the expected state")
            app.processEvents()
            time.sleep(0.01)

    def pause(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)

    def shot(widget: QWidget, state: str, lang: str) -> None:
        app.processEvents()
        path = args.out / f"console-{state}-{lang}.png"
        if not widget.grab().save(str(path)):
            raise OSError(f"cannot write {path}")
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)

    with picture_display(WIDTH, HEIGHT) as display, tempfile.TemporaryDirectory() as tmp:
        world = World(allow_timeout_s=60.0)
        net = LoopThread("console-net")
        try:
            world.add_operator("hanako", PASSWORD, "佐藤 花子", "窓口証券 お客さまサポート")

            def capture(lang: str) -> None:
                switch_language(I18N_DIR, I18N_DOMAIN, "ja" if lang == "ja" else "en")
                QCoreApplication.sendPostedEvents(None, QEvent.Type.LanguageChange)
                settings = ConsoleSettings(settings_at(Path(tmp) / f"console-{lang}.ini"))
                relay_url = world.url

                # Login: a wrong password first, so the message shows.
                dialog = LoginDialog(
                    net, settings, relay_url=relay_url, language="ja" if lang == "ja" else "en"
                )
                dialog.show()
                dialog.username.setText("hanako")
                dialog.password.setText("wrong password")
                dialog.submit()
                wait(lambda: dialog.failure() is not None)
                dialog.password.setText(PASSWORD)
                shot(dialog, "login", lang)
                dialog.submit()
                wait(lambda: dialog.bridge is not None)
                assert dialog.bridge is not None
                token = dialog.bridge.token
                assert token is not None
                window = ConsoleWindow(
                    net, settings, relay_url=relay_url, token=token, language="ja" if lang == "ja" else "en"
                )
                window.resize(1280, 800)
                tab: SessionTab = window.add_session(dialog.bridge)
                window.show()
                wait(lambda: tab.state is TabState.CODE)

                # Code entry, with the message for a wrong code.
                customer = world.customer(display, allow=None)
                code = world.call(customer.wait_code())
                wrong = f"{(int(code) + 5000) % 10000:04d}"
                tab.code_page.code.setText(wrong)
                tab.claim(wrong)
                wait(lambda: tab.state is TabState.CODE and bool(tab.code_page.message_text()))
                shot(window, "code", lang)

                # Waiting for the customer's Allow.
                tab.code_page.code.setText(code)
                tab.claim(code)
                wait(lambda: tab.state is TabState.WAITING)
                pause(1.2)
                shot(window, "waiting", lang)

                # Live, with the pointer resting on the picture and a click ripple.
                assert customer.session is not None
                world.call(customer.session.decide(True))
                wait(lambda: tab.state is TabState.LIVE)
                wait(tab.view.has_picture)
                wait(lambda: "fps" in window.stats_label.text())
                wait(
                    lambda: (
                        tab.bridge.client is not None
                        and tab.bridge.client.peer is not None
                        and tab.bridge.client.peer.channel_open.is_set()
                    )
                )
                pause(2.0)  # a keep-alive frame refines the static picture
                area = tab.view.picture_area()
                viewport = tab.view.viewport()
                mouse(viewport, "move", QPointF(area.x + 0.3 * area.width, area.y + 0.55 * area.height))
                pause(0.1)
                target = QPointF(area.x + 0.62 * area.width, area.y + 0.42 * area.height)
                mouse(viewport, "move", target)
                mouse(viewport, "press", target, Qt.MouseButton.LeftButton)
                mouse(viewport, "release", target, Qt.MouseButton.LeftButton)
                pause(0.2)
                shot(window, "live", lang)

                # Keyboard guide palette with two combinations and a caption.
                tab.show_key_guide()
                tab.key_guide.palette_buttons[("Ctrl", "C")].click()
                tab.key_guide.typed.setText("win+r")
                tab.key_guide.send()
                tab.key_guide.caption.setText(
                    "コピーしてから「ファイル名を指定して実行」を開きます"
                    if lang == "ja"
                    else "Copy, then open the Run dialog"
                )
                tab.key_guide.send()
                pause(0.3)
                shot(window, "keys", lang)

                # Customer information (the real collector's report of this machine).
                wait(lambda: tab.info_panel.report is not None, 30)
                tab.show_info()
                pause(0.2)
                shot(window, "info", lang)

                # Paused by the customer.
                world.call(customer.pause(True))
                wait(lambda: tab.banner_text() is not None)
                pause(0.3)
                shot(window, "paused", lang)
                world.call(customer.pause(False))

                # The customer ends the session.
                world.call(customer.stop())
                wait(lambda: tab.state is TabState.ENDED)
                tab.ended_page.notes.setPlainText(
                    "Ctrl+C と Win+R をご案内。明日折り返し。"
                    if lang == "ja"
                    else "Showed Ctrl+C and Win+R. Call back tomorrow."
                )
                shot(window, "ended", lang)

                # Next customer: a 6-digit code for them to type in (R2).
                tab.next_customer()
                tab.issue_code()
                wait(lambda: tab.code_page.issued.isVisibleTo(tab))
                pause(1.2)
                shot(window, "issued", lang)

                # The login ends (here: an administrator changed the password); a new tab is
                # refused and the window asks for the password in place, keeping the tabs.
                world.relay.accounts.set_password("hanako", PASSWORD)
                window.new_tab()
                wait(window.relogin.isVisible)
                pause(0.3)
                shot(window, "relogin", lang)
                window.close()
                dialog.close()

            for lang in args.lang:
                capture(lang)
        finally:
            net.stop()
            world.close()
            switch_language(I18N_DIR, I18N_DOMAIN, "en")
    return 0


if __name__ == "__main__":
    sys.exit(main())
