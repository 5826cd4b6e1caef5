"""Scenes to share: something to look at in the demo, a known picture and workloads for tests.

Run as a program on an X display (``python -m testbed.scene --mode MODE``); it
opens one frameless window over the given geometry (default: the whole desktop),
prints ``ready`` on stdout once the first frame is on screen and exits cleanly on
SIGTERM or SIGINT. :class:`SceneProcess` starts and stops it from Python.

Modes:

* ``moving``  a pleasant demo: title, a moving shape, a clock;
* ``picture`` a fixed, deterministic test picture (colour bars, gradients, fine
  patterns, text) - :func:`render_picture` renders the same pixels into numpy so a
  test can compare what was received with the source;
* ``typing``  text appears a few glyphs per frame (what a customer typing looks like);
* ``scroll``  full-screen text scrolling (the hardest common case for an encoder);
* ``static``  one picture, then nothing changes;
* ``rare``    the ``static`` picture whose stamp alone changes ``--fps`` times a second
  (e.g. 0.5: every two seconds): a quiet screen with a rare change, to measure how
  quickly a change appears after a long calm.

``moving``, ``typing``, ``scroll`` and ``rare`` paint a :mod:`testbed.stamp` frame
counter at (``STAMP_X``, ``STAMP_Y``) of the window, incremented on every repaint;
with ``--stamp-file`` each paint appends ``"counter monotonic_time"`` to that file
(``time.monotonic`` is system-wide on Linux, so other processes can compare).

Everything expensive (text, gradients) is rendered once into pixmaps; a frame
only blits the parts that changed, so the scene costs little CPU even at 1080p.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import logging
import math
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from types import TracebackType
from typing import IO, TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from testbed import stamp

if TYPE_CHECKING:
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QFont, QPainter, QPaintEvent

__all__ = [
    "MODES",
    "SCROLL_FONT_PX",
    "SCROLL_SPEED",
    "STAMPED_MODES",
    "STAMP_X",
    "STAMP_Y",
    "SceneError",
    "SceneProcess",
    "main",
    "read_painted",
    "render_picture",
    "render_scroll_strip",
    "stamp_position",
]

logger = logging.getLogger(__name__)

MODES = ("moving", "picture", "typing", "scroll", "static", "rare")
STAMPED_MODES = frozenset({"moving", "typing", "scroll", "rare"})
STAMP_X = 0
"""Where the stamp is painted, relative to the scene window (on the 16 px macroblock grid)."""
STAMP_Y = 0

_FONT_FAMILIES = ["DejaVu Sans Mono", "Noto Sans Mono CJK JP", "Monospace"]
_TYPING_TEXT = (
    "Dear customer, thank you for calling. To change your registered address, open the "
    "Settings page, choose Personal details, and press Edit next to Address. Type your new "
    "postcode (7 digits, no hyphen), then the building name and room number. When you are "
    "done, press Confirm. A one-time password is sent to your phone; enter it within 5 "
    "minutes. If the code does not arrive, press Resend. 0123456789 !?#%&()[]{}<>+-*/=_ "
)
SCROLL_SPEED = 4
"""Rows the ``scroll`` scene moves per repaint (120 px/s at 30 repaints a second)."""
SCROLL_FONT_PX = 20
"""Pixel size of the text in the ``typing`` and ``scroll`` scenes."""
_SCROLL_LINE = "{n:05d}  The quick brown fox jumps over the lazy dog. 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def stamp_position(width: int, height: int) -> tuple[int, int]:
    """Top-left corner of the stamp in a scene window of this size (window coordinates).

    The same for every size today; the size is a parameter so a future layout can
    move the stamp without changing callers.
    """
    del width, height
    return STAMP_X, STAMP_Y


def read_painted(text: str) -> dict[int, float]:
    """When the scene first painted each counter, from its stamp file's text.

    The file holds ``"counter monotonic"`` lines (``stamp_file``); a line that does not
    parse (one being written as the file is read) is skipped.
    """
    painted: dict[int, float] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            with contextlib.suppress(ValueError):
                painted.setdefault(int(parts[0]), float(parts[1]))
    return painted


class SceneError(RuntimeError):
    """The scene program could not start or did not become ready."""


# --- pixels ------------------------------------------------------------------------


def _fixed_font(pixel_size: int, *, bold: bool = False, antialias: bool = False) -> QFont:
    from PySide6.QtGui import QFont

    font = QFont()
    font.setFamilies(_FONT_FAMILIES)
    font.setPixelSize(pixel_size)
    font.setBold(bold)
    # Without hinting, and for the test picture without antialiasing: identical pixels
    # whichever Qt platform plugin or X resources are in effect, so render_picture()
    # matches the screen exactly. Workload scenes keep antialiasing, like real screens.
    if not antialias:
        font.setStyleStrategy(QFont.StyleStrategy.NoAntialias)
    font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    return font


def _ensure_gui() -> None:
    from PySide6.QtWidgets import QApplication

    # QPainter text needs an application object; reuse any (a test's QApplication
    # too). Ours is a QApplication so widget code (pytest-qt) can share it, and runs
    # offscreen without touching os.environ, so it never grabs a display.
    if QApplication.instance() is None:
        _APP.append(QApplication(["madoguchi-scene", "-platform", "offscreen"]))


_APP: list[object] = []
"""Keeps the application created by :func:`_ensure_gui` alive."""


def _picture_rows(height: int) -> tuple[int, int, int, int, int]:
    """Row where each part of the test picture starts: grey ramp, colour ramps, text panel, detail, end."""
    band = max(1, height // 6)
    return band, 2 * band, 7 * band // 2, 9 * band // 2, height


def _picture_base(width: int, height: int) -> npt.NDArray[np.uint8]:
    """The numpy part of the test picture, RGB (H, W, 3)."""
    rgb = np.zeros((height, width, 3), np.uint8)
    grey_top, ramps_top, panel_top, detail_top, _ = _picture_rows(height)
    # Colour bars (SMPTE order): white, yellow, cyan, green, magenta, red, blue, black.
    bars = np.array(
        [
            [255, 255, 255],
            [255, 255, 0],
            [0, 255, 255],
            [0, 255, 0],
            [255, 0, 255],
            [255, 0, 0],
            [0, 0, 255],
            [0, 0, 0],
        ],
        np.uint8,
    )
    columns = np.arange(width) * len(bars) // width
    rgb[0:grey_top] = bars[columns][None, :, :]
    ramp = (np.arange(width) * 255 // max(1, width - 1)).astype(np.uint8)
    rgb[grey_top:ramps_top] = ramp[None, :, None]
    step = (panel_top - ramps_top) // 3
    for channel in range(3):
        rgb[ramps_top + channel * step : ramps_top + (channel + 1) * step, :, channel] = ramp[None, :]
    rgb[panel_top:detail_top] = (250, 250, 245)
    # Fine detail, as screens have it: a 2 px checkerboard, 1 px stripes, diagonal hatching.
    yy, xx = np.mgrid[detail_top:height, 0:width]
    lower = rgb[detail_top:height]
    third = width // 3
    lower[:, :third] = ((((xx[:, :third] // 2) + (yy[:, :third] // 2)) % 2) * 255)[..., None]
    lower[:, third : 2 * third] = ((xx[:, third : 2 * third] % 2) * 255)[..., None]
    diagonal = ((xx[:, 2 * third :] + 2 * yy[:, 2 * third :]) // 6) % 2
    lower[:, 2 * third :] = np.where(diagonal[..., None] == 1, [240, 240, 240], [20, 40, 90]).astype(np.uint8)
    return rgb


def render_picture(width: int, height: int) -> npt.NDArray[np.uint8]:
    """The ``picture`` scene's pixels as RGB (H, W, 3) uint8; deterministic for a size.

    Needs Qt for the text: uses the running Q(Gui)Application or creates an
    offscreen one.
    """
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QImage, QPainter

    _ensure_gui()
    rgb = _picture_base(width, height)
    bgrx = np.empty((height, width, 4), np.uint8)
    bgrx[..., :3] = rgb[..., ::-1]
    bgrx[..., 3] = 255
    image = QImage(bgrx.tobytes(), width, height, 4 * width, QImage.Format.Format_RGB32).copy()
    _, _, panel_top, detail_top, _ = _picture_rows(height)
    line = max(10, (detail_top - panel_top) // 6)
    left = max(8, width // 40)
    painter = QPainter(image)
    try:
        painter.setPen(QColor(10, 10, 10))
        lines = [
            (_fixed_font(2 * line, bold=True), "Madoguchi test picture 窓口"),
            (
                _fixed_font(line),
                f"{width}x{height}  0123456789  ABCDEFGHIJKLMNOPQRSTUVWXYZ  abcdefghijklmnopqrstuvwxyz",
            ),
            (
                _fixed_font(max(10, line * 2 // 3)),
                "small print: the operator must read this line, 本人確認 ご住所変更",
            ),
        ]
        y = panel_top + line // 2
        for font, text in lines:
            painter.setFont(font)
            height_px = font.pixelSize() + font.pixelSize() // 2
            painter.drawText(QRect(left, y, width - 2 * left, height_px), Qt.AlignmentFlag.AlignLeft, text)
            y += height_px
    finally:
        painter.end()
    view = np.frombuffer(image.constBits(), np.uint8).reshape(height, image.bytesPerLine() // 4, 4)
    return np.ascontiguousarray(view[:, :width, 2::-1])


def _scroll_tile_height(font: QFont, height: int) -> int:
    """Rows after which the scroll strip repeats (whole text lines, more than a screen)."""
    from PySide6.QtGui import QFontMetrics

    line_h = QFontMetrics(font).height() + 6
    return (height // line_h + 2) * line_h


def _paint_scroll_strip(painter: QPainter, font: QFont, width: int, height: int) -> None:
    """Paint the ``scroll`` scene's strip (``tile_h + height`` rows) with ``painter``."""
    from PySide6.QtGui import QColor, QFontMetrics

    metrics = QFontMetrics(font)
    line_h = metrics.height() + 6
    lines = height // line_h + 2
    tile_h = lines * line_h
    painter.fillRect(0, 0, width, tile_h + height, QColor(252, 252, 250))
    painter.setFont(font)
    for i in range((tile_h + height) // line_h + 1):
        number = i % lines  # rows ``lines`` apart are identical: the strip wraps seamlessly
        painter.setPen(QColor(20, 20, 20) if number % 5 else QColor(150, 20, 20))
        text = _SCROLL_LINE.format(n=number)
        repeats = 1 + width // max(1, metrics.horizontalAdvance(text))
        painter.drawText(48, i * line_h + metrics.ascent(), "   ".join([text] * repeats))


def render_scroll_strip(width: int, height: int) -> tuple[npt.NDArray[np.uint8], int]:
    """The ``scroll`` scene's text strip as BGRA (``tile_h + height``, W, 4) uint8, and ``tile_h``.

    The scene shows rows ``offset .. offset + height`` of it, ``offset`` advancing by
    :data:`SCROLL_SPEED` rows a repaint modulo ``tile_h`` (rows ``tile_h`` apart are
    identical). The same painting code as the scene, antialiased text included, so
    :mod:`benchmarks.scroll_codec` can measure the encoder on the benchmark's workload
    without a display. Needs Qt: uses the running application or an offscreen one.
    """
    from PySide6.QtGui import QImage, QPainter

    _ensure_gui()
    font = _fixed_font(SCROLL_FONT_PX, antialias=True)
    tile_h = _scroll_tile_height(font, height)
    image = QImage(width, tile_h + height, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    try:
        _paint_scroll_strip(painter, font, width, height)
    finally:
        painter.end()
    view = np.frombuffer(image.constBits(), np.uint8).reshape(tile_h + height, image.bytesPerLine() // 4, 4)
    strip = np.array(view[:, :width], copy=True)
    strip[..., 3] = 255
    return strip, tile_h


def _rgb_to_qimage(rgb: npt.NDArray[np.uint8]) -> object:
    from PySide6.QtGui import QImage

    height, width = rgb.shape[:2]
    return QImage(
        np.ascontiguousarray(rgb).tobytes(), width, height, 3 * width, QImage.Format.Format_RGB888
    ).copy()


# --- the window --------------------------------------------------------------------


def _run(mode: str, fps: float, geometry: tuple[int, int, int, int] | None, stamp_path: str | None) -> int:
    from PySide6.QtCore import QPoint, QRect, QSocketNotifier, Qt, QTimer
    from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPixmap, QRegion
    from PySide6.QtWidgets import QApplication, QWidget

    app = QApplication([sys.argv[0], "-name", "madoguchi-scene"])
    if geometry is None:
        screen = app.primaryScreen()
        full = screen.virtualGeometry()
        geometry = (full.x(), full.y(), full.width(), full.height())
    gx, gy, width, height = geometry
    stamp_w, stamp_h = stamp.stamp_size()
    stamp_rect = QRect(STAMP_X, STAMP_Y, stamp_w, stamp_h)
    stamp_file: IO[str] | None = open(stamp_path, "a", buffering=1) if stamp_path else None  # noqa: SIM115

    def background() -> QPixmap:
        pixmap = QPixmap(width, height)
        painter = QPainter(pixmap)
        gradient = QLinearGradient(0, 0, width * 0.3, height)
        gradient.setColorAt(0.0, QColor(18, 32, 64))
        gradient.setColorAt(1.0, QColor(16, 96, 110))
        painter.fillRect(0, 0, width, height, gradient)
        painter.setPen(QColor(240, 244, 250))
        painter.setFont(_fixed_font(max(24, height // 14), bold=True, antialias=True))
        painter.drawText(
            QRect(0, height // 8, width, height // 6), Qt.AlignmentFlag.AlignHCenter, "Madoguchi demo"
        )
        painter.setFont(_fixed_font(max(14, height // 40), antialias=True))
        painter.drawText(
            QRect(0, height // 8 + height // 8, width, height // 10),
            Qt.AlignmentFlag.AlignHCenter,
            "窓口 - view and point, never control",
        )
        painter.end()
        return pixmap

    class Scene(QWidget):
        def __init__(self) -> None:
            super().__init__(
                None,
                Qt.WindowType.FramelessWindowHint
                | Qt.WindowType.WindowStaysOnTopHint
                | Qt.WindowType.X11BypassWindowManagerHint,
            )
            self.setGeometry(gx, gy, width, height)
            self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
            self.setCursor(Qt.CursorShape.BlankCursor)
            self.counter = 0
            self.frames = 0
            self.ready = False
            self.stamped = mode in STAMPED_MODES
            self.font_text = _fixed_font(SCROLL_FONT_PX, antialias=True)
            if mode in ("moving", "static", "rare"):
                self.backdrop = background()
                self.shape = QRect(0, 0, max(60, height // 7), max(60, height // 7))
                self.clock = QRect(width - 420, height - 120, 380, 80)
            elif mode == "picture":
                self.backdrop = QPixmap.fromImage(_rgb_to_qimage(render_picture(width, height)))  # type: ignore[arg-type]
            elif mode == "typing":
                self._init_typing()
            elif mode == "scroll":
                self._init_scroll()
            self.timer = QTimer(self)
            self.timer.setTimerType(Qt.TimerType.PreciseTimer)
            self.timer.timeout.connect(self.tick)
            if mode not in ("picture", "static"):
                self.timer.start(max(1, round(1000 / fps)))  # rare: fps < 1, seconds apart

        # typing: a page of monospace text revealed a few glyphs per frame
        def _init_typing(self) -> None:
            from PySide6.QtGui import QFontMetrics

            metrics = QFontMetrics(self.font_text)
            self.cell_w = metrics.horizontalAdvance("M")
            self.cell_h = metrics.height() + 4
            self.margin = QPoint(64, stamp_h + 48)
            self.columns = max(10, (width - 2 * self.margin.x()) // self.cell_w)
            self.rows = max(1, (height - self.margin.y() - 32) // self.cell_h)
            text = (_TYPING_TEXT * (1 + self.columns * self.rows // len(_TYPING_TEXT)))[
                : self.columns * self.rows
            ]
            self.page = QPixmap(width, height)
            self.page.fill(QColor(255, 255, 255))
            painter = QPainter(self.page)
            painter.setFont(self.font_text)
            painter.setPen(QColor(20, 20, 20))
            for row in range(self.rows):
                line = text[row * self.columns : (row + 1) * self.columns]
                painter.drawText(
                    self.margin.x(), self.margin.y() + row * self.cell_h + metrics.ascent(), line
                )
            painter.end()
            self.revealed = 0
            self.backdrop = QPixmap(width, height)
            self.backdrop.fill(QColor(255, 255, 255))

        def _cells(self, start: int, end: int) -> QRegion:
            region = QRegion()
            while start < end:
                row, col = divmod(start, self.columns)
                span = min(end - start, self.columns - col)
                region += QRect(
                    self.margin.x() + col * self.cell_w,
                    self.margin.y() + row * self.cell_h,
                    span * self.cell_w,
                    self.cell_h,
                )
                start += span
            return region

        # scroll: a tall pre-rendered text strip shown through a moving window
        def _init_scroll(self) -> None:
            self.tile_h = _scroll_tile_height(self.font_text, height)
            self.strip = QPixmap(width, self.tile_h + height)
            painter = QPainter(self.strip)
            _paint_scroll_strip(painter, self.font_text, width, height)
            painter.end()
            self.offset = 0
            self.speed = SCROLL_SPEED

        def tick(self) -> None:
            self.counter = (self.counter + 1) & 0xFFFFFFFF
            if mode == "moving":
                t = time.monotonic()
                old = QRect(self.shape)
                cx = width / 2 + (width / 2 - self.shape.width()) * math.sin(t * 0.7)
                cy = height * 0.62 + height * 0.25 * math.sin(t * 1.3)
                self.shape.moveCenter(QPoint(round(cx), round(cy)))
                self.update(old.united(self.shape).adjusted(-2, -2, 2, 2))
                self.update(self.clock)
            elif mode == "typing":
                step = 3
                if self.revealed >= self.columns * self.rows:
                    self.revealed = 0
                    self.update()
                else:
                    self.update(self._cells(self.revealed, self.revealed + step))
                    self.revealed = min(self.revealed + step, self.columns * self.rows)
            elif mode == "scroll":
                self.offset = (self.offset + self.speed) % self.tile_h
                self.update()
            if self.stamped:
                self.update(stamp_rect)

        def paintEvent(self, event: QPaintEvent) -> None:
            painter = QPainter(self)
            rect = event.rect()
            if mode == "scroll":
                painter.drawPixmap(rect, self.strip, rect.translated(0, self.offset))
            else:
                painter.drawPixmap(rect, self.backdrop, rect)
            if mode == "typing" and self.revealed:
                painter.setClipRegion(event.region() & self._cells(0, self.revealed))
                painter.drawPixmap(rect, self.page, rect)
                painter.setClipping(False)
            if mode == "moving":
                self._paint_moving(painter, rect)
            if self.stamped and rect.intersects(stamp_rect):
                self._paint_stamp(painter)
            painter.end()
            self.frames += 1
            if self.stamped and stamp_file is not None and rect.intersects(stamp_rect):
                stamp_file.write(f"{self.counter} {time.monotonic():.6f}\n")
            if not self.ready:
                self.ready = True
                # After this paint is flushed to the X server, not before.
                QTimer.singleShot(0, self._announce)

        def _paint_moving(self, painter: QPainter, rect: QRect) -> None:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            if rect.intersects(self.shape.adjusted(-2, -2, 2, 2)):
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor(255, 184, 64))
                painter.drawEllipse(self.shape)
            if rect.intersects(self.clock):
                painter.fillRect(self.clock, QColor(10, 20, 40))
                painter.setPen(QColor(180, 230, 255))
                painter.setFont(_fixed_font(44, bold=True, antialias=True))
                now = datetime.datetime.now().strftime("%H:%M:%S.%f")[:-4]
                painter.drawText(self.clock, Qt.AlignmentFlag.AlignCenter, now)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)

        def _paint_stamp(self, painter: QPainter) -> None:
            bits = stamp.encode_bits(self.counter)
            painter.fillRect(stamp_rect, QColor(0, 0, 0))
            white = QColor(255, 255, 255)
            for row, col in zip(*np.nonzero(bits), strict=True):
                painter.fillRect(
                    STAMP_X + int(col) * stamp.BLOCK,
                    STAMP_Y + int(row) * stamp.BLOCK,
                    stamp.BLOCK,
                    stamp.BLOCK,
                    white,
                )

        def _announce(self) -> None:
            QApplication.sync()
            print("ready", flush=True)
            logger.info("scene %s ready: %dx%d+%d+%d", mode, width, height, gx, gy)

    # SIGTERM/SIGINT: Python handlers cannot run while Qt's C++ loop blocks, so the
    # signal wakes a socket that Qt watches.
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    signal.set_wakeup_fd(wake_w.fileno())
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
    notifier = QSocketNotifier(wake_r.fileno(), QSocketNotifier.Type.Read)

    def on_signal() -> None:
        with contextlib.suppress(OSError):
            wake_r.recv(64)
        logger.info("scene: signal received, quitting")
        app.quit()

    notifier.activated.connect(on_signal)
    scene = Scene()
    scene.show()
    try:
        status = app.exec()
    finally:
        signal.set_wakeup_fd(-1)
        wake_r.close()
        wake_w.close()
        if stamp_file is not None:
            stamp_file.close()
    logger.info("scene %s exits after %d paints", mode, scene.frames)
    return int(status)


def _parse_geometry(text: str) -> tuple[int, int, int, int]:
    match = re.fullmatch(r"(\d+)x(\d+)([+-]\d+)([+-]\d+)", text)
    if match is None:
        raise argparse.ArgumentTypeError("geometry must look like 1920x1080+0+0")
    width, height, x, y = (int(g) for g in match.groups())
    return x, y, width, height


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testbed.scene", description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=MODES, default="moving")
    parser.add_argument("--fps", type=float, default=60.0, help="repaints per second (stamped modes)")
    parser.add_argument("--geometry", type=_parse_geometry, help="WxH+X+Y; default: the whole desktop")
    parser.add_argument("--stamp-file", help="append 'counter monotonic_time' for each painted stamp")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    # One device pixel per logical pixel, whatever the X server's DPI says.
    os.environ.setdefault("QT_ENABLE_HIGHDPI_SCALING", "0")
    return _run(args.mode, args.fps, args.geometry, args.stamp_file)


# --- starting it from Python ---------------------------------------------------------


class SceneProcess:
    """Run the scene program on ``display`` for the lifetime of a ``with`` block.

    ``start()`` returns once the program printed ``ready`` (the first frame is on the
    screen) and raises :class:`SceneError` if it exits or stays silent for
    ``ready_timeout`` seconds.
    """

    def __init__(
        self,
        display: str,
        mode: str = "moving",
        *,
        fps: float = 60.0,
        geometry: tuple[int, int, int, int] | None = None,
        stamp_file: str | None = None,
        ready_timeout: float = 20.0,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown scene mode {mode!r}")
        self.display = display
        self.mode = mode
        self.fps = fps
        self.geometry = geometry
        self.stamp_file = stamp_file
        self.ready_timeout = ready_timeout
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> SceneProcess:
        cmd = [sys.executable, "-m", "testbed.scene", "--mode", self.mode, "--fps", str(self.fps)]
        if self.geometry is not None:
            x, y, w, h = self.geometry
            cmd += ["--geometry", f"{w}x{h}{x:+d}{y:+d}"]
        if self.stamp_file is not None:
            cmd += ["--stamp-file", self.stamp_file]
        env = dict(os.environ, DISPLAY=self.display, QT_QPA_PLATFORM="xcb", QT_ENABLE_HIGHDPI_SCALING="0")
        self._proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        logger.info("scene %s running on %s (pid %d)", self.mode, self.display, self._proc.pid)
        return self

    def _wait_ready(self) -> None:
        assert self._proc is not None
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        deadline = time.monotonic() + self.ready_timeout
        buffer = b""
        while b"ready\n" not in buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SceneError(f"scene {self.mode} not ready after {self.ready_timeout:.0f} s")
            readable, _, _ = select.select([fd], [], [], remaining)
            if readable:
                chunk = os.read(fd, 256)
                if not chunk:
                    code = self._proc.wait()
                    raise SceneError(f"scene {self.mode} exited with status {code} before it was ready")
                buffer += chunk

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; returns the exit status."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.warning("scene %s ignored SIGTERM, killing it", self.mode)
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        return proc.returncode

    def __enter__(self) -> SceneProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


if __name__ == "__main__":
    sys.exit(main())
