"""The customer's pages on the relay: routes, content types, security headers, no escape from the folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from relay.server import RunningRelay, running_relay
from relay.testing import fast_config
from relay.web import SECURITY_HEADERS


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RunningRelay]:
    async with running_relay(fast_config(tmp_path)) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.parametrize(("path", "marker"), [("/", 'id="start-normal"'), ("/share", 'id="agree"')])
async def test_pages(relay: RunningRelay, http: aiohttp.ClientSession, path: str, marker: str) -> None:
    async with http.get(relay.url + path) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert r.headers["Cache-Control"] == "no-cache"
        for name, value in SECURITY_HEADERS.items():
            assert r.headers[name] == value
        body = await r.text()
    assert marker in body
    assert "<script>" not in body  # the CSP allows no inline script: there must be none to break
    assert " style=" not in body


async def test_scripts_and_styles(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{relay.url}/static/js/protocol.js") as r:
        assert r.status == 200
        assert r.headers["Content-Type"] in ("text/javascript", "application/javascript")
        assert "PROTOCOL_VERSION = 1" in await r.text()
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    async with http.get(f"{relay.url}/static/css/site.css") as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "text/css"


@pytest.mark.parametrize(
    "path",
    [
        "/static/../../relay/config.py",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/",
        "/static/js/",
        "/nope",
    ],
)
async def test_nothing_outside_the_pages(relay: RunningRelay, http: aiohttp.ClientSession, path: str) -> None:
    async with http.get(relay.url + path) as r:
        assert r.status in (403, 404)
        assert r.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]
        assert "import" not in await r.text()


async def test_the_api_keeps_its_answers(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{relay.url}/api/terms?lang=en") as r:
        assert r.status == 200
        assert r.headers["X-Frame-Options"] == "DENY"
        assert "terms" in (await r.json())["text"].lower()


async def test_without_pages_the_relay_still_runs(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    async with running_relay(fast_config(tmp_path, web_dir=tmp_path / "none")) as relay:
        async with http.get(relay.url + "/") as r:
            assert r.status == 404
        async with http.get(f"{relay.url}/healthz") as r:
            assert r.status == 200
