"""The browser's page through a changed network: the customer's address goes, another comes.

``python -m testbed.browser_address_lab`` is testbed.address_change_lab for the
browser's normal mode: the relay and the operator's console client live in one network
namespace (``10.99.0.1``), a real Chromium (testbed.browser, non-headless on a private
Xvfb, reached through its socket file) in the other, first at ``10.99.0.2``. The
customer shares the whole screen, where a stamped scene plays beside the page. After
``--before`` seconds of a live session the customer's address is removed and
``10.99.0.3`` added with its default route (Wi-Fi to tethering): the page's ICE
candidates and its relay websocket are dead for good. Then, as JSON:

* ``fresh_picture_s``: from the removal of the old address to the first decoded
  picture painted after it (the scene logs when it painted each stamp; one clock);
* ``peer_restarts``: the new peer connections the page offered (docs/protocol.md
  step 11, web/static/js/restart.js), as its console says;
* ``survived``: the session still live on both sides and at the relay with no user
  action; ``pickers``: how often the page asked for the screen (1: the capture went on,
  no new picker); ``page_view``: what the page shows.

The link itself is a plain veth (no delay, loss or rate). Needs root and Linux
(namespaces), node with web/node_modules and Chromium; see docs/performance.md, "A
changed network".
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from testbed.address_change_lab import (
    NEW_IP,
    OLD_IP,
    SERVER_IP,
    _namespaces,
    _run,
    plan_address_change,
)

__all__ = ["main", "run_browser_address_change"]

logger = logging.getLogger(__name__)

_PASSWORD = "browser address lab password"  # noqa: S105 (a throwaway account in a private relay)
_SCREEN = (1920, 1080)
_SCENE = (1280, 0, 640, 1072)
"""The stamped scene beside Chromium's window (at 0,0, 1280x900), on the 16 px grid."""
_COUNT_PICKERS = """(() => {
  const devices = navigator.mediaDevices;
  const ask = devices.getDisplayMedia.bind(devices);
  window.__pickers = 0;
  devices.getDisplayMedia = (options) => { window.__pickers += 1; return ask(options); };
})()"""
"""Counts the page's getDisplayMedia calls (each one is the browser's screen picker)."""
_RESTART = re.compile(r"^new peer connection (\d+)")


def _cut_old_paths(server_ns: str) -> tuple[int, ...]:
    """Drop UDP to the console's ICE ports of now, for good; a new peer's new port still works."""
    listed = subprocess.run(
        ["ip", "netns", "exec", server_ns, "ss", "-Hunl", "src", SERVER_IP],
        check=True,
        capture_output=True,
        text=True,
        timeout=10,
    )
    ports = tuple(
        sorted({int(line.split()[3].rsplit(":", 1)[1]) for line in listed.stdout.splitlines() if line})
    )
    for port in ports:
        _run(
            (
                "ip",
                "netns",
                "exec",
                server_ns,
                "iptables",
                "-I",
                "INPUT",
                "-p",
                "udp",
                "--dport",
                str(port),
                "-j",
                "DROP",
            )
        )
    return ports


def run_browser_address_change(
    *,
    before_s: float = 4.0,
    after_s: float = 8.0,
    cut_old_path: bool = False,
    heartbeat_s: float | None = None,
) -> dict[str, Any]:
    """Build the lab, run one browser session through the address change, return its figures.

    ``cut_old_path``: with the change, the console's media ports of the session's peer stop
    taking packets for good (iptables in the relay's namespace), as when the new network's
    firewall or NAT does not let the old candidate pair follow the move. Without it,
    Chromium's wildcard-bound UDP socket simply sends from the new address, and aioice
    takes that as a peer-reflexive candidate: the old pair goes on.
    ``heartbeat_s``: the relay's ping interval (default 20 s): it cuts the page's dead
    websocket after 1.5 times that, and the console tells the page (``relay_away``).
    """
    from operator_console.client import ClaimAccepted, OperatorClient, SessionEnded, ViewingStarted
    from relay.server import RunningRelay, running_relay
    from testbed.browser import BrowserCustomer
    from testbed.netlab import NamespaceLoop
    from testbed.operator import expect
    from testbed.scene import STAMP_X, STAMP_Y, SceneProcess, read_painted
    from testbed.stamp import DecodedStamps
    from testbed.xvfb import VirtualDisplay

    stamp_x, stamp_y = _SCENE[0] + STAMP_X, _SCENE[1] + STAMP_Y
    on_frame = DecodedStamps(_SCREEN[0], stamp_x, stamp_y, full_size_only=True)  # the lab's veth never scales
    decoded = on_frame.decoded

    plan = plan_address_change(f"b{os.getpid() % 100000}")
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="madoguchi-baddr-")))
        display = stack.enter_context(VirtualDisplay(screens=[_SCREEN]))
        painted_log = tmp / "painted.txt"
        stack.enter_context(
            SceneProcess(display.name, "moving", fps=30, geometry=_SCENE, stamp_file=str(painted_log))
        )
        stack.enter_context(_namespaces(plan))
        srv = NamespaceLoop(plan.server_ns)
        stack.callback(srv.stop)
        relay_stack = contextlib.AsyncExitStack()

        overrides: dict[str, Any] = {} if heartbeat_s is None else {"heartbeat_s": heartbeat_s}

        async def start_relay() -> RunningRelay:
            relay = await relay_stack.enter_async_context(
                running_relay(
                    host=SERVER_IP,
                    port=0,
                    data_dir=tmp / "relay",
                    **overrides,
                )
            )
            relay.add_operator("lab", _PASSWORD, "Address Lab", "Madoguchi")
            return relay

        relay = srv.submit(start_relay()).result(15)
        stack.callback(lambda: srv.submit(relay_stack.aclose()).result(15))
        operator_seen: list[object] = []
        operator = OperatorClient(relay.url, on_event=operator_seen.append)
        operator.sink.on_frame = on_frame
        browser_stack = contextlib.AsyncExitStack()

        async def start_session() -> BrowserCustomer:
            browser = await browser_stack.enter_async_context(
                BrowserCustomer.start(display.name, netns=plan.customer_ns, secure_origin=relay.url)
            )
            await browser.goto(f"{relay.url}/share?lang=en")
            await browser.eval(_COUNT_PICKERS)
            await browser.click("#agree")
            await browser.wait("#view-code", timeout_s=20)
            code = await browser.text("#code")
            await operator.login("lab", _PASSWORD)
            await operator.claim(code)
            await expect(operator, ClaimAccepted, 10, "the claim was not accepted")
            await browser.click("#allow")
            await expect(operator, ViewingStarted, 30, "the picture never started")
            await browser.wait("#view-sharing", timeout_s=10)
            return browser

        browser = srv.submit(start_session()).result(90)
        stack.callback(lambda: srv.submit(browser_stack.aclose()).result(30))
        stack.callback(lambda: srv.submit(operator.close()).result(30))
        time.sleep(before_s)
        _run(plan.change[0])
        changed_at = time.monotonic()  # the old address is gone: everything bound to it is dead
        for command in plan.change[1:]:
            _run(command)
        cut = _cut_old_paths(plan.server_ns) if cut_old_path else ()
        logger.info("customer address %s -> %s; media ports cut: %s", OLD_IP, NEW_IP, cut or "none")
        time.sleep(after_s)

        async def page_state() -> tuple[str, int, int]:
            view = str(await browser.eval("document.body.dataset.view"))
            resumes = len(relay.audit_rows("agent_resumed"))
            return view, int(await browser.eval("window.__pickers")), resumes

        view, pickers, resumes = srv.submit(page_state()).result(15)
        operator_ended = any(isinstance(e, SessionEnded) for e in operator_seen)
        live = view == "sharing" and not operator_ended and relay.state.registry.stats().sessions_active == 1
        console = list(browser.console)
        painted = read_painted(painted_log.read_text())

    restarts = [int(m[1]) for kind, text in console if (m := _RESTART.match(text))]
    after = [(value, at) for value, at in decoded if at >= changed_at]
    fresh = next((at for value, at in after if painted.get(value, 0.0) >= changed_at), None)
    return {
        "survived": live,
        "fresh_picture_s": None if fresh is None else round(fresh - changed_at, 2),
        "peer_restarts": len(restarts),
        "pickers": pickers,
        "page_socket_resumes": resumes,
        "page_view": view,
        "operator_ended": operator_ended,
        "frames_decoded_before_change": sum(at < changed_at for _, at in decoded),
        "frames_decoded_after_change": len(after),
        "page_log": [text for _kind, text in console if text.startswith(("peer ", "new peer", "no peer"))],
        "address": {"old": OLD_IP, "new": NEW_IP},
        "old_path_cut": cut_old_path,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m testbed.browser_address_lab", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--before", type=float, default=4.0, help="seconds of live session before the change")
    parser.add_argument("--after", type=float, default=8.0, help="seconds watched after the change")
    parser.add_argument(
        "--cut-old-path",
        action="store_true",
        help="also drop UDP to the console's media ports of the time, for good (the old pair cannot follow)",
    )
    parser.add_argument("--heartbeat", type=float, help="the relay's ping interval, s (default 20)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if os.environ.get("MADOGUCHI_LAB_LOG"):
        logging.basicConfig(level=logging.INFO, format="%(relativeCreated)8.0f %(name)s %(message)s")
    figures = run_browser_address_change(
        before_s=args.before, after_s=args.after, cut_old_path=args.cut_old_path, heartbeat_s=args.heartbeat
    )
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
