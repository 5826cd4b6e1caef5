"""The console's co-browse view server: loopback only, secret path, strict CSP, pointer messages only out."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from operator_console.cobrowse_viewer import VIEWER_CSP, CobrowseViewer, checked_pointer


def test_only_a_well_formed_pointer_goes_to_the_customer() -> None:
    good = checked_pointer('{"type": "cobrowse_pointer", "action": "click", "node": 7, "fx": 0.5, "fy": 1}')
    assert good is not None
    assert json.loads(good) == {"type": "cobrowse_pointer", "action": "click", "node": 7, "fx": 0.5, "fy": 1}
    for bad in (
        '{"type": "cobrowse_pointer", "action": "click", "node": 7, "fx": 0.5, "fy": 1, "extra": "x"}',
        '{"type": "click", "x": 1}',
        '{"type": "cobrowse_pointer", "action": "type", "node": 7, "fx": 0.5, "fy": 0.5}',
        '{"type": "cobrowse_pointer", "action": "move", "node": true, "fx": 0.5, "fy": 0.5}',
        '{"type": "cobrowse_pointer", "action": "move", "node": -1, "fx": 0.5, "fy": 0.5}',
        '{"type": "cobrowse_pointer", "action": "move", "node": 1, "fx": NaN, "fy": 0.5}',
        '{"type": "cobrowse_pointer", "action": "move", "node": 1, "fx": 1.5, "fy": 0.5}',
        "[]",
        "nope",
    ):
        out = checked_pointer(bad)
        # Extra fields are dropped, never passed on; everything else is refused.
        assert out is None or json.loads(out).keys() == {"type", "action", "node", "fx", "fy"}, bad
    assert checked_pointer('{"type": "click", "x": 1}') is None


@pytest.mark.parametrize("path", ["", "viewer.js", "rrweb-replay.js"])
async def test_the_view_is_served_on_loopback_under_its_secret_with_a_strict_policy(path: str) -> None:
    sent: list[str] = []
    viewer = CobrowseViewer(on_pointer=sent.append)
    url = await viewer.start()
    try:
        assert url.startswith("http://127.0.0.1:")
        secret = url.rstrip("/").rsplit("/", 1)[1]
        assert len(secret) >= 32
        async with aiohttp.ClientSession() as http:
            async with http.get(url + path) as r:
                assert r.status == 200
                assert r.headers["Content-Security-Policy"] == VIEWER_CSP
            async with http.get(url.replace(secret, "x" * len(secret)) + path) as r:
                assert r.status == 404
        assert "script-src 'self'" in VIEWER_CSP
        assert "'unsafe-eval'" not in VIEWER_CSP
    finally:
        await viewer.close()


async def test_a_late_tab_gets_the_page_since_its_last_snapshot_and_pointers_are_checked() -> None:
    sent: list[str] = []
    viewer = CobrowseViewer(on_pointer=sent.append)
    url = await viewer.start()
    try:
        viewer.push_events([{"type": 4, "data": {"href": "old"}}, {"type": 2}])
        viewer.push_events([{"type": 4, "data": {"href": "new"}}, {"type": 2}])
        viewer.push_state({"type": "cobrowse_state", "paused": False, "reason": None})
        async with aiohttp.ClientSession() as http, http.ws_connect(url + "feed") as ws:
            first = json.loads(await ws.receive_str())
            assert first["events"][0]["data"]["href"] == "new"  # the old page is not replayed
            assert json.loads(await ws.receive_str())["kind"] == "state"
            await ws.send_str('{"type": "navigate", "url": "https://evil.example/"}')
            await ws.send_str('{"type": "cobrowse_pointer", "action": "move", "node": 3, "fx": 0, "fy": 0}')
            for _ in range(100):  # the server reads both frames in order
                if sent:
                    break
                await asyncio.sleep(0.01)
            viewer.push_ended()
            assert json.loads(await ws.receive_str())["kind"] == "ended"
        assert [json.loads(s)["node"] for s in sent] == [3]
    finally:
        await viewer.close()
