"""Shared by the packaged-program tests: the cached builds, a private test CA, a TLS relay with operators.

The builds go to ``build/packaged-tests/`` and are reused while no source file,
dependency version or baked setting changed (:func:`installer.build.build_cached`);
a fresh clone (CI) builds each program once per test session.

The relay speaks TLS with a certificate from a private CA that is baked into the
builds, so a packaged program that reaches the relay at all proves the baked CA
works (nothing else on the machine trusts it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from client_core.loop_thread import LoopThread
from installer.build import ROOT, Target, build_cached
from operator_console.client import OperatorClient, OperatorEvent
from relay.server import RunningRelay, running_relay

__all__ = ["BAKED_RELAY", "CACHE", "TlsRelay", "build", "listing", "private_ca", "tls_relay"]

logger = logging.getLogger(__name__)

CACHE = ROOT / "build" / "packaged-tests"
BAKED_RELAY = "https://relay.madoguchi.invalid:8443"
"""Baked into the test builds: a name that cannot resolve, so the tests pass ``--relay``."""
PASSWORD = "correct horse battery"


def private_ca() -> tuple[Path, Path]:
    """A CA-capable certificate for 127.0.0.1 and its key, made once and kept with the builds."""
    folder = CACHE / "test-ca"
    cert, key = folder / "cert.pem", folder / "key.pem"
    if not (cert.is_file() and key.is_file()):
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650"),
                *("-subj", "/CN=Madoguchi test CA", "-addext", "subjectAltName=IP:127.0.0.1"),
                *("-addext", "basicConstraints=critical,CA:TRUE"),
                *("-keyout", str(key), "-out", str(cert)),
            ],
            check=True,
            capture_output=True,
        )
    return cert, key


def build(target: Target) -> Path:
    cert, _ = private_ca()
    return build_cached(target, CACHE, relay_url=BAKED_RELAY, ca_file=cert)


def listing(*roots: Path) -> set[str]:
    """Every path under ``roots`` (not following links), for before/after comparisons."""
    found: set[str] = set()
    for root in roots:
        for folder, dirs, files in os.walk(root):
            for name in dirs + files:
                found.add(os.path.join(folder, name))
    return found


class TlsRelay:
    """A real relay with TLS on its own loop thread, and operators that trust the test CA."""

    def __init__(self, **overrides: Any) -> None:
        cert, key = private_ca()
        server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server.load_cert_chain(cert, key)
        self.client_ssl = ssl.create_default_context(cafile=str(cert))
        self.loop = LoopThread("packaged-test-relay")
        self._stack = contextlib.AsyncExitStack()
        self.events: list[OperatorEvent] = []
        self.clients: list[OperatorClient] = []

        async def start() -> RunningRelay:
            return await self._stack.enter_async_context(running_relay(ssl_context=server, **overrides))

        self.relay = self.loop.submit(start()).result(30)

    @property
    def url(self) -> str:
        return self.relay.url

    def live_codes(self) -> set[str]:
        async def read() -> set[str]:
            return self.relay.state.store.live_codes()

        return self.loop.submit(read()).result(10)

    def operator(self, username: str = "hanako") -> OperatorClient:
        self.relay.add_operator(username, PASSWORD, "佐藤 花子", "Madoguchi Securities")

        async def login() -> OperatorClient:
            client = OperatorClient(self.url, on_event=self.events.append, ssl_context=self.client_ssl)
            await client.login(username, PASSWORD)
            return client

        client = self.loop.submit(login()).result(30)
        self.clients.append(client)
        return client

    def claim(self, client: OperatorClient, code: str) -> None:
        self.loop.submit(client.claim(code)).result(30)

    def saw(self, kind: type) -> bool:
        return any(isinstance(e, kind) for e in list(self.events))

    def close(self) -> None:
        for client in self.clients:
            with contextlib.suppress(Exception):
                self.loop.submit(client.close()).result(10)
        with contextlib.suppress(Exception):
            self.loop.submit(self._stack.aclose()).result(15)
        self.loop.stop()


@contextlib.contextmanager
def tls_relay(**overrides: Any) -> Iterator[TlsRelay]:
    relay = TlsRelay(**overrides)
    try:
        yield relay
    finally:
        relay.close()
