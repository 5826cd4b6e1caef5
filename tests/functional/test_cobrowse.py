"""Co-browsing end to end: a real Chromium on Xvfb on the demo bank, a real relay, a real aiortc operator.

The customer's page runs ``web/e2e/leak-hook.js`` first, which keeps a copy of everything the
page hands to the network (data channels, websockets, fetch, XHR, beacons). The operator is
:class:`testbed.cobrowse.CobrowseOperator`, which keeps every signaling frame the relay
forwarded to it. The leak tests type known secrets into every kind of field and then search
all of that, decompressed, for any piece of any secret.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import gzip
import json
import logging
import re
import statistics
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from relay.server import RunningRelay, running_relay
from relay.testing import fast_config
from testbed.browser import WEB_DIR, BrowserCustomer
from testbed.cobrowse import DEMO_BANK, CobrowseOperator

pytestmark = pytest.mark.display
logger = logging.getLogger(__name__)

PASSWORD = "correct horse battery"
FIXED_MASK = "●●●●●●●●"
"""web/static/js/cobrowse-rules.js FIXED_MASK."""
LEAK_HOOK = WEB_DIR / "e2e" / "leak-hook.js"


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RunningRelay]:
    config = fast_config(tmp_path, allow_timeout_s=20.0, **DEMO_BANK)  # every page but privacy.html
    async with running_relay(config) as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "サンプル銀行")
        yield running


@pytest.fixture
async def operator(relay: RunningRelay) -> AsyncIterator[CobrowseOperator]:
    async with CobrowseOperator.start(relay, "hanako", PASSWORD) as op:
        yield op


async def _share(
    browser: BrowserCustomer,
    relay: RunningRelay,
    operator: CobrowseOperator,
    page: str,
    *,
    fresh: bool = True,
) -> None:
    """Open a demo page with the leak hook, type the operator's code, Allow, wait for the channel."""
    if fresh:
        await browser.new_page(init_script=LEAK_HOOK)
    await browser.goto(f"{relay.url}/demo/bank/{page}")
    await browser.click("#cb-launcher")
    await browser.fill("#cb-code", operator.code)
    await browser.click("#cb-connect")
    await browser.wait("#cb-allow")
    assert "佐藤 花子" in await browser.text("#cb-request")
    assert operator.received.raw == []  # nothing before Allow
    await browser.click("#cb-allow")
    await operator.until("the cobrowse channel never opened", operator.channel_open.is_set, 15)
    await operator.until("no state from the customer", lambda: operator.received.states, 10)
    if not operator.received.states[0]["paused"]:
        await operator.until(
            "no full snapshot", lambda: any(e["type"] == 2 for e in operator.received.events)
        )


async def _sent(browser: BrowserCustomer) -> list[dict[str, str]]:
    return list(await browser.eval("window.__madoguchiSent"))


def _decoded(sent: list[dict[str, str]]) -> Iterator[str]:
    """Every message the page sent, as text: cobrowse batches reassembled and gunzipped."""
    pending = b""
    for item in sent:
        if "text" in item:
            yield item["text"]
            continue
        raw = base64.b64decode(item["b64"])
        yield raw.decode("latin-1")  # the compressed bytes themselves, too
        if item["label"] == "cobrowse":
            pending += raw[1:]
            if raw[:1] == b"\x00":
                yield gzip.decompress(pending).decode()
                pending = b""


def _pieces(secret: str, size: int = 4) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)} | {secret}


def _assert_no_secret(haystacks: list[str], secrets: dict[str, str]) -> None:
    for field, secret in secrets.items():
        for text in haystacks:
            if secret.isdigit():
                # Digits: timestamps, node ids and ICE priorities are long runs of digits in
                # which any 4 digits turn up by chance. A leak is a run that is a piece of
                # the secret (4 digits or more) or holds the whole secret.
                for run in re.finditer(r"[0-9]{4,}", text):
                    leaked = run.group() in secret or secret in run.group()
                    assert not leaked, f"{field}: {run.group()!r} of its secret left the browser"
                continue
            for piece in _pieces(secret):
                at = text.find(piece)
                assert at < 0, (
                    f"{field}: {piece!r} of its secret left the browser: {text[max(0, at - 120) : at + 40]!r}"
                )


def _values(events: list[dict[str, Any]]) -> list[str]:
    """Every input value rrweb sent: snapshot ``value`` attributes, input events, attribute mutations."""
    out: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        attrs = node.get("attributes") or {}
        if "value" in attrs and node.get("tagName") in ("input", "textarea", "select"):
            out.append(str(attrs["value"]))
        for child in node.get("childNodes") or []:
            walk(child)

    for event in events:
        data = event.get("data") or {}
        if event.get("type") == 2:
            walk(data["node"])
        elif event.get("type") == 3 and data.get("source") == 5:  # IncrementalSource.Input
            out.append(str(data.get("text", "")))
        elif event.get("type") == 3 and data.get("source") == 0:  # Mutation
            for added in data.get("adds") or []:
                walk(added["node"])
            for change in data.get("attributes") or []:
                if "value" in (change.get("attributes") or {}):
                    out.append(str(change["attributes"]["value"]))
    return out


LOGIN_SECRETS = {
    "user-id": "qzUser7731",
    "password": "Pw9#xKv2rT",
    "password-shown": "Sh0wnQj58Lm",
    "hidden": "H1ddQz9Tokn",
    "query": "Qry7ZqSessn",
}


async def test_login_page_leaks_nothing(
    relay: RunningRelay, browser: BrowserCustomer, operator: CobrowseOperator
) -> None:
    await browser.new_page(init_script=LEAK_HOOK)
    page = (
        f"index.html?session={LOGIN_SECRETS['query']}#{LOGIN_SECRETS['query']}"  # the address is private too
    )
    await browser.goto(f"{relay.url}/demo/bank/{page}")
    # A hidden field with a value before sharing starts (rrweb issue 1609).
    await browser.eval(f"document.getElementById('csrf').value = {json.dumps(LOGIN_SECRETS['hidden'])}")
    await _share(browser, relay, operator, page, fresh=False)
    await operator.until("no full snapshot", lambda: any(e["type"] == 2 for e in operator.received.events))
    metas = [e["data"]["href"] for e in operator.received.events if e["type"] == 4]
    assert metas == [f"{relay.url}/demo/bank/index.html"]

    await browser.type("#user-id", LOGIN_SECRETS["user-id"], delay_ms=20)
    await browser.type("#password", LOGIN_SECRETS["password"], delay_ms=20)
    await browser.click("#show-password")  # now type=text: still masked
    await browser.type("#password", LOGIN_SECRETS["password-shown"], delay_ms=20)
    await browser.eval(f"document.getElementById('csrf').value = {json.dumps(LOGIN_SECRETS['hidden'] + 'X')}")
    await browser.eval("document.body.dataset.done = '1'")  # a last mutation to wait for
    await operator.until("the last change never arrived", lambda: _saw_attribute(operator, "data-done"))

    sent = await _sent(browser)
    assert any(item["label"] == "cobrowse" for item in sent)
    texts = list(_decoded(sent))
    _assert_no_secret(texts + operator.forwarded, LOGIN_SECRETS)
    values = _values(operator.received.events)
    assert values, "no input value was mirrored at all"
    assert set(values) <= {FIXED_MASK, ""}, set(values)  # every value the same length: no length told


def _saw_attribute(operator: CobrowseOperator, name: str) -> bool:
    for event in operator.received.events:
        data = event.get("data") or {}
        changes = (data.get("attributes") or []) if event.get("type") == 3 and data.get("source") == 0 else []
        if any(name in (c.get("attributes") or {}) for c in changes):
            return True
    return False


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def _until_text(operator: CobrowseOperator, text: str, timeout: float = 5.0) -> float:
    """When a batch carrying ``text`` arrived (time.time())."""
    found: list[float] = []

    def seen() -> bool:
        for at, batch in operator.received.batches:
            if text in json.dumps(batch, ensure_ascii=False):
                found.append(at)
                return True
        return False

    await operator.until(f"{text!r} never reached the operator", seen, timeout)
    return found[0]


TRANSFER_SECRETS = {
    "to-account": "90817263",
    "recipient": "Qwyzz Kvxpq",
    "email": "vzq.qkw@zqxv.jp",
    "tel": "0312349876",
    "memo": "Mzq8 Wvx\nkqz Jvw",
    "note": "Xqzj Xz7 qv",
    "ref": "RZF-Zq71Wk",
}


async def test_transfer_page_leaks_nothing(
    relay: RunningRelay, browser: BrowserCustomer, operator: CobrowseOperator
) -> None:
    await _share(browser, relay, operator, "transfer.html")
    await operator.until("no full snapshot", lambda: any(e["type"] == 2 for e in operator.received.events))
    snapshot = json.dumps(operator.received.events, ensure_ascii=False)
    assert "9876-5432" not in snapshot  # data-madoguchi-private
    assert "4567890" not in snapshot  # the configured mask selector (.account-no is on account.html: absent)

    for field in ("to-account", "recipient", "email", "tel", "memo"):
        await browser.type(f"#{field}", TRANSFER_SECRETS[field], delay_ms=10)
    await browser.type("#note", TRANSFER_SECRETS["note"], delay_ms=10)
    await browser.eval(
        "(() => { const s = document.getElementById('bank'); s.value = '0002';"
        " s.dispatchEvent(new Event('input', {bubbles: true}));"
        " s.dispatchEvent(new Event('change', {bubbles: true})); })()"
    )
    await browser.click("#fill-ref")  # the bank's script fills the field, then again with the secret
    await browser.eval(f"document.getElementById('ref').value = {json.dumps(TRANSFER_SECRETS['ref'])}")
    await browser.eval("document.body.dataset.done = '1'")
    await operator.until("the last change never arrived", lambda: _saw_attribute(operator, "data-done"))

    sent = await _sent(browser)
    _assert_no_secret([*_decoded(sent), *operator.forwarded], TRANSFER_SECRETS)
    values = _values(operator.received.events)
    assert FIXED_MASK in values
    assert set(values) <= {FIXED_MASK, ""}, set(values)
    inputs = [
        e["data"]["id"] for e in operator.received.events if e["type"] == 3 and e["data"].get("source") == 5
    ]
    per_field = collections.Counter(inputs)
    assert max(per_field.values()) <= 2, per_field  # one event per field, not one per key: no rhythm
    events = json.dumps(operator.received.events, ensure_ascii=False)
    assert '"selected"' not in events  # which bank was chosen is not told either


async def test_iframe_and_shadow_dom_leak_nothing(
    relay: RunningRelay, browser: BrowserCustomer, operator: CobrowseOperator
) -> None:
    secrets = {"iframe": "Ifr4meQzWq", "shadow": "Sh4dowOtpZq"}
    await _share(browser, relay, operator, "frame.html")
    await operator.until("no full snapshot", lambda: any(e["type"] == 2 for e in operator.received.events))
    await browser.fill("#inquiry-text", secrets["iframe"], frame="#inquiry")
    await browser.eval("document.body.dataset.done = '1'")
    await operator.until("the iframe change never arrived", lambda: _saw_attribute(operator, "data-done"))
    sent = await _sent(browser)
    _assert_no_secret([*_decoded(sent), *operator.forwarded], secrets)
    assert FIXED_MASK in _values(operator.received.events)  # the iframe's field was mirrored, masked

    async with CobrowseOperator.start(relay, "hanako", PASSWORD) as second:
        await _share(browser, relay, second, "shadow.html")
        await second.until("no full snapshot", lambda: any(e["type"] == 2 for e in second.received.events))
        await browser.type("#otp-input", secrets["shadow"], delay_ms=10)
        await browser.eval("document.body.dataset.done = '1'")
        await second.until("the shadow change never arrived", lambda: _saw_attribute(second, "data-done"))
        sent = await _sent(browser)
        _assert_no_secret([*_decoded(sent), *second.forwarded], secrets)
        assert FIXED_MASK in _values(second.received.events)


async def test_a_never_shared_page_is_never_sent(
    relay: RunningRelay, browser: BrowserCustomer, operator: CobrowseOperator
) -> None:
    await _share(browser, relay, operator, "privacy.html")
    assert operator.received.states[0] == {"type": "cobrowse_state", "paused": True, "reason": "not_shared"}
    await asyncio.sleep(1.0)
    assert operator.received.batches == []
    assert "共有されません" in await browser.text("#cb-sharing")
    sent = json.dumps(await _sent(browser), ensure_ascii=False)
    assert "サンプル1-2-3" not in sent
    assert "1980" not in sent


async def test_the_software_keyboard_stops_recording_mouse_included(
    relay: RunningRelay, browser: BrowserCustomer, operator: CobrowseOperator
) -> None:
    await _share(browser, relay, operator, "index.html")
    await operator.until("no full snapshot", lambda: any(e["type"] == 2 for e in operator.received.events))
    await browser.mouse(100, 100)
    await browser.mouse(300, 200)
    await operator.until("no mouse move recorded", lambda: _mouse_events(operator) > 0)
    await browser.click("#open-keyboard")
    await operator.until("no pause", lambda: len(operator.received.states) >= 2)
    assert operator.received.states[1] == {"type": "cobrowse_state", "paused": True, "reason": "keyboard"}
    assert "キーボード" in await browser.text("#cb-sharing")
    before = len(operator.received.batches)
    sent_before = len(await _sent(browser))
    for key in ("7", "3", "9"):  # mouse moves and clicks over the keys
        await browser.click(f"#soft-keyboard >> text={key}")
    await browser.mouse(50, 400, steps=20)
    await asyncio.sleep(0.6)
    assert len(operator.received.batches) == before, "something was recorded while the keyboard was up"
    while_paused = (await _sent(browser))[sent_before:]
    assert all(item["label"] != "cobrowse" for item in while_paused), while_paused  # not one byte
    await browser.click("#close-keyboard")
    await operator.until("no resume", lambda: len(operator.received.states) >= 3)
    assert operator.received.states[2] == {"type": "cobrowse_state", "paused": False, "reason": None}
    await operator.until("no fresh snapshot", lambda: len(operator.received.batches) > before)
    assert any(e["type"] == 2 for e in operator.received.batches[before][1])  # a full snapshot first


def _mouse_events(operator: CobrowseOperator) -> int:
    return sum(
        1
        for e in operator.received.events
        if e.get("type") == 3 and (e.get("data") or {}).get("source") in (1, 2, 6)
    )


HOSTILE = [
    '{"type": "click", "x": 0.5, "y": 0.5}',
    '{"type": "key", "key": "Enter"}',
    '{"type": "navigate", "url": "https://evil.example/"}',
    '{"type": "scroll", "x": 0, "y": 5000}',
    '{"type": "eval", "script": "document.body.remove()"}',
    '{"type": "pointer", "action": "click", "x": 0.5, "y": 0.5, "monitor": 0}',
    '{"type": "cobrowse_pointer", "action": "submit", "node": 1, "fx": 0.5, "fy": 0.5}',
    '{"type": "cobrowse_pointer", "action": "click", "node": "1", "fx": 9, "fy": -1}',
    "not json",
    "x" * 100_000,
]


async def test_hostile_operator_messages_change_nothing(
    relay: RunningRelay, browser: BrowserCustomer, operator: CobrowseOperator
) -> None:
    await _share(browser, relay, operator, "transfer.html")
    await operator.until(
        "no guidance channel",
        lambda: operator.guidance is not None and operator.guidance.readyState == "open",
    )
    await browser.eval(
        "(() => { window.__events = 0;"
        " for (const t of ['click', 'keydown', 'input', 'submit', 'scroll', 'focus', 'beforeunload'])"
        " addEventListener(t, () => { window.__events += 1; }, true); })()"
    )
    await browser.fill("#recipient", "unchanged")
    await browser.eval("window.__events = 0")
    submit = _node_id(operator, "button", "type", "submit")
    for text in HOSTILE:
        operator.send_guidance(text)
    operator.pointer(submit, 0.5, 0.5, action="click")  # a valid pointer click only draws a ripple
    await asyncio.sleep(1.0)
    state = await browser.eval(
        "({events: window.__events, href: location.href, y: scrollY,"
        " recipient: document.getElementById('recipient').value})"
    )
    assert state == {
        "events": 0,
        "href": f"{relay.url}/demo/bank/transfer.html",
        "y": 0,
        "recipient": "unchanged",
    }
    assert operator.ended is None  # the session goes on


def _node_id(operator: CobrowseOperator, tag: str, attribute: str, value: str) -> int:
    """The rrweb id of the first element in the latest full snapshot with tag and attribute=value."""
    snapshot = [e for e in operator.received.events if e["type"] == 2][-1]
    stack = [snapshot["data"]["node"]]
    while stack:
        node = stack.pop(0)
        if node.get("tagName") == tag and (node.get("attributes") or {}).get(attribute) == value:
            return int(node["id"])
        stack.extend(node.get("childNodes") or [])
    raise AssertionError(f"no <{tag} {attribute}={value}> in the snapshot")


async def test_the_pointer_lands_on_the_element_and_stop_ends_both_sides(
    relay: RunningRelay, browser: BrowserCustomer, operator: CobrowseOperator
) -> None:
    await browser.new_page(init_script=LEAK_HOOK, viewport=(390, 500), touch=True)  # a phone
    await _share(browser, relay, operator, "account.html", fresh=False)
    await operator.until(
        "no guidance channel",
        lambda: operator.guidance is not None and operator.guidance.readyState == "open",
    )
    await operator.until("no full snapshot", lambda: any(e["type"] == 2 for e in operator.received.events))
    balance = _node_id(operator, "strong", "id", "balance")
    for scroll in (0, 120):
        await browser.eval(f"scrollTo(0, {scroll})")
        operator.pointer(balance, 0.25, 0.5)
        await asyncio.sleep(0.3)
        where = await browser.eval(
            "(() => { const r = document.getElementById('balance').getBoundingClientRect();"
            " const p = document.getElementById('madoguchi-cobrowse').shadowRoot.querySelector('.pointer');"
            " const m = new DOMMatrix(getComputedStyle(p).transform);"
            " return {x: r.left + r.width * 0.25, y: r.top + r.height / 2,"
            " px: m.m41, py: m.m42, hidden: p.hidden}; })()"
        )
        assert not where["hidden"]
        assert abs(where["px"] - where["x"]) < 2, where
        assert abs(where["py"] - where["y"]) < 2, where

    started = time.monotonic()
    await browser.click("#cb-stop")
    await operator.until("the operator was not told within 1 s", lambda: operator.ended is not None, 1.0)
    assert time.monotonic() - started < 1.0
    await browser.wait("#cb-ended", timeout_s=1)


async def _page_shown(operator: CobrowseOperator, href: str, after: int) -> float:
    """When the operator got a full snapshot of ``href`` (Meta, then snapshot), after batch ``after``."""
    found: list[float] = []

    def seen() -> bool:
        for at, batch in operator.received.batches[after:]:
            metas = [e for e in batch if e["type"] == 4 and e["data"]["href"] == href]
            if metas and any(e["type"] == 2 for e in batch):
                found.append(at)
                return True
        return False

    await operator.until(f"{href} was never shown to the operator", seen, 5)
    return found[0]


async def test_the_session_survives_navigation_within_the_site(
    relay: RunningRelay, browser: BrowserCustomer, operator: CobrowseOperator
) -> None:
    await _share(browser, relay, operator, "index.html")
    delays = []
    for page in ("account.html", "transfer.html", "shadow.html"):
        href = f"{relay.url}/demo/bank/{page}"
        before = len(operator.received.batches)
        await browser.click(f".bank-nav a[href='{page}']")  # a link, as the customer would
        await browser.wait("#cb-sharing")  # the indicator on the new page: no code, no Allow
        loaded = await browser.eval(  # the page's load event, on the same clock as time.time()
            "(performance.timeOrigin + performance.getEntriesByType('navigation')[0].loadEventEnd) / 1000"
        )
        assert "佐藤 花子" in await browser.text("#cb-sharing")
        delays.append(await _page_shown(operator, href, before) - loaded)
    print(f"co-browse navigation: page loaded -> operator has it, {[round(d * 1000) for d in delays]} ms")
    assert max(delays) <= 1.0
    assert operator.offers == 4
    assert operator.ended is None

    before = len(operator.received.batches)
    await browser.click(".bank-nav a[href='privacy.html']")  # never shared, the session goes on
    await browser.wait("#cb-sharing")
    await operator.until(
        "no pause on the private page", lambda: operator.received.states[-1]["reason"] == "not_shared"
    )
    assert "サンプル1-2-3" not in json.dumps(
        [b for _, b in operator.received.batches[before:]], ensure_ascii=False
    )
    await browser.click(".bank-nav a[href='account.html']")
    await _page_shown(operator, f"{relay.url}/demo/bank/account.html", before)

    await browser.click("#cb-stop")
    await operator.until("Stop did not end the session", lambda: operator.ended is not None, 1.0)
    await browser.goto(f"{relay.url}/demo/bank/transfer.html")  # nothing resumes after Stop
    await browser.wait("#cb-launcher")
    assert await browser.eval("sessionStorage.getItem('madoguchi-cobrowse')") is None


async def test_mirror_latency_and_traffic(
    relay: RunningRelay, browser: BrowserCustomer, operator: CobrowseOperator
) -> None:
    await _share(browser, relay, operator, "account.html")
    await operator.until("no full snapshot", lambda: any(e["type"] == 2 for e in operator.received.events))
    samples = []
    for i in range(10):
        text = f"{1_000_000 + i * 1111:,}"
        changed = time.time()
        await browser.eval(f"document.getElementById('balance').textContent = {json.dumps(text)}")
        samples.append(await _until_text(operator, text) - changed)
    median = _median_ms(samples)
    print(
        f"co-browse mirror: DOM change -> operator receives, median {median:.0f} ms,"
        f" max {max(samples) * 1000:.0f} ms"
    )
    assert median <= 400


async def test_the_cobrowse_demo(tmp_path: Path) -> None:
    """``madoguchi demo --mode cobrowse``: the program a person runs, start to end, with its JSON."""
    out = tmp_path / "demo.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "madoguchi", "demo", "--mode", "cobrowse", "--seconds", "2", "--json", str(out)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 0, output.decode(errors="replace")[-2000:]
    result = json.loads(out.read_text())
    assert result["mode"] == "cobrowse"
    assert result["mirror_latency_ms"]["samples"] == 30
    assert result["mirror_latency_ms"]["median"] <= 400
    assert max(result["navigation_ms"]) <= 1000
    assert result["bytes_sent_per_s"] > 0
    assert result["events_per_s"] > 0
    assert result["first_snapshot_bytes_compressed"] < result["first_snapshot_bytes_raw"]
    assert result["stop_to_operator_ms"] < 1000


@pytest.fixture
async def operator_browser(xvfb: str) -> AsyncIterator[BrowserCustomer]:
    """The operator's own browser, where the console opens the co-browse view."""
    async with BrowserCustomer.start(xvfb) as staff:
        yield staff
        for kind, text in staff.console:
            logger.warning("viewer console %s: %s", kind, text)


_IN_REPLAY = "document.querySelector('#player iframe').contentDocument"


async def test_the_operator_view_replays_sandboxed_with_grey_boxes_and_points(
    relay: RunningRelay,
    browser: BrowserCustomer,
    operator: CobrowseOperator,
    operator_browser: BrowserCustomer,
) -> None:
    url = await operator.open_viewer()
    await _share(browser, relay, operator, "account.html")
    await operator_browser.new_page(viewport=(1280, 900))
    await operator_browser.goto(url)
    await operator_browser.wait("#player iframe", state="attached")
    await operator_browser.eval(
        f"new Promise(r => {{ const t = () => {_IN_REPLAY}?.getElementById('balance')"
        " ? r(1) : setTimeout(t, 10); t(); })"
    )
    replay = await operator_browser.eval(
        "(() => { const f = document.querySelector('#player iframe'); const d = f.contentDocument;"
        " const promo = [...d.querySelectorAll('aside')][0]; const box = promo.getBoundingClientRect();"
        " return {sandbox: f.getAttribute('sandbox'), scripts: d.querySelectorAll('script').length,"
        " blocked: promo.classList.contains('madoguchi-blocked'), text: promo.textContent,"
        " w: box.width, h: box.height, grey: getComputedStyle(promo).backgroundImage,"
        " balance: d.getElementById('balance').textContent, id: promo.id}; })()"
    )
    assert replay["sandbox"] == "allow-same-origin"  # no allow-scripts: no customer script runs here
    assert replay["scripts"] == 0
    assert replay["blocked"]
    assert replay["text"] == ""  # the promo's text never left the customer's browser
    assert replay["id"] == ""  # nor its attributes
    assert replay["w"] > 100
    assert replay["h"] > 10
    assert "repeating-linear-gradient" in replay["grey"]
    assert replay["balance"] == "1,234,567"  # the balance after login is shared (R11)

    # Rendering latency: a DOM change on the customer's page to its rendering in the replay.
    samples = []
    for i in range(10):
        text = f"{2_000_000 + i * 3331:,}"
        changed = time.time()
        await browser.eval(f"document.getElementById('balance').textContent = {json.dumps(text)}")
        shown_ms = await operator_browser.eval(
            "new Promise(r => { const t = () => "
            f"{_IN_REPLAY}.getElementById('balance')?.textContent === {json.dumps(text)}"
            " ? r(Date.now()) : setTimeout(t, 2); t(); })"
        )
        samples.append(shown_ms / 1000 - changed)
    samples.sort()
    print(f"co-browse rendered: median {_median_ms(samples):.0f} ms, max {samples[-1] * 1000:.0f} ms")
    assert _median_ms(samples) <= 400

    # The operator clicks on the balance in the view: the customer's pointer lands on it.
    where = await operator_browser.eval(
        "(() => { const f = document.querySelector('#player iframe'); const fb = f.getBoundingClientRect();"
        " const s = fb.width / f.clientWidth;"
        " const b = f.contentDocument.getElementById('balance').getBoundingClientRect();"
        " return {x: fb.left + (b.left + b.width / 2) * s, y: fb.top + (b.top + b.height / 2) * s}; })()"
    )
    await operator_browser.click_xy(where["x"], where["y"])
    await asyncio.sleep(0.5)
    landed = await browser.eval(
        "(() => { const r = document.getElementById('balance').getBoundingClientRect();"
        " const p = document.getElementById('madoguchi-cobrowse').shadowRoot.querySelector('.pointer');"
        " const m = new DOMMatrix(getComputedStyle(p).transform);"
        " return {inside: m.m41 >= r.left && m.m41 <= r.right && m.m42 >= r.top && m.m42 <= r.bottom,"
        " hidden: p.hidden}; })()"
    )
    assert landed == {"inside": True, "hidden": False}

    # Paused and not shared show on the operator's side too.
    await browser.click(".bank-nav a[href='privacy.html']")
    await operator_browser.wait("#overlay:not([hidden])")
    assert await operator_browser.text("#overlay") == "このページは共有されていません"


async def test_the_site_s_own_button_opens_the_panel(relay: RunningRelay, browser: BrowserCustomer) -> None:
    await browser.new_page()
    await browser.goto(f"{relay.url}/demo/bank/account.html")
    await browser.wait("#cb-launcher")
    await browser.eval("window.MadoguchiCobrowse.open()")
    await browser.wait("#cb-code")
    assert await browser.eval("Object.isFrozen(window.MadoguchiCobrowse)")
    assert await browser.eval("Object.keys(window.MadoguchiCobrowse)") == ["open"]


async def test_the_operator_s_end_reaches_the_customer_within_a_second(
    relay: RunningRelay, browser: BrowserCustomer, operator: CobrowseOperator
) -> None:
    await _share(browser, relay, operator, "account.html")
    started = time.monotonic()
    await operator.end()
    await browser.wait("#cb-ended", timeout_s=1)
    assert time.monotonic() - started < 1.0
    assert await browser.eval("sessionStorage.getItem('madoguchi-cobrowse')") is None
    sent = len(await _sent(browser))
    await browser.eval("document.getElementById('balance').textContent = '0'")
    await asyncio.sleep(0.5)
    assert len(await _sent(browser)) == sent  # nothing more leaves the page


async def test_the_customer_can_read_a_4_digit_number_instead(
    relay: RunningRelay, browser: BrowserCustomer
) -> None:
    """The agent's direction on a site: a number on the customer's page, typed by the operator."""
    async with CobrowseOperator.start(relay, "hanako", PASSWORD, issue=False) as operator:
        await _read_a_number(relay, browser, operator)


async def _read_a_number(relay: RunningRelay, browser: BrowserCustomer, operator: CobrowseOperator) -> None:
    await browser.new_page(init_script=LEAK_HOOK)
    await browser.goto(f"{relay.url}/demo/bank/account.html")
    await browser.click("#cb-launcher")
    await browser.click("#cb-show-number")
    await browser.wait("#cb-number")
    number = (await browser.text("#cb-number")).strip()
    assert len(number) == 4
    assert number.isdigit()
    assert await browser.text("#cb-number-label") == "この受付番号をオペレーターに伝えてください"

    pending = await operator.claim_number(number)
    assert pending.client == "cobrowse"
    await browser.wait("#cb-allow")
    assert "佐藤 花子" in await browser.text("#cb-request")
    assert operator.received.raw == []  # nothing before Allow
    await browser.click("#cb-allow")
    await operator.until("the cobrowse channel never opened", operator.channel_open.is_set, 15)
    await operator.until("no full snapshot", lambda: any(e["type"] == 2 for e in operator.received.events))
    await browser.wait("#cb-sharing")

    await browser.click("#cb-stop")
    await operator.until("Stop did not end the session", lambda: operator.ended is not None, 1.0)
