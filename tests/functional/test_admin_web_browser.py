"""The admin web in a real Chromium against a real relay, with a real agent and operator client.

Chromium (testbed.browser, Debian's chromium through playwright-core) logs in at
``/admin`` as an admin; the customer is the real agent core (:class:`testbed.customer.Customer`
capturing the test display) and the operator the real console client. What an admin
does in the pages must reach them: End session tells both sides ``admin``, a new
operator can log in, new terms are what the agent fetches, the CSV holds the rows.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.ui.terms import fetch_terms
from operator_console.client import ClaimAccepted, OperatorClient, SessionEnded, ViewingStarted
from protocol import EndReason
from relay.server import RunningRelay, running_relay
from relay.testing import fast_config
from testbed.browser import BrowserCustomer
from testbed.customer import Customer
from testbed.operator import expect

pytestmark = pytest.mark.display
logger = logging.getLogger(__name__)

PASSWORD = "correct horse battery"
ADMIN_PASSWORD = "admin staple battery"


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RunningRelay]:
    async with running_relay(fast_config(tmp_path, allow_timeout_s=20.0)) as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME Securities")
        running.accounts.add("boss", ADMIN_PASSWORD, "Boss", "admin", role="admin")
        yield running


async def log_in(
    browser: BrowserCustomer, relay: RunningRelay, username: str, password: str, lang: str
) -> None:
    await browser.goto(f"{relay.url}/admin/login?lang={lang}")
    await browser.fill("#username", username)
    await browser.fill("#password", password)
    await browser.click("#login")


async def post(browser: BrowserCustomer, path: str, fields: dict[str, str]) -> int:
    """A form POST from the page's own origin, cookies included: what a forged form would send."""
    script = (
        f"fetch({json.dumps(path)}, {{method: 'POST', credentials: 'same-origin', redirect: 'manual', "
        f"body: new URLSearchParams({json.dumps(fields)})}}).then(r => r.status)"
    )
    return int(await browser.eval(script))


async def test_admin_ends_a_live_session_and_both_sides_are_told(
    relay: RunningRelay, browser: BrowserCustomer, xvfb: str
) -> None:
    customer = Customer(relay.url, display=xvfb, reconnect_delays_s=(0.5,))
    operator = OperatorClient(relay.url)
    try:
        customer.start()
        await operator.login("hanako", PASSWORD)
        code = await customer.wait_code()
        await operator.claim(code)
        await expect(operator, ClaimAccepted, 10, "claim")
        await expect(operator, ViewingStarted, 20, "viewing")

        await log_in(browser, relay, "boss", ADMIN_PASSWORD, "en")
        row = f'#sessions tr[data-code="{code}"]'
        await browser.wait(row)
        cells = await browser.eval(
            f"[...document.querySelectorAll('{row} td')].map(td => td.textContent.trim())"
        )
        assert cells[:4] == [code, "App", "Sharing", "hanako"]
        assert await browser.text("#capacity-sessions") == f"1 / {relay.state.config.limits.max_sessions}"
        # Nothing of the screen: no image, no canvas, no video anywhere on the page.
        assert await browser.eval("document.querySelectorAll('img, canvas, video').length") == 0

        await browser.fill(f"{row} input[name=reason]", "customer asked by phone")
        await browser.click(f"{row} button")
        await browser.wait("#notice")
        assert await browser.text("#notice") == "The session was ended."

        ended = await expect(operator, SessionEnded, 10, "the operator was not told")
        assert ended.reason is EndReason.ADMIN
        told = await customer.ended(10)
        assert told.reason is EndReason.ADMIN
        assert await browser.eval("document.querySelectorAll('#sessions').length") == 0
        # Which terms this customer agreed to: the version the agent was served for its language.
        [issued] = relay.audit_rows("code_issued")
        served = await fetch_terms(relay.url, str(issued.detail["locale"]))
        assert issued.detail["terms_version"] == served.version
        [row_audit] = relay.audit_rows("admin_session_ended")
        assert row_audit.operator == "hanako"
        assert row_audit.code == code
        assert row_audit.detail == {"admin": "boss", "reason": "customer asked by phone", "phase": "active"}
    finally:
        await operator.close()
        await customer.stop()


async def test_operators_terms_audit_csv(relay: RunningRelay, browser: BrowserCustomer) -> None:
    await log_in(browser, relay, "boss", ADMIN_PASSWORD, "ja")
    await browser.wait("#capacity-sessions")
    await browser.goto(f"{relay.url}/admin/operators")
    await browser.fill("#new-username", "taro")
    await browser.fill("#new-display-name", "山田 太郎")
    await browser.fill("#new-organisation", "ACME Securities")
    await browser.fill("#new-password", "taro's password 1")
    await browser.click("#add")
    await browser.wait("#notice")
    assert await browser.text("#notice") == "オペレーターを追加しました。"
    assert await browser.text('tr[data-username="taro"] .status') == "有効"
    newcomer = OperatorClient(relay.url)
    try:
        await newcomer.login("taro", "taro's password 1")  # the console's login: it works
    finally:
        await newcomer.close()

    # Disable: the console login is refused from then on.
    await browser.click('tr[data-username="taro"] button.toggle')
    await browser.wait("#notice")
    assert await browser.text('tr[data-username="taro"] .status') == "無効"
    refused = OperatorClient(relay.url)
    try:
        with pytest.raises(Exception, match="disabled"):
            await refused.login("taro", "taro's password 1")
    finally:
        await refused.close()

    # New terms: the agent fetches them, with a new version.
    before = await fetch_terms(relay.url, "en")
    await browser.goto(f"{relay.url}/admin/settings?lang=en")
    await browser.fill("#terms-en", "New terms, version two.\n\nOnly view, never control.")
    await browser.click("#save-terms")
    await browser.wait("#notice")
    after = await fetch_terms(relay.url, "en")
    assert after.text == "New terms, version two.\n\nOnly view, never control."
    assert after.version != before.version
    assert (await fetch_terms(relay.url, "ja")).version == (await fetch_terms(relay.url, "ja")).version
    assert await browser.eval("document.querySelectorAll('#history tbody tr').length") == 1
    [changed] = relay.audit_rows("admin_settings_changed")
    assert changed.detail == {"admin": "boss", "keys": ["terms_en"], "terms_en_version": after.version}

    # Capacity: the registry counts with the new limit at once.
    await browser.fill("#max_sessions", "7")
    await browser.click("#save-capacity")
    await browser.wait("#notice")
    assert relay.state.settings.limits().max_sessions == 7
    assert relay.state.registry._limits.max_sessions == 7  # what the registry enforces

    # The audit trail, filtered, and as CSV (fetched by the page, with its session cookie).
    await browser.goto(f"{relay.url}/admin/audit?operator=taro")
    events = await browser.eval(
        "[...document.querySelectorAll('#audit tbody tr td:nth-child(2)')].map(td => td.textContent)"
    )
    assert events == ["login_failed", "admin_operator_disabled", "login_succeeded", "admin_operator_added"]
    href = await browser.eval("document.querySelector('#export').getAttribute('href')")
    assert href == "/admin/audit.csv?operator=taro"
    body = await browser.eval(f"fetch({json.dumps(href)}).then(r => r.text())")
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert [r["event"] for r in rows] == [
        "admin_operator_added",
        "login_succeeded",
        "admin_operator_disabled",
        "login_failed",
    ]
    assert rows[0]["detail"] == "admin=boss"
    assert relay.audit_rows("admin_audit_exported")[0].detail["rows"] == 4


async def test_csrf_and_roles_are_refused(
    relay: RunningRelay, browser: BrowserCustomer, tmp_path: Path
) -> None:
    # An operator's password is right, but this is not an admin account.
    await log_in(browser, relay, "hanako", PASSWORD, "en")
    await browser.wait("#error")
    assert await browser.text("#error") == "Wrong username or password, or not an administrator account."
    assert await browser.eval("location.pathname") == "/admin/login"
    assert await post(browser, "/admin/operators/add", {"username": "x"}) == 403  # not logged in
    assert relay.audit_rows("admin_login_failed")[0].detail == {"admin": "hanako", "reason": "not_admin"}

    await log_in(browser, relay, "boss", ADMIN_PASSWORD, "en")
    await browser.wait("#capacity-sessions")
    fields = {"username": "mallory", "display_name": "M", "organisation": "M", "password": "long enough 1"}
    assert await post(browser, "/admin/operators/add", fields) == 403  # no token
    assert await post(browser, "/admin/operators/add", {**fields, "csrf": "forged"}) == 403  # a wrong token
    assert relay.accounts.get("mallory") is None
    assert len(relay.audit_rows("admin_csrf_refused")) == 3
    # The page's own token works: the refusals above were the token's doing, not the request's.
    token = await browser.eval("document.querySelector('input[name=csrf]').value")
    assert await post(browser, "/admin/operators/add", {**fields, "csrf": token}) in (303, 0)
    assert relay.accounts.get("mallory") is not None

    # The cookie: HttpOnly (no script sees it), SameSite=Strict, only under /admin.
    assert await browser.eval("document.cookie") == ""
    # Usable at 1366x768: nothing wider than the window on the widest page.
    for page in ("/admin", "/admin/operators", "/admin/audit", "/admin/settings"):
        await browser.goto(f"{relay.url}{page}")
        await browser.screenshot(tmp_path / "page.png", width=1366, height=768)  # sets the window size
        width = await browser.eval("document.documentElement.scrollWidth")
        assert width <= 1366, f"{page} is {width} px wide"
        audit = await browser.do("audit")  # web/e2e/audit.js
        assert audit["problems"] == [], page
        assert audit["contrast"] >= 4.5, page
    # No script error and nothing the CSP blocked (the refused requests above log 401/403 only).
    problems = [t for kind, t in browser.console if kind == "pageerror" or "Content Security Policy" in t]
    assert not problems
