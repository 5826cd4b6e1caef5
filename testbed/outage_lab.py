"""One session through a network outage: does it survive, and how soon is the picture fresh?

``python -m testbed.outage_lab --outage 30`` builds a network namespace with the
``outage30`` link (40 ms RTT through :mod:`testbed.linkemu`), runs a relay, a customer
capturing a private Xvfb display that shows the stamped ``moving`` scene, and an
operator inside it, and after ``--before`` seconds of a live session takes the whole
link down for the outage's length: ``iptables -I INPUT -i lo -j DROP`` inside the
namespace, so every packet (media, ICE consent, relay websockets) is silently lost,
exactly as the emulator's own outage window does, but with the start and end known to
this process's clock. Then it reports, as JSON:

* ``fresh_picture_s``: from the link's return to the first decoded picture painted
  after the return (the scene logs when it painted each stamp; one monotonic clock);
* ``stale_after_return``: pictures decoded after the return that were painted more than
  300 ms before it (a stale replay), and ``stale_after_2s``: those decoded 2 s or more
  after the return that were over 300 ms old when decoded;
* ``survived``: the session still live on both sides and at the relay, with no user
  action; or else ``agent_end`` / ``operator_end`` (reason, by, seconds after the
  outage began) and whether the agent stopped capturing.

Needs root and Linux (namespaces, iptables); see docs/performance.md, "Outages".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["main", "run_outage"]

_INSIDE = "--inside"
_STALE_S = 0.3
_WIDTH, _HEIGHT = 1280, 720
_PASSWORD = "outage lab password"  # noqa: S105 (a throwaway account in a private relay)


def _link(drop: bool) -> None:
    action = "-I" if drop else "-D"
    subprocess.run(["iptables", action, "INPUT", "-i", "lo", "-j", "DROP"], check=True, timeout=10)


async def _session(
    outage_s: float,
    before_s: float,
    after_s: float,
    *,
    stock: bool,
    connection_lost_s: float,
    scene_mode: str = "moving",
    size: tuple[int, int] = (_WIDTH, _HEIGHT),
) -> dict[str, Any]:
    import aioice.ice

    from agent.session import Reconnected, RelayForgot
    from agent.session import SessionEnded as AgentEnded
    from client_core import rtc_tuning
    from operator_console.client import OperatorClient, RelayConnection, SessionEnded, ViewingStarted
    from relay.server import running_relay
    from testbed.customer import Customer
    from testbed.operator import expect
    from testbed.scene import SceneProcess, read_painted, stamp_position
    from testbed.stamp import DecodedStamps
    from testbed.xvfb import VirtualDisplay

    rtc_tuning.set_tuning_enabled(not stock)
    width, height = size
    stamp_x, stamp_y = stamp_position(width, height)

    on_frame = DecodedStamps(width, stamp_x, stamp_y)
    decoded = on_frame.decoded

    with tempfile.TemporaryDirectory() as tmp, VirtualDisplay(screens=[size]) as display:
        painted_log = Path(tmp) / "painted.txt"
        scene = SceneProcess(
            display.name, scene_mode, fps=30, geometry=(0, 0, width, height), stamp_file=str(painted_log)
        )
        with scene:
            async with running_relay() as relay:
                relay.add_operator("lab", _PASSWORD, "Outage Lab", "Madoguchi")
                customer = Customer(
                    relay.url,
                    display=display.name,
                    send_system_info=False,
                    reconnect_give_up_s=connection_lost_s,
                )
                operator_ended: list[tuple[SessionEnded, float]] = []
                operator_relay: list[str] = []
                operator_seen: list[tuple[object, float]] = []
                operator = OperatorClient(
                    relay.url,
                    on_event=lambda e: operator_seen.append((e, time.monotonic())),
                    connection_lost_s=connection_lost_s,
                )
                operator.sink.on_frame = on_frame
                try:
                    customer.start()
                    # A lab knob: ICE consent as short as the give-up time, even below the
                    # programs' floor of aioice's own 30 s, so a test of the give-up is short.
                    aioice.ice.CONSENT_FAILURES = max(
                        1, math.ceil(connection_lost_s / aioice.ice.CONSENT_INTERVAL)
                    )
                    await operator.login("lab", _PASSWORD)
                    await operator.claim(await customer.wait_code())
                    await expect(operator, ViewingStarted, 30, "the picture never started")
                    capture_stopped_at: list[float] = []
                    customer.tracks[-1].on("ended", lambda: capture_stopped_at.append(time.monotonic()))
                    await asyncio.sleep(before_s)
                    down_at = time.monotonic()
                    if outage_s > 0:
                        _link(drop=True)
                        await asyncio.sleep(outage_s)
                        _link(drop=False)
                    up_at = time.monotonic()
                    assert customer.task is not None
                    await asyncio.wait({customer.task}, timeout=after_s)  # watch, or until it ends
                    for event, at in operator_seen:
                        if isinstance(event, SessionEnded):
                            operator_ended.append((event, at))
                        if isinstance(event, RelayConnection):
                            operator_relay.append(event.state)
                    agent_end = customer.task.result() if customer.task and customer.task.done() else None
                    live = (
                        agent_end is None
                        and not operator_ended
                        and relay.state.registry.stats().sessions_active == 1
                    )
                    end_reaches_agent_s: float | None = None
                    if live:  # the operator's End session: how soon does the customer's side stop?
                        stopped = asyncio.Event()
                        customer.tracks[-1].on("ended", stopped.set)  # the agent stops capturing
                        end_at = time.monotonic()
                        ending = asyncio.ensure_future(operator.end_session())
                        with contextlib.suppress(TimeoutError):  # None: it did not arrive in 15 s
                            await asyncio.wait_for(stopped.wait(), 15)
                            end_reaches_agent_s = round(time.monotonic() - end_at, 3)
                        await ending
                        await customer.ended(timeout=30)
                    capture_stopped = all(t.readyState == "ended" for t in customer.tracks)
                finally:
                    await operator.close()
                    await customer.stop()
        painted = read_painted(painted_log.read_text())

    after = [(value, at) for value, at in decoded if at >= up_at]
    fresh = next((at for value, at in after if painted.get(value, 0.0) >= up_at), None)
    stale = [(value, at) for value, at in after if painted.get(value, at) < up_at - _STALE_S]
    late = [(v, at) for v, at in after if at >= up_at + 2.0 and at - painted.get(v, at) > _STALE_S]

    def ended(end: AgentEnded | SessionEnded | None, at: float | None) -> dict[str, Any] | None:
        if end is None:
            return None
        since = None if at is None else round(at - down_at, 1)
        return {"reason": end.reason.value, "by": end.by, "after_outage_start_s": since}

    return {
        "outage_s": outage_s,
        "media": "stock aiortc" if stock else "tuned",
        "scene": scene_mode,
        "survived": live,
        "fresh_picture_s": None if fresh is None else round(fresh - up_at, 2),
        "stale_after_return": len(stale),
        "stale_after_2s": len(late),
        "frames_decoded_during_outage": sum(down_at + 0.1 <= at < up_at for _, at in decoded),
        "frames_decoded_after_return": len(after),
        "frames_decoded_from_1s_after_return": sum(at >= up_at + 1.0 for _, at in after),
        "frames_decoded": len(decoded),
        "operator_relay_link": operator_relay,
        "agent_relay_link": [
            type(e).__name__ for e in customer.events if isinstance(e, Reconnected | RelayForgot)
        ],
        "agent_track": [dataclasses.asdict(t.stats) for t in customer.tracks],
        "agent_end": ended(agent_end, capture_stopped_at[0] if capture_stopped_at else None),
        "operator_end": ended(*operator_ended[0]) if operator_ended else None,
        "agent_capture_stopped": capture_stopped,
        "end_reaches_agent_s": end_reaches_agent_s,
    }


def run_outage(
    outage_s: float,
    *,
    before_s: float = 5.0,
    after_s: float = 10.0,
    stock: bool = False,
    profile_name: str | None = None,
    connection_lost_s: float = 60.0,
    scene_mode: str = "moving",
    size: tuple[int, int] = (_WIDTH, _HEIGHT),
) -> dict[str, Any]:
    """Build the namespace, run the session inside it, return its figures."""
    from testbed.linkemu.namespace import LinkNamespace, available
    from testbed.linkemu.profiles import LinkProfile, profile

    why = available()
    if why is not None:
        raise RuntimeError(f"the outage lab needs the link emulator: {why}")
    name = profile_name or f"outage{int(outage_s)}"
    try:
        base = profile(name)
    except KeyError:
        base = LinkProfile(name=name, rtt=0.040)
    # The outage is driven from inside (known start and end); the emulator adds the delay.
    link = dataclasses.replace(base, outages=())
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        with LinkNamespace(link) as ns:
            cmd = [*ns.exec_prefix, sys.executable, "-m", "testbed.outage_lab", _INSIDE, str(out)]
            cmd += ["--outage", str(outage_s), "--before", str(before_s), "--after", str(after_s)]
            cmd += ["--stock"] if stock else []
            cmd += ["--connection-lost", str(connection_lost_s), "--scene", scene_mode]
            cmd += ["--size", f"{size[0]}x{size[1]}"]
            subprocess.run(cmd, check=True, env=dict(os.environ), timeout=outage_s + before_s + after_s + 120)
        result: dict[str, Any] = json.loads(out.read_text())
    result["link"] = {
        "profile": name,
        "rtt_s": link.rtt,
        "rate_bps": link.rate_bps,
        "buffer_bytes": link.limit_bytes,
        "emulator": ns.counters,
    }
    return result


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if "--change-address" in args_in:  # the customer's network changes instead of going down
        from testbed import address_change_lab

        return address_change_lab.main([a for a in args_in if a != "--change-address"])
    parser = argparse.ArgumentParser(prog="python -m testbed.outage_lab", description=__doc__.split("\n")[0])
    parser.add_argument("--outage", type=float, default=5.0, help="seconds the link is down")
    parser.add_argument("--before", type=float, default=5.0, help="seconds of live session before it")
    parser.add_argument("--after", type=float, default=10.0, help="seconds watched after the link returns")
    parser.add_argument("--profile", help="link profile (default: outageN; e.g. mobile with --outage 0)")
    parser.add_argument(
        "--connection-lost",
        type=float,
        default=60.0,
        help="the clients' give-up time (and, in this lab only, ICE consent's tolerance)",
    )
    parser.add_argument("--scene", default="moving", help="stamped scene mode: moving, scroll, typing, rare")
    parser.add_argument("--stock", action="store_true", help="stock aiortc media (no rtc_tuning)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--size", default=f"{_WIDTH}x{_HEIGHT}", help="screen size, e.g. 1920x1080")
    parser.add_argument(
        "--change-address",
        action="store_true",
        help="instead of an outage, change the customer's address (testbed.address_change_lab)",
    )
    parser.add_argument(_INSIDE, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    width, _, height = args.size.partition("x")
    size = (int(width), int(height))
    if args.inside is not None:
        if os.environ.get("MADOGUCHI_LAB_LOG"):
            logging.basicConfig(level=logging.INFO, format="%(relativeCreated)8.0f %(name)s %(message)s")
        figures = asyncio.run(
            _session(
                args.outage,
                args.before,
                args.after,
                stock=args.stock,
                connection_lost_s=args.connection_lost,
                scene_mode=args.scene,
                size=size,
            )
        )
        args.inside.write_text(json.dumps(figures))
        return 0
    figures = run_outage(
        args.outage,
        before_s=args.before,
        after_s=args.after,
        stock=args.stock,
        profile_name=args.profile,
        connection_lost_s=args.connection_lost,
        scene_mode=args.scene,
        size=size,
    )
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
