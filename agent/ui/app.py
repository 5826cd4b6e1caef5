"""Start the customer's agent: the Qt application, the single-instance guard, the controller.

``madoguchi agent`` (agent/cli.py) calls :func:`run_agent`. Qt lives on the
main thread; the network on the bridge's loop thread.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable, Sequence

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from agent.ui.bridge import SessionBridge
from agent.ui.controller import AgentController
from agent.ui.language import apply_language
from agent.ui.single_instance import SingleInstance, already_running_box
from agent.ui.theme import apply_theme
from client_core.i18n import pick_language

__all__ = ["ALREADY_RUNNING", "run_agent"]

logger = logging.getLogger(__name__)

ALREADY_RUNNING = 3
"""Exit status of a second start that handed over to the running agent."""


def run_agent(
    relay_url: str,
    language: str | None = None,
    *,
    instance_key: str = "madoguchi-agent",
    exit_hooks: Sequence[Callable[[], None]] = (),
) -> int:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName("madoguchi-agent")
    # The controller decides when to quit: the main window is minimised or
    # hidden while sharing, and closing it must first say goodbye to the relay.
    app.setQuitOnLastWindowClosed(False)
    apply_theme(app)
    lang = pick_language(language)
    apply_language(lang)

    guard = SingleInstance(instance_key)
    if not guard.acquire():
        guard.notify_running()
        already_running_box().exec()
        return ALREADY_RUNNING

    bridge = SessionBridge(relay_url, locale=lang)
    controller = AgentController(bridge, lang)
    controller.exit_hooks.extend(exit_hooks)
    # The packaged launcher's one exit hook removes the program: ask before quitting.
    controller.removes_itself = bool(exit_hooks)
    guard.activated.connect(controller.window.bring_to_front)
    controller.finished.connect(app.quit)

    # Ctrl+C / SIGTERM end the session cleanly like closing the window. Python
    # runs signal handlers only between bytecodes, so a timer lets it in.
    def on_signal(signum: int, frame: object) -> None:
        del frame
        logger.info("signal %d: closing", signum)
        QTimer.singleShot(0, lambda: controller.request_close(ask=False))

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    heartbeat = QTimer()
    heartbeat.start(250)
    heartbeat.timeout.connect(lambda: None)

    logger.info("agent started (relay %s, language %s)", relay_url, lang)
    controller.start()
    try:
        status = app.exec()
    finally:
        heartbeat.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        bridge.shutdown()
        controller.run_exit_hooks()
        guard.release()
    logger.info("agent finished")
    return status
