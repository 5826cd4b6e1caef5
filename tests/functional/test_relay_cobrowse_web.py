"""Co-browsing's side of the relay's web: the site's rules by site key, the pinned recorder, the demo bank."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from relay.config import ConfigError, load_config
from relay.server import RunningRelay, running_relay
from relay.testing import fast_config
from relay.web import CSP, DEMO_CSP

RULES = {
    "shareable": ["/demo/bank/", "/demo/bank/account.html"],
    "mask_selectors": [".balance-detail"],
    "block_selectors": ["#ads"],
    "keyboard_selectors": [".soft-keyboard"],
}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RunningRelay]:
    config = fast_config(
        tmp_path,
        cobrowse_site_key="demo-bank",
        cobrowse_shareable=tuple(RULES["shareable"]),
        cobrowse_mask_selectors=tuple(RULES["mask_selectors"]),
        cobrowse_block_selectors=tuple(RULES["block_selectors"]),
        cobrowse_keyboard_selectors=tuple(RULES["keyboard_selectors"]),
        cobrowse_demo_site=True,
        cobrowse_allowed_origins=(BANK,),
    )
    async with running_relay(config) as running:
        yield running


BANK = "https://www.bank.example"


async def test_the_rules_go_to_the_right_site_key_only(
    relay: RunningRelay, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{relay.url}/api/cobrowse/config?site_key=demo-bank") as r:
        assert r.status == 200
        assert await r.json() == {**RULES, "brand": {"company_name": "", "colour": "#1d4f91"}}
        assert r.headers["Access-Control-Allow-Origin"] == "*"  # the bank's pages are on another origin
        assert r.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    for key in ("", "demo-ban", "demo-bank2", "DEMO-BANK"):
        async with http.get(f"{relay.url}/api/cobrowse/config", params={"site_key": key}) as r:
            assert r.status == 404, key


async def test_co_browsing_is_off_without_a_site_key_and_no_demo_by_default(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with running_relay(fast_config(tmp_path)) as relay:
        async with http.get(f"{relay.url}/api/cobrowse/config?site_key=") as r:
            assert r.status == 404
        async with http.get(f"{relay.url}/demo/bank/") as r:
            assert r.status == 404  # no fake bank login page on a production relay


async def test_the_pinned_recorder_and_the_script_load_from_another_origin(
    relay: RunningRelay, http: aiohttp.ClientSession
) -> None:
    pinned = json.loads((Path(__file__).parents[2] / "web" / "package.json").read_text())["dependencies"]
    assert pinned["@rrweb/record"] == "2.1.6"  # exact, no range
    async with http.get(f"{relay.url}/vendor/rrweb-record.js") as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/javascript")
        assert "export" in await r.text()
        assert r.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    for path in ("/static/js/cobrowse.js", "/static/js/cobrowse-rules.js", "/static/css/cobrowse.css"):
        async with http.get(relay.url + path) as r:
            assert r.status == 200, path
            assert r.headers["Access-Control-Allow-Origin"] == "*"
    async with http.get(f"{relay.url}/share") as r:  # the relay's own pages stay same-origin
        assert r.headers["Cross-Origin-Resource-Policy"] == "same-origin"
        assert "Access-Control-Allow-Origin" not in r.headers


async def test_the_demo_bank_may_frame_itself_only(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    for page in ("", "index.html", "privacy.html", "frame.html", "inner.html"):
        async with http.get(f"{relay.url}/demo/bank/{page}") as r:
            assert r.status == 200, page
            assert r.headers["Content-Security-Policy"] == DEMO_CSP
            assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
            body = await r.text()
        if page != "inner.html":
            assert 'data-madoguchi-site-key="demo-bank"' in body
    assert "frame-ancestors 'self'" in DEMO_CSP
    assert "frame-src 'self'" in DEMO_CSP
    assert "script-src 'self'" in DEMO_CSP
    assert "frame-ancestors 'none'" in CSP
    async with http.get(f"{relay.url}/demo/bank/../../relay/web.py") as r:
        assert r.status in (403, 404)


async def test_only_the_relay_s_own_and_the_allowed_origins_may_connect(
    relay: RunningRelay, http: aiohttp.ClientSession
) -> None:
    own = relay.url  # http://127.0.0.1:PORT
    for origin, allowed in (
        (None, True),  # the agent and the console send none
        (own, True),
        (BANK, True),
        (BANK.upper(), True),
        ("https://evil.example", False),
        (f"{own}1", False),  # another port
        ("http://localhost" + own.removeprefix("http://127.0.0.1"), False),
        ("null", False),  # a sandboxed frame or a file
    ):
        headers = {} if origin is None else {"Origin": origin}
        async with http.get(f"{relay.url}/api/cobrowse/config?site_key=demo-bank", headers=headers) as r:
            assert r.status == (200 if allowed else 403), origin
            assert r.headers["Access-Control-Allow-Origin"] == "*"  # the script can read why
            if not allowed:
                assert await r.json() == {"error": "origin_not_allowed", "origin": origin}
        for path in ("/ws/agent", "/ws/operator"):
            if allowed:
                async with http.ws_connect(relay.url + path, headers=headers) as ws:
                    await ws.close()
            else:
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(relay.url + path, headers=headers)
                assert refused.value.status == 403, (origin, path)
    # Behind nginx's "proxy_set_header Host $host" the Host has no port: the host name decides.
    for origin, status in (("https://127.0.0.1:8443", 200), ("https://evil.example", 403)):
        headers = {"Origin": origin, "Host": "127.0.0.1"}
        async with http.get(f"{relay.url}/api/cobrowse/config?site_key=demo-bank", headers=headers) as r:
            assert r.status == status, origin


def test_the_cobrowse_table_is_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "relay.toml"
    path.write_text(
        '[cobrowse]\nsite_key = "bank-web"\nshareable = ["/", "/account/*"]\n'
        'mask_selectors = [".x"]\nkeyboard_selectors = [".kb"]\ndemo_site = true\n'
    )
    config = load_config(path, env={})
    assert config.cobrowse_site_key == "bank-web"
    assert config.cobrowse_shareable == ("/", "/account/*")
    assert config.cobrowse_mask_selectors == (".x",)
    assert config.cobrowse_block_selectors == ()
    assert config.cobrowse_keyboard_selectors == (".kb",)
    assert config.cobrowse_demo_site is True
    assert config.cobrowse_allowed_origins == ()
    path.write_text('[cobrowse]\nallowed_origins = ["HTTPS://Bank.example:8443"]\n')
    assert load_config(path, env={}).cobrowse_allowed_origins == ("https://bank.example:8443",)
    for bad in ("bank.example", "https://bank.example/", "ftp://bank.example", "https://"):
        path.write_text(f'[cobrowse]\nallowed_origins = ["{bad}"]\n')
        with pytest.raises(ConfigError, match="origin"):
            load_config(path, env={})
    path.write_text('[cobrowse]\nshareable = "/"\n')
    with pytest.raises(ConfigError, match="cobrowse_shareable"):
        load_config(path, env={})
    path.write_text("[cobrowse]\nunknown = 1\n")
    with pytest.raises(ConfigError, match="unknown"):
        load_config(path, env={})
