"""Shared fixtures: a private Xvfb display, free ports, an HTTP client session."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from testbed.xvfb import VirtualDisplay


@pytest.fixture(scope="session")
def xvfb() -> Iterator[str]:
    """A 1920x1080x24 Xvfb display for the whole test session; sets DISPLAY."""
    with VirtualDisplay(screens=[(1920, 1080)]) as display:
        old = os.environ.get("DISPLAY")
        os.environ["DISPLAY"] = display.name
        try:
            yield display.name
        finally:
            if old is None:
                os.environ.pop("DISPLAY", None)
            else:
                os.environ["DISPLAY"] = old


DUAL_MONITORS = [(0, 0, 1280, 720), (1280, 0, 800, 600)]
"""Layout of the ``xvfb_dual`` display: two RandR monitors side by side, the first primary."""


@pytest.fixture(scope="session")
def xvfb_dual() -> Iterator[str]:
    """A second Xvfb split into the two monitors of ``DUAL_MONITORS``; DISPLAY is left alone."""
    with VirtualDisplay(monitors=DUAL_MONITORS) as display:
        yield display.name


@pytest.fixture
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """An aiohttp client session, closed after the test."""
    async with aiohttp.ClientSession() as session:
        yield session
