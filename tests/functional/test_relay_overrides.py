"""``running_relay(**overrides)`` takes settings as the config file gives them.

``ice_servers`` as a list of tables (dicts) used to reach the registry unconverted,
and the customer's Allow then ended in ``internal_error``.
"""

from __future__ import annotations

import aiohttp
import pytest

import protocol as p
from relay.config import ConfigError, IceServerConfig
from relay.server import running_relay
from tests.functional.relay_session import PASSWORD, claimed


async def test_ice_servers_given_as_tables_reach_session_start() -> None:
    tables = [
        {"urls": ["stun:stun.example.net:3478"]},
        {
            "urls": "turns:turn.example.net:443?transport=tcp",
            "turn_rest_secret": "s3cret",
            "turn_rest_ttl_s": 600,
        },
    ]
    async with running_relay(ice_servers=tables) as relay, aiohttp.ClientSession() as http:
        assert relay.config.ice_servers[1] == IceServerConfig(
            urls=("turns:turn.example.net:443?transport=tcp",), turn_rest_secret="s3cret", turn_rest_ttl_s=600
        )
        relay.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
        agent, op, _ = await claimed(http, relay)
        await agent.send(p.Decision(allowed=True))
        start = await agent.expect(p.SessionStart)
        assert (await op.expect(p.SessionStart)).ice_servers == start.ice_servers
        stun, turn = start.ice_servers
        assert stun.urls == ("stun:stun.example.net:3478",)
        assert turn.urls == ("turns:turn.example.net:443?transport=tcp",)
        assert turn.username
        assert turn.credential
        assert turn.credential != "s3cret"
        await agent.close()
        await op.close()


async def test_a_bad_override_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"ice_servers\[0\]"):
        async with running_relay(ice_servers=[{"url": "stun:x"}]):
            pass
