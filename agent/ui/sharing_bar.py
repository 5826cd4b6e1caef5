"""The sharing bar: a small always-on-top card that says sharing is on and stops it (R14).

A compact card (two short lines, about 330 px wide) in the bottom right corner of
the shared monitor, just above the task bar and inside the sharing frame: never
over the top of the screen, where the browser's tabs and address bar are - what
the operator most often needs to read (issue 18, item 6). It holds everything the
customer may need while the operator watches: who is watching, for how long,
Pause and Stop one click away, and (with several monitors) which one is shared.
It can be dragged anywhere by its text; it takes clicks but never grabs the
focus from the program the customer is working in.

Sharing is the one strong colour (theme.SHARING). Paused is calm, not an alarm:
a quiet slate card with Resume as the filled button (the likely next action).
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
from agent.ui.widgets import PhraseLabel
from protocol import MonitorInfo, OperatorIdentity

__all__ = ["SharingBar", "format_elapsed"]

logger = logging.getLogger(__name__)

PAUSED = "#44596B"
"""The paused card: a calm slate (white text 7:1), nothing like the sharing orange."""

_STYLE = f"""
QWidget#sharingBar {{ background: {theme.SHARING}; border: 2px solid #7A2A06; border-radius: 14px; }}
QWidget#sharingBar[paused="true"] {{ background: {PAUSED}; border: 2px solid #2E3D4A; }}
QLabel {{ color: white; background: transparent; }}
QLabel#sharingTitle {{ font-size: 18px; font-weight: bold; }}
QLabel#sharingElapsed {{ font-size: 18px; font-weight: bold; }}
QLabel#sharingStatus {{ font-size: 16px; }}
QPushButton {{
    font-size: 17px; min-height: 40px; padding: 2px 14px; border-radius: 9px;
    color: white; background: transparent; border: 2px solid white;
}}
QPushButton:focus {{ border: 3px solid #FFE08A; }}
QPushButton#sharingStop {{ background: white; color: {theme.DANGER}; font-weight: bold; }}
QWidget#sharingBar[paused="true"] QPushButton#sharingPause {{
    background: white; color: {PAUSED}; font-weight: bold;
}}
QWidget#sharingBar[paused="true"] QPushButton#sharingStop {{
    background: transparent; color: white; font-weight: normal;
}}
QComboBox {{ font-size: 16px; min-height: 36px; padding: 2px 8px; background: white; color: {theme.TEXT}; }}
"""

WIDTH = 340
"""The card's width: the title, Pause and Stop fit in two lines in Japanese and English."""
INSET = 12
"""Gap between the card and the sharing frame."""


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

        self.title = PhraseLabel()  # 「…と画面を共有して / います」 never 「共有してい / ます」
        self.title.setObjectName("sharingTitle")
        self.elapsed = QLabel("0:00")
        self.elapsed.setObjectName("sharingElapsed")
        self.status = PhraseLabel()
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

        self.title.setWordWrap(True)
        top = QHBoxLayout()
        top.setSpacing(8)
        self.state_mark = QLabel("●")
        self.state_mark.setObjectName("sharingDot")
        self.state_mark.setStyleSheet("color: white; font-size: 18px;")
        top.addWidget(self.state_mark, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.title, 1)
        top.addWidget(self.elapsed, 0, Qt.AlignmentFlag.AlignTop)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        buttons.addWidget(self.pause_button, 1)
        buttons.addWidget(self.stop_button, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(14, 8, 14, 10)
        outer.setSpacing(6)
        outer.addLayout(top)
        outer.addWidget(self.status)
        outer.addWidget(self.monitor_box)
        outer.addLayout(buttons)
        self.setFixedWidth(WIDTH)
        self._area: QRect | None = None
        self._moved = False

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
        self.setProperty("paused", paused)
        self.style().unpolish(self)
        self.style().polish(self)
        for child in (self.pause_button, self.stop_button):
            child.style().unpolish(child)
            child.style().polish(child)
        self.retranslate()

    def set_connection(self, state: str) -> None:
        """``ok``, ``reconnecting`` (our relay link) or ``operator_lost``."""
        self._connection = state
        self.retranslate()

    def stop(self) -> None:
        self._timer.stop()
        self._moved = False
        self.hide()

    def place_on(self, screen_rect: QRect) -> None:
        """Bottom right of the shared screen's free area (above the task bar), inside the frame.

        A card the customer dragged elsewhere stays where they put it, unless that is
        off this screen (another monitor was chosen)."""
        self._area = QRect(screen_rect)
        if self._moved and screen_rect.intersects(self.frameGeometry()):
            return
        self._moved = False
        self._anchor()

    def _anchor(self) -> None:
        area = self._area
        if area is None:
            return
        layout = self.layout()
        wrapped = layout.totalHeightForWidth(WIDTH) if layout is not None else 0
        height = max(self.minimumSizeHint().height(), wrapped)
        self.resize(WIDTH, height)
        x = area.x() + area.width() - WIDTH - THICKNESS - INSET
        y = area.y() + area.height() - height - THICKNESS - INSET
        self.move(max(area.x(), x), max(area.y(), y))

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
        # A name never breaks between family and given name (「佐藤 / 花子」).
        name = "" if self._operator is None else self._operator.display_name.replace(" ", "\u00a0")
        if self._paused:
            self.title.setText(self.tr("Sharing paused ({name})").format(name=name))
        else:
            self.title.setText(self.tr("Sharing your screen with {name}").format(name=name))
        self.state_mark.setText("‖" if self._paused else "●")
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
        if not self._moved and self.isVisible():
            self._anchor()  # the card grew or shrank (paused, reconnecting): keep its corner

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
            self._moved = True
            self.move(event.globalPosition().toPoint() - self._drag_from)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag_from = None
        super().mouseReleaseEvent(event)
