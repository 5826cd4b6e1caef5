"""HTTP endpoints: /healthz, /metrics, /api/login, /api/terms; the thread runner; TLS."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

import protocol as p
from relay.server import RunningRelay, relay_in_thread, running_relay
from relay.testing import SignalingClient, fast_config, login, self_signed_certificate

PASSWORD = "correct horse battery"


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RunningRelay]:
    config = fast_config(tmp_path, terms_en="Read me.", terms_ja="読んでください。")
    async with running_relay(config) as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        yield running


async def test_healthz(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{relay.url}/healthz") as r:
        assert r.status == 200
        assert await r.json() == {"status": "ok"}


async def test_metrics_follow_the_state(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    async def metrics() -> dict[str, float]:
        async with http.get(f"{relay.url}/metrics") as r:
            assert r.status == 200
            assert r.headers["Content-Type"].startswith("text/plain")
            text = await r.text()
        return {
            line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line and not line.startswith("#")
        }

    before = await metrics()
    assert before["madoguchi_codes_pending"] == 0
    assert before["madoguchi_sessions_active"] == 0
    assert before['madoguchi_claims_failed_total{reason="unknown_code"}'] == 0
    assert before['madoguchi_registrations_refused_total{reason="busy"}'] == 0
    agent = await SignalingClient.agent(http, relay)
    registered = await agent.register()
    assert isinstance(registered, p.Registered)
    assert (await metrics())["madoguchi_codes_pending"] == 1
    op = await SignalingClient.operator(http, relay, await login(http, relay, "hanako", PASSWORD))
    await op.send(p.Claim(code="99999"))
    await op.expect(p.Error)
    await op.send(p.Claim(code=registered.code))
    await op.expect(p.ClaimPending)
    await agent.expect(p.OperatorRequest)
    await agent.send(p.Decision(allowed=True))
    await op.expect(p.SessionStart)
    after = await metrics()
    assert after["madoguchi_codes_pending"] == 0
    assert after["madoguchi_sessions_active"] == 1
    assert after['madoguchi_claims_failed_total{reason="unknown_code"}'] == 1
    assert after["madoguchi_sessions_started_total"] == 1
    assert after['madoguchi_logins_total{result="ok"}'] == 1


async def test_two_relays_in_one_process_have_separate_metrics(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with (
        running_relay(fast_config(tmp_path / "a")) as a,
        running_relay(fast_config(tmp_path / "b")) as b,
    ):
        agent = await SignalingClient.agent(http, a)
        await agent.register()
        async with http.get(f"{a.url}/metrics") as r:
            assert "madoguchi_codes_pending 1.0" in await r.text()
        async with http.get(f"{b.url}/metrics") as r:
            assert "madoguchi_codes_pending 0.0" in await r.text()


async def test_terms(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{relay.url}/api/terms?lang=en") as r:
        body = await r.json()
        assert body["lang"] == "en"
        assert body["text"] == "Read me."
        assert len(body["version"]) == 12
    async with http.get(f"{relay.url}/api/terms") as r:
        assert (await r.json())["text"] == "読んでください。"
    async with http.get(f"{relay.url}/api/terms?lang=fr") as r:
        assert r.status == 400
        assert (await r.json())["error"] == "bad_request"


async def test_login_answers(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    url = f"{relay.url}/api/login"
    async with http.post(url, json={"username": "hanako", "password": PASSWORD}) as r:
        assert r.status == 200
        body = await r.json()
        assert body["expires_in_s"] == relay.config.token_ttl_s
        assert len(body["token"]) >= 40
    async with http.post(url, json={"username": "hanako", "password": "wrong password"}) as r:
        assert r.status == 401
        assert (await r.json())["error"] == "invalid_credentials"
    async with http.post(url, json={"username": "nobody", "password": PASSWORD}) as r:
        assert r.status == 401
    async with http.post(url, data=b"not json") as r:
        assert r.status == 400
    async with http.post(url, json={"username": 3}) as r:
        assert r.status == 400
    async with http.post(url, json={"username": "x", "password": "y" * 100_000}) as r:
        assert r.status == 413
        assert (await r.json())["error"] == "too_large"
    relay.accounts.set_disabled("hanako", True)
    async with http.post(url, json={"username": "hanako", "password": PASSWORD}) as r:
        assert r.status == 403
        assert (await r.json())["error"] == "locked"
    # the token issued before the account was disabled no longer opens a websocket
    op = await SignalingClient.connect(http, relay, "operator")
    await op.send(p.Auth(protocol_version=p.PROTOCOL_VERSION, token=body["token"]))
    assert (await op.expect(p.Error)).code is p.ErrorCode.NOT_AUTHORISED
    events = [row.event for row in relay.audit_rows()]
    assert events.count("login_succeeded") == 1
    assert events.count("login_failed") == 3  # wrong password, unknown user, disabled


def test_relay_in_thread(tmp_path: Path) -> None:
    import urllib.request

    with relay_in_thread(fast_config(tmp_path)) as relay:
        relay.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        with urllib.request.urlopen(f"{relay.url}/healthz", timeout=5) as r:
            assert r.status == 200
        assert relay.url.startswith("http://127.0.0.1:")
    assert relay.accounts.get("hanako") is not None


async def test_tls(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    cert, key = self_signed_certificate(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    async with running_relay(fast_config(tmp_path / "d"), ssl_context=server_ctx) as relay:
        assert relay.url.startswith("https://")
        async with http.get(f"{relay.url}/healthz", ssl=client_ctx) as r:
            assert r.status == 200
        ws = await http.ws_connect(relay.ws_url("agent"), ssl=client_ctx)
        await ws.send_str(
            '{"type":"register","protocol_version":1,"client_version":"t","consent_accepted":true}'
        )
        reply = p.decode_signaling((await ws.receive()).data)
        assert isinstance(reply, p.Registered)
        await ws.close()
