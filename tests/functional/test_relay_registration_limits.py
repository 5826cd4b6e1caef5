"""Per-address registration limits and code allocation against a real relay, over loopback.

Two client addresses on 127.0.0.0/8 (127.0.0.1 and 127.0.0.2) stand for two customers'
networks: the relay sees them as different addresses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

import protocol as p
from relay.config import Limits
from relay.server import running_relay
from relay.testing import ClosedError, SignalingClient, fast_config


@pytest.fixture
async def other_address() -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


async def test_one_address_holds_only_its_share_of_the_codes(
    tmp_path: Path, http: aiohttp.ClientSession, other_address: aiohttp.ClientSession
) -> None:
    share = Limits().max_live_codes_per_ip
    async with running_relay(fast_config(tmp_path)) as relay:  # the default limits
        held = [await SignalingClient.agent(http, relay) for _ in range(share)]
        for agent in held:
            assert isinstance(await agent.register(), p.Registered)
        one_more = await SignalingClient.agent(http, relay)
        refused = await one_more.register()
        assert isinstance(refused, p.Error)
        assert (refused.code, refused.fatal) == (p.ErrorCode.RATE_LIMITED, True)
        assert refused.retry_after_s
        assert (await one_more.closed())[0] == 1013
        # Another address is served, and the codes already held keep working.
        elsewhere = await SignalingClient.agent(other_address, relay)
        assert isinstance(await elsewhere.register(), p.Registered)
        # A customer of the first address hangs up: its address may register again.
        await held[0].send(p.Bye())
        await held[0].expect(p.Ended)
        with pytest.raises(ClosedError):
            await held[0].recv()
        again = await SignalingClient.agent(http, relay)
        assert isinstance(await again.register(), p.Registered)
        rows = relay.audit_rows("registration_refused")
        assert [(r.ip, dict(r.detail)) for r in rows] == [
            ("127.0.0.1", {"reason": "rate_limited", "limit": "max_live_codes_per_ip"})
        ]
        async with http.get(f"{relay.url}/metrics") as response:
            metrics = await response.text()
        assert 'madoguchi_registrations_refused_total{reason="rate_limited"} 1.0' in metrics
