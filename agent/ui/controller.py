"""The customer's flow from the terms to the summary: which window shows what, and when.

Flow (R1, R14, R15, R18)::

    consent --Agree--> code --operator claims--> request --Allow--> sharing --> summary
       |                 |  \\--new number--> code         \\--Deny/timeout--> summary (nothing shared)
       |                 \\--busy / expired / unreachable--> notice --retry--> code
       \\--Cancel--> quit

The controller owns the main window, the sharing bar, the sharing frame and
the two overlays, and talks to the network only through :class:`SessionBridge`.
It never calls the bridge's ``start`` before the customer pressed Agree.

Closing: closing the window before sharing ends the attempt (the relay and any
operator are told) and quits; closing it while sharing stops sharing and shows
the summary, so the password reminder is never skipped. ``finished`` fires
when the program should quit; :attr:`exit_hooks` then run once (self-removal
plugs in there).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QRect, QTimer, Signal
from PySide6.QtGui import QGuiApplication

from agent.events import (
    CodeAssigned,
    OperatorAsking,
    OperatorConnection,
    Reconnected,
    Reconnecting,
    Refused,
    RelayForgot,
    SessionEnded,
    SharingStarted,
    SystemInfoSent,
    TurnTrouble,
)
from agent.ui.border import ShareBorder
from agent.ui.bridge import SessionBridge
from agent.ui.confirm_quit import QuitQuestion
from agent.ui.key_guide import KeyGuideOverlay
from agent.ui.language import apply_language
from agent.ui.notice import NoticeKind
from agent.ui.pointer import PointerOverlay
from agent.ui.screens import guide_area, qt_screen_areas, screens_showing
from agent.ui.sharing_bar import SharingBar
from agent.ui.summary import SessionSummary
from agent.ui.terms import Terms, TermsUnavailable
from agent.ui.window import AgentWindow
from client_core.i18n import Language
from protocol import (
    EndReason,
    ErrorCode,
    KeyGuide,
    KeyGuideClear,
    MonitorInfo,
    OperatorIdentity,
    Pointer,
    SysInfoReport,
)

__all__ = ["AgentController", "Phase"]

logger = logging.getLogger(__name__)

Phase = str
"""consent, code, asking, sharing, notice, summary, closing, finished."""

CLOSE_GRACE_MS = 4000
"""How long a close waits for the goodbye to the relay before quitting anyway."""


class AgentController(QObject):
    finished = Signal()
    """The customer is done; the program should quit (after :meth:`run_exit_hooks`)."""
    phase_changed = Signal(str)

    def __init__(self, bridge: SessionBridge, language: Language, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.language: Language = language
        self.window = AgentWindow(language)
        self.bar = SharingBar()
        self.border = ShareBorder()
        self.pointer = PointerOverlay()
        self.key_guide = KeyGuideOverlay(language)
        self.key_guide.dismissed.connect(self.bridge.key_guide_closed)
        self.exit_hooks: list[Callable[[], None]] = []
        """Run once when the agent quits (the self-removal issue plugs in here)."""
        self.phase: Phase = "consent"
        self._refusal: Refused | None = None
        self._code: str | None = None
        self._number_lost = False
        self._operator: OperatorIdentity | None = None
        self._shared = False
        self._areas: list[MonitorInfo] = []
        self._timed_out = False
        self._paused = False
        self._pointed_screen: int | None = None
        """The Qt screen the operator's pointer was last on (the keyboard guide goes there)."""
        self._system_information: SysInfoReport | tuple[tuple[str, str], ...] | None = None
        self._hooks_ran = False
        self.removes_itself = False
        """The program deletes itself when it quits (the packaged agent's exit hook):
        then every quit the customer asks for is confirmed first (issue 18, item 2)."""
        self.quit_question: QuitQuestion | None = None
        """The question while it is on screen."""
        self._quit_box: QuitQuestion | None = None

        w = self.window
        w.language_button.requested.connect(self.set_language)
        w.close_requested.connect(self.request_close)
        w.consent.agreed.connect(self.agree)
        w.consent.cancelled.connect(self.request_close)
        w.consent.retry_requested.connect(self.load_terms)
        w.code.new_code_requested.connect(self.new_attempt)
        w.code.cancelled.connect(self.request_close)
        w.request.decided.connect(self.decide)
        w.request.preview_requested.connect(bridge.preview_system_info)
        bridge.system_info_preview.connect(w.request.show_preview)
        w.notice.retry_requested.connect(self.new_attempt)
        w.notice.close_requested.connect(self.request_close)
        w.summary.close_requested.connect(self.request_close)
        w.summary.again_requested.connect(self.new_attempt)
        self.bar.pause_toggled.connect(self.pause)
        self.bar.stop_clicked.connect(self.stop_sharing)
        self.bar.monitor_chosen.connect(self.select_monitor)
        bridge.agent_event.connect(self.on_event)
        bridge.guidance.connect(self.on_guidance)
        bridge.terms_ready.connect(self.on_terms)
        bridge.failed.connect(self.on_failed)

    # --- hooks for other parts of the agent ------------------------------------------------

    def record_system_information(self, items: SysInfoReport | Sequence[tuple[str, str]] | None) -> None:
        """What went to the operator, listed on the summary; the session reports it by itself
        (``SystemInfoSent``), other senders may call this."""
        if items is None or isinstance(items, SysInfoReport):
            self._system_information = items
        else:
            self._system_information = tuple(items)

    def run_exit_hooks(self) -> None:
        if self._hooks_ran:
            return
        self._hooks_ran = True
        for hook in self.exit_hooks:
            try:
                hook()
            except Exception:
                logger.exception("exit hook %r failed", hook)

    # --- flow ------------------------------------------------------------------------------

    def start(self) -> None:
        self._set_phase("consent")
        self.window.show_page(self.window.consent)
        self.window.show()
        self.load_terms()

    def load_terms(self) -> None:
        self.window.consent.set_loading()
        self.bridge.fetch_terms(self.language)

    def on_terms(self, result: object) -> None:
        if self.phase != "consent":
            return
        if isinstance(result, Terms) and result.lang == self.language:
            self.window.consent.set_terms(result.text)
        elif isinstance(result, TermsUnavailable) and result.lang == self.language:
            self.window.consent.set_failed()

    def agree(self) -> None:
        if self.phase != "consent" or self.window.consent.state != "ready":
            return
        logger.info("customer agreed to the terms")
        self.new_attempt()

    def new_attempt(self) -> None:
        """Register (again): after Agree, "new number", "try again" or "start again"."""
        self._refusal = None
        self._code = None
        self._operator = None
        self._shared = False
        self._areas = []
        self._timed_out = False
        self._system_information = None
        self._set_phase("code")
        self.window.code.set_connecting(0)
        self.window.show_page(self.window.code)
        self.window.bring_to_front()
        self.bridge.start(consent_accepted=True)

    def decide(self, allowed: bool) -> None:
        if self.phase != "asking":
            return
        self._timed_out = not allowed and self.window.request.remaining_s() <= 0
        self.bridge.decide(
            allowed, timed_out=self._timed_out, system_info=self.window.request.send_system_info
        )

    def pause(self, paused: bool) -> None:
        if self.phase != "sharing":
            return
        self._paused = paused
        self.bridge.pause(paused)
        self.border.set_paused(paused)
        self.bar.set_paused(paused)

    def stop_sharing(self) -> None:
        """Stop: everything on screen goes at once; the summary follows the session's end."""
        logger.info("customer pressed Stop")
        self._hide_sharing_ui()
        self.bridge.stop()

    def select_monitor(self, area: int) -> None:
        if self.phase != "sharing":
            return
        self.bridge.select_monitor(area)
        info = self._area_info(area)
        if info is not None:
            self._areas.append(info)
        self.pointer.hide_pointer()
        self._pointed_screen = None
        self.key_guide.clear()
        self._place_sharing_ui()

    def request_close(self, *, ask: bool = True) -> None:
        """The window's close button, Cancel or Close; ``ask=False`` for Ctrl+C / SIGTERM."""
        if self.phase == "sharing":
            self.stop_sharing()
            return
        if ask and self.removes_itself and self.phase not in ("closing", "finished"):
            self._ask_before_quitting()
            return
        self._close_now()

    def _ask_before_quitting(self) -> None:
        if self._quit_box is None:
            self._quit_box = QuitQuestion(self.window)
            self._quit_box.answered.connect(self._quit_answered)
        self.window.bring_to_front()
        self.quit_question = self._quit_box
        if not self._quit_box.isVisible():
            self._quit_box.open()
        self._quit_box.raise_()

    def _quit_answered(self, quit_now: bool) -> None:
        self.quit_question = None
        logger.info("asked before quitting: %s", "quit" if quit_now else "stayed")
        if quit_now and self.phase not in ("sharing", "closing", "finished"):
            self._close_now()

    def _close_now(self) -> None:
        if self.bridge.active and self.phase in ("code", "asking"):
            self._set_phase("closing")
            self.bridge.stop()
            QTimer.singleShot(CLOSE_GRACE_MS, self.finish)
            return
        self.finish()

    def set_language(self, language: str) -> None:
        if language not in ("ja", "en") or language == self.language:
            return
        lang: Language = "ja" if language == "ja" else "en"
        self.language = lang
        apply_language(lang)
        self.window.language_button.set_language(lang)
        self.key_guide.set_language(lang)
        self.bridge.locale = lang
        if self.phase == "consent":
            self.load_terms()

    # --- events from the session ------------------------------------------------------------------

    def on_event(self, event: object) -> None:
        if isinstance(event, CodeAssigned):
            self._on_code(event)
        elif isinstance(event, Reconnecting):
            if self.phase == "sharing":
                self.bar.set_connection("reconnecting")
            elif self.phase == "code":
                self.window.code.set_reconnecting(event.attempt)
        elif isinstance(event, Reconnected):
            if self.phase == "sharing":
                self.bar.set_connection("ok")
        elif isinstance(event, RelayForgot):
            if self.phase == "sharing":
                self.bar.set_connection("relay_forgot")
        elif isinstance(event, Refused):
            logger.info("relay refused: %s", event.code)
            self._refusal = event
        elif isinstance(event, OperatorAsking):
            self._set_phase("asking")
            self._operator = event.operator
            self.window.request.set_system_info_scope(self.bridge.system_info_scope)
            self.window.request.ask(event.operator, event.timeout_s)
            self.window.show_page(self.window.request)
            self.window.bring_to_front()
        elif isinstance(event, SharingStarted):
            self._on_sharing(event)
        elif isinstance(event, OperatorConnection):
            if self.phase == "sharing":
                self.bar.set_connection("ok" if event.connected else "operator_lost")
        elif isinstance(event, SystemInfoSent):
            self.record_system_information(event.report)
        elif isinstance(event, TurnTrouble):
            if event.misconfigured:
                # The details are for the log; the customer is told what to do (tell the operator).
                logger.error("TURN server unusable: %s", ", ".join(sorted(event.kinds)))
                if self.phase == "asking":
                    self.window.request.show_connection_problem()
        elif isinstance(event, SessionEnded):
            self._on_ended(event)

    def on_guidance(self, message: object) -> None:
        if self.phase != "sharing":
            return
        if isinstance(message, Pointer):
            self.pointer.apply(message, self.bridge.monitors)
            if self.pointer.position is not None:
                self._pointed_screen = self.pointer.position.screen
        elif isinstance(message, KeyGuide):
            rect = guide_area(self.bridge.selected, self.bridge.monitors, self._pointed_screen)
            if rect is not None:
                card = self.bar.frameGeometry() if self.bar.isVisible() else None
                self.key_guide.show_guide(message, rect, avoid=card)
                if self.pointer.isVisible():
                    self.pointer.raise_()  # the pointer stays on top of the picture
        elif isinstance(message, KeyGuideClear):
            self.key_guide.clear()

    def on_failed(self, text: str) -> None:
        logger.error("session failed: %s", text)
        self._hide_sharing_ui()
        self._show_notice(NoticeKind.FAILED)

    def _on_code(self, event: CodeAssigned) -> None:
        if self.phase not in ("code", "asking"):
            return
        changed = self._number_lost or (self._code is not None and event.code != self._code)
        self._number_lost = False
        self._code = event.code
        self._set_phase("code")
        self.window.code.set_code(event.code, event.expires_in_s, changed=changed)
        self.window.show_page(self.window.code)

    def _on_sharing(self, event: SharingStarted) -> None:
        self._set_phase("sharing")
        self._shared = True
        self._paused = False
        self._operator = event.operator
        info = self._area_info(self.bridge.selected)
        self._areas = [info] if info is not None else []
        # The main window would cover what the operator should see: out of the way
        # (hidden rather than minimised: the sharing bar is the one thing to use now,
        # and a window manager-less desktop cannot minimise). The summary brings it back.
        self.window.hide()
        self.bar.start(event.operator, self.bridge.monitors, self.bridge.selected)
        self.border.set_paused(False)
        self._place_sharing_ui()
        self.bar.show()
        self.bar.raise_()

    def _on_ended(self, ended: SessionEnded) -> None:
        self._hide_sharing_ui()
        refusal, self._refusal = self._refusal, None
        if self.phase in ("closing", "finished"):
            self.finish()
            return
        code = refusal.code if refusal is not None else None
        if code in (ErrorCode.BUSY, ErrorCode.RATE_LIMITED, ErrorCode.UNAVAILABLE):  # try again later
            self._show_notice(NoticeKind.BUSY, refusal.retry_after_s if refusal else None)
        elif code is ErrorCode.EXPIRED_CODE and not self._shared:
            self._show_notice(NoticeKind.EXPIRED)
        elif not self._shared and (
            code is ErrorCode.UNKNOWN_RESUME_TOKEN or ended.reason is EndReason.SHUTDOWN
        ):
            # The relay restarted (cleanly: SHUTDOWN; after a crash it no longer
            # knows our resume token) and the number is gone. Get a new one by
            # ourselves - the session keeps trying until the relay is back - and
            # say clearly that the number changed.
            logger.info("relay restarted: registering again")
            self._number_lost = self._code is not None
            self.new_attempt()
        elif not self._shared and self._code is None and ended.by == "relay":
            self._show_notice(NoticeKind.UNREACHABLE if refusal is None else NoticeKind.FAILED)
        else:
            self._show_summary(ended)

    # --- helpers ---------------------------------------------------------------------------

    def _show_notice(self, kind: NoticeKind, retry_after_s: float | None = None) -> None:
        self._set_phase("notice")
        self.window.notice.show_kind(kind, retry_after_s)
        self.window.show_page(self.window.notice)
        self.window.bring_to_front()

    def _show_summary(self, ended: SessionEnded) -> None:
        self._set_phase("summary")
        summary = SessionSummary(
            shared=self._shared,
            operator=ended.operator or self._operator,
            shared_seconds=ended.shared_seconds,
            reason=ended.reason,
            by=ended.by,
            areas=tuple(self._areas),
            monitor_count=len(self.bridge.monitors),
            timed_out=self._timed_out,
            system_information=self._system_information,
        )
        self.window.summary.show_summary(summary)
        self.window.show_page(self.window.summary)
        self.window.bring_to_front()

    def _hide_sharing_ui(self) -> None:
        self.bar.stop()
        self.border.hide()
        self.pointer.hide_pointer()
        self.key_guide.clear()

    def _area_info(self, area: int) -> MonitorInfo | None:
        monitors = self.bridge.monitors
        if not monitors:
            return None
        if area >= len(monitors):
            from agent.capture import desktop_info

            return desktop_info(monitors)
        return next((m for m in monitors if m.index == area), None)

    def _shared_screen_rects(self, *, available: bool = False) -> list[QRect]:
        qt_screens = QGuiApplication.screens()
        numbers = screens_showing(self.bridge.selected, self.bridge.monitors, qt_screen_areas())
        chosen = [qt_screens[i] for i in numbers if i < len(qt_screens)]
        if not chosen:
            chosen = [QGuiApplication.primaryScreen()]
        return [s.availableGeometry() if available else s.geometry() for s in chosen]

    def _place_sharing_ui(self) -> None:
        rects = self._shared_screen_rects()
        if not rects:
            return
        self.border.show_around(rects)
        self.border.set_paused(self._paused)
        self.bar.place_on(self._shared_screen_rects(available=True)[0])
        self.bar.raise_()

    def finish(self) -> None:
        """Close every window and emit ``finished`` (the session must already be over)."""
        if self.phase == "finished":
            return
        self._set_phase("finished")
        self._hide_sharing_ui()
        self.window.allow_close = True
        self.window.close()
        self.bar.close()
        self.border.close()
        self.pointer.close()
        self.key_guide.close()
        self.key_guide.close_button.close()
        self.finished.emit()

    def _set_phase(self, phase: Phase) -> None:
        if phase != self.phase:
            logger.info("agent ui %s -> %s", self.phase, phase)
            self.phase = phase
            self.phase_changed.emit(phase)
