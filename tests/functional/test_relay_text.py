"""Text that is not valid Unicode (lone surrogates) never reaches the relay's state, peers or audit."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

import protocol as p
from relay.server import RunningRelay, running_relay
from relay.testing import SignalingClient, fast_config, login

from .relay_session import PASSWORD, in_session

# JSON's \u escapes can spell a lone surrogate; json.loads turns it into a str that
# no UTF-8 encoder accepts (what aiohttp, SQLite and hashlib all need later).
LONE = "\\ud800"


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RunningRelay]:
    async with running_relay(fast_config(tmp_path)) as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        yield running


REGISTER = (
    '{"type":"register","protocol_version":1,"client_version":"CV","consent_accepted":true,"locale":"LOC"}'
)


@pytest.mark.parametrize(
    ("role", "raw"),
    [
        ("agent", REGISTER.replace("CV", f"x{LONE}")),
        ("agent", REGISTER.replace("LOC", f"{LONE}")),
        ("agent", '{"type":"resume","protocol_version":1,"resume_token":"' + LONE + '"}'),
        ("operator", '{"type":"auth","protocol_version":1,"token":"' + LONE + 'abc"}'),
    ],
    ids=["client_version", "locale", "resume_token", "auth_token"],
)
async def test_lone_surrogate_in_a_first_message_is_bad_message(
    relay: RunningRelay, http: aiohttp.ClientSession, role: str, raw: str
) -> None:
    agent, op, _ = await in_session(http, relay)
    bad = await SignalingClient.connect(http, relay, "agent" if role == "agent" else "operator")
    await bad.send_raw(raw)
    error = await bad.expect(p.Error)
    assert error.code is p.ErrorCode.BAD_MESSAGE
    assert error.fatal
    assert (await bad.closed())[0] == 1008
    assert [r.detail["error"] for r in relay.audit_rows("protocol_error")] == ["bad_message"]
    await agent.send(p.Offer(sdp="v=0\r\nstill here\r\n"))
    assert (await op.expect(p.Offer)).sdp == "v=0\r\nstill here\r\n"


async def test_lone_surrogate_in_a_claim_is_audited_as_a_protocol_error(
    relay: RunningRelay, http: aiohttp.ClientSession
) -> None:
    op = await SignalingClient.operator(http, relay, await login(http, relay, "hanako", PASSWORD))
    await op.send_raw('{"type":"claim","code":"12' + LONE + '"}')
    error = await op.expect(p.Error)
    assert error.code is p.ErrorCode.BAD_MESSAGE
    assert (await op.closed())[0] == 1008
    rows = relay.audit_rows("protocol_error")
    assert len(rows) == 1
    assert rows[0].operator == "hanako"
    assert relay.audit_rows("claim_failed") == []


async def test_lone_surrogate_in_forwarded_sdp_never_reaches_the_peer(
    relay: RunningRelay, http: aiohttp.ClientSession
) -> None:
    agent, op, _ = await in_session(http, relay)
    await agent.send_raw('{"type":"offer","sdp":"v=0' + LONE + '"}')
    assert (await agent.expect(p.Error)).code is p.ErrorCode.BAD_MESSAGE
    # the operator is told the customer is gone instead of waiting for an offer that cannot come
    assert await op.expect(p.Ended) == p.Ended(reason=p.EndReason.PEER_GONE, by="agent")


async def test_a_surrogate_pair_is_fine(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    agent = await SignalingClient.agent(http, relay)
    await agent.send_raw(REGISTER.replace("CV", "smile \\ud83d\\ude00"))
    assert isinstance(await agent.recv(), p.Registered)
    op = await SignalingClient.operator(http, relay, await login(http, relay, "hanako", PASSWORD))
    codes = [row.code for row in relay.audit_rows("code_issued")]
    await op.send(p.Claim(code=codes[0] or ""))
    assert (await op.expect(p.ClaimPending)).client_version == "smile \U0001f600"


@pytest.mark.parametrize(
    "body",
    [
        '{"username":"' + LONE + '","password":"correct horse battery"}',
        '{"username":"hanako","password":"pass' + LONE + 'word"}',
        '{"username":"hanako","password":"correct horse battery","extra":"' + LONE + '"}',
    ],
    ids=["username", "password", "unknown-field"],
)
async def test_login_with_lone_surrogates_is_a_400_not_a_500(
    relay: RunningRelay, http: aiohttp.ClientSession, body: str
) -> None:
    url = f"{relay.url}/api/login"
    async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
        answer = await r.json()
        if "extra" in body:  # unknown fields are ignored, as in every message
            assert r.status == 200, answer
            return
        assert r.status == 400, answer
    assert answer["error"] == "bad_request"
    assert "Unicode" in answer["message"]
    rows = relay.audit_rows()
    assert all("\ud800" not in json.dumps(row.as_dict()) for row in rows)
