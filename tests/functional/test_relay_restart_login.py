"""Operators survive a relay restart: a token still valid works on the restarted relay.

The relay is stopped and started again on the same data directory and port, as an
administrator restarting the service would; the operator's token from before the
restart still authenticates, an expired one does not.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp

import protocol as p
from relay.config import load_config
from relay.server import running_relay
from relay.testing import SignalingClient, login
from tests.functional.relay_session import PASSWORD


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_a_valid_token_is_accepted_after_a_restart_and_an_expired_one_is_not(tmp_path: Path) -> None:
    config = load_config(env={}, port=_free_port(), data_dir=tmp_path, token_ttl_s=2)
    async with aiohttp.ClientSession() as http:
        async with running_relay(config) as relay:
            relay.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
            token = await login(http, relay, "hanako", PASSWORD)
            before = await SignalingClient.operator(http, relay, token)
        code, _ = await before.closed()  # the relay went away: the socket closed
        assert code is not None

        async with running_relay(config) as relay:
            op = await SignalingClient.operator(http, relay, token)  # no password again
            await op.send(p.IssueCode())
            assert isinstance(await op.recv(), p.CodeIssued)
            await op.close()

        await asyncio.sleep(2.1)  # the token's lifetime runs across restarts, not from them
        async with running_relay(config) as relay:
            op = await SignalingClient.connect(http, relay, "operator")
            await op.send(p.Auth(protocol_version=p.PROTOCOL_VERSION, token=token))
            error = await op.expect(p.Error)
            assert error.code is p.ErrorCode.NOT_AUTHORISED
