"""Co-browsing as a site runs it: its own origin and CSP, a phone, what is hidden, the admin's rules.

A real Chromium on Xvfb is the customer, a real relay, the scripted aiortc operator of
:mod:`testbed.cobrowse`. ``web/e2e/leak-hook.js`` keeps a copy of everything the page hands
to the network, so a test can show what never left it.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from relay.server import RunningRelay, running_relay
from relay.testing import fast_config
from testbed.bank_site import running_bank_site
from testbed.browser import WEB_DIR, BrowserCustomer
from testbed.cobrowse import DEMO_BANK, CobrowseOperator

pytestmark = pytest.mark.display

PASSWORD = "correct horse battery"
LEAK_HOOK = WEB_DIR / "e2e" / "leak-hook.js"


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RunningRelay]:
    async with running_relay(fast_config(tmp_path, allow_timeout_s=20.0, **DEMO_BANK)) as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "サンプル銀行")
        yield running


@pytest.fixture
async def operator(relay: RunningRelay) -> AsyncIterator[CobrowseOperator]:
    async with CobrowseOperator.start(relay, "hanako", PASSWORD) as op:
        yield op


async def _share(browser: BrowserCustomer, operator: CobrowseOperator, url: str) -> None:
    """On the page already open: the launcher, the operator's code, Allow, the channel and a snapshot."""
    await browser.goto(url)
    await browser.click("#cb-launcher")
    await browser.fill("#cb-code", operator.code)
    await browser.click("#cb-connect")
    await browser.click("#cb-allow")
    await operator.until("the cobrowse channel never opened", operator.channel_open.is_set, 15)
    await operator.until("no full snapshot", lambda: any(e["type"] == 2 for e in operator.received.events))


def _cobrowse_sent(sent: list[dict[str, str]]) -> list[str]:
    """What the page sent on the ``cobrowse`` channel, batches reassembled and gunzipped."""
    out, pending = [], b""
    for item in sent:
        if item["label"] != "cobrowse" or "b64" not in item:
            continue
        raw = base64.b64decode(item["b64"])
        pending += raw[1:]
        if raw[:1] == b"\x00":
            out.append(gzip.decompress(pending).decode())
            pending = b""
    return out


# --- the site on its own origin --------------------------------------------------------


async def test_a_bank_on_its_own_origin_with_a_strict_csp(tmp_path: Path, browser: BrowserCustomer) -> None:
    async with running_bank_site() as bank:
        config = fast_config(
            tmp_path, **{**DEMO_BANK, "cobrowse_demo_site": False}, cobrowse_allowed_origins=(bank.url,)
        )
        async with running_relay(config) as relay:
            relay.add_operator("hanako", PASSWORD, "佐藤 花子", "サンプル銀行")
            bank.relay_url = relay.url
            async with CobrowseOperator.start(relay, "hanako", PASSWORD) as operator:
                await browser.new_page(init_script=LEAK_HOOK)
                await _share(browser, operator, f"{bank.url}/demo/bank/index.html")
                metas = [e["data"]["href"] for e in operator.received.events if e["type"] == 4]
                assert metas == [f"{bank.url}/demo/bank/index.html"]
                before = len(operator.received.batches)
                await browser.click(".bank-nav a[href='account.html']")  # resumes on the bank's origin
                await browser.wait("#cb-sharing.sharing")
                await operator.until(
                    "the next page never arrived",
                    lambda: any(e["type"] == 2 for _, b in operator.received.batches[before:] for e in b),
                )
                assert operator.offers == 2
        violations = [text for _, text in browser.console if "Content Security Policy" in text]
        assert violations == []


async def test_a_site_the_relay_does_not_allow_gets_no_launcher(
    tmp_path: Path, browser: BrowserCustomer
) -> None:
    async with running_bank_site() as bank:
        config = fast_config(tmp_path, **{**DEMO_BANK, "cobrowse_demo_site": False})  # bank.url not allowed
        async with running_relay(config) as relay:
            bank.relay_url = relay.url
            await browser.new_page()
            await browser.goto(f"{bank.url}/demo/bank/index.html")
            await _console_says(browser, "allowed_origins")
            assert await browser.eval("document.getElementById('madoguchi-cobrowse')") is None
            socket = json.dumps(relay.url.replace("http", "ws") + "/ws/agent")
            refused = await browser.eval(
                f"new Promise(r => {{ const ws = new WebSocket({socket});"
                " ws.onopen = () => r('open'); ws.onerror = () => r('refused'); })"
            )
            assert refused == "refused"


async def _console_says(browser: BrowserCustomer, text: str, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not any(text in line for _, line in browser.console):
        assert asyncio.get_running_loop().time() < deadline, (
            f"the console never said {text!r}: {browser.console}"
        )
        await browser.eval("0")  # console lines arrive with the driver's answers
        await asyncio.sleep(0.05)


# --- what is hidden from the operator, shown to the customer ---------------------------


def _outlines(**elements: str) -> str:
    """The outlines in the customer's page after the next frames (they are drawn on an animation
    frame), and for each name whether one has exactly the box of that element (a JS expression)."""
    near = ", ".join(f"{name}: near({expr})" for name, expr in elements.items())
    return f"""new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => {{
  const root = document.getElementById('madoguchi-cobrowse').shadowRoot;
  const layer = root.getElementById('cb-outlines');
  const boxes = [...layer.querySelectorAll('.outline')].map(o => o.getBoundingClientRect());
  const near = (r) => boxes.some(b => Math.abs(b.left - r.left) < 2 && Math.abs(b.top - r.top) < 2
      && Math.abs(b.width - r.width) < 2 && Math.abs(b.height - r.height) < 2);
  done({{shown: !layer.hidden && boxes.length > 0, count: boxes.length,
    badge: layer.querySelector('.badge')?.textContent ?? null, {near}}});
}})))"""


def _box(selector: str) -> str:
    return f"document.querySelector({json.dumps(selector)}).getBoundingClientRect()"


_IN_SHADOW = "document.getElementById('otp').shadowRoot.querySelector('input').getBoundingClientRect()"
_IN_FRAME = (
    "(() => { const f = document.getElementById('inquiry'); const o = f.getBoundingClientRect();"
    " const r = f.contentDocument.getElementById('inquiry-text').getBoundingClientRect();"
    " return new DOMRect(o.left + f.clientLeft + r.left, o.top + f.clientTop + r.top,"
    " r.width, r.height); })()"
)
_TOGGLE = "document.getElementById('madoguchi-cobrowse').shadowRoot.getElementById('cb-show-hidden')"


async def test_the_customer_sees_what_is_hidden_and_the_operator_never_gets_the_outlines(
    relay: RunningRelay, browser: BrowserCustomer, operator: CobrowseOperator
) -> None:
    await browser.new_page(init_script=LEAK_HOOK, viewport=(1000, 700))
    await _share(browser, operator, f"{relay.url}/demo/bank/account.html")
    await browser.wait("#cb-sharing.sharing")
    on_account = _outlines(promo=_box("#promo"), account=_box(".account-no"), balance=_box("#balance"))
    # The configured block (#promo) and mask (.account-no) are outlined; the shared balance is not.
    assert await browser.eval(on_account) == {
        "shown": True,
        "count": 2,
        "badge": "オペレーターには見えません",
        "promo": True,
        "account": True,
        "balance": False,
    }
    await browser.eval("scrollTo(0, 60)")
    assert (await browser.eval(on_account))["promo"]  # they follow the page

    await browser.click("#cb-show-hidden")  # the indicator's toggle
    assert (await browser.eval(on_account))["shown"] is False
    assert await browser.eval(f"{_TOGGLE}.getAttribute('aria-pressed')") == "false"
    await browser.click(".bank-nav a[href='shadow.html']")  # the choice holds on the next page
    await browser.wait("#cb-sharing.sharing")
    assert (await browser.eval(_outlines()))["shown"] is False
    await browser.click("#cb-show-hidden")
    assert (await browser.eval(_outlines(otp=_IN_SHADOW)))["otp"]  # inside an open shadow root
    await browser.click(".bank-nav a[href='frame.html']")
    await browser.wait("#cb-sharing.sharing")
    assert (await browser.eval(_outlines(inquiry=_IN_FRAME)))["inquiry"]  # inside a same-origin frame

    await browser.eval("document.body.dataset.done = '1'")
    await operator.until(
        "the last change never arrived", lambda: "data-done" in json.dumps(operator.received.events)
    )
    everything = json.dumps(operator.received.events, ensure_ascii=False)
    sent = "\n".join(_cobrowse_sent(await browser.eval("window.__madoguchiSent")))
    assert "1,234,567" in everything  # the pages themselves were mirrored
    for trace in ("オペレーターには見えません", "cb-outlines", "outline", "badge", "madoguchi-cobrowse"):
        assert trace not in everything, trace
        assert trace not in sent, trace


# --- a phone ---------------------------------------------------------------------------

_TARGETS = """(() => {
  const root = document.getElementById('madoguchi-cobrowse').shadowRoot;
  const visible = [...root.querySelectorAll('button, input')].filter(e => e.checkVisibility());
  const panel = root.getElementById('cb-panel');
  const box = (panel.hidden ? root.getElementById('cb-launcher') : panel).getBoundingClientRect();
  return {smallest: Math.min(...visible.map(e => Math.min(e.getBoundingClientRect().height,
            e.getBoundingClientRect().width))),
          inside: box.left >= 0 && box.top >= 0 && box.right <= innerWidth && box.bottom <= innerHeight,
          thumb: box.bottom > innerHeight / 2};
})()"""
"""The panel's (or the launcher's) touch targets and place: ≥ 44 px, on screen, reachable by a thumb."""

_PHONE = (360, 640)


@pytest.fixture
async def staff(xvfb: str) -> AsyncIterator[BrowserCustomer]:
    """The operator's own browser, showing the co-browse view."""
    async with BrowserCustomer.start(xvfb) as browser:
        yield browser


async def test_on_a_phone_the_panel_is_one_handed_and_the_keyboard_stops_everything(
    relay: RunningRelay, browser: BrowserCustomer, operator: CobrowseOperator, staff: BrowserCustomer
) -> None:
    view = await operator.open_viewer()
    await staff.new_page(viewport=(800, 700))
    await staff.goto(f"{view}?lang=en")
    await browser.new_page(init_script=LEAK_HOOK, viewport=_PHONE, touch=True)  # isMobile, touch
    await browser.goto(f"{relay.url}/demo/bank/index.html")
    await browser.wait("#cb-launcher")  # shown once its stylesheet is in
    assert await browser.eval("matchMedia('(pointer: coarse)').matches")
    for step in ("launcher", "code", "request", "sharing"):
        if step == "code":
            await browser.click("#cb-launcher")
        elif step == "request":
            await browser.fill("#cb-code", operator.code)
            await browser.click("#cb-connect")
            await browser.wait("#cb-allow")
        elif step == "sharing":
            await browser.click("#cb-allow")
            await browser.wait("#cb-sharing.sharing")
        where = await browser.eval(_TARGETS)
        assert where["smallest"] >= 44, (step, where)
        assert where["inside"], (step, where)
        assert where["thumb"], (step, where)
    await operator.until("no full snapshot", lambda: any(e["type"] == 2 for e in operator.received.events))

    # The phone's keyboard: a field has focus and the visible viewport shrinks under it.
    field = await browser.eval(
        "(() => { const r = document.getElementById('user-id').getBoundingClientRect();"
        " return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()"
    )
    await browser.tap(field["x"], field["y"])
    assert await browser.eval("document.activeElement.id") == "user-id"
    shrunk = time.monotonic()
    await browser.set_viewport(_PHONE[0], 330)
    await operator.until("no pause", lambda: operator.received.states[-1]["reason"] == "keyboard")
    paused_s = time.monotonic() - shrunk
    await staff.wait("#overlay:not([hidden])")
    assert await staff.text("#overlay") == "Paused: the customer is typing"
    assert "キーボード" in await browser.text("#cb-sharing")
    batches = len(operator.received.batches)
    sent_before = len(await browser.eval("window.__madoguchiSent"))
    await browser.type("#user-id", "qz7731", delay_ms=20)
    for field_id in ("password", "user-id"):  # the customer taps from field to field
        spot = await browser.eval(
            f"(() => {{ const r = document.getElementById('{field_id}').getBoundingClientRect();"
            " return {x: r.left + 12, y: r.top + r.height / 2}; })()"
        )
        await browser.tap(spot["x"], spot["y"])
        await browser.type(f"#{field_id}", "k9", delay_ms=20)
    await asyncio.sleep(0.6)
    assert len(operator.received.batches) == batches, operator.received.batches[batches:]
    while_up = (await browser.eval("window.__madoguchiSent"))[sent_before:]
    assert [item for item in while_up if item["label"] == "cobrowse"] == []  # not one byte, not one touch

    down = time.monotonic()
    await browser.set_viewport(*_PHONE)  # the keyboard goes down
    await operator.until("no resume", lambda: operator.received.states[-1]["paused"] is False)
    await operator.until("no fresh snapshot", lambda: len(operator.received.batches) > batches)
    print(
        f"co-browse phone keyboard: viewport shrinks -> operator paused {paused_s * 1000:.0f} ms;"
        f" keyboard down -> fresh snapshot {(time.monotonic() - down) * 1000:.0f} ms (400 ms of it waiting)"
    )
    assert any(e["type"] == 2 for e in operator.received.batches[batches][1])  # a full snapshot first
    await staff.wait("#overlay", state="hidden")


# --- the admin web's rules and branding ------------------------------------------------

ADMIN_PASSWORD = "admin staple battery"


async def test_an_admin_s_new_rule_masks_the_next_page_and_new_branding_shows(
    relay: RunningRelay, browser: BrowserCustomer, operator: CobrowseOperator
) -> None:
    relay.accounts.add("boss", ADMIN_PASSWORD, "Boss", "admin", role="admin")
    await browser.new_page()
    await browser.goto(f"{relay.url}/admin/login?lang=en")
    await browser.fill("#username", "boss")
    await browser.fill("#password", ADMIN_PASSWORD)
    await browser.click("#login")
    await browser.goto(f"{relay.url}/admin/settings")
    masks = await browser.eval("document.getElementById('cobrowse_mask_selectors').value")
    assert masks == ".account-no"  # relay.toml's starting value
    await browser.fill("#cobrowse_mask_selectors", ".account-no\n  \ntable.history\n")
    await browser.click("#save-cobrowse")
    await browser.wait("#history")
    await browser.fill("#site_company_name", "みどり銀行")
    await browser.fill("#site_brand_colour", "#0a7d3b")
    await browser.click("#save-branding")
    await browser.wait("#history")
    rows = await browser.eval("[...document.querySelectorAll('#history tbody tr')].map(r => r.textContent)")
    assert any("table.history" in row and "boss" in row for row in rows), rows
    assert any("みどり銀行" in row for row in rows), rows

    # A bad selector is refused with the field named; nothing is saved.
    await browser.fill("#cobrowse_block_selectors", "#promo { display: none }")
    await browser.click("#save-cobrowse")
    await browser.wait(".error")
    assert "cobrowse_block_selectors" in await browser.text(".error")

    # The customer's next page: the history table is masked, the balance still shared.
    await browser.new_page(init_script=LEAK_HOOK)
    await _share(browser, operator, f"{relay.url}/demo/bank/account.html")
    snapshot = json.dumps(operator.received.events, ensure_ascii=False)
    assert "1,234,567" in snapshot
    assert "250,000" not in snapshot
    assert "給与" not in snapshot
    assert "キャンペーン" not in snapshot  # #promo still blocked: the refused change did not apply
    launcher = await browser.eval(
        "(() => { const root = document.getElementById('madoguchi-cobrowse').shadowRoot;"
        " return getComputedStyle(root.getElementById('cb-stop')).backgroundColor; })()"
    )
    assert launcher == "rgb(10, 125, 59)"  # the launcher's panel in the brand colour

    await browser.goto(f"{relay.url}/?lang=ja")
    await browser.wait("[data-site='company_name']:not(:empty)")
    assert await browser.text("[data-site='company_name']") == "みどり銀行"
    brand = await browser.eval(
        "getComputedStyle(document.documentElement).getPropertyValue('--brand').trim()"
    )
    assert brand == "#0a7d3b"
