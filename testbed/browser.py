"""A real Chromium as the customer: the browser normal mode driven from Python.

:class:`BrowserCustomer` starts ``web/e2e/driver.js`` (Node, npm ``playwright-core``)
which launches Debian's ``chromium`` non-headless on the given X display, with the
whole screen picked automatically in place of the browser's picker. Commands go to
the driver as JSON lines; each answer comes back as one line, so a test reads like a
customer's clicks::

    async with BrowserCustomer.start(display) as browser:
        await browser.goto(f"{relay.url}/share?lang=en")
        await browser.click("#agree")
        code = await browser.text("#code")

Nothing here downloads a browser: ``web/node_modules`` comes from ``npm ci``
(scripts/setup_web.sh) and Chromium from Debian (scripts/apt-packages.txt).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from testbed.customer import TestbedError

__all__ = ["CHROMIUM", "WEB_DIR", "BrowserCustomer", "browser_available"]

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
CHROMIUM = os.environ.get("MADOGUCHI_CHROMIUM", "/usr/bin/chromium")
_DRIVER = WEB_DIR / "e2e" / "driver.js"
_START_TIMEOUT_S = 30.0


def browser_available() -> str | None:
    """None when a browser customer can run here, else what is missing."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (WEB_DIR / "node_modules" / "playwright-core").is_dir():
        return "web/node_modules is missing (make setup runs npm ci)"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (Debian package chromium)"
    return None


class BrowserCustomer:
    """One Chromium, one page at a time, driven by JSON commands."""

    def __init__(self, proc: asyncio.subprocess.Process, display: str) -> None:
        self._proc = proc
        self.display = display
        self.console: list[tuple[str, str]] = []
        """The page's console messages, (type, text), as they arrived."""
        self.version = ""

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls,
        display: str,
        *,
        picker: str = "entire",
        netns: str | None = None,
        secure_origin: str | None = None,
    ) -> AsyncIterator[BrowserCustomer]:
        """Launch Chromium on X display ``display``; quit it on exit.

        ``picker="entire"`` answers the browser's screen picker with the whole screen;
        ``"ask"`` leaves the picker up, for a test to answer (or cancel) it with xdotool.
        ``netns``: run the browser in that network namespace (``ip netns exec``, root; the
        X server is still reached through its socket file in /tmp/.X11-unix).
        ``secure_origin``: an ``http://`` origin other than localhost that the page may share
        the screen from (getDisplayMedia needs a secure context), e.g. a lab's relay.
        """
        missing = browser_available()
        if missing is not None:
            raise TestbedError(f"no browser customer: {missing}")
        env = {**os.environ, "DISPLAY": display, "LANGUAGE": "en", "MADOGUCHI_PICKER": picker}
        if secure_origin is not None:
            env["MADOGUCHI_CHROMIUM_ARGS"] = f"--unsafely-treat-insecure-origin-as-secure={secure_origin}"
        prefix = () if netns is None else ("ip", "netns", "exec", netns)
        proc = await asyncio.create_subprocess_exec(
            *prefix,
            "node",
            str(_DRIVER),
            cwd=str(WEB_DIR),
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=1 << 20,
        )
        browser = cls(proc, display)
        try:
            hello = await browser._answer(_START_TIMEOUT_S)
            browser.version = str(hello.get("version", ""))
            logger.info("browser customer: Chromium %s on %s", browser.version, display)
            yield browser
        finally:
            await browser._quit()

    @property
    def pid(self) -> int:
        """The driver's process id; Chromium's processes are its descendants."""
        return self._proc.pid

    async def goto(self, url: str) -> None:
        await self.do("goto", url=url)

    async def click(self, selector: str) -> None:
        await self.do("click", selector=selector)

    async def fill(self, selector: str, text: str, *, frame: str | None = None) -> None:
        """Fill a field (in the iframe ``frame`` selects, if given)."""
        await self.do("fill", selector=selector, text=text, frame=frame)

    async def type(self, selector: str, text: str, *, delay_ms: int = 0) -> None:
        """Type key by key into a field (Playwright's pressSequentially)."""
        await self.do("type", selector=selector, text=text, delay_ms=delay_ms)

    async def click_xy(self, x: float, y: float) -> None:
        """Click at (x, y) of the viewport."""
        await self.do("click_xy", x=x, y=y)

    async def tap(self, x: float, y: float) -> None:
        """A finger's tap at a point of the viewport (a page opened with ``touch=True``)."""
        await self.do("tap", x=x, y=y)

    async def set_viewport(self, width: int, height: int) -> None:
        """Resize the page's viewport: the window and its visual viewport, as a phone's keyboard may."""
        await self.do("viewport", width=width, height=height)

    async def mouse(self, x: float, y: float, *, steps: int = 5) -> None:
        """Move the mouse to (x, y) of the viewport in ``steps`` moves."""
        await self.do("mouse", x=x, y=y, steps=steps)

    async def wait(self, selector: str, *, state: str = "visible", timeout_s: float = 10.0) -> None:
        await self.do("wait", selector=selector, state=state, timeout_ms=int(timeout_s * 1000))

    async def text(self, selector: str) -> str:
        return str(await self.do("text", selector=selector) or "")

    async def eval(self, script: str) -> Any:
        return await self.do("eval", script=script)

    async def new_page(
        self,
        user_agent: str | None = None,
        *,
        viewport: tuple[int, int] | None = None,
        touch: bool = False,
        init_script: Path | None = None,
    ) -> None:
        """A fresh context: ``viewport`` fixes its size, ``touch`` emulates a phone's touch
        screen, ``init_script`` runs in every frame before the page's scripts."""
        await self.do(
            "new_page",
            user_agent=user_agent,
            viewport=None if viewport is None else {"width": viewport[0], "height": viewport[1]},
            touch=touch or None,
            init_script=None if init_script is None else str(init_script),
        )

    async def close_page(self) -> None:
        await self.do("close_page")

    async def screenshot(self, path: Path, *, width: int | None = None, height: int | None = None) -> Path:
        await self.do("screenshot", path=str(path), width=width, height=height)
        return path

    async def press_stop_in_browser_bar(self) -> None:
        """Click "Stop sharing" in Chromium's own sharing bar (its window, not the page), as a customer would.

        The bar is a small window titled "... is sharing your screen." whose button sits
        119 px left of its right edge, halfway down (Chromium 150-156, Debian).
        """
        env = {**os.environ, "DISPLAY": self.display}
        found = await _run("xdotool", "search", "--name", "is sharing your screen", env=env)
        windows = found.split()
        if not windows:
            raise TestbedError("Chromium's sharing bar is not on the screen")
        geometry = await _run("xdotool", "getwindowgeometry", "--shell", windows[0], env=env)
        size = dict(line.split("=", 1) for line in geometry.split())
        x, y = int(size["WIDTH"]) - 119, int(size["HEIGHT"]) // 2
        await _run("xdotool", "mousemove", "--window", windows[0], str(x), str(y), "click", "1", env=env)

    async def do(self, action: str, *, timeout_s: float = 30.0, **fields: Any) -> Any:
        """Send one command; its value, or TestbedError with the driver's reason."""
        assert self._proc.stdin is not None
        line = json.dumps({"do": action, **{k: v for k, v in fields.items() if v is not None}})
        self._proc.stdin.write(line.encode() + b"\n")
        await self._proc.stdin.drain()
        answer = await self._answer(timeout_s)
        return answer

    async def _answer(self, timeout_s: float) -> Any:
        assert self._proc.stdout is not None
        while True:
            try:
                raw = await asyncio.wait_for(self._proc.stdout.readline(), timeout_s)
            except TimeoutError:
                raise TestbedError(f"the browser driver did not answer within {timeout_s:.0f} s") from None
            if not raw:
                err = b""
                if self._proc.stderr is not None:
                    with contextlib.suppress(TimeoutError):
                        err = await asyncio.wait_for(self._proc.stderr.read(4000), 2)
                raise TestbedError(f"the browser driver stopped: {err.decode(errors='replace').strip()}")
            message = json.loads(raw)
            if "console" in message:
                self.console.append((str(message["console"]), str(message.get("text", ""))))
                logger.debug("page console %s: %s", message["console"], message.get("text"))
                continue
            if not message.get("ok"):
                raise TestbedError(f"browser: {message.get('error')}")
            return message.get("value")

    async def _quit(self) -> None:
        proc = self._proc
        if proc.returncode is None and proc.stdin is not None:
            with contextlib.suppress(ConnectionError, RuntimeError):
                proc.stdin.write(b'{"do": "quit"}\n')
                await proc.stdin.drain()
                proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def _run(*argv: str, env: dict[str, str]) -> str:
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 10)
    if proc.returncode != 0:
        raise TestbedError(f"{argv[0]} {argv[1]} failed: {err.decode(errors='replace').strip()}")
    return out.decode()
