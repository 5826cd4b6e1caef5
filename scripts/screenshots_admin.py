"""Screenshots of the admin web (``/admin``), ja and en, at 1366x768.

    .venv/bin/python scripts/screenshots_admin.py [--out docs/screenshots] [--lang ja en]

The flow is the real one: a relay, a real agent sharing its Xvfb screen with the real
operator client (a live session), a second customer waiting with a number, and a real
Chromium (testbed.browser) logged in as an admin. Each page is a whole-page picture
with a 1366x768 window (the smallest screen the admin web is made for); what does not
fit the window shows below it.
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

from operator_console.client import ClaimAccepted, OperatorClient, ViewingStarted  # noqa: E402
from relay.server import running_relay  # noqa: E402
from relay.testing import fast_config  # noqa: E402
from testbed.browser import BrowserCustomer  # noqa: E402
from testbed.cobrowse import DEMO_BANK  # noqa: E402
from testbed.customer import Customer  # noqa: E402
from testbed.operator import expect  # noqa: E402
from testbed.xvfb import VirtualDisplay  # noqa: E402

logger = logging.getLogger("screenshots_admin")

PASSWORD = "correct horse battery"  # noqa: S105 (the throw-away relay's demo accounts)
SIZE = (1366, 768)
OPERATORS = {
    "ja": [("hanako", "佐藤 花子"), ("taro", "山田 太郎")],
    "en": [("hanako", "Hanako Sato"), ("taro", "Taro Yamada")],
}
ORGANISATION = {"ja": "サンプル証券", "en": "Sample Securities"}


async def shoot(browser: BrowserCustomer, out: Path, name: str, lang: str) -> None:
    path = out / f"admin-{name}-{lang}.png"
    await browser.screenshot(path, width=SIZE[0], height=SIZE[1])
    logger.info("wrote %s", path)


async def pages(display: str, out: Path, lang: str) -> None:
    with tempfile.TemporaryDirectory(prefix="madoguchi-shots-") as tmp:
        config = fast_config(
            Path(tmp), allow_timeout_s=60.0, code_ttl_s=600.0, site_company_name="サンプル銀行", **DEMO_BANK
        )
        async with running_relay(config) as relay, BrowserCustomer.start(display) as browser:
            for username, name in OPERATORS[lang]:
                relay.add_operator(username, PASSWORD, name, ORGANISATION[lang])
            relay.accounts.add("admin", PASSWORD, "Admin", "admin", role="admin")
            await browser.goto(f"{relay.url}/admin/login?lang={lang}")
            await shoot(browser, out, "login", lang)

            sharing = Customer(relay.url, display=display)
            waiting = Customer(relay.url, display=display)
            operator = OperatorClient(relay.url)
            try:
                sharing.start()
                await operator.login("hanako", PASSWORD)
                await operator.claim(await sharing.wait_code())
                await expect(operator, ClaimAccepted, 10, "claim")
                await expect(operator, ViewingStarted, 20, "viewing")
                waiting.start()
                await waiting.wait_code()
                await asyncio.sleep(2.0)  # a duration other than 0:00

                await browser.fill("#username", "admin")
                await browser.fill("#password", PASSWORD)
                await browser.click("#login")
                await browser.wait("#sessions")
                await shoot(browser, out, "overview", lang)
                await browser.goto(f"{relay.url}/admin/operators")
                await shoot(browser, out, "operators", lang)
                await browser.goto(f"{relay.url}/admin/settings")
                await browser.fill("#max_sessions", "40")
                await browser.click("#save-capacity")
                await browser.wait("#notice")
                await shoot(browser, out, "settings", lang)
                await browser.goto(f"{relay.url}/admin/audit")
                await shoot(browser, out, "audit", lang)
            finally:
                await operator.close()
                await sharing.stop()
                await waiting.stop()


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
