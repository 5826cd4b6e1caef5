"""``madoguchi console``: the operator console (PySide6).

Logs in to a relay, then shows one tab per customer. ``--relay`` pre-fills the
relay address (otherwise the last one used), ``--lang`` picks Japanese or
English (the UI can switch at run time). Certificates are always verified,
against the system's trust store or, with ``--ca-file``, a private CA bundle.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from client_core.proxy import add_proxy_option, apply_proxy_option

__all__ = ["configure", "run"]

logger = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--relay", metavar="URL", help="relay address, e.g. https://relay.example.com")
    parser.add_argument("--lang", choices=("ja", "en"), help="user interface language (default: system)")
    parser.add_argument(
        "--ca-file", type=Path, metavar="PEM", help="verify the relay's certificate against this CA bundle"
    )
    parser.add_argument(
        "--settings", type=Path, metavar="INI", help="settings file (default: the per-user one)"
    )
    add_proxy_option(parser)


def _quit_on_signals(app: object) -> None:
    """Ctrl+C or SIGTERM closes the windows properly (ending every session) instead of killing them."""
    import signal

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    assert isinstance(app, QApplication)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: QTimer.singleShot(0, app.closeAllWindows))
    # Qt's loop runs C code; a periodic no-op lets Python look at pending signals.
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(250)


def run(args: argparse.Namespace) -> int:
    import ssl

    from PySide6.QtWidgets import QApplication, QDialog

    from client_core.i18n import pick_language, switch_language
    from client_core.loop_thread import LoopThread
    from operator_console.ui.login import LoginDialog
    from operator_console.ui.main_window import I18N_DIR, I18N_DOMAIN, ConsoleWindow
    from operator_console.ui.settings import ConsoleSettings, default_settings, settings_at
    from operator_console.ui.theme import apply_console_theme

    apply_proxy_option(args)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    apply_console_theme(app)
    app.setApplicationName("Madoguchi console")
    app.setOrganizationName("Madoguchi")
    settings = ConsoleSettings(settings_at(args.settings) if args.settings else default_settings())
    language = pick_language(args.lang or settings.language or None)
    switch_language(I18N_DIR, I18N_DOMAIN, language)
    ssl_context = ssl.create_default_context(cafile=str(args.ca_file)) if args.ca_file else None

    loop = LoopThread("console-net")
    _quit_on_signals(app)
    try:
        dialog = LoginDialog(loop, settings, relay_url=args.relay, ssl_context=ssl_context, language=language)

        def change_language(lang: str) -> None:
            nonlocal language
            language = "ja" if lang == "ja" else "en"
            switch_language(I18N_DIR, I18N_DOMAIN, language)

        dialog.language_requested.connect(change_language)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.bridge is None:
            return 1
        bridge = dialog.bridge
        token = bridge.token
        assert token is not None
        window = ConsoleWindow(
            loop,
            settings,
            relay_url=bridge.relay_url,
            token=token,
            username=dialog.username.text().strip(),
            ssl_context=ssl_context,
            language=language,
        )
        window.add_session(bridge)
        window.show()
        return int(app.exec())
    finally:
        loop.stop()
