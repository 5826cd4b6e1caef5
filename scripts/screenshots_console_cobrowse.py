"""Screenshots of the operator console during co-browsing, in Japanese and English, at 1366x768.

Everything real: a relay on 127.0.0.1 serving the demo bank (testbed.cobrowse.DEMO_BANK),
the console on Qt's offscreen platform logged in through its login dialog, a real Chromium
as the customer on the demo bank (the script types the number and clicks Allow where a
customer would) and a second Chromium as the operator's browser, where the console opens
its view. Writes ``docs/screenshots/console-cobrowse-{sharing,paused}-<lang>.png`` (the
console) and ``console-cobrowse-view-<lang>.png`` (the view the console opened)::

    .venv/bin/python scripts/screenshots_console_cobrowse.py [--out docs/screenshots] [--lang ja en]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

logger = logging.getLogger("screenshots_console_cobrowse")

WINDOW = (1366, 768)
PASSWORD = "correct horse battery"  # noqa: S105 (a throw-away account on a private relay)
OPERATOR = {"ja": ("佐藤 花子", "サンプル銀行"), "en": ("Hanako Sato", "Sample Bank")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--lang", nargs="+", default=["ja", "en"], choices=["ja", "en"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QCoreApplication, QEvent, QUrl
    from PySide6.QtWidgets import QApplication, QWidget

    from client_core.i18n import switch_language
    from operator_console.ui.login import LoginDialog
    from operator_console.ui.main_window import I18N_DIR, I18N_DOMAIN, ConsoleWindow
    from operator_console.ui.session_tab import TabState
    from operator_console.ui.settings import ConsoleSettings, settings_at
    from operator_console.ui.theme import apply_console_theme
    from testbed.browser import BrowserCustomer
    from testbed.cobrowse import DEMO_BANK, customer_asks, replay_text
    from testbed.world import World
    from testbed.xvfb import VirtualDisplay

    app = QApplication.instance() or QApplication(["screenshots"])
    assert isinstance(app, QApplication)
    apply_console_theme(app)
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

    def shot(widget: QWidget, name: str) -> None:
        app.processEvents()
        path = args.out / name
        if not widget.grab().save(str(path)):
            raise OSError(f"cannot write {path}")
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)

    with VirtualDisplay(screens=[(1920, 1080)]) as display, tempfile.TemporaryDirectory() as tmp:

        def capture(lang: str) -> None:
            world = World(allow_timeout_s=60.0, **DEMO_BANK)
            stack = contextlib.AsyncExitStack()
            try:
                world.add_operator("hanako", PASSWORD, *OPERATOR[lang])
                customer = world.call(stack.enter_async_context(BrowserCustomer.start(display.name)), 60)
                staff = world.call(stack.enter_async_context(BrowserCustomer.start(display.name)), 60)
                switch_language(I18N_DIR, I18N_DOMAIN, "ja" if lang == "ja" else "en")
                QCoreApplication.sendPostedEvents(None, QEvent.Type.LanguageChange)
                settings = ConsoleSettings(settings_at(Path(tmp) / f"console-{lang}.ini"))
                dialog = LoginDialog(world.loop, settings, relay_url=world.url)
                dialog.username.setText("hanako")
                dialog.password.setText(PASSWORD)
                dialog.login_button.click()
                wait(lambda: dialog.bridge is not None)
                assert dialog.bridge is not None
                assert dialog.bridge.token is not None
                window = ConsoleWindow(
                    world.loop, settings, relay_url=world.url, token=dialog.bridge.token, language=lang
                )
                window.add_session(dialog.bridge)
                window.resize(*WINDOW)
                window.show()
                tab = window.current_tab()
                assert tab is not None
                opened: list[str] = []
                tab.open_url = lambda url: opened.append(QUrl(url).toString())
                wait(lambda: tab.state is TabState.CODE)
                tab.issue_code()
                wait(lambda: tab.code_page.issued_code is not None)
                code = tab.code_page.issued_code or ""
                world.call(customer.new_page(viewport=(1280, 800)))
                world.call(customer_asks(customer, f"{world.url}/demo/bank/account.html", code))
                world.call(customer.click("#cb-allow"))
                wait(lambda: tab.state is TabState.LIVE and bool(opened))
                wait(lambda: bool(tab.cobrowse_panel.view.page))
                world.call(staff.new_page(viewport=WINDOW))
                world.call(staff.goto(opened[0]))
                world.call(replay_text(staff, "#balance"))
                pause(1.0)
                shot(window, f"console-cobrowse-sharing-{lang}.png")
                world.call(staff.screenshot(args.out / f"console-cobrowse-view-{lang}.png"))
                print(f"docs/screenshots/console-cobrowse-view-{lang}.png")
                world.call(customer.click(".bank-nav a[href='privacy.html']"))
                wait(lambda: tab.cobrowse_panel.view.state == "not_shared")
                pause(0.5)
                shot(window, f"console-cobrowse-paused-{lang}.png")
                tab.end_session()
                wait(lambda: tab.state is TabState.ENDED)
                window.close()
                dialog.close()
            finally:
                world.call(stack.aclose(), 30)
                world.close()
                switch_language(I18N_DIR, I18N_DOMAIN, "en")

        for lang in args.lang:
            capture(lang)
    return 0


if __name__ == "__main__":
    sys.exit(main())
