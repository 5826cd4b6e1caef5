"""``madoguchi demo --mode cobrowse``: one co-browse session on the demo bank with a real Chromium.

The customer (Chromium on a private Xvfb) opens the demo bank's login page, types the
operator's 6-digit code and allows; the operator is :class:`testbed.cobrowse.CobrowseOperator`
(a real aiortc peer behind a real relay) with the console's co-browse view
(operator_console.cobrowse_viewer) open in a second Chromium. The customer logs in, goes to
the account page and the transfer form, works there for ``seconds`` (typing, moving the
mouse), and stops. Figures: mirror latency (a DOM change in the customer's page to its
rendering in the operator's view; one wall clock on this machine), arrival latency (to the
decompressed batch), navigation (a page's load event to its snapshot on the operator's
side), bytes and events per second while the customer works, the first snapshot's size raw
and compressed.
"""

from __future__ import annotations

import gzip
import json
import secrets
import statistics
import time
from typing import Any

from relay.server import running_relay
from testbed.browser import WEB_DIR, BrowserCustomer
from testbed.cobrowse import DEMO_BANK, CobrowseOperator
from testbed.customer import TestbedError
from testbed.xvfb import VirtualDisplay

__all__ = ["cobrowse_session"]

_SEEN = (
    "(() => { const d = document.querySelector('#player iframe')?.contentDocument;"
    " return {status: document.getElementById('status').textContent,"
    " balance: d?.getElementById('balance')?.textContent ?? null, href: d?.location.href ?? null,"
    " title: d?.title ?? null}; })()"
)
_BALANCE = "document.getElementById('balance').textContent = {text}"
_RENDERED = (  # resolves with Date.now() once the operator's view shows TEXT as the balance
    "new Promise(r => { const t = () => document.querySelector('#player iframe')?.contentDocument"
    "?.getElementById('balance')?.textContent === TEXT ? r(Date.now()) : setTimeout(t, 2); t(); })"
)


async def cobrowse_session(seconds: float, *, say: Any = print) -> dict[str, Any]:
    """Run the session; the figures as a dict (``madoguchi demo --mode cobrowse --json``)."""
    with VirtualDisplay(screens=[(1280, 900)]) as xvfb:
        password = secrets.token_urlsafe(12)
        async with (
            running_relay(**DEMO_BANK) as relay,
            BrowserCustomer.start(xvfb.name) as browser,
            BrowserCustomer.start(xvfb.name) as staff,
        ):
            relay.add_operator("demo", password, display_name="山田 太郎 (Demo)", organisation="サンプル銀行")
            say(f"relay: listening on {relay.url}; customer and operator: Chromium {browser.version}")
            async with CobrowseOperator.start(relay, "demo", password) as operator:
                viewer = await operator.open_viewer()
                await staff.new_page(viewport=(1280, 900))
                await staff.goto(viewer)
                say(f"operator: the co-browse view at {viewer.split('127.0.0.1')[0]}127.0.0.1:…")
                return await _session(relay.url, browser, operator, staff, seconds=seconds, say=say)


async def _session(
    url: str,
    browser: BrowserCustomer,
    operator: CobrowseOperator,
    staff: BrowserCustomer,
    *,
    seconds: float,
    say: Any,
) -> dict[str, Any]:
    await browser.new_page(init_script=WEB_DIR / "e2e" / "leak-hook.js")
    await browser.goto(f"{url}/demo/bank/index.html")
    await browser.click("#cb-launcher")
    await browser.fill("#cb-code", operator.code)
    await browser.click("#cb-connect")
    await browser.wait("#cb-allow")
    say(f"customer: typed the operator's code {operator.code}; {await browser.text('#cb-request')}")
    allowed = time.monotonic()
    await browser.click("#cb-allow")
    await operator.until("no snapshot after Allow", lambda: _snapshots(operator) > 0, 15)
    allow_to_snapshot = time.monotonic() - allowed
    first_compressed, first_raw = _first_batch_sizes(operator)
    say(f"operator: first snapshot {first_raw} B raw, {first_compressed} B compressed")

    await browser.type("#user-id", "demo-user", delay_ms=30)
    await browser.type("#password", "demo-password", delay_ms=30)
    navigation = []
    for page in ("account.html", "transfer.html", "account.html"):
        before = _snapshots(operator)
        await browser.click(f".bank-nav a[href='{page}']")
        await browser.wait("#cb-sharing")
        loaded = await browser.eval(
            "(performance.timeOrigin + performance.getEntriesByType('navigation')[0].loadEventEnd) / 1000"
        )
        await operator.until(
            f"{page} never reached the operator", lambda b=before: _snapshots(operator) > b, 5
        )
        navigation.append(_last_snapshot_at(operator) - float(loaded))
    say(f"navigation: load -> operator {[round(d * 1000) for d in navigation]} ms")

    latency, rendered = [], []
    for i in range(30):
        text = f"{1_000_000 + i * 7919:,}"
        changed = time.time()
        await browser.eval(_BALANCE.format(text=json.dumps(text)))
        try:
            shown_ms = await staff.do("eval", script=_RENDERED.replace("TEXT", json.dumps(text)), timeout_s=5)
        except TestbedError:
            seen = await staff.eval(_SEEN)
            raise TestbedError(
                f"the operator's view never showed {text}: {seen}; {staff.console[-5:]}"
            ) from None
        arrived = await _arrival(operator, text)
        latency.append(arrived - changed)
        rendered.append(float(shown_ms) / 1000 - changed)

    await browser.click(".bank-nav a[href='transfer.html']")
    await operator.until("transfer page never shown", lambda: _snapshots(operator) >= 5, 5)
    start_bytes, start_events, started = (
        operator.received.bytes_received,
        len(operator.received.events),
        time.time(),
    )
    deadline = started + seconds
    step = 0
    while time.time() < deadline:  # the customer works: types, moves the mouse, scrolls a little
        step += 1
        await browser.type("#memo", f"memo {step} ", delay_ms=60)
        await browser.mouse(200 + (step * 37) % 600, 150 + (step * 53) % 500, steps=10)
    worked = time.time() - started
    bytes_worked = operator.received.bytes_received - start_bytes
    events_worked = len(operator.received.events) - start_events

    stop_at = time.monotonic()
    await browser.click("#cb-stop")
    await operator.until("Stop did not reach the operator", lambda: operator.ended is not None, 2)
    stop_s = time.monotonic() - stop_at
    latency_ms = sorted(v * 1000 for v in latency)
    rendered_ms = sorted(v * 1000 for v in rendered)
    result = {
        "mode": "cobrowse",
        "chromium": browser.version,
        "allow_to_first_snapshot_ms": round(allow_to_snapshot * 1000),
        "first_snapshot_bytes_raw": first_raw,
        "first_snapshot_bytes_compressed": first_compressed,
        "mirror_latency_ms": _summary(
            rendered_ms, "DOM change in the customer's page -> rendered in the operator's view (rrweb replay)"
        ),
        "arrival_latency_ms": _summary(
            latency_ms, "DOM change in the customer's page -> the batch decompressed on the operator's side"
        ),
        "navigation_ms": [round(d * 1000) for d in navigation],
        "working_seconds": round(worked, 1),
        "bytes_sent_per_s": round(bytes_worked / worked),
        "events_per_s": round(events_worked / worked, 1),
        "bytes_sent_total": operator.received.bytes_received,
        "events_total": len(operator.received.events),
        "stop_to_operator_ms": round(stop_s * 1000),
        "relay_forwarded_frames": len(operator.forwarded),
        "relay_forwarded_bytes": sum(len(f.encode()) for f in operator.forwarded),
    }
    if operator.ended is None:
        raise TestbedError("the session did not end")
    return result


def _summary(values_ms: list[float], what: str) -> dict[str, Any]:
    return {
        "what": what,
        "samples": len(values_ms),
        "median": round(statistics.median(values_ms), 1),
        "p95": round(values_ms[int(0.95 * (len(values_ms) - 1))], 1),
        "max": round(values_ms[-1], 1),
    }


def _snapshots(operator: CobrowseOperator) -> int:
    return sum(1 for e in operator.received.events if e["type"] == 2)


def _last_snapshot_at(operator: CobrowseOperator) -> float:
    return max(at for at, batch in operator.received.batches if any(e["type"] == 2 for e in batch))


def _first_batch_sizes(operator: CobrowseOperator) -> tuple[int, int]:
    """The first batch's size on the wire (its chunks) and as JSON."""
    compressed = bytearray()
    for raw in operator.received.raw:
        if raw[:1] not in (b"\x00", b"\x01"):
            continue  # a state message
        compressed += raw[1:]
        if raw[:1] == b"\x00":
            break
    return len(compressed), len(gzip.decompress(bytes(compressed)))


async def _arrival(operator: CobrowseOperator, text: str) -> float:
    found: list[float] = []

    def seen() -> bool:
        for at, batch in reversed(operator.received.batches):
            if text in json.dumps(batch, ensure_ascii=False):
                found.append(at)
                return True
        return False

    await operator.until(f"{text!r} never reached the operator", seen, 5)
    return found[0]
