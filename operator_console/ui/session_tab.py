"""One console tab: one relay connection, one customer at a time, from code to end.

The tab owns a :class:`SessionBridge` and walks through its pages: code entry,
waiting for the customer's Allow, the live view (video, pointer, keyboard guide,
customer information), and the ending. Tabs share nothing but the network
thread, so several customers can be helped side by side, and closing a tab ends
only its own session.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import enum
import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QRect, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from client_core.line_breaks import phrase_breaks
from operator_console.client import (
    ClaimAccepted,
    CobrowseUpdate,
    CodeAssigned,
    CustomerConnection,
    CustomerMessage,
    OperatorEvent,
    Refused,
    RelayConnection,
    SessionEnded,
    TurnTrouble,
    ViewingStarted,
)
from operator_console.peer import ConnectionStats
from operator_console.ui.bridge import SessionBridge
from operator_console.ui.cobrowse_panel import CobrowsePanel
from operator_console.ui.info_panel import SysInfoPanel
from operator_console.ui.key_guide import KeyGuidePanel
from operator_console.ui.messages import end_text, login_error_text, refusal_text, turn_trouble_text
from operator_console.ui.pages import CodePage, EndedPage, WaitingPage, WrapUp
from operator_console.ui.pointer import ViewMode
from operator_console.ui.video_view import VideoView
from protocol import (
    AgentGuidance,
    ClientKind,
    ErrorCode,
    KeyGuideClosed,
    MonitorInfo,
    Monitors,
    SharingState,
    SysInfoReport,
)

__all__ = ["SessionTab", "TabState"]

logger = logging.getLogger(__name__)

Text = Callable[[], str]

_FRAME_POLL_MS = 10
"""How often the UI looks for a newer frame; painting happens only when there is one."""
_STATS_MS = 1000

# The pointer toggle must read at a glance: filled when on, plain outline when off.
_TOGGLE_STYLE = (
    "QToolButton { padding: 4px 10px; border: 1px solid #80868b; border-radius: 4px; }"
    " QToolButton:checked { background: #1a73e8; color: white; border-color: #1a73e8; font-weight: bold; }"
)


class TabState(enum.StrEnum):
    CONNECTING = "connecting"
    CODE = "code"
    CLAIMING = "claiming"
    WAITING = "waiting"
    LIVE = "live"
    ENDED = "ended"


class SessionTab(QWidget):
    """The pages of one session; the main window's actions call the public methods."""

    state_changed = Signal(str)
    title_changed = Signal(str)
    stats_changed = Signal(object)
    login_lost = Signal()
    """The token no longer works: the window should ask for the password again."""

    def __init__(self, bridge: SessionBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.state = TabState.CONNECTING
        self.code: str | None = None
        self.stats: ConnectionStats | None = None
        self.monitors: Monitors | None = None
        self.paused = False
        self.reconnecting = False
        self.relay_state: str | None = None
        """This console's own relay link in a session: ``reconnecting``, ``forgotten`` or None (fine)."""
        self._pointer_monitor = 0
        self._crop_index: int | None = None
        self._banner: Text | None = None
        self._closed = False
        self._live_since: float | None = None
        self._started_at: dt.datetime | None = None
        self.confirm_end: QMessageBox | None = None
        self.client: ClientKind = "agent"
        """What the customer shares from (``ClaimAccepted.client``): the agent, or the browser."""
        self.guidance_on_screen = True
        """Whether the pointer and the keyboard guide can appear on what the customer shares."""
        self._pointing_wanted = True
        """The "end the session?" question while it is open (the End button, Ctrl+E)."""
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl
        """Opens the co-browse view in the operator's browser (a test puts its own browser here)."""
        self._view_opened = False
        """This co-browse session's view was opened once by itself; after that, by the button."""

        self.code_page = CodePage()
        self.waiting_page = WaitingPage()
        self.ended_page = EndedPage()
        self.live_page = QWidget()
        self.live_page.setObjectName("livePage")
        self._build_live_page()
        self.pages = QStackedWidget()
        for page in (self.code_page, self.waiting_page, self.live_page, self.ended_page):
            self.pages.addWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.turn_note = QLabel()
        self.turn_note.setObjectName("turnNote")
        self.turn_note.setWordWrap(True)
        self.turn_note.setStyleSheet(
            "background: #fce8e6; color: #5f0c06; padding: 6px; border-bottom: 1px solid #c5221f;"
        )
        self.turn_note.hide()
        self._turn_kinds: frozenset[str] = frozenset()
        layout.addWidget(self.turn_note)
        layout.addWidget(self.pages)

        self.code_page.connect_requested.connect(self.claim)
        self.code_page.issue_requested.connect(self.issue_code)
        self.code_page.cancel_issue_requested.connect(self.end_session)
        self.waiting_page.cancel_requested.connect(self.end_session)
        self.ended_page.next_requested.connect(self.next_customer)
        self.view.pointer.connect(self._send_pointer)
        self.key_guide.send_requested.connect(self.bridge.send_key_guide)
        self.key_guide.clear_requested.connect(self.bridge.clear_key_guide)

        bridge.received.connect(self._on_event)
        bridge.logged_in.connect(self._on_logged_in)
        bridge.login_failed.connect(self._on_login_failed)
        bridge.stats_ready.connect(self._on_stats)
        bridge.action_failed.connect(self._on_action_failed)

        self._frame_timer = QTimer(self)
        self._frame_timer.setInterval(_FRAME_POLL_MS)
        self._frame_timer.timeout.connect(self._poll_frame)
        self._stats_timer = QTimer(self)
        self._stats_timer.setInterval(_STATS_MS)
        self._stats_timer.timeout.connect(self.bridge.poll_stats)
        self.retranslate()
        if bridge.identity is not None:
            self._set_state(TabState.CODE)
        else:
            self.code_page.set_busy(True)
            self.code_page.set_message(lambda: self.tr("Connecting to the relay…"), error=False)

    # --- the live page ----------------------------------------------------------------

    def _build_live_page(self) -> None:
        self.view = VideoView()
        self.banner = QLabel()
        self.banner.setObjectName("liveBanner")
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner.setStyleSheet(
            "background: #fef7e0; color: #3c2f00; padding: 6px; font-weight: bold;"
            " border-bottom: 1px solid #f9ab00;"
        )
        self.banner.hide()

        self.monitor_label = QLabel()
        self.monitor_combo = QComboBox()
        self.monitor_combo.setObjectName("monitorCombo")
        # The items arrive after the first show: size to them every time, never "すべて(".
        self.monitor_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.monitor_combo.activated.connect(self._monitor_chosen)
        self.fit_button = QToolButton()
        self.fit_button.setObjectName("fitButton")
        self.fit_button.setCheckable(True)
        self.fit_button.setChecked(True)
        self.fit_button.setStyleSheet(_TOGGLE_STYLE)
        self.fit_button.clicked.connect(lambda: self.set_view_mode(ViewMode.FIT))
        self.actual_button = QToolButton()
        self.actual_button.setObjectName("actualButton")
        self.actual_button.setCheckable(True)
        self.actual_button.setStyleSheet(_TOGGLE_STYLE)
        self.actual_button.clicked.connect(lambda: self.set_view_mode(ViewMode.ACTUAL))
        self.pointer_button = QToolButton()
        self.pointer_button.setObjectName("pointerButton")
        self.pointer_button.setCheckable(True)
        self.pointer_button.setChecked(True)
        self.pointer_button.setStyleSheet(_TOGGLE_STYLE)
        self.pointer_button.toggled.connect(self.set_pointing)
        self.end_button = QPushButton()
        self.end_button.setObjectName("endButton")
        self.end_button.setStyleSheet("QPushButton { color: white; background: #c5221f; padding: 4px 14px; }")
        self.end_button.clicked.connect(self.request_end)
        # A browser customer (normal mode, 通常版): said in the bar, and why the tools are off.
        self.mode_label = QLabel()
        self.mode_label.setObjectName("modeLabel")
        self.mode_label.setStyleSheet(
            "background: #e8f0fe; color: #174ea6; border: 1px solid #aecbfa; border-radius: 10px;"
            " padding: 2px 10px; font-weight: bold;"
        )
        self.mode_label.hide()
        self.guidance_note = QLabel()
        self.guidance_note.setObjectName("guidanceNote")
        self.guidance_note.setWordWrap(True)
        self.guidance_note.setStyleSheet(
            "background: #e8f0fe; color: #174ea6; padding: 6px; border-bottom: 1px solid #aecbfa;"
        )
        self.guidance_note.hide()

        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 4)
        bar.addWidget(self.monitor_label)
        bar.addWidget(self.monitor_combo)
        bar.addSpacing(12)
        bar.addWidget(self.fit_button)
        bar.addWidget(self.actual_button)
        bar.addSpacing(12)
        bar.addWidget(self.pointer_button)
        bar.addSpacing(12)
        bar.addWidget(self.mode_label)
        bar.addStretch(1)
        bar.addWidget(self.end_button)

        self.key_guide = KeyGuidePanel()
        self.info_panel = SysInfoPanel()
        self.side = QTabWidget()
        self.side.setObjectName("sidePanel")
        # The panel scrolls its own upper part, so a small laptop screen never forces a
        # window taller than itself and its Send button stays in view.
        self.side.addTab(self.key_guide, "")
        self.side.addTab(self.info_panel, "")
        self.side.setMinimumWidth(390)

        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.setSpacing(0)
        centre_layout.addWidget(self.guidance_note)
        centre_layout.addWidget(self.banner)
        # Co-browsing shows the mirror in the operator's browser: its panel replaces the picture.
        self.cobrowse_panel = CobrowsePanel()
        self.cobrowse_panel.open_requested.connect(self.open_cobrowse_view)
        self.centre_stack = QStackedWidget()
        self.centre_stack.addWidget(self.view)
        self.centre_stack.addWidget(self.cobrowse_panel)
        centre_layout.addWidget(self.centre_stack, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setCollapsible(0, False)

        layout = QVBoxLayout(self.live_page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        self._show_monitors()

    # --- actions (buttons, menus, shortcuts) ------------------------------------------------

    def claim(self, code: str) -> None:
        if self.state is not TabState.CODE:
            return
        self.code = code
        self.code_page.set_busy(True)
        self.code_page.set_message(lambda: self.tr("Checking the number…"), error=False)
        self._set_state(TabState.CLAIMING)
        self.bridge.claim(code)

    def issue_code(self) -> None:
        if self.state is not TabState.CODE:
            return
        self.code_page.set_busy(True)
        self.code_page.set_message(None)
        self._set_state(TabState.CLAIMING)
        self.bridge.issue_code()

    def end_session(self) -> None:
        """End now, without asking (Cancel while waiting, the confirmed End)."""
        self._close_confirm_end()
        if self.state in (TabState.CLAIMING, TabState.WAITING, TabState.LIVE):
            self.bridge.end_session()

    def _close_confirm_end(self) -> None:
        box, self.confirm_end = self.confirm_end, None
        if box is not None:
            box.close()

    def request_end(self) -> None:
        """The End button or Ctrl+E: a live session ends only after the operator confirms.

        A misclick on the big red button would otherwise cut the customer off mid-call.
        The question is window-modal but not blocking (``open``), so the network keeps
        running and a session the customer ends meanwhile closes the question.
        """
        if self.state is not TabState.LIVE:
            self.end_session()
            return
        if self.confirm_end is not None and self.confirm_end.isVisible():
            self.confirm_end.raise_()
            return
        box = QMessageBox(self)
        box.setObjectName("confirmEnd")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("End session"))
        # Japanese breaks between phrases (never 「画 / 面」), on a label wide enough for two lines.
        box.setText(
            phrase_breaks(self.tr("End this session? The customer's screen will no longer be shown to you."))
        )
        box.setStyleSheet("QLabel#qt_msgbox_label { min-width: 420px; }")
        end = box.addButton(self.tr("End session"), QMessageBox.ButtonRole.DestructiveRole)
        end.setObjectName("confirmEndYes")
        keep = box.addButton(self.tr("Keep sharing"), QMessageBox.ButtonRole.RejectRole)
        keep.setObjectName("confirmEndNo")
        box.setDefaultButton(keep)  # Enter keeps the session: ending takes a deliberate click
        box.setEscapeButton(keep)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered() -> None:
            if self.confirm_end is box:
                self.confirm_end = None
            if box.clickedButton() is end:
                self.end_session()

        box.finished.connect(answered)
        self.confirm_end = box
        box.open()

    def next_customer(self) -> None:
        if self.state is TabState.ENDED:
            self.code = None
            self.ended_page.clear()
            self.code_page.reset()
            self.code_page.set_message(None)
            self._set_state(TabState.CODE)

    def focus_code(self) -> None:
        if self.state is TabState.ENDED:
            self.next_customer()
        if self.state is TabState.CODE:
            self.code_page.code.setFocus()
            self.code_page.code.selectAll()

    def set_view_mode(self, mode: ViewMode) -> None:
        self.view.set_mode(mode)
        self.fit_button.setChecked(mode is ViewMode.FIT)
        self.actual_button.setChecked(mode is ViewMode.ACTUAL)

    def set_pointing(self, on: bool) -> None:
        """Pointer on or off; never on where it cannot appear on the customer's screen."""
        if self.guidance_on_screen:
            self._pointing_wanted = on
        on = on and self.guidance_on_screen
        self.view.set_pointing(on)
        if self.pointer_button.isChecked() != on:
            self.pointer_button.setChecked(on)
        self._render_pointer_button()

    def _render_pointer_button(self) -> None:
        """The state is in the words too, not only in the colour."""
        on = self.pointer_button.isChecked()
        self.pointer_button.setText(self.tr("Pointer: on") if on else self.tr("Pointer: off"))

    def show_key_guide(self) -> None:
        self.side.show()
        self.side.setCurrentIndex(0)
        self.key_guide.typed.setFocus()

    def show_info(self) -> None:
        self.side.show()
        self.side.setCurrentWidget(self.info_panel)

    def toggle_side_panel(self) -> None:
        self.side.setVisible(not self.side.isVisible())

    def reconnect(self, token: str) -> None:
        """Log this tab in again (after the window asked for the password)."""
        self.code_page.set_busy(True)
        self.bridge.login_with_token(token)

    def shutdown(self) -> concurrent.futures.Future[None] | None:
        """The tab is closing: end its session and close its relay connection."""
        if self._closed:
            return None
        self._closed = True
        self._frame_timer.stop()
        self._stats_timer.stop()
        self.waiting_page.stop()
        return self.bridge.close()

    # --- events from the bridge ------------------------------------------------------------

    def _on_logged_in(self, _identity: object) -> None:
        self.code_page.set_busy(False)
        self.code_page.set_message(None)
        if self.state is TabState.CONNECTING:
            self._set_state(TabState.CODE)

    def _on_login_failed(self, kind: str, _message: str) -> None:
        self.code_page.set_message(lambda: login_error_text(kind))
        if kind in ("token_refused", "error", "wrong_credentials", "locked"):
            # Greyed out until the window's bar (asking for the password) brings a new login.
            self.code_page.set_busy(True)
            self.login_lost.emit()
        else:
            # Unreachable, certificate...: the message says what to check; Connect tries again.
            self.code_page.set_busy(False)

    def _on_action_failed(self, detail: str) -> None:
        logger.warning("tab action failed: %s", detail)
        if self.state is TabState.CLAIMING:
            self.code_page.set_busy(False)
            self.code_page.set_message(lambda: self.tr("The relay connection was lost. Try again."))
            self._set_state(TabState.CODE)

    def _on_event(self, event: OperatorEvent) -> None:
        logger.debug("tab event %s", event)
        if isinstance(event, TurnTrouble):
            # A deployment mistake: said at once, whatever the page, until the next customer.
            if event.misconfigured:
                logger.error("TURN server unusable for this session: %s", ", ".join(sorted(event.kinds)))
                self._turn_kinds |= event.misconfigured
                self._render_turn_note()
        elif isinstance(event, ClaimAccepted):
            self._turn_kinds = frozenset()
            self._render_turn_note()
            self._set_client(event.client, guidance_on_screen=event.guidance_on_screen)
            self.waiting_page.start(event.timeout_s)
            self._set_state(TabState.WAITING)
        elif isinstance(event, CodeAssigned):
            self.code = event.code
            self.code_page.show_issued(event.code, event.expires_in_s)
            self.code_page.set_message(
                lambda: self.tr("Waiting for the customer to type the number…"), error=False
            )
            self._title_changed()
        elif isinstance(event, ViewingStarted):
            self.waiting_page.stop()
            self._set_state(TabState.LIVE)
            self._open_view_once()
        elif isinstance(event, CobrowseUpdate):
            self.cobrowse_panel.set_view(event.view)
            self._open_view_once()
        elif isinstance(event, CustomerMessage):
            self._on_customer_message(event.message)
        elif isinstance(event, CustomerConnection):
            # A co-browse customer's socket drops at every page change: its panel says so.
            self.reconnecting = not event.connected and self.client != "cobrowse"
            self._update_banner()
        elif isinstance(event, RelayConnection):
            self.relay_state = None if event.state == "resumed" else event.state
            self._update_banner()
        elif isinstance(event, Refused):
            self._on_refused(event)
        elif isinstance(event, SessionEnded):
            if self.state is TabState.CLAIMING and self.code_page.issued_code is not None:
                # The operator cancelled a code nobody had typed in yet: back to the code page.
                self._set_state(TabState.CODE)
                self.code_page.set_message(lambda: self.tr("The number was cancelled."), error=False)
                return
            reason, by = event.reason, event.by
            self._end(lambda: end_text(reason, by))

    def _on_refused(self, event: Refused) -> None:
        code, retry = event.code, event.retry_after_s
        issued_expired = code is ErrorCode.EXPIRED_CODE and self.code_page.issued_code is not None

        def text() -> str:
            # A callable, not a string: it re-renders after a language switch.
            if issued_expired:
                return self.tr("The number you issued expired before the customer typed it. Issue a new one.")
            return refusal_text(code, retry)

        if self.state in (TabState.CLAIMING, TabState.CODE, TabState.CONNECTING):
            self.code_page.set_busy(False)
            self.code_page.set_message(text)
            self.code_page.code.selectAll()
            self.code_page.code.setFocus()
            if self.state is TabState.CLAIMING:
                self._set_state(TabState.CODE)
        elif self.state is TabState.LIVE:
            self._banner = text
            self._update_banner()
        if code is ErrorCode.NOT_AUTHORISED:
            self.login_lost.emit()

    def _on_customer_message(self, message: AgentGuidance) -> None:
        if isinstance(message, KeyGuideClosed):
            self.key_guide.customer_closed()
        elif isinstance(message, SharingState):
            self.paused = message.paused
            self._update_banner()
        elif isinstance(message, Monitors):
            self.monitors = message
            self._crop_index = None
            self._show_monitors()
        elif isinstance(message, SysInfoReport):
            self.info_panel.set_report(message)

    def _on_stats(self, stats: object) -> None:
        if isinstance(stats, ConnectionStats) or stats is None:
            self.stats = stats
            self.stats_changed.emit(stats)

    def _end(self, text: Text) -> None:
        self._close_confirm_end()  # the session is over: the question no longer applies
        self.waiting_page.stop()
        self._frame_timer.stop()
        self._stats_timer.stop()
        live_since = self._live_since
        self.ended_page.set_wrap_up(
            WrapUp(
                reason=text,
                code=self.code,
                started=self._started_at,
                duration_s=None if live_since is None else time.monotonic() - live_since,
                customer_info=self.info_panel.as_text() if self.info_panel.report is not None else "",
            )
        )
        self.stats = None
        self.stats_changed.emit(None)
        self._set_state(TabState.ENDED)
        self.ended_page.next_button.setFocus()

    def _set_client(self, client: ClientKind, *, guidance_on_screen: bool) -> None:
        """The customer's kind of client: the label and whether the pointer and guide tools work.

        The browser's screen share cannot draw over the customer's screen (only inside its
        own page), so a pointer or a keyboard guide sent there would claim to show something
        the customer never sees: the tools are disabled and the reason is shown instead.
        """
        cobrowse = client == "cobrowse"
        # Co-browsing points from the view in the operator's browser, never from this window.
        guidance_on_screen = guidance_on_screen and not cobrowse
        self.client = client
        self.guidance_on_screen = guidance_on_screen
        self.mode_label.setVisible(client in ("browser", "cobrowse"))
        self.guidance_note.setVisible(not guidance_on_screen)
        self.pointer_button.setEnabled(guidance_on_screen)
        self.set_pointing(self._pointing_wanted)
        self.key_guide.set_available(guidance_on_screen, cobrowse=cobrowse)
        self.centre_stack.setCurrentWidget(self.cobrowse_panel if cobrowse else self.view)
        for widget in (self.fit_button, self.actual_button, self.pointer_button):
            widget.setVisible(not cobrowse)
        if cobrowse:
            self.monitor_combo.hide()
            self.monitor_label.hide()
        self._view_opened = False
        self._retranslate_client()

    def open_cobrowse_view(self) -> None:
        """Open the co-browse view in the operator's browser, in the console's language."""
        address = self.cobrowse_panel.view_address()
        if address and self.client == "cobrowse":
            self._view_opened = True
            self.open_url(QUrl(address))

    def _open_view_once(self) -> None:
        """The view opens by itself once the customer's page is connected."""
        if self.state is TabState.LIVE and not self._view_opened and self.cobrowse_panel.view.url:
            self.open_cobrowse_view()

    def _retranslate_client(self) -> None:
        if self.client == "cobrowse":
            self.mode_label.setText(self.tr("Co-browsing (website)"))
            self.mode_label.setToolTip(
                self.tr("The customer shares only the pages of your company's website in their browser.")
            )
            self.guidance_note.setText(
                phrase_breaks(
                    self.tr(
                        "Co-browsing: point by clicking on the page in the view in your browser."
                        " The keyboard guide is not available."
                    )
                )
            )
        else:
            self.mode_label.setText(self.tr("Normal mode (browser)"))
            self.mode_label.setToolTip(
                self.tr("The customer shares from their web browser; nothing is installed.")
            )
            self.guidance_note.setText(
                self.tr(
                    "Normal mode (browser): the pointer and the keyboard guide are not available,"
                    " because they cannot be drawn outside the customer's browser."
                )
            )
        if self.guidance_on_screen:
            self.pointer_button.setToolTip(
                self.tr("Point on the customer's screen with your mouse; off hides the pointer (Ctrl+P)")
            )
        else:
            self.pointer_button.setToolTip(
                self.tr(
                    "Not available in normal mode: the pointer cannot be drawn outside"
                    " the customer's browser."
                )
            )

    # --- video and pointer ------------------------------------------------------------------

    def _poll_frame(self) -> None:
        self.view.set_remote_cursor(self.bridge.cursor_state())
        frame = self.bridge.take_frame()
        if frame is None:
            return
        size_before = self.view.frame_size()
        self.view.set_frame(frame)
        if size_before != self.view.frame_size():
            self._apply_crop()

    def _send_pointer(self, action: str, x: float, y: float) -> None:
        if self.state is TabState.LIVE and not self.paused:
            self.bridge.send_pointer(x, y, monitor=self._pointer_monitor, action=action)

    def _show_monitors(self) -> None:
        """Fill the monitor switcher from the agent's Monitors message."""
        monitors = self.monitors
        combo = self.monitor_combo
        combo.clear()
        several = monitors is not None and len(monitors.monitors) > 1
        combo.setVisible(several)
        self.monitor_label.setVisible(several)
        self._pointer_monitor = 0 if monitors is None else monitors.active
        if monitors is None or not several:
            self._apply_crop()
            return
        desktop = monitors.active == len(monitors.monitors)
        if desktop:
            combo.addItem(self.tr("All screens"), len(monitors.monitors))
        for info in monitors.monitors:
            combo.addItem(self._monitor_name(info), info.index)
        model = combo.model()
        if not desktop and isinstance(model, QStandardItemModel):
            # Only the customer chooses what is shared: the other monitors are listed, not selectable.
            for row in range(combo.count()):
                if combo.itemData(row) != monitors.active:
                    item = model.item(row)
                    item.setEnabled(False)
                    item.setToolTip(self.tr("The customer chooses which screen to share."))
        selected = self._crop_index if self._crop_index is not None else monitors.active
        combo.setCurrentIndex(max(0, combo.findData(selected)))
        self._apply_crop()

    def _monitor_name(self, info: MonitorInfo) -> str:
        name = self.tr("Screen {n} ({w}×{h})").format(n=info.index + 1, w=info.width, h=info.height)
        return name + (self.tr(", primary") if info.primary else "")

    def _monitor_chosen(self, row: int) -> None:
        monitors = self.monitors
        index = self.monitor_combo.itemData(row)
        if monitors is None or not isinstance(index, int):
            return
        self._crop_index = None if index == monitors.active else index
        self._pointer_monitor = index
        self._apply_crop()

    def _apply_crop(self) -> None:
        """When the customer shares the whole desktop, show only the chosen monitor."""
        monitors, size = self.monitors, self.view.frame_size()
        if monitors is None or self._crop_index is None or size is None:
            self.view.set_crop(None)
            return
        if monitors.active != len(monitors.monitors):
            self.view.set_crop(None)
            return
        left = min(m.x for m in monitors.monitors)
        top = min(m.y for m in monitors.monitors)
        width = max(m.x + m.width for m in monitors.monitors) - left
        height = max(m.y + m.height for m in monitors.monitors) - top
        chosen = next((m for m in monitors.monitors if m.index == self._crop_index), None)
        if chosen is None:
            self.view.set_crop(None)
            return
        # The video may be scaled down from the desktop's physical pixels.
        sx, sy = size[0] / width, size[1] / height
        self.view.set_crop(
            QRect(
                round((chosen.x - left) * sx),
                round((chosen.y - top) * sy),
                round(chosen.width * sx),
                round(chosen.height * sy),
            )
        )

    @property
    def pointer_monitor(self) -> int:
        return self._pointer_monitor

    # --- state, banner, texts -----------------------------------------------------------------

    def _set_state(self, state: TabState) -> None:
        if state is not self.state:
            logger.info("tab %s -> %s", self.state, state)
        self.state = state
        claiming_page = self.code_page if self.pages.currentWidget() is self.code_page else self.waiting_page
        page: QWidget = {
            TabState.CONNECTING: self.code_page,
            TabState.CODE: self.code_page,
            TabState.CLAIMING: claiming_page,
            TabState.WAITING: self.waiting_page,
            TabState.LIVE: self.live_page,
            TabState.ENDED: self.ended_page,
        }[state]
        self.pages.setCurrentWidget(page)
        if state is TabState.LIVE:
            # A new customer: nothing of the previous session's guide may claim to be shown.
            self.key_guide.reset()
            self._live_since = time.monotonic()
            self._started_at = dt.datetime.now().astimezone()
            self.paused = self.reconnecting = False
            self.relay_state = None
            self._banner = None
            self._update_banner()
            self._frame_timer.start()
            self._stats_timer.start()
            self.view.setFocus()
        elif state is TabState.ENDED or state is TabState.CODE:
            self.key_guide.reset()
            if state is TabState.CODE:
                self._live_since = self._started_at = None
                self._set_client("agent", guidance_on_screen=True)
            self.view.clear()
            self.monitors = None
            self._crop_index = None
            self._show_monitors()
            self.info_panel.set_report(None)
            self.paused = self.reconnecting = False
            self.relay_state = None
            self._banner = None
            self._update_banner()
        if state is TabState.CODE:
            self.code_page.set_busy(False)
            self.code_page.show_issued(None)
            self.code_page.code.setFocus()
        self.state_changed.emit(state.value)
        self._title_changed()

    def _update_banner(self) -> None:
        text: str | None = None
        if self.relay_state == "reconnecting":
            text = self.tr(
                "Your connection to the relay dropped. Reconnecting… The picture goes on meanwhile."
            )
        elif self.relay_state == "forgotten":
            text = self.tr(
                "The relay restarted and no longer knows this session. The picture goes on; "
                "End session still ends it for the customer."
            )
        elif self.reconnecting:
            text = self.tr("The customer's connection dropped. Reconnecting…")
        elif self.paused:
            text = self.tr("Paused by the customer. The picture resumes when they continue sharing.")
        elif self._banner is not None:
            text = self._banner()
        self.banner.setText(text or "")
        self.banner.setVisible(text is not None)
        self.view.set_dimmed(self.reconnecting or self.paused)

    def banner_text(self) -> str | None:
        return self.banner.text() if self.banner.isVisibleTo(self.live_page) else None

    def title(self) -> str:
        if self.state is TabState.LIVE and self.code:
            return self.tr("{code} · live").format(code=self.code)
        if self.state is TabState.WAITING and self.code:
            return self.tr("{code} · waiting").format(code=self.code)
        if self.state is TabState.ENDED and self.code:
            # Several tabs may be wrapping up: the number tells them apart.
            return self.tr("{code} · ended").format(code=self.code)
        if self.state is TabState.ENDED:
            return self.tr("Ended")
        return self.tr("New session")

    def _title_changed(self) -> None:
        self.title_changed.emit(self.title())

    def _render_turn_note(self) -> None:
        self.turn_note.setText(turn_trouble_text(self._turn_kinds))
        self.turn_note.setVisible(bool(self._turn_kinds))

    def retranslate(self) -> None:
        self._render_turn_note()
        self.monitor_label.setText(self.tr("Screen:"))
        self.fit_button.setText(self.tr("Fit"))
        self.fit_button.setToolTip(self.tr("Fit the picture to the window (Ctrl+0)"))
        self.actual_button.setText(self.tr("100%"))
        self.actual_button.setToolTip(self.tr("Show the picture at its real size (Ctrl+1)"))
        self._render_pointer_button()
        self._retranslate_client()
        self.end_button.setText(self.tr("End session"))
        self.end_button.setToolTip(self.tr("End this session (Ctrl+E)"))
        self.side.setTabText(0, self.tr("Keyboard guide"))
        self.side.setTabText(1, self.tr("Customer information"))
        self._show_monitors()
        self._update_banner()
        self._title_changed()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
