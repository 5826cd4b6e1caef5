"""Screenshots of every screen of the customer's agent, in Japanese and English.

    .venv/bin/python scripts/screenshots_agent.py [--out docs/screenshots] [--lang ja en]
        [--layout main small dual]

Runs on a private Xvfb with a compositing manager, so the overlays look as on a
real desktop, in three layouts: ``main`` (a 1366x768 laptop: every page,
``agent-<page>-<lang>.png``), ``small`` (800x600: the main pages again,
``agent-<page>-<lang>-800x600.png``) and ``dual`` (two monitors, 1366x768 and
1280x1024 beside it, the second shared: the whole desktop while sharing,
``agent-dual-<lang>.png``). The flow is the real one: a relay and an operator on
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


@dataclasses.dataclass(frozen=True)
class Layout:
    name: str
    monitors: tuple[tuple[int, int, int, int], ...]
    """(x, y, width, height) of each monitor; the first is the primary."""
    suffix: str
    """Added to every file name (``agent-code-ja<suffix>.png``)."""
    pages: frozenset[str] | None
    """The pictures taken in this layout; None: all of them."""

    @property
    def size(self) -> tuple[int, int]:
        return (max(x + w for x, _, w, _ in self.monitors), max(y + h for _, y, _, h in self.monitors))


LAYOUTS = {
    "main": Layout("main", ((0, 0, 1366, 768),), "", None),
    "small": Layout(
        "small",
        ((0, 0, 800, 600),),
        "-800x600",
        frozenset({"consent", "code", "request", "sharing", "summary"}),
    ),
    "dual": Layout("dual", ((0, 0, 1366, 768), (1366, 0, 1280, 1024)), "", frozenset({"dual"})),
}
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
    parser.add_argument("--layout", nargs="+", choices=sorted(LAYOUTS), default=list(LAYOUTS))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)

    from testbed.xvfb import VirtualDisplay

    for name in args.layout:
        layout = LAYOUTS[name]
        # Each layout in its own process: one QApplication per X display.
        argv = [sys.executable, __file__, "--out", str(args.out), "--lang", *args.lang]
        if len(args.layout) > 1:
            status = subprocess.run([*argv, "--layout", name], check=False).returncode
            if status:
                return status
            continue
        monitors = list(layout.monitors)
        display_args = {"monitors": monitors} if len(monitors) > 1 else {"screens": [layout.size]}
        with VirtualDisplay(**display_args) as display:  # type: ignore[arg-type]
            os.environ["DISPLAY"] = display.name
            os.environ["QT_QPA_PLATFORM"] = "xcb"
            compositor = None
            if shutil.which("xcompmgr"):
                compositor = subprocess.Popen(["xcompmgr"], stderr=subprocess.DEVNULL)
            try:
                status = _run(args.out, args.lang, layout)
            finally:
                if compositor is not None:
                    compositor.terminate()
                    compositor.wait(5)
            if status:
                return status
    return 0


def _run(out: Path, languages: list[str], layout: Layout) -> int:
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

    desktop = Desktop(layout)
    desktop.show()
    for lang in languages:
        _shoot_language(lang, out, desktop=desktop, pump=pump, until=until, layout=layout)
    desktop.close()
    print(f"screenshots in {out}")
    return 0


class Desktop(QWidget):
    """A stand-in for the customer's desktop: a browser window with a form."""

    def __init__(self, layout: Layout) -> None:
        super().__init__()
        self.texts = TEXTS["ja"]
        self.layout_ = layout
        self.setWindowFlags(Qt.WindowType.FramelessWindowHint)
        self.setGeometry(0, 0, *layout.size)

    def paintEvent(self, event: QPaintEvent) -> None:
        del event
        t = self.texts
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#000000"))  # no monitor shows this part of the desktop
        # The browser on the primary monitor, and on the second one in the dual layout.
        for x, y, w, h in self.layout_.monitors:
            p.fillRect(QRect(x, y, w, h), QColor("#3B6E8F"))
            self._browser(p, t, QRect(x + w * 7 // 100, y + h * 7 // 100, w * 86 // 100, h * 84 // 100))
        p.end()

    @staticmethod
    def _browser(p: QPainter, t: DesktopTexts, window: QRect) -> None:
        p.fillRect(window, QColor("#FFFFFF"))
        p.fillRect(QRect(window.x(), window.y(), window.width(), 44), QColor("#E4E7EB"))
        font = QFont(["Noto Sans CJK JP"])
        font.setPixelSize(17)
        p.setFont(font)
        p.setPen(QColor("#333333"))
        p.drawText(QRect(window.x() + 16, window.y(), 400, 44), Qt.AlignmentFlag.AlignVCenter, t.browser)
        p.setPen(QPen(QColor("#B8C0C8"), 1))
        p.setBrush(QColor("#F7F8FA"))
        p.drawRoundedRect(QRect(window.x() + 180, window.y() + 8, window.width() - 260, 28), 14, 14)
        p.save()
        p.setClipRect(window)
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
        p.restore()


def pointed(width: int, height: int) -> tuple[float, float]:
    """The desktop's first form field on a monitor of this size, normalised: where the operator points."""
    return ((width * 7 // 100 + 60 + 300) / width, (height * 7 // 100 + 170 + 34 + 20) / height)


def _shoot_language(
    lang: str,
    out: Path,
    *,
    desktop: Desktop,
    pump: Callable[[float], None],
    until: Callable[..., None],
    layout: Layout,
) -> None:

    from agent.ui.bridge import SessionBridge
    from agent.ui.controller import AgentController
    from agent.ui.language import apply_language
    from agent.ui.notice import NoticeKind
    from agent.ui.single_instance import already_running_box
    from operator_console.client import CustomerMessage, ViewingStarted
    from protocol import SysInfoReport
    from testbed.world import World

    def want(page: str) -> bool:
        return layout.pages is None or page in layout.pages

    def name(page: str) -> Path:
        return out / f"agent-{page}-{lang}{layout.suffix}.png"

    def around(widget: QWidget, margin: int) -> tuple[int, int, int, int]:
        g = widget.frameGeometry()
        return (g.x() - margin, g.y() - margin, g.width() + 2 * margin, g.height() + 2 * margin)

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
    controller.removes_itself = True  # as the packaged agent: quitting asks first
    window = controller.window
    try:
        controller.start()
        until(lambda: window.consent.state == "ready")
        pump(0.5)
        if want("consent"):
            _save_widget(window, name("consent"))
        if want("quit"):
            # Cancel on the terms of the self-removing agent: asked first, Go back is the default.
            window.consent.cancel_button.click()
            until(lambda: controller.quit_question is not None and controller.quit_question.isVisible())
            pump(0.5)
            _save_screen(name("quit"), around(window, 24))
            assert controller.quit_question is not None
            controller.quit_question.stay_button.click()
            pump(0.2)

        window.consent.agree_button.click()
        until(lambda: window.code.state == "waiting")
        pump(0.3)
        if want("code"):
            _save_widget(window, name("code"))

        operator = world.operator("hanako", PASSWORD)
        operator.claim(window.code.code)
        until(lambda: controller.phase == "asking")
        pump(0.3)
        if want("request"):
            _save_widget(window, name("request"))
        if want("request-info"):
            # "See what would be sent": the values, read on this computer only.
            window.request.sysinfo_show.click()
            preview = window.request.preview
            until(lambda: preview.isVisible() and preview.state == "ready", 30)
            pump(0.5)
            _save_screen(name("request-info"), around(preview, 24))
            preview.close()
            pump(0.2)

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
        shared = 0
        if len(layout.monitors) > 1:
            # The customer shares the second monitor: card, frame and guide move there.
            shared = 1
            box = controller.bar.monitor_box
            box.setCurrentIndex(box.findData(shared))
            box.activated.emit(box.currentIndex())
            pump(1.5)
        _, _, mw, mh = layout.monitors[shared]
        operator.pointer(*pointed(mw, mh), action="move", monitor=shared)
        operator.key_guide([["Ctrl", "C"]], TEXTS[lang].caption)
        until(lambda: controller.pointer.isVisible() and controller.key_guide.isVisible())
        pump(1.0)
        if want("sharing"):
            _save_screen(name("sharing"))
        if want("dual") and len(layout.monitors) > 1:
            _save_screen(out / f"agent-dual-{lang}.png")
        if want("keyguide"):
            _save_screen(name("keyguide"), around(controller.key_guide, 10))
        # The card sits in the bottom right corner and grows upwards when paused.
        if want("bar"):
            _save_screen(name("bar"), around(controller.bar, 30))
        if want("paused"):
            controller.bar.pause_button.click()
            pump(0.6)
            _save_screen(name("paused"), around(controller.bar, 30))
            controller.bar.pause_button.click()

        controller.bar.stop_button.click()
        until(lambda: controller.phase == "summary")
        pump(0.5)
        if want("summary"):
            _save_widget(window, name("summary"))
        if layout.pages is not None and not ({"declined", "again"} & layout.pages):
            return

        # Declined: the "nothing was shared" summary.
        controller.new_attempt()
        until(lambda: window.code.state == "waiting")
        operator.claim(window.code.code)
        until(lambda: controller.phase == "asking")
        window.request.deny_button.click()
        until(lambda: controller.phase == "summary")
        pump(0.3)
        _save_widget(window, name("declined"))

        # The operator ends it: the summary offers Start again.
        controller.new_attempt()
        until(lambda: window.code.state == "waiting")
        operator.claim(window.code.code)
        until(lambda: controller.phase == "asking")
        window.request.allow_button.click()
        until(lambda: controller.phase == "sharing")
        pump(1.0)
        operator.end_session()
        until(lambda: controller.phase == "summary")
        pump(0.5)
        _save_widget(window, name("again"))

        for kind, page in ((NoticeKind.UNREACHABLE, "unreachable"), (NoticeKind.EXPIRED, "expired")):
            controller._show_notice(kind)
            pump(0.3)
            _save_widget(window, name(page))

        box = already_running_box()
        box.show()
        pump(0.5)
        _save_widget(box, name("already-running"))
        box.close()
    finally:
        bridge.shutdown()
        controller.finish()
        world.close()

    if not want("busy"):
        return
    busy_world = World(max_sessions=0, busy_retry_after_s=180.0)
    busy_bridge = SessionBridge(busy_world.url, locale=lang)
    busy = AgentController(busy_bridge, "ja" if lang == "ja" else "en")
    try:
        busy.start()
        until(lambda: busy.window.consent.state == "ready")
        busy.window.consent.agree_button.click()
        until(lambda: busy.phase == "notice")
        pump(0.3)
        _save_widget(busy.window, name("busy"))
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
