"""The customer's pages on the relay: routes, content types, security headers, no escape from the folder."""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from relay.config import load_config
from relay.server import RunningRelay, running_relay
from relay.testing import fast_config, self_signed_certificate
from relay.web import HSTS, SECURITY_HEADERS


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


async def test_a_neutral_site_by_default(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{relay.url}/api/site") as r:
        assert await r.json() == {
            "company_name": "",
            "phone": "",
            "hours": "",
            "logo": False,
            "download": None,
        }
    async with http.get(f"{relay.url}/download/agent") as r:
        assert r.status == 404
    async with http.get(f"{relay.url}/site/brand.css") as r:
        assert await r.text() == ":root { --brand: #1d4f91; }\n"


async def test_the_configured_site_and_download(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    agent = tmp_path / "madoguchi-agent.exe"
    agent.write_bytes(b"MZ" + bytes(range(256)) * 1000)
    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>')
    toml = tmp_path / "relay.toml"
    toml.write_text(
        "[site]\n"
        'company_name = "Example Securities"\n'
        'phone = "0120-000-000"\n'
        'hours = "9:00-17:00"\n'
        'brand_colour = "#0a5c36"\n'
        f'logo = "{logo}"\n'
        f'agent_download = "{agent}"\n'
    )
    config = load_config(toml, env={}, port=0, data_dir=tmp_path / "data")
    async with running_relay(config) as relay:
        async with http.get(f"{relay.url}/api/site") as r:
            site = await r.json()
        assert site == {
            "company_name": "Example Securities",
            "phone": "0120-000-000",
            "hours": "9:00-17:00",
            "logo": True,
            "download": {
                "name": "madoguchi-agent.exe",
                "size_bytes": agent.stat().st_size,
                "sha256": hashlib.sha256(agent.read_bytes()).hexdigest(),
            },
        }
        async with http.get(f"{relay.url}/download/agent") as r:
            assert r.status == 200
            assert r.headers["Content-Disposition"] == 'attachment; filename="madoguchi-agent.exe"'
            assert r.headers["Content-Type"] == "application/octet-stream"
            assert await r.read() == agent.read_bytes()
        async with http.get(f"{relay.url}/site/brand.css") as r:
            assert await r.text() == ":root { --brand: #0a5c36; }\n"
        async with http.get(f"{relay.url}/site/logo") as r:
            assert r.status == 200
            assert r.headers["Content-Type"] == "image/svg+xml"


async def test_a_colour_that_is_not_a_colour(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    bad = "red; } body { display: none"
    async with running_relay(fast_config(tmp_path, site_brand_colour=bad)) as relay:
        response = await http.get(f"{relay.url}/site/brand.css")
        assert await response.text() == ":root { --brand: #1d4f91; }\n"


async def test_hsts_over_tls_only(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    cert, key = self_signed_certificate(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    async with running_relay(fast_config(tmp_path / "d"), ssl_context=server_ctx) as relay:
        response = await http.get(f"{relay.url}/", ssl=client_ctx)
        assert response.status == 200
        assert response.headers["Strict-Transport-Security"] == HSTS
    async with running_relay(fast_config(tmp_path / "e")) as relay:
        response = await http.get(f"{relay.url}/")
        assert "Strict-Transport-Security" not in response.headers
