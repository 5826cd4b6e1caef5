"""Screenshots of every page of the customer's browser side (start page, normal mode), ja and en.

    .venv/bin/python scripts/screenshots_web.py [--out docs/screenshots] [--lang ja en]

The flow is the real one: a relay with a neutral sample branding, a real Chromium
(testbed.browser) sharing its Xvfb screen, and the real operator client claiming
the number and pointing. Each page is taken at two sizes: ``small`` is 640x400 CSS
pixels, what a 1280x800 laptop shows at 200 % zoom, and ``large`` is 1600x1000;
both are whole-page pictures, so whatever does not fit the window shows below it.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from operator_console.client import ClaimAccepted, OperatorClient, ViewingStarted  # noqa: E402
from relay.server import running_relay  # noqa: E402
from relay.testing import fast_config  # noqa: E402
from testbed.browser import BrowserCustomer  # noqa: E402
from testbed.operator import expect  # noqa: E402
from testbed.xvfb import VirtualDisplay  # noqa: E402

logger = logging.getLogger("screenshots_web")

PASSWORD = "correct horse battery"  # noqa: S105 (the throw-away relay's demo operator)
SIZES = {"small": (640, 400), "large": (1600, 1000)}
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
OPERATOR = {"ja": ("佐藤 花子", "サンプル証券"), "en": ("Hanako Sato", "Sample Securities")}


async def shoot(browser: BrowserCustomer, out: Path, name: str, lang: str) -> None:
    for size, (width, height) in SIZES.items():
        path = out / f"web-{name}-{lang}-{size}.png"
        await browser.screenshot(path, width=width, height=height)
        logger.info("wrote %s", path)


async def pages(display: str, out: Path, lang: str) -> None:
    with tempfile.TemporaryDirectory(prefix="madoguchi-shots-") as tmp:
        agent = Path(tmp) / "madoguchi-agent.exe"
        agent.write_bytes(b"MZ" + b"\0" * (38 * 1024 * 1024))  # the size of a real build
        config = fast_config(
            Path(tmp),
            allow_timeout_s=60.0,
            site_company_name="サンプル証券" if lang == "ja" else "Sample Securities",
            site_phone="0120-000-000",
            site_hours="平日 9:00〜17:00" if lang == "ja" else "weekdays 9:00-17:00",
            agent_download=agent,
        )
        async with running_relay(config) as relay, BrowserCustomer.start(display) as browser:
            name, organisation = OPERATOR[lang]
            relay.add_operator("hanako", PASSWORD, name, organisation)
            await browser.goto(f"{relay.url}/?lang={lang}")
            await browser.wait("#download-info")
            await shoot(browser, out, "start", lang)
            await browser.goto(f"{relay.url}/share?lang={lang}")
            await browser.wait("#terms:not(:empty)")
            await shoot(browser, out, "consent", lang)
            await browser.click("#agree")
            await browser.wait("#view-code", timeout_s=15)
            await shoot(browser, out, "code", lang)
            operator = OperatorClient(relay.url)
            await operator.login("hanako", PASSWORD)
            await operator.claim(await browser.text("#code"))
            await expect(operator, ClaimAccepted, 10, "claim")
            await browser.wait("#allow")
            await shoot(browser, out, "request", lang)
            await browser.click("#allow")
            await expect(operator, ViewingStarted, 15, "viewing")
            await browser.wait("#view-sharing")
            await asyncio.sleep(0.5)
            operator.send_pointer(0.3, 0.4)
            await browser.wait("#pointer-figure")
            await shoot(browser, out, "sharing", lang)
            await browser.click("#pause")
            await browser.wait("#paused-note")
            await shoot(browser, out, "paused", lang)
            await browser.click("#stop")
            await browser.wait("#view-ended")
            await shoot(browser, out, "ended", lang)
            await operator.close()
            await browser.goto(f"{relay.url}/share?lang={lang}&code=123456")
            await browser.click("#agree")
            await browser.wait("#view-problem", timeout_s=15)
            await shoot(browser, out, "bad-code", lang)
            await browser.new_page(user_agent=IPHONE)
            await browser.goto(f"{relay.url}/share?lang={lang}")
            await browser.wait("#view-unsupported")
            await shoot(browser, out, "unsupported", lang)
            await browser.new_page()
            # A full relay (busy), then the same page once that relay is gone (unreachable).
            full = dataclasses.replace(config, limits=dataclasses.replace(config.limits, max_live_codes=0))
            async with running_relay(full) as busy_relay:
                await browser.goto(f"{busy_relay.url}/share?lang={lang}")
                await browser.click("#agree")
                await browser.wait("#view-problem", timeout_s=15)
                await shoot(browser, out, "busy", lang)
                await browser.click("#retry")
            await browser.click("#agree")
            await browser.wait("#problem-heading:not(:empty)", timeout_s=15)
            await shoot(browser, out, "unreachable", lang)


async def main(out: Path, langs: list[str]) -> None:
    with VirtualDisplay(screens=[(1920, 1080)]) as display:
        for lang in langs:
            await pages(display.name, out, lang)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--lang", nargs="+", default=["ja", "en"], choices=["ja", "en"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(args.out, args.lang))
