"""Login limits: counted before the password is checked, and no stranger can lock staff out.

Client addresses are real: each "address" is a client bound to its own 127.0.0.x.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from relay.accounts import OperatorAccount
from relay.server import RunningRelay, running_relay
from relay.testing import fast_config

from .relay_session import PASSWORD


class CheckCounter:
    """Counts password checks (scrypt runs) by wrapping the relay's Accounts."""

    def __init__(self, relay: RunningRelay) -> None:
        self.count = 0
        self._lock = threading.Lock()
        real: Callable[[str, str], OperatorAccount | None] = relay.accounts.check_password

        def counting(username: str, password: str) -> OperatorAccount | None:
            with self._lock:
                self.count += 1
            return real(username, password)

        relay.accounts.check_password = counting  # type: ignore[method-assign]


def client(address: str, **connector: Any) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0), **connector))


async def attempt(http: aiohttp.ClientSession, relay: RunningRelay, username: str, password: str) -> int:
    async with http.post(f"{relay.url}/api/login", json={"username": username, "password": password}) as r:
        await r.read()
        return r.status


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RunningRelay]:
    async with running_relay(fast_config(tmp_path, max_connections_per_ip=2000)) as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        yield running


async def test_a_burst_of_parallel_wrong_logins_checks_at_most_the_limit(relay: RunningRelay) -> None:
    checks = CheckCounter(relay)
    async with client("127.0.0.1", limit=0) as http:
        statuses = await asyncio.gather(
            *(attempt(http, relay, "hanako", f"guess {i:04d}") for i in range(1000))
        )
    limit = relay.config.limits.login_failures_per_user_ip
    assert checks.count <= limit, f"{checks.count} passwords checked in a burst of 1000"
    assert statuses.count(401) == checks.count
    assert statuses.count(429) == 1000 - checks.count
    failed = relay.audit_rows("login_failed")
    assert sum(row.detail["reason"] == "invalid_credentials" for row in failed) == checks.count


async def test_a_stranger_cannot_lock_staff_out(relay: RunningRelay) -> None:
    checks = CheckCounter(relay)
    async with client("127.0.0.2") as stranger:
        statuses = [await attempt(stranger, relay, "hanako", f"guess {i}") for i in range(40)]
    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}
    assert checks.count == 5
    async with client("127.0.0.3") as staff:  # an address hanako never used before
        assert await attempt(staff, relay, "hanako", PASSWORD) == 200


async def test_many_strangers_reach_the_username_limit_but_not_a_known_address(tmp_path: Path) -> None:
    config = fast_config(tmp_path, login_failures_per_user_ip=3, login_failures_per_user=8)
    async with running_relay(config) as relay:
        relay.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        async with client("127.0.0.1") as desk:  # hanako's usual desk
            assert await attempt(desk, relay, "hanako", PASSWORD) == 200
        checks = CheckCounter(relay)
        for host in range(10, 15):  # 5 addresses x 3 tries = 15 > 8
            async with client(f"127.0.0.{host}") as stranger:
                for i in range(3):
                    await attempt(stranger, relay, "hanako", f"guess {host}.{i}")
        assert checks.count == 8  # the username's limit bounds guesses from any number of addresses
        async with client("127.0.0.99") as elsewhere:
            assert await attempt(elsewhere, relay, "hanako", PASSWORD) == 429
        async with client("127.0.0.1") as desk:
            assert await attempt(desk, relay, "hanako", PASSWORD) == 200


async def test_one_address_trying_many_usernames(tmp_path: Path) -> None:
    async with running_relay(fast_config(tmp_path, login_failures_per_ip=6)) as relay:
        relay.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        async with client("127.0.0.20") as sprayer:
            statuses = [await attempt(sprayer, relay, f"user{i}", "password1") for i in range(10)]
            assert statuses == [401] * 6 + [429] * 4
            assert await attempt(sprayer, relay, "hanako", PASSWORD) == 429
        async with client("127.0.0.21") as other:
            assert await attempt(other, relay, "hanako", PASSWORD) == 200


async def test_a_right_password_does_not_use_up_the_limit(tmp_path: Path) -> None:
    async with running_relay(fast_config(tmp_path, login_failures_per_user_ip=2)) as relay:
        relay.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        async with client("127.0.0.30") as desk:
            for _ in range(5):
                assert await attempt(desk, relay, "hanako", PASSWORD) == 200
            assert await attempt(desk, relay, "hanako", "typo typo") == 401
            assert await attempt(desk, relay, "hanako", PASSWORD) == 200
