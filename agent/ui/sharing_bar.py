"""The sharing bar: a small always-on-top window that says sharing is on and stops it (R14).

It sits at the top centre of the shared monitor, in the one colour used only
for "you are sharing", and holds everything the customer may need while the
operator watches: who is watching, for how long, Pause, Stop and (with several
monitors) which monitor is shared. It takes clicks but never grabs the focus
from the program the customer is working in; it can be dragged aside.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from agent.ui import theme
from agent.ui.border import THICKNESS
from agent.ui.capture_exclusion import exclude_from_capture
from protocol import MonitorInfo, OperatorIdentity

__all__ = ["SharingBar", "format_elapsed"]

logger = logging.getLogger(__name__)

_STYLE = f"""
QWidget#sharingBar {{ background: {theme.SHARING}; border: 2px solid #7A2A06; border-radius: 12px; }}
QLabel {{ color: white; background: transparent; }}
QLabel#sharingTitle {{ font-size: 20px; font-weight: bold; }}
QLabel#sharingElapsed {{ font-size: 20px; font-weight: bold; font-family: "DejaVu Sans Mono", monospace; }}
QLabel#sharingStatus {{ font-size: 17px; }}
QPushButton {{
    font-size: 18px; min-height: 42px; padding: 2px 18px; border-radius: 9px;
    color: white; background: transparent; border: 2px solid white;
}}
QPushButton:focus {{ border: 3px solid #FFE08A; }}
QPushButton#sharingStop {{ background: white; color: {theme.DANGER}; font-weight: bold; }}
QComboBox {{ font-size: 17px; min-height: 38px; padding: 2px 8px; background: white; color: {theme.TEXT}; }}
"""


def format_elapsed(seconds: float) -> str:
    """``m:ss`` under an hour, ``h:mm:ss`` after."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class SharingBar(QWidget):
    pause_toggled = Signal(bool)
    stop_clicked = Signal()
    monitor_chosen = Signal(int)

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(None)
        self.setObjectName("sharingBar")
        self.setWindowTitle("Madoguchi")
        # A normal top-level window, not a tool window: while sharing it is the agent's
        # only window, so it must be in the task bar and reachable with Alt+Tab.
        self.setWindowFlags(
            Qt.WindowType.Window
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.NoDropShadowWindowHint
        )
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(_STYLE)
        self._clock = clock
        self._started: float | None = None
        self._operator: OperatorIdentity | None = None
        self._paused = False
        self._connection = "ok"
        self._drag_from: QPoint | None = None
        self._monitors: list[MonitorInfo] = []
        self._selected = 0

        self.title = QLabel()
        self.title.setObjectName("sharingTitle")
        self.elapsed = QLabel("0:00")
        self.elapsed.setObjectName("sharingElapsed")
        self.status = QLabel()
        self.status.setObjectName("sharingStatus")
        self.status.setWordWrap(True)
        self.monitor_box = QComboBox()
        self.monitor_box.setObjectName("sharingMonitor")
        self.pause_button = QPushButton()
        self.pause_button.setObjectName("sharingPause")
        self.stop_button = QPushButton()
        self.stop_button.setObjectName("sharingStop")
        for b in (self.pause_button, self.stop_button):
            b.setCursor(Qt.CursorShape.PointingHandCursor)

        top = QHBoxLayout()
        top.setSpacing(14)
        dot = QLabel("●")
        dot.setObjectName("sharingDot")
        dot.setStyleSheet("color: white; font-size: 22px;")
        top.addWidget(dot)
        top.addWidget(self.title, 1)
        top.addWidget(self.elapsed)
        top.addWidget(self.monitor_box)
        top.addWidget(self.pause_button)
        top.addWidget(self.stop_button)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 8, 12, 8)
        outer.setSpacing(4)
        outer.addLayout(top)
        outer.addWidget(self.status)

        self.pause_button.clicked.connect(self._pause_clicked)
        self.stop_button.clicked.connect(self.stop_clicked)
        self.monitor_box.activated.connect(self._monitor_activated)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self.winId()
        self.excluded_from_capture = exclude_from_capture(self)
        self.retranslate()

    # --- state -----------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self._paused

    def start(self, operator: OperatorIdentity, monitors: Sequence[MonitorInfo], selected: int) -> None:
        self._operator = operator
        self._started = self._clock()
        self._paused = False
        self._connection = "ok"
        self.set_monitors(monitors, selected)
        self._timer.start()
        self.retranslate()
        self._tick()

    def set_monitors(self, monitors: Sequence[MonitorInfo], selected: int) -> None:
        self._monitors = list(monitors)
        self._selected = selected
        self._fill_monitor_box()

    def set_paused(self, paused: bool) -> None:
        self._paused = paused
        self.retranslate()

    def set_connection(self, state: str) -> None:
        """``ok``, ``reconnecting`` (our relay link) or ``operator_lost``."""
        self._connection = state
        self.retranslate()

    def stop(self) -> None:
        self._timer.stop()
        self.hide()

    def place_on(self, screen_rect: QRect) -> None:
        """Top centre of the shared screen, just inside the sharing frame."""
        self.adjustSize()
        width = min(max(self.sizeHint().width(), 640), screen_rect.width() - 40)
        self.resize(width, self.sizeHint().height())
        x = screen_rect.x() + (screen_rect.width() - width) // 2
        self.move(x, screen_rect.y() + THICKNESS + 8)

    def elapsed_seconds(self) -> float:
        return 0.0 if self._started is None else self._clock() - self._started

    # --- slots -------------------------------------------------------------------------

    def _tick(self) -> None:
        self.elapsed.setText(format_elapsed(self.elapsed_seconds()))
        self.elapsed.setAccessibleName(self.tr("Time shared: {time}").format(time=self.elapsed.text()))

    def _pause_clicked(self) -> None:
        self.set_paused(not self._paused)
        self.pause_toggled.emit(self._paused)

    def _monitor_activated(self, row: int) -> None:
        index = self.monitor_box.itemData(row)
        if isinstance(index, int) and index != self._selected:
            self._selected = index
            logger.info("customer chose monitor %d", index)
            self.monitor_chosen.emit(index)

    def _fill_monitor_box(self) -> None:
        box = self.monitor_box
        box.blockSignals(True)
        box.clear()
        for m in self._monitors:
            box.addItem(self.tr("Screen {number}").format(number=m.index + 1), m.index)
        box.addItem(self.tr("All screens"), len(self._monitors))
        box.setCurrentIndex(max(0, box.findData(self._selected)))
        box.blockSignals(False)
        box.setVisible(len(self._monitors) > 1)

    def retranslate(self) -> None:
        name = "" if self._operator is None else self._operator.display_name
        if self._paused:
            self.title.setText(self.tr("Sharing paused ({name})").format(name=name))
        else:
            self.title.setText(self.tr("Sharing your screen with {name}").format(name=name))
        self.pause_button.setText(self.tr("Resume") if self._paused else self.tr("Pause"))
        self.pause_button.setAccessibleName(
            self.tr("Resume sharing") if self._paused else self.tr("Pause sharing")
        )
        self.stop_button.setText(self.tr("■ Stop sharing"))
        self.stop_button.setAccessibleName(self.tr("Stop sharing now"))
        self.monitor_box.setAccessibleName(self.tr("Screen to share"))
        status = ""
        if self._connection == "reconnecting":
            status = self.tr("The connection was interrupted. Reconnecting…")
        elif self._connection == "operator_lost":
            status = self.tr("The operator's connection was lost. Waiting for them to come back…")
        elif self._paused:
            status = self.tr("The operator cannot see anything new until you press Resume.")
        self.status.setText(status)
        self.status.setVisible(bool(status))
        self.setAccessibleName(self.title.text())
        self.setWindowTitle(self.tr("Screen sharing support – sharing"))
        self._fill_monitor_box()
        self._tick()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # --- dragging -----------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag_from = event.globalPosition().toPoint() - self.frameGeometry().topLeft()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self.move(event.globalPosition().toPoint() - self._drag_from)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag_from = None
        super().mouseReleaseEvent(event)
