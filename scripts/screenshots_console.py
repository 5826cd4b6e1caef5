"""Screenshots of the operator console's main states, in Japanese and English.

Runs everything for real on this machine: a relay on 127.0.0.1, a private Xvfb
showing the deterministic ``picture`` scene, a customer's agent capturing it
(Allow is clicked by the script where a customer would), and the console on
Qt's offscreen platform at 1366x768 (the smallest screen the console is made for),
grabbed widget by widget. Also: the End confirmation, a browser customer (a real
Chromium in normal mode, labelled 通常版 with the pointer and keyboard guide off) and a
customer with two monitors. Writes ``docs/screenshots/console-<state>-<lang>.png``::

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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from protocol import MonitorInfo, Monitors  # noqa: E402 (after the path is set)

logger = logging.getLogger("screenshots_console")

WIDTH, HEIGHT = 1280, 720
WINDOW = (1366, 768)
DUAL = [(0, 0, 1280, 720), (1280, 0, 1024, 768)]
"""The two-monitor customer: a laptop screen and a second monitor beside it."""
DUAL_INFO = tuple(
    MonitorInfo(index=i, x=x, y=y, width=w, height=h, primary=i == 0) for i, (x, y, w, h) in enumerate(DUAL)
)
PASSWORD = "correct horse battery"  # noqa: S105 (a throw-away account on a private relay)


def dual_track(display: str) -> Any:
    """The customer's track over the whole two-monitor desktop (as "All screens" in the agent)."""
    from agent.capture import create_source
    from agent.track import ScreenTrack

    source = create_source(display)
    source.select(None)
    return ScreenTrack(source, max_fps=15)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--lang", nargs="+", default=["ja", "en"], choices=["ja", "en"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    import contextlib
    import tempfile

    from PySide6.QtCore import QCoreApplication, QEvent, QPointF, Qt
    from PySide6.QtGui import QPainter
    from PySide6.QtWidgets import QApplication, QWidget

    from client_core.i18n import switch_language
    from client_core.loop_thread import LoopThread
    from operator_console.ui.login import LoginDialog
    from operator_console.ui.main_window import I18N_DIR, I18N_DOMAIN, ConsoleWindow
    from operator_console.ui.session_tab import SessionTab, TabState
    from operator_console.ui.settings import ConsoleSettings, settings_at
    from operator_console.ui.theme import apply_console_theme
    from testbed.browser import BrowserCustomer
    from testbed.qt_input import mouse
    from testbed.scene import SceneProcess
    from testbed.world import World, picture_display
    from testbed.xvfb import VirtualDisplay

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

    def shot_with_dialog(window: QWidget, dialog: QWidget, state: str, lang: str) -> None:
        """The window with its (window-modal) question drawn where Qt placed it over the window."""
        app.processEvents()
        picture = window.grab()
        painter = QPainter(picture)
        offset = dialog.frameGeometry().topLeft() - window.geometry().topLeft()
        painter.drawPixmap(offset, dialog.grab())
        painter.end()
        path = args.out / f"console-{state}-{lang}.png"
        if not picture.save(str(path)):
            raise OSError(f"cannot write {path}")
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)

    with (
        picture_display(WIDTH, HEIGHT) as display,
        VirtualDisplay(monitors=DUAL) as dual,
        SceneProcess(dual.name, "picture", geometry=DUAL[0]),
        SceneProcess(dual.name, "static", geometry=DUAL[1]),
        tempfile.TemporaryDirectory() as tmp,
    ):
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
                window.resize(*WINDOW)
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

                # End session asks first; "Keep sharing" is the default.
                tab.request_end()
                wait(lambda: tab.confirm_end is not None and tab.confirm_end.isVisible())
                pause(0.3)
                assert tab.confirm_end is not None
                shot_with_dialog(window, tab.confirm_end, "confirm-end", lang)
                tab.confirm_end.reject()
                wait(lambda: tab.confirm_end is None)

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
                # On a 1366x768 screen the palette scrolls: show the chosen keys and the caption.
                tab.key_guide.fields_scroll.ensureWidgetVisible(tab.key_guide.caption)
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
                tab.end_session()  # withdraw the number
                wait(lambda: tab.state is TabState.CODE)

                # A customer with two monitors sharing both ("All screens"): the Screen switcher.
                two = world.customer(
                    dual.name,
                    track_factory=lambda: dual_track(dual.name),
                    initial_guidance=lambda: [Monitors(monitors=DUAL_INFO, active=len(DUAL_INFO))],
                )
                tab.code_page.code.setText(world.call(two.wait_code()))
                tab.claim(tab.code_page.code.text())
                wait(lambda: tab.state is TabState.LIVE)
                wait(tab.view.has_picture)
                wait(lambda: tab.monitor_combo.isVisibleTo(tab.live_page))
                pause(2.0)
                shot(window, "dual", lang)
                world.call(two.stop())
                wait(lambda: tab.state is TabState.ENDED)
                tab.next_customer()

                # A browser customer (normal mode): labelled, pointer and keyboard guide off.
                stack = contextlib.AsyncExitStack()
                browser = world.call(stack.enter_async_context(BrowserCustomer.start(display)), 60)
                try:
                    world.call(browser.goto(f"{relay_url}/share?lang={lang}"))
                    world.call(browser.click("#agree"))
                    world.call(browser.wait("#view-code", timeout_s=15))
                    tab.code_page.code.setText(world.call(browser.text("#code")))
                    tab.claim(tab.code_page.code.text())
                    wait(lambda: tab.state is TabState.WAITING)
                    world.call(browser.wait("#allow"))
                    world.call(browser.click("#allow"))
                    wait(lambda: tab.state is TabState.LIVE)
                    wait(tab.view.has_picture)
                    tab.show_key_guide()
                    pause(2.0)
                    shot(window, "browser", lang)
                    world.call(browser.click("#stop"))
                    wait(lambda: tab.state is TabState.ENDED)
                finally:
                    world.call(stack.aclose(), 30)

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
