"""The console's main window: session tabs, menus, shortcuts, status bar, language.

Every frequent action has a shortcut and works on the current tab:

=================  ==========================================
Ctrl+T             new session tab (another customer)
Ctrl+W             close the tab (ends its session)
Ctrl+L             go to the code input
Ctrl+G             issue a 6-digit code for the customer (R2)
Ctrl+E             end the session
Ctrl+0 / Ctrl+1    fit to window / 100%
Ctrl+P             pointer on/off (off hides it for the customer)
Ctrl+K             keyboard guide (type a shortcut)
Ctrl+Return        send the keyboard guide
Ctrl+Shift+K       clear the keyboard guide
Ctrl+I             customer information
Ctrl+Shift+C       copy the customer information
F9                 show/hide the side panel
Ctrl+Tab           next tab (Ctrl+Shift+Tab previous)
=================  ==========================================

Window geometry, the view mode and the language are remembered (QSettings).

When the relay refuses a tab's token, a bar over the tabs (operator_console.ui.relogin)
asks for the password; the new token reconnects every tab that had lost its login, and
no tab closes.
"""

from __future__ import annotations

import concurrent.futures
import logging
import ssl
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QTabWidget, QVBoxLayout, QWidget

from client_core.i18n import Language, switch_language
from client_core.loop_thread import LoopThread
from operator_console.peer import ConnectionStats
from operator_console.ui.bridge import SessionBridge
from operator_console.ui.pointer import ViewMode
from operator_console.ui.relogin import ReloginBar
from operator_console.ui.session_tab import SessionTab, TabState
from operator_console.ui.settings import ConsoleSettings

__all__ = ["I18N_DIR", "I18N_DOMAIN", "ConsoleWindow", "format_stats"]

logger = logging.getLogger(__name__)

I18N_DIR = Path(__file__).resolve().parent / "i18n"
I18N_DOMAIN = "console"


def format_stats(stats: ConnectionStats | None) -> str:
    """The status bar's figures for one session."""
    if stats is None:
        return ""
    rtt = "–" if stats.rtt_ms is None else f"{stats.rtt_ms:.0f} ms"
    text = QCoreApplication.translate(
        "ConsoleWindow", "{fps:.1f} fps  |  {kbps:,.0f} kbit/s  |  round trip {rtt}  |  dropped {dropped}"
    )
    return text.format(fps=stats.fps, kbps=stats.bitrate_kbps, rtt=rtt, dropped=stats.frames_dropped)


class ConsoleWindow(QMainWindow):
    def __init__(
        self,
        loop: LoopThread,
        settings: ConsoleSettings,
        *,
        relay_url: str,
        token: str,
        username: str = "",
        ssl_context: ssl.SSLContext | None = None,
        language: Language = "en",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("consoleWindow")
        self._loop = loop
        self._settings = settings
        self.relay_url = relay_url
        self.token = token
        self._ssl = ssl_context
        self.language: Language = language
        self.identity_text = ""
        self._closing: list[concurrent.futures.Future[None]] = []
        self._lost: set[SessionTab] = set()
        """Tabs whose token the relay refused: reconnected when the relogin bar gets a new one."""

        self.tabs = QTabWidget()
        self.tabs.setObjectName("sessionTabs")
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.tabs.currentChanged.connect(lambda _: self._current_changed())
        self.relogin = ReloginBar(loop, relay_url, username or settings.username, ssl_context=ssl_context)
        self.relogin.token_renewed.connect(self._token_renewed)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.relogin)
        column.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.stats_label = QLabel()
        self.stats_label.setObjectName("statsLabel")
        self.identity_label = QLabel()
        self.identity_label.setObjectName("identityLabel")
        self.statusBar().addWidget(self.stats_label, 1)
        self.statusBar().addPermanentWidget(self.identity_label)

        self._actions: dict[str, QAction] = {}
        self._menus: dict[str, QMenu] = {}
        self._build_actions()
        self.retranslate()
        self._fit_to_screen(1280, 800)
        if settings.geometry is not None:
            self.restoreGeometry(settings.geometry)
        if settings.window_state is not None:
            self.restoreState(settings.window_state)
        self._view_mode = ViewMode.ACTUAL if settings.view_mode == ViewMode.ACTUAL.value else ViewMode.FIT

    def _fit_to_screen(self, width: int, height: int) -> None:
        """The default size, but never larger than the screen (a 1366x768 laptop)."""
        screen = self.screen()
        if screen is not None:
            available = screen.availableGeometry()
            width = min(width, available.width() * 95 // 100)
            height = min(height, available.height() * 90 // 100)
        self.resize(width, height)

    # --- actions and menus ------------------------------------------------------------

    def _action(
        self,
        name: str,
        shortcut: str | QKeySequence.StandardKey | None,
        slot: Callable[[], object],
        *,
        checkable: bool = False,
    ) -> QAction:
        action = QAction(self)
        action.setObjectName(f"action_{name}")
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setCheckable(checkable)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        self._actions[name] = action
        return action

    def _build_actions(self) -> None:
        a = self._action
        a("new_tab", "Ctrl+T", self.new_tab)
        a("close_tab", "Ctrl+W", lambda: self.close_tab(self.tabs.currentIndex()))
        a("enter_code", "Ctrl+L", lambda: self._on_tab(SessionTab.focus_code))
        a("issue_code", "Ctrl+G", lambda: self._on_tab(SessionTab.issue_code))
        a("end_session", "Ctrl+E", lambda: self._on_tab(SessionTab.request_end))
        a("quit", "Ctrl+Q", self.close)
        a("fit", "Ctrl+0", lambda: self.set_view_mode(ViewMode.FIT))
        a("actual", "Ctrl+1", lambda: self.set_view_mode(ViewMode.ACTUAL))
        a("side_panel", "F9", lambda: self._on_tab(SessionTab.toggle_side_panel))
        a("pointer", "Ctrl+P", self.toggle_pointer, checkable=True).setChecked(True)
        a("key_guide", "Ctrl+K", lambda: self._on_tab(SessionTab.show_key_guide))
        a("send_keys", "Ctrl+Return", lambda: self._on_tab(lambda t: t.key_guide.send()))
        a("clear_keys", "Ctrl+Shift+K", lambda: self._on_tab(lambda t: t.key_guide.clear()))
        a("info", "Ctrl+I", lambda: self._on_tab(SessionTab.show_info))
        a("copy_info", "Ctrl+Shift+C", lambda: self._on_tab(lambda t: t.info_panel.copy()))
        a("next_tab", "Ctrl+Tab", lambda: self._step_tab(1))
        a("previous_tab", "Ctrl+Shift+Tab", lambda: self._step_tab(-1))
        group = QActionGroup(self)
        for language in ("ja", "en"):
            action = a(f"lang_{language}", None, partial(self.set_language, language), checkable=True)
            action.setText("日本語" if language == "ja" else "English")
            group.addAction(action)
        self._actions[f"lang_{self.language}"].setChecked(True)

        menus = self.menuBar()
        for name, names in (
            ("session", ["new_tab", "enter_code", "issue_code", "end_session", "close_tab", None, "quit"]),
            ("view", ["fit", "actual", None, "side_panel", "info", None, "next_tab", "previous_tab"]),
            ("tools", ["pointer", None, "key_guide", "send_keys", "clear_keys", None, "copy_info"]),
            ("language", ["lang_ja", "lang_en"]),
        ):
            menu = menus.addMenu("")
            menu.setObjectName(f"menu_{name}")
            for action_name in names:
                if action_name is None:
                    menu.addSeparator()
                else:
                    menu.addAction(self._actions[action_name])
            self._menus[name] = menu

    def action(self, name: str) -> QAction:
        return self._actions[name]

    # --- tabs ---------------------------------------------------------------------------

    def current_tab(self) -> SessionTab | None:
        widget = self.tabs.currentWidget()
        return widget if isinstance(widget, SessionTab) else None

    def session_tabs(self) -> list[SessionTab]:
        return [w for i in range(self.tabs.count()) if isinstance(w := self.tabs.widget(i), SessionTab)]

    def add_session(self, bridge: SessionBridge) -> SessionTab:
        """Add a tab for this (logged-in or logging-in) connection and show it."""
        tab = SessionTab(bridge)
        tab.set_view_mode(self._view_mode)
        tab.title_changed.connect(lambda title, t=tab: self._retitle(t, title))
        tab.stats_changed.connect(lambda _stats, t=tab: self._stats_of(t))
        tab.state_changed.connect(lambda _state, t=tab: self._tab_state(t))
        tab.login_lost.connect(lambda t=tab: self._login_lost(t))
        index = self.tabs.addTab(tab, tab.title())
        self.tabs.setCurrentIndex(index)
        identity = bridge.identity
        if identity is not None:
            self.identity_text = f"{identity.display_name} ({identity.organisation})"
            self._update_status()
        bridge.logged_in.connect(self._logged_in)
        tab.focus_code()
        return tab

    def new_tab(self) -> SessionTab:
        """Another customer: a new relay connection with the same login (no password again)."""
        bridge = SessionBridge(self._loop, self.relay_url, ssl_context=self._ssl)
        tab = self.add_session(bridge)
        bridge.login_with_token(self.token)
        return tab

    def close_tab(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if not isinstance(widget, SessionTab):
            return
        closing = widget.shutdown()
        self._closing = [f for f in self._closing if not f.done()]
        if closing is not None:
            self._closing.append(closing)
        self.tabs.removeTab(index)
        self._lost.discard(widget)
        widget.deleteLater()
        if self.tabs.count() == 0 and not self._shutting_down():
            self.new_tab()

    def _shutting_down(self) -> bool:
        return bool(self.property("closing"))

    def _step_tab(self, step: int) -> None:
        if self.tabs.count():
            self.tabs.setCurrentIndex((self.tabs.currentIndex() + step) % self.tabs.count())

    def _on_tab(self, action: Callable[[SessionTab], object]) -> None:
        tab = self.current_tab()
        if tab is not None:
            action(tab)

    def _retitle(self, tab: SessionTab, title: str) -> None:
        index = self.tabs.indexOf(tab)
        if index >= 0:
            self.tabs.setTabText(index, title)

    def _tab_state(self, tab: SessionTab) -> None:
        if tab is self.current_tab():
            self._current_changed()

    def _current_changed(self) -> None:
        """The menus follow the shown tab: its pointer state, and no guidance tools for a browser."""
        tab = self.current_tab()
        if tab is not None:
            self._actions["pointer"].setChecked(tab.view.pointing)
            for name in ("pointer", "key_guide", "send_keys", "clear_keys"):
                self._actions[name].setEnabled(tab.guidance_on_screen)
        self._update_status()

    def _stats_of(self, tab: SessionTab) -> None:
        if tab is self.current_tab():
            self._update_status()

    def _logged_in(self, identity: object) -> None:
        name = getattr(identity, "display_name", "")
        organisation = getattr(identity, "organisation", "")
        if name:
            self.identity_text = f"{name} ({organisation})"
            self._update_status()

    def _login_lost(self, tab: SessionTab) -> None:
        logger.warning("the relay refused a tab's login token: asking for the password")
        self._lost.add(tab)
        self.relogin.ask()

    def _token_renewed(self, token: str) -> None:
        self.token = token
        for tab in self.session_tabs():
            tab.bridge.renew_token(token)  # an idle tab's next reconnect uses it too
        lost, self._lost = self._lost, set()
        for tab in lost:
            tab.reconnect(token)
        self.statusBar().showMessage(
            self.tr("Logged in again; your tabs reconnect with the new login."), 10000
        )

    # --- view and tools ---------------------------------------------------------------------

    def set_view_mode(self, mode: ViewMode) -> None:
        self._view_mode = mode
        self._settings.view_mode = mode.value
        self._on_tab(lambda t: t.set_view_mode(mode))

    def toggle_pointer(self) -> None:
        tab = self.current_tab()
        if tab is not None:
            tab.set_pointing(not tab.view.pointing)
            self._actions["pointer"].setChecked(tab.view.pointing)

    def set_language(self, language: str) -> None:
        lang: Language = "ja" if language == "ja" else "en"
        self.language = lang
        self._settings.language = lang
        switch_language(I18N_DIR, I18N_DOMAIN, lang)
        # Qt posts LanguageChange; deliver it now so the whole window switches in one step.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LanguageChange)
        self._actions[f"lang_{lang}"].setChecked(True)

    # --- status bar -------------------------------------------------------------------------

    def _update_status(self) -> None:
        tab = self.current_tab()
        text = ""
        if tab is not None and tab.state is TabState.LIVE and tab.client == "cobrowse":
            # No picture: the page's content arrives on a data channel (docs/cobrowse.md).
            kbps = 0.0 if tab.stats is None else tab.stats.bitrate_kbps
            text = self.tr("Co-browsing: {kbps:,.1f} kbit/s from the customer's page").format(kbps=kbps)
        elif tab is not None and tab.state is TabState.LIVE:
            text = format_stats(tab.stats) or self.tr("Connecting the picture…")
        self.stats_label.setText(text)
        self.identity_label.setText(
            self.tr("Logged in as {who}").format(who=self.identity_text) if self.identity_text else ""
        )

    # --- texts ----------------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Madoguchi operator console"))
        titles = {
            "session": self.tr("&Session"),
            "view": self.tr("&View"),
            "tools": self.tr("&Tools"),
            "language": self.tr("&Language"),
        }
        for name, title in titles.items():
            self._menus[name].setTitle(title)
        texts = {
            "new_tab": self.tr("New session tab"),
            "close_tab": self.tr("Close tab (ends its session)"),
            "enter_code": self.tr("Enter customer's number"),
            "issue_code": self.tr("Issue a 6-digit number"),
            "end_session": self.tr("End session"),
            "quit": self.tr("Quit"),
            "fit": self.tr("Fit to window"),
            "actual": self.tr("Actual size (100%)"),
            "side_panel": self.tr("Show/hide side panel"),
            "info": self.tr("Customer information"),
            "next_tab": self.tr("Next tab"),
            "previous_tab": self.tr("Previous tab"),
            "pointer": self.tr("Pointer"),
            "key_guide": self.tr("Keyboard guide…"),
            "send_keys": self.tr("Send keyboard guide"),
            "clear_keys": self.tr("Hide keyboard guide from customer"),
            "copy_info": self.tr("Copy customer information"),
        }
        for name, text in texts.items():
            self._actions[name].setText(text)
        self._update_status()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.setProperty("closing", True)
        self._settings.remember_window(self.saveGeometry(), self.saveState())
        while self.tabs.count():
            self.close_tab(0)
        for future in self._closing:
            try:
                future.result(timeout=10)
            except Exception as exc:
                logger.warning("a tab did not close cleanly: %s", exc)
        self._closing.clear()
        super().closeEvent(event)
