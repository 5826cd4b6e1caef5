"""Screenshots of every screen of the customer's agent, in Japanese and English.

    .venv/bin/python scripts/screenshots_agent.py [--out docs/screenshots] [--lang ja en]

Runs on a private Xvfb (1280x800) with a compositing manager, so the overlays
look as on a real desktop. The flow is the real one: a relay and an operator on
loopback (:mod:`testbed.world`), the real controller and session, the
operator claiming the number, pointing and showing a key guide over the data
channel. Behind the windows is a plain "customer desktop" drawn here (a browser
with a form), standing in for whatever the customer has open.

Pages that need a failing network (busy, unreachable, expired) are reached the
real way where it is cheap (busy: a relay with no capacity) and shown directly
otherwise; the pages are the same either way.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

logger = logging.getLogger("screenshots_agent")

SCREEN = (1280, 800)
PASSWORD = "correct horse battery"  # noqa: S105 (the throw-away relay's demo operator)


@dataclasses.dataclass(frozen=True)
class DesktopTexts:
    browser: str
    title: str
    fields: tuple[str, ...]
    button: str
    caption: str
    """What the operator writes above the keyboard picture."""


TEXTS = {
    "ja": DesktopTexts(
        browser="Webブラウザー",
        title="お客さま情報の変更",
        fields=("お名前", "ご住所", "電話番号"),
        button="次へ進む",
        caption="コピーするには、Ctrl と C を同時に押します",
    ),
    "en": DesktopTexts(
        browser="Web browser",
        title="Change your details",
        fields=("Name", "Address", "Phone number"),
        button="Continue",
        caption="To copy, press Ctrl and C together",
    ),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--lang", nargs="+", choices=["ja", "en"], default=["ja", "en"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)

    from testbed.xvfb import VirtualDisplay

    with VirtualDisplay(screens=[SCREEN]) as display:
        os.environ["DISPLAY"] = display.name
        os.environ["QT_QPA_PLATFORM"] = "xcb"
        compositor = None
        if shutil.which("xcompmgr"):
            compositor = subprocess.Popen(["xcompmgr"], stderr=subprocess.DEVNULL)
        try:
            return _run(args.out, args.lang)
        finally:
            if compositor is not None:
                compositor.terminate()
                compositor.wait(5)


def _run(out: Path, languages: list[str]) -> int:
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from agent.ui.theme import apply_theme

    app = QApplication([sys.argv[0]])
    app.setQuitOnLastWindowClosed(False)
    apply_theme(app)

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.01)

    def until(predicate: Callable[[], object], timeout: float = 15.0) -> None:
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                raise TimeoutError("the agent did not get there in time")
            pump(0.05)

    desktop = Desktop()
    desktop.show()
    for lang in languages:
        _shoot_language(lang, out, desktop, pump, until)
    desktop.close()
    print(f"screenshots in {out}")
    return 0


class Desktop(QWidget):
    """A stand-in for the customer's desktop: a browser window with a form."""

    def __init__(self) -> None:
        super().__init__()
        self.texts = TEXTS["ja"]
        self.setWindowFlags(Qt.WindowType.FramelessWindowHint)
        self.setGeometry(0, 0, *SCREEN)

    def paintEvent(self, event: QPaintEvent) -> None:
        del event
        t = self.texts
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#3B6E8F"))
        window = QRect(90, 60, 1100, 660)
        p.fillRect(window, QColor("#FFFFFF"))
        p.fillRect(QRect(window.x(), window.y(), window.width(), 44), QColor("#E4E7EB"))
        font = QFont(["Noto Sans CJK JP"])
        font.setPixelSize(17)
        p.setFont(font)
        p.setPen(QColor("#333333"))
        p.drawText(QRect(window.x() + 16, window.y(), 400, 44), Qt.AlignmentFlag.AlignVCenter, t.browser)
        p.setPen(QPen(QColor("#B8C0C8"), 1))
        p.setBrush(QColor("#F7F8FA"))
        p.drawRoundedRect(QRect(window.x() + 180, window.y() + 8, 700, 28), 14, 14)
        p.setPen(QColor("#1E2A36"))
        font.setPixelSize(30)
        font.setBold(True)
        p.setFont(font)
        p.drawText(QRect(window.x() + 60, window.y() + 80, 800, 50), Qt.AlignmentFlag.AlignLeft, t.title)
        font.setPixelSize(20)
        font.setBold(False)
        p.setFont(font)
        for i, name in enumerate(t.fields):
            y = window.y() + 170 + i * 90
            p.setPen(QColor("#333333"))
            p.drawText(QRect(window.x() + 60, y, 300, 30), Qt.AlignmentFlag.AlignLeft, name)
            p.setPen(QPen(QColor("#9AA5B1"), 1.5))
            p.setBrush(QColor("#FFFFFF"))
            p.drawRoundedRect(QRect(window.x() + 60, y + 34, 520, 40), 6, 6)
        button = QRect(window.x() + 60, window.y() + 450, 200, 52)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#2E7D32"))
        p.drawRoundedRect(button, 8, 8)
        p.setPen(QColor("#FFFFFF"))
        font.setBold(True)
        p.setFont(font)
        p.drawText(button, Qt.AlignmentFlag.AlignCenter, t.button)
        p.end()


POINTED = ((90 + 60 + 300) / SCREEN[0], (60 + 170 + 34 + 20) / SCREEN[1])
"""The desktop's first form field, normalised: where the operator points."""


def _shoot_language(
    lang: str, out: Path, desktop: Desktop, pump: Callable[[float], None], until: Callable[..., None]
) -> None:

    from agent.ui.bridge import SessionBridge
    from agent.ui.controller import AgentController
    from agent.ui.language import apply_language
    from agent.ui.notice import NoticeKind
    from agent.ui.single_instance import already_running_box
    from operator_console.client import CustomerMessage, ViewingStarted
    from protocol import SysInfoReport
    from testbed.world import World

    desktop.texts = TEXTS[lang]
    desktop.update()
    apply_language("ja" if lang == "ja" else "en")
    world = World()
    world.add_operator(
        "hanako",
        PASSWORD,
        "佐藤 花子" if lang == "ja" else "Hanako Sato",
        "窓口証券" if lang == "ja" else "Madoguchi Securities",
    )
    bridge = SessionBridge(world.url, locale=lang)
    controller = AgentController(bridge, "ja" if lang == "ja" else "en")
    window = controller.window
    try:
        controller.start()
        until(lambda: window.consent.state == "ready")
        pump(0.5)
        _save_widget(window, out / f"agent-consent-{lang}.png")

        window.consent.agree_button.click()
        until(lambda: window.code.state == "waiting")
        pump(0.3)
        _save_widget(window, out / f"agent-code-{lang}.png")

        operator = world.operator("hanako", PASSWORD)
        operator.claim(window.code.code)
        until(lambda: controller.phase == "asking")
        pump(0.3)
        _save_widget(window, out / f"agent-request-{lang}.png")

        window.request.allow_button.click()
        until(lambda: operator.saw(ViewingStarted) and controller.phase == "sharing")
        until(operator.channel_open)
        until(
            lambda: any(
                isinstance(e, CustomerMessage) and isinstance(e.message, SysInfoReport)
                for e in operator.events
            )
        )
        pump(1.2)
        operator.pointer(*POINTED, action="move")
        operator.key_guide([["Ctrl", "C"]], TEXTS[lang].caption)
        until(lambda: controller.pointer.isVisible() and controller.key_guide.isVisible())
        pump(1.0)
        _save_screen(out / f"agent-sharing-{lang}.png")
        guide = controller.key_guide.geometry()
        _save_screen(
            out / f"agent-keyguide-{lang}.png",
            (guide.x() - 10, guide.y() - 10, guide.width() + 20, guide.height() + 20),
        )
        # The card sits in the bottom right corner and grows upwards when paused.
        bar = controller.bar.geometry()
        _save_screen(
            out / f"agent-bar-{lang}.png", (bar.x() - 30, bar.y() - 30, bar.width() + 60, bar.height() + 60)
        )

        controller.bar.pause_button.click()
        pump(0.6)
        bar = controller.bar.geometry()
        _save_screen(
            out / f"agent-paused-{lang}.png",
            (bar.x() - 30, bar.y() - 30, bar.width() + 60, bar.height() + 60),
        )
        controller.bar.pause_button.click()

        controller.bar.stop_button.click()
        until(lambda: controller.phase == "summary")
        pump(0.5)
        _save_widget(window, out / f"agent-summary-{lang}.png")

        # Declined: the "nothing was shared" summary.
        controller.new_attempt()
        until(lambda: window.code.state == "waiting")
        operator.claim(window.code.code)
        until(lambda: controller.phase == "asking")
        window.request.deny_button.click()
        until(lambda: controller.phase == "summary")
        pump(0.3)
        _save_widget(window, out / f"agent-declined-{lang}.png")

        for kind, name in ((NoticeKind.UNREACHABLE, "unreachable"), (NoticeKind.EXPIRED, "expired")):
            controller._show_notice(kind)
            pump(0.3)
            _save_widget(window, out / f"agent-{name}-{lang}.png")

        box = already_running_box()
        box.show()
        pump(0.5)
        _save_widget(box, out / f"agent-already-running-{lang}.png")
        box.close()
    finally:
        bridge.shutdown()
        controller.finish()
        world.close()

    busy_world = World(max_sessions=0, busy_retry_after_s=180.0)
    busy_bridge = SessionBridge(busy_world.url, locale=lang)
    busy = AgentController(busy_bridge, "ja" if lang == "ja" else "en")
    try:
        busy.start()
        until(lambda: busy.window.consent.state == "ready")
        busy.window.consent.agree_button.click()
        until(lambda: busy.phase == "notice")
        pump(0.3)
        _save_widget(busy.window, out / f"agent-busy-{lang}.png")
    finally:
        busy_bridge.shutdown()
        busy.finish()
        busy_world.close()


def _save_widget(widget: QWidget, path: Path) -> None:
    if not widget.grab().save(str(path)):
        raise OSError(f"cannot write {path}")
    logger.warning("wrote %s", path.name)


def _save_screen(path: Path, rect: tuple[int, int, int, int] | None = None) -> None:
    from PIL import Image

    from agent.capture import create_source

    with create_source() as source:
        source.select(None)
        frame = source.grab()
    image = Image.frombuffer("RGBA", (frame.width, frame.height), frame.image.tobytes(), "raw", "BGRA", 0, 1)
    image = image.convert("RGB")
    if rect is not None:
        x, y, w, h = rect
        image = image.crop((max(0, x), max(0, y), min(frame.width, x + w), min(frame.height, y + h)))
    image.save(path, optimize=True)
    logger.warning("wrote %s", path.name)


if __name__ == "__main__":
    sys.exit(main())
