"""``madoguchi demo --mode browser``: one whole session with a real Chromium as the customer.

The screen is a 1920x1080 Xvfb with Chromium's window on the left (1280x900 at 0,0)
and a stamped scene on the right (640x1072 at 1280,0), so the page and something moving
are both in the shared picture. The customer opens the relay's normal-mode page, agrees,
shares the whole screen and clicks Allow; the operator client logs in, types the code,
watches and moves the pointer; then the operator ends the session. The figures are the
ones of the agent's demo; latency is paint to decoded (the scene logs when it painted
each stamp, the operator reads it back; one monotonic clock on this machine).
"""

from __future__ import annotations

import asyncio
import math
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from client_core.rtc import selected_pair
from operator_console.client import ClaimAccepted, OperatorClient, SessionEnded, ViewingStarted
from relay.server import running_relay
from testbed.browser import BrowserCustomer
from testbed.operator import expect
from testbed.scene import STAMP_X, STAMP_Y, SceneProcess
from testbed.stamp import read_stamp
from testbed.xvfb import VirtualDisplay

_NO_PAIR = ("local_type", "remote_type", "protocol", "relay_protocol")

__all__ = ["SCENE", "SCREEN", "browser_session"]

SCREEN = (1920, 1080)
SCENE = (1280, 0, 640, 1072)
"""Beside Chromium's window, on the 16 px grid (the stamp's blocks are macroblocks)."""


async def browser_session(seconds: float, *, scene: str = "scroll", say: Any = print) -> dict[str, Any]:
    """Run the session; the figures as ``madoguchi demo`` reports them, plus ``allow_to_first_frame_ms``."""
    with (
        VirtualDisplay(screens=[SCREEN]) as xvfb,
        tempfile.TemporaryDirectory(prefix="madoguchi-demo-") as tmp,
    ):
        painted_log = Path(tmp) / "painted.txt"
        with SceneProcess(xvfb.name, scene, fps=30.0, geometry=SCENE, stamp_file=str(painted_log)):
            result = await _session(xvfb.name, seconds, painted_log, say)
        result["scene"] = f"Xvfb {xvfb.name} {SCREEN[0]}x{SCREEN[1]}: Chromium and scene '{scene}'"
        return result


async def _session(display: str, seconds: float, painted_log: Path, say: Any) -> dict[str, Any]:
    decoded: dict[int, float] = {}
    x, y = SCENE[0] + STAMP_X, SCENE[1] + STAMP_Y

    def on_frame(image: Any, at: float) -> None:
        value = read_stamp(image, x=x, y=y)
        if value is not None:
            decoded.setdefault(value, at)

    password = secrets.token_urlsafe(12)
    async with running_relay() as relay, BrowserCustomer.start(display) as browser:
        relay.add_operator(
            "demo", password, display_name="山田 太郎 (Demo)", organisation="Madoguchi Support"
        )
        say(f"relay: listening on {relay.url}; customer: Chromium {browser.version}")
        operator = OperatorClient(relay.url)
        operator.sink.on_frame = on_frame
        try:
            await browser.goto(f"{relay.url}/share?lang=en")
            await browser.click("#agree")
            await browser.wait("#view-code", timeout_s=15)
            code = await browser.text("#code")
            say(f"customer: agreed, shared the whole screen, reads out {code}")
            await operator.login("demo", password)
            await operator.claim(code)
            await expect(operator, ClaimAccepted, 10, "the code was not accepted")
            await browser.wait("#allow")
            allowed_at = time.monotonic()
            await browser.click("#allow")
            say("customer: allowed")
            await expect(operator, ViewingStarted, 20, "the screen never arrived")
            figures = await _watch(operator, seconds)
            first = operator.sink.first_frame_at
            moves = await browser.eval("Number(document.getElementById('pointer').dataset.moves ?? 0)")
            left = await browser.eval("document.getElementById('pointer').style.left")
            # The pair as the operator's side sees it (the browser's own is Chromium's).
            pair = selected_pair(operator.peer.pc) if operator.peer is not None else None
            await operator.end_session()
            ended = await expect(operator, SessionEnded, 10, "the session did not end")
            await browser.wait("#view-ended")
        finally:
            await operator.close()
    painted = _painted(painted_log)
    latencies = sorted((t - painted[v]) * 1000 for v, t in decoded.items() if v in painted)
    last = figures.pop("last_pointer")
    return {
        "mode": "browser",
        "code": code,
        "frames_received": figures["frames_received"],
        "fps": figures["fps"],
        "ice": pair.as_dict() if pair is not None else dict.fromkeys(_NO_PAIR),
        "first_frame_s": None if first is None else round(first - allowed_at, 3),
        "allow_to_first_frame_ms": None if first is None else round((first - allowed_at) * 1000, 1),
        "latency_ms_median": _percentile(latencies, 0.5),
        "latency_ms_p95": _percentile(latencies, 0.95),
        "latency_samples": len(latencies),
        "bitrate_kbps": figures["bitrate_kbps"],
        "rtt_ms": figures["rtt_ms"],
        "pointer_events_sent": figures["pointer_events_sent"],
        "pointer_events_received": int(moves),
        "pointer_last_matches": left == f"{last[0] * 100:g}%",
        "frames_sent": None,
        "frames_skipped_unchanged": None,
        "ended_by": ended.by,
        "end_reason": str(ended.reason),
        "seconds": seconds,
    }


async def _watch(operator: OperatorClient, seconds: float) -> dict[str, Any]:
    """Stream for ``seconds`` while the pointer circles at 10 Hz; the operator's figures."""
    start = time.monotonic()
    sent = 0
    last = (0.5, 0.5)
    frames_at_start = operator.sink.frames_received
    stats = await operator.stats()
    first_bytes = (time.monotonic(), stats.bytes_received if stats else 0)
    while (elapsed := time.monotonic() - start) < seconds:
        angle = elapsed * 2 * math.pi / 4.0
        last = (round(0.5 + 0.3 * math.cos(angle), 4), round(0.5 + 0.3 * math.sin(angle), 4))
        if operator.send_pointer(*last):
            sent += 1
        stats = await operator.stats()
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.3)
    stats = await operator.stats()
    duration = time.monotonic() - start
    received = stats.bytes_received if stats else 0
    frames = operator.sink.frames_received
    return {
        "frames_received": frames,
        "fps": round((frames - frames_at_start) / duration, 1),
        "bitrate_kbps": round(
            (received - first_bytes[1]) * 8 / 1000 / max(time.monotonic() - first_bytes[0], 1e-3), 1
        ),
        "rtt_ms": None if stats is None or stats.rtt_ms is None else round(stats.rtt_ms, 1),
        "pointer_events_sent": sent,
        "last_pointer": last,
    }


def _painted(log: Path) -> dict[int, float]:
    """When the scene first painted each counter (its stamp file: "counter monotonic" lines)."""
    painted: dict[int, float] = {}
    for line in log.read_text().splitlines():
        counter, painted_at = line.split()
        painted.setdefault(int(counter), float(painted_at))
    return painted


def _percentile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1)
