"""A client written from docs/protocol.md alone: raw JSON over aiohttp, no protocol package.

If this test needs to know anything that page does not say, the page is incomplete.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from relay.server import RunningRelay, running_relay
from relay.testing import fast_config


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RunningRelay]:
    async with running_relay(fast_config(tmp_path)) as running:
        running.add_operator("hanako", "correct horse battery", "佐藤 花子", "Madoguchi Securities")
        yield running


async def send(ws: aiohttp.ClientWebSocketResponse, **message: Any) -> None:
    await ws.send_str(json.dumps(message))


async def recv(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    frame = await ws.receive(timeout=5)
    assert frame.type is aiohttp.WSMsgType.TEXT, frame
    message = json.loads(frame.data)
    assert isinstance(message, dict)
    return message


async def test_register_claim_allow_exchange_sdp_and_end(relay: RunningRelay) -> None:
    base = relay.url
    ws_base = base.replace("http", "ws", 1)
    async with aiohttp.ClientSession() as http:
        # 1. terms
        async with http.get(f"{base}/api/terms", params={"lang": "en"}) as r:
            terms = await r.json()
        assert terms["lang"] == "en"
        assert terms["text"]
        # 2. register
        agent = await http.ws_connect(f"{ws_base}/ws/agent")
        await send(
            agent,
            type="register",
            protocol_version=1,
            client="agent",
            sysinfo_scope="detailed",
            client_version="docs-client/1",
            consent_accepted=True,
            locale="en",
        )
        registered = await recv(agent)
        assert registered["type"] == "registered"
        code = registered["code"]
        assert len(code) == 4
        assert code.isdigit()
        assert registered["expires_in_s"] > 0
        assert registered["resume_token"]
        # 3. operator login
        async with http.post(
            f"{base}/api/login", json={"username": "hanako", "password": "correct horse battery"}
        ) as r:
            assert r.status == 200
            token = (await r.json())["token"]
        operator = await http.ws_connect(f"{ws_base}/ws/operator")
        await send(operator, type="auth", protocol_version=1, token=token)
        authenticated = await recv(operator)
        assert authenticated["type"] == "authenticated"
        assert authenticated["operator"] == {
            "display_name": "佐藤 花子",
            "organisation": "Madoguchi Securities",
        }
        # 4. claim, with one typo first
        typo = ("1" if code[0] != "1" else "2") + code[1:]
        await send(operator, type="claim", code=typo)
        error = await recv(operator)
        assert error["type"] == "error"
        assert error["code"] == "unknown_code"
        assert error["fatal"] is False
        await send(operator, type="claim", code=code)
        pending = await recv(operator)
        assert pending["type"] == "claim_pending"
        assert (pending["client"], pending["sysinfo_scope"]) == ("agent", "detailed")
        assert pending["client_version"] == "docs-client/1"
        # 5. the customer sees who asks
        request = await recv(agent)
        assert request["type"] == "operator_request"
        assert request["operator"]["display_name"] == "佐藤 花子"
        assert request["operator"]["organisation"] == "Madoguchi Securities"
        assert request["timeout_s"] > 0
        # 6. allow
        await send(agent, type="decision", allowed=True)
        start_a, start_o = await recv(agent), await recv(operator)
        assert start_a["type"] == start_o["type"] == "session_start"
        assert start_a["session_id"] == start_o["session_id"]
        assert start_a["ice_servers"] == []
        # 7. SDP and ICE, forwarded (re-encoded: values unchanged)
        await send(agent, type="offer", sdp="v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n")
        assert await recv(operator) == {"type": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"}
        await send(operator, type="answer", sdp="v=0\r\no=- 2 1 IN IP4 127.0.0.1\r\n")
        assert (await recv(agent))["sdp"] == "v=0\r\no=- 2 1 IN IP4 127.0.0.1\r\n"
        candidate = "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host"
        await send(operator, type="ice", candidate=candidate, sdp_mid="0", sdp_mline_index=0)
        assert await recv(agent) == {
            "type": "ice",
            "candidate": candidate,
            "sdp_mid": "0",
            "sdp_mline_index": 0,
        }
        # unknown fields dropped, defaults filled in
        await send(agent, type="ice", candidate="", future_field=1)
        assert await recv(operator) == {
            "type": "ice",
            "candidate": "",
            "sdp_mid": None,
            "sdp_mline_index": None,
        }
        # 9. bye
        await send(agent, type="bye")
        assert await recv(agent) == {"type": "ended", "reason": "normal", "by": "agent"}
        assert await recv(operator) == {"type": "ended", "reason": "normal", "by": "agent"}
        close = await agent.receive(timeout=5)
        assert close.type is aiohttp.WSMsgType.CLOSE
        assert close.data == 1000
        # the operator's socket stays logged in: a used code is refused, not the socket
        await send(operator, type="claim", code=code)
        assert (await recv(operator))["code"] == "code_already_used"
        # bad input: an error, then that socket is closed
        await operator.send_str("{not json")
        error = await recv(operator)
        assert error["code"] == "bad_message"
        assert error["fatal"] is True
        close = await operator.receive(timeout=5)
        assert close.data == 1008


async def test_reverse_pairing_and_resume(relay: RunningRelay) -> None:
    ws_base = relay.url.replace("http", "ws", 1)
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{relay.url}/api/login", json={"username": "hanako", "password": "correct horse battery"}
        ) as r:
            token = (await r.json())["token"]
        operator = await http.ws_connect(f"{ws_base}/ws/operator")
        await send(operator, type="auth", protocol_version=1, token=token)
        assert (await recv(operator))["type"] == "authenticated"
        await send(operator, type="issue_code")
        issued = await recv(operator)
        assert issued["type"] == "code_issued"
        assert len(issued["code"]) == 6
        async with aiohttp.ClientSession() as doomed:
            agent = await doomed.ws_connect(f"{ws_base}/ws/agent")
            await send(
                agent,
                type="join",
                protocol_version=1,
                code=issued["code"],
                client_version="browser",
                consent_accepted=True,
            )
            registered = await recv(agent)
            assert registered["type"] == "registered"
            assert registered["code"] == issued["code"]
            assert (await recv(agent))["type"] == "operator_request"
            assert (await recv(operator))["type"] == "claim_pending"
            await send(agent, type="decision", allowed=True)
            session_id = (await recv(agent))["session_id"]
            assert (await recv(operator))["session_id"] == session_id
        # the agent's connection dropped; it comes back with its resume token
        assert await recv(operator) == {"type": "peer_status", "connected": False}
        agent = await http.ws_connect(f"{ws_base}/ws/agent")
        await send(agent, type="resume", protocol_version=1, resume_token=registered["resume_token"])
        assert await recv(agent) == {"type": "resumed", "session_id": session_id}
        assert await recv(operator) == {"type": "peer_status", "connected": True}
        await send(operator, type="bye")
        assert await recv(agent) == {"type": "ended", "reason": "normal", "by": "operator"}


async def test_withdrawing_codes(relay: RunningRelay) -> None:
    ws_base = relay.url.replace("http", "ws", 1)
    async with aiohttp.ClientSession() as http:
        agent = await http.ws_connect(f"{ws_base}/ws/agent")
        await send(agent, type="register", protocol_version=1, client_version="c", consent_accepted=True)
        code = (await recv(agent))["code"]
        # bye while waiting: ended, then the close
        await send(agent, type="bye")
        assert await recv(agent) == {"type": "ended", "reason": "normal", "by": "agent"}
        assert (await agent.receive(timeout=5)).data == 1000
        async with http.post(
            f"{relay.url}/api/login", json={"username": "hanako", "password": "correct horse battery"}
        ) as r:
            token = (await r.json())["token"]
        operator = await http.ws_connect(f"{ws_base}/ws/operator")
        await send(operator, type="auth", protocol_version=1, token=token)
        await recv(operator)
        # a withdrawn code is an expired one
        await send(operator, type="claim", code=code)
        assert (await recv(operator))["code"] == "expired_code"
        # the operator withdraws its 6-digit code the same way, and stays connected
        await send(operator, type="issue_code")
        issued = (await recv(operator))["code"]
        await send(operator, type="bye")
        assert await recv(operator) == {"type": "ended", "reason": "normal", "by": "operator"}
        joiner = await http.ws_connect(f"{ws_base}/ws/agent")
        await send(
            joiner, type="join", protocol_version=1, code=issued, client_version="c", consent_accepted=True
        )
        error = await recv(joiner)
        assert (error["code"], error["fatal"]) == ("expired_code", False)
        # version_mismatch comes after the field checks
        await send(joiner, type="register", protocol_version=2)
        assert (await recv(joiner))["code"] == "bad_message"
        late = await http.ws_connect(f"{ws_base}/ws/agent")
        await send(late, type="register", protocol_version=2, client_version="c", consent_accepted=True)
        assert (await recv(late))["code"] == "version_mismatch"
        assert (await late.receive(timeout=5)).data == 1008
