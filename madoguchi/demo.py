"""``madoguchi demo``: one real session on this machine, on embedded defaults.

Everything real, nothing mocked: a relay on 127.0.0.1 (temporary data dir, one
demo operator), an X display (a private Xvfb unless ``--display`` is given or
``DISPLAY`` is set) with a moving scene on it, the customer's agent core capturing
that display with mss, and the operator client core, talking WebRTC over loopback.
The customer's side agrees to the terms and clicks Allow programmatically, exactly
where a person would; the operator logs in, types the 4-digit code, watches for
``--seconds`` and moves the pointer, while the customer moves the real X mouse
cursor of the private display (which the operator must see). Then the operator
ends the session and a summary is printed (``--json`` writes the figures,
``--snapshot`` the last frame).

``--network CASE`` runs the session through the network lab instead (root only:
namespaces, veth, iptables and a real coturn; testbed/netlab.py): ``lan``,
``cone-nat``, ``symmetric-nat``, ``tcp443-only`` or ``proxy`` (the agent's websocket
through a real tinyproxy with Basic authentication). Either way the JSON says which
candidate pair ICE chose (``ice``), how long after Allow the operator decoded the
first frame (``first_frame_s``) and, for ``proxy``, where the proxy tunnelled to
(``proxy_connects``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["configure", "run"]

logger = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to stream (default 10)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--snapshot", type=Path, metavar="PATH.png", help="save the last decoded frame")
    parser.add_argument("--size", default="1280x720", help="virtual screen size WxH (default 1280x720)")
    parser.add_argument("--fps", type=float, default=30.0, help="capture frame-rate cap (default 30)")
    parser.add_argument(
        "--display", help="capture this X display instead of starting a private Xvfb (no scene is drawn)"
    )
    parser.add_argument(
        "--scene", default="moving", help="scene mode on the private display (default moving)"
    )
    parser.add_argument(
        "--network",
        choices=("lan", "cone-nat", "symmetric-nat", "tcp443-only", "proxy"),
        help=(
            "run through the network lab: NATs, a TCP-443-only firewall, an HTTP proxy with only "
            "TURN on 443 allowed besides it, coturn (needs root)"
        ),
    )
    parser.add_argument(
        "--mode",
        choices=("agent", "browser", "cobrowse"),
        default="agent",
        help="the customer: the installed agent (default), Chromium in normal mode (docs/browser.md)"
        " or Chromium co-browsing the demo bank (docs/cobrowse.md)",
    )


def run(args: argparse.Namespace) -> int:
    from testbed.customer import TestbedError

    if args.mode in ("browser", "cobrowse"):
        if args.network:
            print(
                f"madoguchi demo: --network runs the installed agent; not with --mode {args.mode}",
                file=sys.stderr,
            )
            return 2
        return _run_browser(args) if args.mode == "browser" else _run_cobrowse(args)
    try:
        width, height = (int(v) for v in str(args.size).lower().split("x"))
    except ValueError:
        print(f"madoguchi demo: --size must look like 1280x720, not {args.size!r}", file=sys.stderr)
        return 2
    if args.network:
        return _run_network(args, width, height)
    with _display(args.display, width, height, args.scene) as (stamp_xy, scene_note):
        # The customer's mouse is moved only on the demo's own display, never on a real desktop.
        screen = (width, height) if args.display is None else None
        try:
            result = asyncio.run(_session(args, stamp_xy, screen))
        except TestbedError as exc:
            print(f"madoguchi demo: FAILED: {exc}", file=sys.stderr)
            return 1
    result["scene"] = scene_note
    _print_summary(result)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    ok = result["frames_received"] > 0 and result["pointer_events_received"] > 0
    cursor = result["cursor"]
    ok = ok and (cursor is None or cursor["moves_received"] > 0)
    return 0 if ok else 1


def _run_network(args: argparse.Namespace, width: int, height: int) -> int:
    from testbed.customer import TestbedError
    from testbed.lab_session import run_lab_session
    from testbed.turn import ToolMissing

    with _display(args.display, width, height, args.scene) as (_, scene_note):
        try:
            lab = run_lab_session(args.network, os.environ["DISPLAY"], watch_s=args.seconds)
        except (TestbedError, ToolMissing, PermissionError, RuntimeError) as exc:
            print(f"madoguchi demo --network {args.network}: FAILED: {exc}", file=sys.stderr)
            return 1
    result = {
        "network": lab.case,
        "scene": scene_note,
        "ice": lab.ice(),
        "operator_ice": lab.operator_pair.as_dict() if lab.operator_pair is not None else None,
        "first_frame_s": lab.first_frame_s,
        "frames_received": lab.frames,
        "proxy_connects": list(lab.proxy_connects),
        "seconds": args.seconds,
    }
    print(
        "\n".join(
            [
                "",
                f"Madoguchi demo through the lab: {lab.case}",
                f"  screen            {scene_note}",
                f"  candidate pair    {_pair_text(result['ice'])} (customer's side)",
                f"  first frame       {lab.first_frame_s:.2f} s after Allow",
                f"  frames received   {lab.frames}",
            ]
        )
    )
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if lab.frames > 0 else 1


def _pair_text(ice: dict[str, Any] | None) -> str:
    if not ice or ice.get("local_type") is None:
        return "unknown"
    via = f" via TURN over {ice['relay_protocol']}" if ice.get("relay_protocol") else ""
    return f"{ice['local_type']} -> {ice['remote_type']} ({ice['protocol']}){via}"


def _run_browser(args: argparse.Namespace) -> int:
    from testbed.browser_demo import browser_session
    from testbed.customer import TestbedError

    try:
        result = asyncio.run(browser_session(args.seconds, scene="scroll"))
    except TestbedError as exc:
        print(f"madoguchi demo: FAILED: {exc}", file=sys.stderr)
        return 1
    _print_summary(result)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    ok = result["frames_received"] > 0 and result["pointer_events_received"] > 0
    return 0 if ok else 1


def _run_cobrowse(args: argparse.Namespace) -> int:
    from testbed.cobrowse_demo import cobrowse_session
    from testbed.customer import TestbedError

    try:
        result = asyncio.run(cobrowse_session(args.seconds))
    except TestbedError as exc:
        print(f"madoguchi demo: FAILED: {exc}", file=sys.stderr)
        return 1
    latency = result["mirror_latency_ms"]
    print(
        f"  mirror latency    median {latency['median']} ms, p95 {latency['p95']} ms"
        f" ({latency['samples']} changes)"
    )
    print(f"  navigation        {result['navigation_ms']} ms (page load -> operator)")
    print(f"  while working     {result['bytes_sent_per_s']} B/s, {result['events_per_s']} events/s")
    print(
        f"  first snapshot    {result['first_snapshot_bytes_raw']} B raw,"
        f" {result['first_snapshot_bytes_compressed']} B compressed"
    )
    print(f"  Stop -> operator  {result['stop_to_operator_ms']} ms")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0 if result["events_total"] > 0 else 1


@contextlib.contextmanager
def _display(
    display: str | None, width: int, height: int, scene_mode: str
) -> Iterator[tuple[tuple[int, int] | None, str]]:
    """Yield (stamp position or None, description) with DISPLAY set for mss."""
    if display:
        os.environ["DISPLAY"] = display
        yield None, f"existing display {display}"
        return
    from testbed.scene import SceneProcess, stamp_position
    from testbed.xvfb import VirtualDisplay

    with VirtualDisplay(screens=[(width, height)]) as xvfb:
        os.environ["DISPLAY"] = xvfb.name
        with SceneProcess(xvfb.name, scene_mode, geometry=(0, 0, width, height)):
            yield stamp_position(width, height), f"Xvfb {xvfb.name} {width}x{height}, scene '{scene_mode}'"


async def _session(
    args: argparse.Namespace, stamp_xy: tuple[int, int] | None, screen: tuple[int, int] | None
) -> dict[str, Any]:
    from agent.capture import create_source
    from agent.track import ScreenTrack
    from client_core.rtc import selected_pair
    from operator_console.client import OperatorClient, SessionEnded
    from protocol import Pointer
    from relay.server import running_relay
    from testbed.customer import Customer
    from testbed.latency import LatencyProbe
    from testbed.operator import expect, operator_view

    probe = LatencyProbe(x=stamp_xy[0], y=stamp_xy[1]) if stamp_xy else None
    track_holder: list[ScreenTrack] = []

    def make_track() -> ScreenTrack:
        def on_frame(captured: Any, pts: int) -> None:
            if probe is not None:
                probe.on_captured(captured.image, captured.captured_at)

        track = ScreenTrack(create_source(), max_fps=args.fps, on_frame=on_frame)
        track_holder.append(track)
        return track

    password = secrets.token_urlsafe(12)
    async with running_relay() as relay:  # 127.0.0.1, free port, temporary data dir
        relay.add_operator(
            "demo", password, display_name="山田 太郎 (Demo)", organisation="Madoguchi Support"
        )
        print(f"relay: listening on {relay.url}")
        customer = Customer(relay.url, track_factory=make_track, say=print)
        customer.start()
        operator = OperatorClient(relay.url)
        first_frame: list[float] = []

        def on_decoded(image: Any, decoded_at: float) -> None:
            if not first_frame:
                first_frame.append(time.monotonic())
            if probe is not None:
                probe.on_decoded(image, decoded_at)

        operator.sink.on_frame = on_decoded
        mouse = _CustomerMouse(screen, operator) if screen is not None else None
        try:
            await operator_view(operator, "demo", password, customer.wait_code, say=print)
            code = await customer.wait_code()
            figures = await _watch(operator, args.seconds, mouse)
            peer = customer.session.peer if customer.session is not None else None
            pair = selected_pair(peer.pc) if peer is not None else None
            await operator.end_session()
            await expect(operator, SessionEnded, 10, "the session did not end")
            ended = await customer.ended(10)
        finally:
            if args.snapshot is not None and operator.sink.latest() is not None:
                _save_png(operator.sink.latest(), args.snapshot)
            await operator.close()
            await customer.stop()
            if mouse is not None:
                mouse.close()

    sent_pointer = figures.pop("pointer_events_sent")
    pointer_received = [m for m in customer.guidance if isinstance(m, Pointer)]
    track_stats = track_holder[0].stats if track_holder else None
    no_pair = {"local_type": None, "remote_type": None, "protocol": None, "relay_protocol": None}
    return {
        "code": code,
        "ice": pair.as_dict() if pair is not None else no_pair,
        "first_frame_s": (
            round(first_frame[0] - customer.allowed_at, 3)
            if first_frame and customer.allowed_at is not None
            else None
        ),
        "frames_received": figures["frames_received"],
        "fps": figures["fps"],
        "latency_ms_median": _round(probe.median_ms()) if probe else None,
        "latency_ms_p95": _round(probe.p95_ms()) if probe else None,
        "latency_samples": len(probe.samples_ms) if probe else 0,
        "bitrate_kbps": figures["bitrate_kbps"],
        "rtt_ms": figures["rtt_ms"],
        "pointer_events_sent": sent_pointer,
        "pointer_events_received": len(pointer_received),
        "pointer_last_matches": bool(pointer_received) and pointer_received[-1] == figures["last_pointer"],
        "cursor": None if mouse is None else mouse.figures(),
        "frames_sent": track_stats.sent if track_stats else None,
        "frames_skipped_unchanged": track_stats.skipped_unchanged if track_stats else None,
        "ended_by": ended.by,
        "end_reason": str(ended.reason),
        "seconds": args.seconds,
    }


class _CustomerMouse:
    """The customer's hand on the mouse: moves the display's real X pointer, and
    records where the operator's console says the customer's cursor is."""

    def __init__(self, screen: tuple[int, int], operator: Any) -> None:
        from testbed.x_pointer import XPointer

        self.width, self.height = screen
        self._pointer = XPointer()
        self.moved: list[tuple[int, int]] = []
        self.seen: list[tuple[int, int]] = []
        self._operator = operator
        operator.cursor.on_change = self._seen

    def _seen(self, state: Any) -> None:
        if state.visible:
            self.seen.append((round(state.x * self.width), round(state.y * self.height)))

    def move(self, elapsed: float) -> None:
        """One step of a circle around the screen's centre, a different one from the pointer's."""
        angle = -elapsed * 2 * math.pi / 5.0
        x = round(self.width * (0.5 + 0.35 * math.cos(angle)))
        y = round(self.height * (0.5 + 0.35 * math.sin(angle)))
        if not self.moved or self.moved[-1] != (x, y):
            self._pointer.move(x, y)
            self.moved.append((x, y))

    def figures(self) -> dict[str, Any]:
        seen = set(self.seen)
        cursor = self._operator.cursor
        return {
            "moves_sent": len(self.moved),
            "moves_received": sum(1 for position in self.moved if position in seen),
            "last_matches": bool(self.moved) and bool(self.seen) and self.seen[-1] == self.moved[-1],
            "messages_received": cursor.moves_received,
            "shapes_received": cursor.shapes_received,
        }

    def close(self) -> None:
        self._operator.cursor.on_change = None
        self._pointer.close()


async def _watch(operator: Any, seconds: float, mouse: _CustomerMouse | None = None) -> dict[str, Any]:
    """Stream for ``seconds`` while the pointer circles the screen at 10 Hz (and the
    customer's mouse another circle, on the demo's own display)."""
    from protocol import Pointer

    start = time.monotonic()
    first_bytes: tuple[float, int] | None = None
    sent = 0
    last = Pointer(x=0.5, y=0.5)
    stats = await operator.stats()
    frames_at_start = operator.sink.frames_received
    while (elapsed := time.monotonic() - start) < seconds:
        angle = elapsed * 2 * math.pi / 4.0
        last = Pointer(x=round(0.5 + 0.3 * math.cos(angle), 4), y=round(0.5 + 0.3 * math.sin(angle), 4))
        if operator.send_pointer(last.x, last.y):
            sent += 1
        if mouse is not None:
            mouse.move(elapsed)
        stats = await operator.stats()
        if first_bytes is None:
            first_bytes = (time.monotonic(), stats.bytes_received)
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.3)  # let the last pointer message land
    stats = await operator.stats()
    duration = time.monotonic() - start
    assert first_bytes is not None
    bits = (stats.bytes_received - first_bytes[1]) * 8
    frames = operator.sink.frames_received
    return {
        "frames_received": frames,
        "fps": round((frames - frames_at_start) / duration, 1),
        "bitrate_kbps": round(bits / 1000 / max(time.monotonic() - first_bytes[0], 1e-3), 1),
        "rtt_ms": _round(stats.rtt_ms),
        "pointer_events_sent": sent,
        "last_pointer": last,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _save_png(image: Any, path: Path) -> None:
    from PIL import Image

    Image.fromarray(image).save(path)


def _print_summary(result: dict[str, Any]) -> None:
    latency = (
        f"{result['latency_ms_median']} ms median, {result['latency_ms_p95']} ms p95 "
        f"({result['latency_samples']} samples)"
        if result["latency_ms_median"] is not None
        else "not measured (no stamp on this display)"
    )
    lines = [
        "",
        "Madoguchi demo: summary",
        f"  screen            {result['scene']}",
        f"  code              {result['code']}",
        f"  candidate pair    {_pair_text(result.get('ice'))}",
        f"  first frame       {result['first_frame_s']} s after Allow",
        f"  frames received   {result['frames_received']} ({result['fps']} fps)",
        f"  capture->decoded  {latency}",
        f"  bitrate           {result['bitrate_kbps']} kbit/s",
        f"  round trip        {result['rtt_ms']} ms (guidance channel)",
        f"  pointer           {result['pointer_events_received']} of {result['pointer_events_sent']} "
        f"moves reached the customer{' (last one matches)' if result['pointer_last_matches'] else ''}",
        f"  cursor            {_cursor_line(result.get('cursor', 'browser'))}",
        f"  frames sent       {_sent_line(result)}",
        f"  ended             {result['end_reason']} by {result['ended_by']}",
    ]
    print("\n".join(lines))


def _sent_line(result: dict[str, Any]) -> str:
    if result.get("frames_sent") is None:
        return "counted by the customer's browser, not here"
    return f"{result['frames_sent']} ({result['frames_skipped_unchanged']} unchanged grabs skipped)"


def _cursor_line(cursor: dict[str, Any] | str | None) -> str:
    if cursor == "browser":
        return "drawn by the customer's browser into the picture"
    if not isinstance(cursor, dict):
        return "not moved (an existing display is the user's own)"
    matches = " (last one matches)" if cursor["last_matches"] else ""
    return f"{cursor['moves_received']} of {cursor['moves_sent']} moves reached the operator{matches}"
