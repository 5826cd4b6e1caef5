"""The console receives co-browsing: number, Allow, the view in the operator's browser, End.

A real relay serving the demo bank (:data:`testbed.cobrowse.DEMO_BANK`), the real console
window logged in through its login dialog, a real Chromium as the customer on the demo
bank and a second Chromium as the operator's own browser, where the console's view opens
(the tab's ``open_url`` hands it the address instead of the desktop's default browser).
The operator issues the 6-digit number, the customer types it and allows; the view shows
the balance page with the account number masked and the promotion a grey box, the
operator's click in the view puts the pointer on the customer's page, the panel follows
the customer to the next page and to a never-shared one, and End from the console ends the
customer's sharing within a second.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from pytestqt.qtbot import QtBot

from client_core.i18n import switch_language
from operator_console.ui.main_window import I18N_DIR, I18N_DOMAIN, ConsoleWindow
from operator_console.ui.session_tab import SessionTab, TabState
from testbed.browser import BrowserCustomer
from testbed.cobrowse import DEMO_BANK, REPLAY_DOCUMENT, customer_asks, replay_text
from testbed.world import World
from tests.ui.console_login import log_in_console

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytestmark = [pytest.mark.display, pytest.mark.slow]

PASSWORD = "correct horse battery"
FIXED_MASK = "●●●●●●●●"
"""web/static/js/cobrowse-rules.js FIXED_MASK."""


@pytest.fixture
def world(xvfb: str) -> Iterator[World]:
    world = World(allow_timeout_s=20.0, **DEMO_BANK)
    world.add_operator("hanako", PASSWORD, "佐藤 花子", "サンプル銀行")
    yield world
    world.close()


@pytest.fixture
def chromiums(world: World, xvfb: str) -> Iterator[tuple[BrowserCustomer, BrowserCustomer]]:
    """The customer's Chromium and the operator's, driven from the world's loop."""
    stack = contextlib.AsyncExitStack()
    customer = world.call(stack.enter_async_context(BrowserCustomer.start(xvfb)), timeout=60)
    staff = world.call(stack.enter_async_context(BrowserCustomer.start(xvfb)), timeout=60)
    yield customer, staff
    world.call(stack.aclose(), timeout=30)


@pytest.fixture
def console(qtbot: QtBot, world: World, tmp_path: Path) -> Iterator[ConsoleWindow]:
    window = log_in_console(qtbot, world.loop, world.url, tmp_path, PASSWORD, size=(1366, 768))
    yield window
    window.close()
    switch_language(I18N_DIR, I18N_DOMAIN, "en")


def _tab(window: ConsoleWindow) -> SessionTab:
    tab = window.current_tab()
    assert tab is not None
    return tab


def _view_state(tab: SessionTab) -> str:
    return tab.cobrowse_panel.view.state


def _client(tab: SessionTab) -> str:
    """The tab's client kind, read afresh (not narrowed by an earlier assert)."""
    return tab.client


def test_the_console_receives_co_browsing_from_number_to_end(
    qtbot: QtBot,
    world: World,
    chromiums: tuple[BrowserCustomer, BrowserCustomer],
    console: ConsoleWindow,
) -> None:
    customer, staff = chromiums
    tab = _tab(console)
    opened: list[str] = []
    tab.open_url = lambda url: opened.append(QUrl(url).toString())
    qtbot.waitUntil(lambda: tab.state is TabState.CODE, timeout=10_000)

    # The console issues the number; the customer types it on the bank's page.
    tab.code_page.issue_button.click()
    qtbot.waitUntil(lambda: tab.code_page.issued_code is not None, timeout=10_000)
    code = tab.code_page.issued_code
    assert code is not None
    world.call(customer.new_page(viewport=(1200, 800)))
    request = world.call(customer_asks(customer, f"{world.url}/demo/bank/account.html", code))
    assert "佐藤 花子" in request  # the operator's verified name, with Allow
    qtbot.waitUntil(lambda: tab.state is TabState.WAITING, timeout=10_000)
    assert _client(tab) == "cobrowse"

    world.call(customer.click("#cb-allow"))
    qtbot.waitUntil(lambda: tab.state is TabState.LIVE, timeout=15_000)
    qtbot.waitUntil(lambda: bool(opened), timeout=10_000)  # the view opened by itself, once
    assert len(opened) == 1
    url = opened[0]
    assert url.startswith("http://127.0.0.1:")
    assert url.endswith("?lang=en")
    assert tab.centre_stack.currentWidget() is tab.cobrowse_panel
    assert tab.mode_label.text() == "Co-browsing (website)"
    assert not tab.pointer_button.isVisible()
    assert not tab.key_guide.send_button.isEnabled()
    qtbot.waitUntil(lambda: bool(tab.cobrowse_panel.view.page), timeout=10_000)  # the first snapshot
    assert _view_state(tab) == "sharing"
    assert tab.cobrowse_panel.view.page == f"{world.url}/demo/bank/account.html"
    assert "Sharing" in tab.cobrowse_panel.state_label.text()

    # The operator's browser shows the mirror: the balance, the account number masked, the
    # promotion (a configured block) a grey box without its text.
    world.call(staff.new_page(viewport=(1280, 900)))
    world.call(staff.goto(url))
    assert world.call(replay_text(staff, "#balance")) == "1,234,567"
    assert world.call(replay_text(staff, ".account-no")) == FIXED_MASK
    promo = world.call(
        staff.eval(
            f"(() => {{ const a = {REPLAY_DOCUMENT}.querySelector('aside');"
            " return {text: a.textContent, grey: a.classList.contains('madoguchi-blocked')}; })()"
        )
    )
    assert promo == {"text": "", "grey": True}
    assert world.call(staff.text("#status")) == "The customer's page (view only)"

    # The status bar counts the page's channel (there is no video to count).
    qtbot.waitUntil(lambda: tab.stats is not None and tab.stats.bytes_received > 1000, timeout=5_000)
    assert console.stats_label.text().startswith("Co-browsing: ")

    # The operator's click in the view: a pointer, the only thing that reaches the customer.
    where = world.call(
        staff.eval(
            "(() => { const f = document.querySelector('#player iframe');"
            " const fb = f.getBoundingClientRect(); const s = fb.width / f.clientWidth;"
            " const b = f.contentDocument.getElementById('balance').getBoundingClientRect();"
            " return {x: fb.left + (b.left + b.width / 2) * s, y: fb.top + (b.top + b.height / 2) * s}; })()"
        )
    )
    world.call(staff.click_xy(where["x"], where["y"]))
    landed = world.call(
        customer.eval(
            "new Promise(r => { const until = Date.now() + 3000; const look = () => {"
            " const p = document.getElementById('madoguchi-cobrowse').shadowRoot.querySelector('.pointer');"
            " const b = document.getElementById('balance').getBoundingClientRect();"
            " const m = new DOMMatrix(getComputedStyle(p).transform);"
            " const inside = !p.hidden && m.m41 >= b.left && m.m41 <= b.right"
            " && m.m42 >= b.top && m.m42 <= b.bottom;"
            " if (inside || Date.now() > until) r(inside); else setTimeout(look, 20); }; look(); })"
        )
    )
    assert landed is True

    # The customer goes to the transfer page: the panel and the view follow, same session.
    started = time.monotonic()
    world.call(customer.click(".bank-nav a[href='transfer.html']"))
    qtbot.waitUntil(lambda: tab.cobrowse_panel.view.page.endswith("/transfer.html"), timeout=5_000)
    assert _view_state(tab) == "sharing"
    world.call(replay_text(staff, "#transfer"))
    followed_s = time.monotonic() - started
    print(f"navigation followed by the console and the view in {followed_s * 1000:.0f} ms")
    assert followed_s < 3.0
    assert tab.state is TabState.LIVE
    assert len(opened) == 1  # the same view, no new tab

    # A never-shared page: the panel and the view say so; its address is not shown.
    world.call(customer.click(".bank-nav a[href='privacy.html']"))
    qtbot.waitUntil(lambda: _view_state(tab) == "not_shared", timeout=5_000)
    assert tab.cobrowse_panel.state_label.text() == "This page is not shared"
    assert not tab.cobrowse_panel.page_label.isVisible()
    world.call(staff.wait("#overlay:not([hidden])"))
    assert world.call(staff.text("#overlay")) == "This page is not shared"
    console.set_language("ja")
    assert tab.cobrowse_panel.state_label.text() == "このページは共有されていません"
    assert tab.mode_label.text() == "コブラウズ（Webサイト）"
    console.set_language("en")

    # The login page's software keyboard: paused, the customer is typing; then sharing again.
    world.call(customer.click(".bank-nav a[href='index.html']"))
    qtbot.waitUntil(lambda: tab.cobrowse_panel.view.page.endswith("/index.html"), timeout=5_000)
    world.call(customer.click("#open-keyboard"))
    qtbot.waitUntil(lambda: _view_state(tab) == "keyboard", timeout=5_000)
    assert tab.cobrowse_panel.state_label.text() == "Paused: the customer is typing"
    world.call(staff.wait("#overlay:not([hidden])"))
    assert world.call(staff.text("#overlay")) == "Paused: the customer is typing"
    world.call(customer.click("#close-keyboard"))
    qtbot.waitUntil(lambda: _view_state(tab) == "sharing", timeout=5_000)

    # End from the console: the customer's sharing ends within 1 s.
    ended = time.monotonic()
    tab.end_session()
    world.call(customer.wait("#cb-ended", timeout_s=1.0))
    end_s = time.monotonic() - ended
    print(f"End in the console to the customer's page ended: {end_s * 1000:.0f} ms")
    assert end_s < 1.0
    qtbot.waitUntil(lambda: tab.state is TabState.ENDED, timeout=5_000)
    assert world.call(customer.eval("sessionStorage.getItem('madoguchi-cobrowse')")) is None
    world.call(staff.wait("#overlay:not([hidden])"))
    assert world.call(staff.text("#status")) == "Sharing has ended"

    # The next customer starts with the picture and its tools again.
    tab.next_customer()
    assert _client(tab) == "agent"
    assert tab.centre_stack.currentWidget() is tab.view
    assert tab.key_guide.send_button.isEnabled()


def test_the_customer_s_stop_ends_the_console_s_session_within_a_second(
    qtbot: QtBot,
    world: World,
    chromiums: tuple[BrowserCustomer, BrowserCustomer],
    console: ConsoleWindow,
) -> None:
    customer, _ = chromiums
    tab = _tab(console)
    opened: list[str] = []
    tab.open_url = lambda url: opened.append(QUrl(url).toString())  # not the desktop's browser
    qtbot.waitUntil(lambda: tab.state is TabState.CODE, timeout=10_000)
    tab.issue_code()
    qtbot.waitUntil(lambda: tab.code_page.issued_code is not None, timeout=10_000)
    world.call(customer.new_page())
    world.call(
        customer_asks(customer, f"{world.url}/demo/bank/account.html", tab.code_page.issued_code or "")
    )
    world.call(customer.click("#cb-allow"))
    qtbot.waitUntil(lambda: bool(tab.cobrowse_panel.view.page), timeout=15_000)
    client = tab.bridge.client
    assert client is not None
    assert client.viewer is not None

    stopped = time.monotonic()
    world.call(customer.click("#cb-stop"))
    qtbot.waitUntil(lambda: tab.state is TabState.ENDED, timeout=1_000)
    print(f"the customer's Stop to the console's end: {(time.monotonic() - stopped) * 1000:.0f} ms")
    assert "customer" in tab.ended_page.reason.text()
    qtbot.waitUntil(lambda: client.viewer is None, timeout=2_000)  # the view stops listening
