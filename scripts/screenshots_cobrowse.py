"""Screenshots of the co-browse panel on the demo bank, PC and phone, ja and en.

    .venv/bin/python scripts/screenshots_cobrowse.py [--out docs/screenshots] [--lang ja en]

The flow is the real one (docs/cobrowse.md): a relay serving the demo bank, a real Chromium
(testbed.browser) and the scripted operator of testbed.cobrowse. Each step is taken at
``pc`` (1280x800) and ``phone`` (390x844, touch): the code, the operator's request, sharing
on the login page with the outlines of what is hidden from the operator, sharing the account
page, paused on the never-shared privacy page, and the 4-digit number the customer reads
out (``number``). Whole-page pictures. The operator's view
(operator_console.cobrowse_viewer, in a second Chromium) is taken while the phone shares:
``cobrowse-view-{sharing,paused}-{lang}.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from relay.server import running_relay  # noqa: E402
from relay.testing import fast_config  # noqa: E402
from testbed.browser import BrowserCustomer  # noqa: E402
from testbed.cobrowse import DEMO_BANK, CobrowseOperator  # noqa: E402
from testbed.xvfb import VirtualDisplay  # noqa: E402

logger = logging.getLogger("screenshots_cobrowse")

PASSWORD = "correct horse battery"  # noqa: S105 (the throw-away relay's demo operator)
DEVICES = {"pc": ((1280, 800), False), "phone": ((390, 844), True)}
OPERATOR = {"ja": ("佐藤 花子", "サンプル銀行"), "en": ("Hanako Sato", "Sample Bank")}
# The demo bank is in Japanese; for English the panel is told so by the tag's data-madoguchi-lang.
LANG_SCRIPT = """
new MutationObserver((_, observer) => {
  const tag = document.querySelector("script[data-madoguchi-site-key]");
  if (tag) { tag.dataset.madoguchiLang = "%s"; observer.disconnect(); }
}).observe(document, {childList: true, subtree: true});
"""


async def shots(display: str, out: Path, lang: str) -> None:
    with tempfile.TemporaryDirectory(prefix="madoguchi-shots-") as tmp:
        init = Path(tmp) / "lang.js"
        init.write_text(LANG_SCRIPT % lang)
        config = fast_config(Path(tmp), allow_timeout_s=60.0, **DEMO_BANK)
        async with (
            running_relay(config) as relay,
            BrowserCustomer.start(display) as browser,
            BrowserCustomer.start(display) as staff,
        ):
            relay.add_operator("hanako", PASSWORD, *OPERATOR[lang])
            for device, (viewport, touch) in DEVICES.items():
                async with CobrowseOperator.start(relay, "hanako", PASSWORD) as operator:
                    view = await operator.open_viewer()
                    await staff.new_page(viewport=(1000, 760))
                    await staff.goto(f"{view}?lang={lang}")
                    await browser.new_page(viewport=viewport, touch=touch, init_script=init)
                    await browser.goto(f"{relay.url}/demo/bank/index.html")
                    await browser.click("#cb-launcher")
                    await browser.fill("#cb-code", operator.code)
                    await shoot(browser, out, "code", lang, device)
                    await browser.click("#cb-connect")
                    await browser.wait("#cb-allow")
                    await shoot(browser, out, "request", lang, device)
                    await browser.click("#cb-allow")
                    await browser.wait("#cb-sharing.sharing")
                    await asyncio.sleep(0.3)  # the outlines of what the operator does not see
                    await shoot(browser, out, "hidden", lang, device)
                    await browser.click(".bank-nav a[href='account.html']")
                    await browser.wait("#cb-sharing.sharing")
                    await shoot(browser, out, "sharing", lang, device)
                    if device == "phone":
                        await staff.wait("#overlay", state="hidden")
                        await asyncio.sleep(0.5)
                        await staff.screenshot(out / f"cobrowse-view-sharing-{lang}.png")
                    await browser.click(".bank-nav a[href='privacy.html']")
                    await browser.wait("#cb-sharing.paused")
                    await shoot(browser, out, "paused", lang, device)
                    if device == "phone":
                        await staff.wait("#overlay:not([hidden])")
                        await staff.screenshot(out / f"cobrowse-view-paused-{lang}.png")
                    await browser.click("#cb-stop")
                    # The other direction: the customer reads a 4-digit number to the operator.
                    await browser.goto(f"{relay.url}/demo/bank/index.html")
                    await browser.click("#cb-launcher")
                    await browser.click("#cb-show-number")
                    await browser.wait("#cb-number")
                    await shoot(browser, out, "number", lang, device)
                    await browser.click("#cb-cancel")


async def shoot(browser: BrowserCustomer, out: Path, name: str, lang: str, device: str) -> None:
    path = out / f"cobrowse-{name}-{lang}-{device}.png"
    await browser.screenshot(path)
    logger.info("wrote %s", path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--lang", nargs="+", default=["ja", "en"], choices=["ja", "en"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    with VirtualDisplay(screens=[(1920, 1080)]) as xvfb:
        for lang in args.lang:
            asyncio.run(shots(xvfb.name, args.out, lang))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
