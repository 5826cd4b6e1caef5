"""The admin web over HTTP against a real relay: sessions, cookies, CSRF, limits, roles.

The browser flows are in test_admin_web_browser.py; these check what a browser hides:
the cookie's attributes (over TLS too), the session id changing at login, the idle
timeout, the shared login limits, and that admins and operators each keep to their door.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from operator_console.client import OperatorClient, Refused
from relay.admin_web import COOKIE
from relay.server import RunningRelay, running_relay
from relay.testing import SignalingClient, fast_config
from testbed.certs import TestCA

ADMIN_PASSWORD = "admin staple battery"
PASSWORD = "correct horse battery"


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RunningRelay]:
    async with running_relay(fast_config(tmp_path, admin_idle_timeout_s=1.5)) as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME Securities")
        running.accounts.add("boss", ADMIN_PASSWORD, "Boss", "admin", role="admin")
        yield running


def _http(ssl_context: ssl.SSLContext | None = None) -> aiohttp.ClientSession:
    # unsafe: keep cookies for an IP address host (127.0.0.1), as a browser does.
    connector = aiohttp.TCPConnector(ssl=ssl_context) if ssl_context is not None else None
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), connector=connector)


async def _csrf(http: aiohttp.ClientSession, url: str) -> tuple[str, str]:
    """The login page's CSRF token and the Set-Cookie header that came with it."""
    async with http.get(url) as reply:
        assert reply.status == 200
        html = await reply.text()
        set_cookie = reply.headers.get("Set-Cookie", "")
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None
    return match.group(1), set_cookie


async def _log_in(
    http: aiohttp.ClientSession, base: str, username: str, password: str
) -> aiohttp.ClientResponse:
    token, _ = await _csrf(http, f"{base}/admin/login")
    form = {"csrf": token, "username": username, "password": password}
    async with http.post(f"{base}/admin/login", data=form, allow_redirects=False) as reply:
        await reply.read()
        return reply


def _cookie(http: aiohttp.ClientSession) -> str:
    return next(c.value for c in http.cookie_jar if c.key == COOKIE)


async def test_the_cookie_and_the_session_id_changing_at_login(relay: RunningRelay) -> None:
    async with _http() as http:
        _, set_cookie = await _csrf(http, f"{relay.url}/admin/login")
        assert "HttpOnly" in set_cookie
        assert "SameSite=Strict" in set_cookie
        assert "Path=/admin" in set_cookie
        assert "Secure" not in set_cookie  # plain HTTP on loopback: a Secure cookie would not come back
        before = _cookie(http)
        reply = await _log_in(http, relay.url, "boss", ADMIN_PASSWORD)
        assert reply.status == 303
        assert reply.headers["Location"] == "/admin"
        after = _cookie(http)
        assert after != before  # a cookie planted before the login is worth nothing after it
        async with http.get(f"{relay.url}/admin?done=Call+0120-999-999+now") as page:
            assert page.status == 200
            assert "0120-999-999" not in await page.text()  # a link cannot put words on the page
            assert page.headers["Cache-Control"] == "no-store"
            assert "script-src 'self'" in page.headers["Content-Security-Policy"]
            assert "<script" not in await page.text()
    async with _http() as stranger:
        stranger.cookie_jar.update_cookies({COOKIE: before})
        async with stranger.get(f"{relay.url}/admin", allow_redirects=False) as reply:
            assert reply.status == 303
            assert reply.headers["Location"].startswith("/admin/login")


async def test_the_cookie_is_secure_over_tls(tmp_path: Path) -> None:
    ca = TestCA(tmp_path / "ca")
    cert = ca.issue("127.0.0.1")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert.cert, cert.key)
    client = ssl.create_default_context(cafile=str(ca.ca_file))
    async with running_relay(ssl_context=server, data_dir=tmp_path / "relay") as relay, _http(client) as http:
        assert relay.url.startswith("https://")
        _, set_cookie = await _csrf(http, f"{relay.url}/admin/login")
        assert "Secure" in set_cookie
        assert "HttpOnly" in set_cookie


async def test_the_cookie_is_secure_behind_a_tls_proxy(tmp_path: Path) -> None:
    https = {"X-Forwarded-Proto": "https"}
    async with (
        running_relay(fast_config(tmp_path, trust_forwarded_for=True)) as relay,
        _http() as http,
        http.get(f"{relay.url}/admin/login", headers=https) as reply,
    ):
        assert "Secure" in reply.headers["Set-Cookie"]
    async with (
        running_relay(fast_config(tmp_path)) as relay,  # a proxy not trusted: its word is not taken
        _http() as http,
        http.get(f"{relay.url}/admin/login", headers=https) as reply,
    ):
        assert "Secure" not in reply.headers["Set-Cookie"]


async def test_idle_timeout_logs_the_admin_out(relay: RunningRelay) -> None:
    async with _http() as http:
        assert (await _log_in(http, relay.url, "boss", ADMIN_PASSWORD)).status == 303
        for _ in range(3):  # each request restarts the idle clock
            await asyncio.sleep(0.8)
            async with http.get(f"{relay.url}/admin", allow_redirects=False) as reply:
                assert reply.status == 200
        await asyncio.sleep(1.7)
        async with http.get(f"{relay.url}/admin", allow_redirects=False) as reply:
            assert reply.status == 303
            assert reply.headers["Location"] == "/admin/login?expired=1"


async def test_admin_login_is_rate_limited_with_the_operator_login(relay: RunningRelay) -> None:
    limit = relay.state.config.limits.login_failures_per_user_ip
    async with _http() as http:
        for _ in range(limit):
            assert (await _log_in(http, relay.url, "boss", "wrong password")).status == 401
        # The right password is not even checked now.
        assert (await _log_in(http, relay.url, "boss", ADMIN_PASSWORD)).status == 429
    assert len(relay.audit_rows("admin_login_failed")) == limit + 1
    assert relay.audit_rows("admin_login_failed")[-1].detail == {"admin": "boss", "reason": "rate_limited"}


async def test_each_role_keeps_to_its_door(relay: RunningRelay) -> None:
    async with _http() as http:
        body = {"username": "boss", "password": ADMIN_PASSWORD}
        async with http.post(f"{relay.url}/api/login", json=body) as reply:
            assert reply.status == 403
            assert (await reply.json())["error"] == "not_operator"
        assert (await _log_in(http, relay.url, "hanako", PASSWORD)).status == 401
        async with http.get(f"{relay.url}/admin/audit.csv", allow_redirects=False) as reply:
            assert reply.status == 303  # not logged in: no audit for anyone else


async def test_logout_needs_the_token_and_ends_the_session(relay: RunningRelay) -> None:
    async with _http() as http:
        assert (await _log_in(http, relay.url, "boss", ADMIN_PASSWORD)).status == 303
        async with http.post(f"{relay.url}/admin/logout", data={}, allow_redirects=False) as reply:
            assert reply.status == 403  # a forged logout does nothing
        async with http.get(f"{relay.url}/admin") as page:
            token = re.search(r'name="csrf" value="([^"]+)"', await page.text())
        assert token is not None
        async with http.post(
            f"{relay.url}/admin/logout", data={"csrf": token.group(1)}, allow_redirects=False
        ) as reply:
            assert reply.status == 303
        async with http.get(f"{relay.url}/admin", allow_redirects=False) as reply:
            assert reply.status == 303
    events = [row.event for row in relay.audit_rows() if row.event.startswith("admin_")]
    assert events == ["admin_login", "admin_csrf_refused", "admin_logout"]


async def test_settings_survive_a_restart(tmp_path: Path) -> None:
    config = fast_config(tmp_path)
    async with running_relay(config) as relay:
        relay.state.settings.change({"terms_ja": "新しい規約", "max_sessions": 9}, "boss", 1.0)
    async with running_relay(config) as relay, _http() as http:
        async with http.get(f"{relay.url}/api/terms?lang=ja") as reply:
            assert (await reply.json())["text"] == "新しい規約"
        assert relay.state.registry._limits.max_sessions == 9  # what the registry enforces


async def test_a_disabled_admin_is_out_at_the_next_click(relay: RunningRelay) -> None:
    async with _http() as http:
        assert (await _log_in(http, relay.url, "boss", ADMIN_PASSWORD)).status == 303
        relay.accounts.set_disabled("boss", True)  # as madoguchi admin disable-operator does
        async with http.get(f"{relay.url}/admin", allow_redirects=False) as reply:
            assert reply.status == 303
        relay.accounts.set_disabled("boss", False)
        async with http.get(f"{relay.url}/admin", allow_redirects=False) as reply:
            assert reply.status == 303  # the session is gone for good: log in again
        assert (await _log_in(http, relay.url, "boss", ADMIN_PASSWORD)).status == 303


async def test_the_failed_claims_alarm_shows_in_the_overview(tmp_path: Path) -> None:
    config = fast_config(tmp_path, failed_claims_alarm=3)
    async with running_relay(config) as relay, _http() as http:
        relay.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME Securities")
        relay.accounts.add("boss", ADMIN_PASSWORD, "Boss", "admin", role="admin")
        assert (await _log_in(http, relay.url, "boss", ADMIN_PASSWORD)).status == 303
        async with http.get(f"{relay.url}/admin") as page:
            assert 'id="alarm"' not in await page.text()
        operator = OperatorClient(relay.url)
        try:
            await operator.login("hanako", PASSWORD)
            for code in ("1000", "2000", "3000"):  # nobody holds these
                await operator.claim(code)
                while not isinstance(await operator.next_event(5), Refused):
                    pass
        finally:
            await operator.close()
        for _ in range(100):
            async with http.get(f"{relay.url}/admin") as page:
                if 'id="alarm"' in await page.text():
                    break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("no alarm in the overview")


async def test_a_login_without_the_forms_token_is_refused(relay: RunningRelay) -> None:
    async with _http() as http:
        await _csrf(http, f"{relay.url}/admin/login")
        form = {"username": "boss", "password": ADMIN_PASSWORD}
        for token in ({}, {"csrf": "forged"}):
            async with http.post(
                f"{relay.url}/admin/login", data={**form, **token}, allow_redirects=False
            ) as reply:
                assert reply.status == 403
                assert "open the page again" in await reply.text() or "開き直して" in await reply.text()
        async with http.get(f"{relay.url}/admin", allow_redirects=False) as reply:
            assert reply.status == 303  # not logged in
        # The fresh form that came with the refusal works.
        assert (await _log_in(http, relay.url, "boss", ADMIN_PASSWORD)).status == 303
    assert [r.event for r in relay.audit_rows() if r.event.startswith("admin_")] == [
        "admin_csrf_refused",
        "admin_csrf_refused",
        "admin_login",
    ]


async def test_ending_a_session_needs_a_reason_and_a_live_session(relay: RunningRelay) -> None:
    async with _http() as http:
        assert (await _log_in(http, relay.url, "boss", ADMIN_PASSWORD)).status == 303
        async with http.get(f"{relay.url}/admin") as page:
            match = re.search(r'name="csrf" value="([^"]+)"', await page.text())
        assert match is not None
        token = match.group(1)
        async with http.post(
            f"{relay.url}/admin/end", data={"csrf": token, "id": "gone", "reason": " "}
        ) as reply:
            assert reply.status == 400  # no reason: the page again, with why
            assert "Enter a reason" in await reply.text() or "理由を入力" in await reply.text()
        form = {"csrf": token, "id": "no-such-pairing", "reason": "test"}
        async with http.post(f"{relay.url}/admin/end", data=form, allow_redirects=False) as reply:
            assert reply.status == 303
            assert reply.headers["Location"] == "/admin?done=session_gone"
    assert relay.audit_rows("admin_session_ended") == []


async def test_the_overview_names_every_mode(relay: RunningRelay) -> None:
    """A co-browse customer waiting shows as co-browsing, in words, never as a raw key."""
    async with (
        _http() as http,
        aiohttp.ClientSession() as ws_http,
        await SignalingClient.agent(ws_http, relay) as site,
        await SignalingClient.agent(ws_http, relay) as app,
    ):
        await site.register(client="cobrowse", sysinfo_scope="normal")
        await app.register()
        assert (await _log_in(http, relay.url, "boss", ADMIN_PASSWORD)).status == 303
        async with http.get(f"{relay.url}/admin?lang=ja") as page:
            html = await page.text()
        assert "mode_" not in html
        assert html.count("コブラウズ (Webサイト)") == 2  # the tile and the waiting row
        assert 'id="mode-cobrowse">0<' in html  # no session yet, only a waiting number
