"""The browser pipeline of ``madoguchi bench``: the same scroll scene shared by Chromium in normal mode.

Chromium (Debian's, non-headless, ``testbed.browser``) opens the relay's ``/share`` page
on the benchmark's Xvfb, shares the whole screen and allows; the operator is the
console's client with its tuned receiver, as for the ``madoguchi`` pipeline. Once the
picture arrives the scene window is raised over Chromium's, so the browser captures the
same full-screen scroll the native agent captured a moment before.

What can be measured from outside Chromium:

* **paint-to-decoded**: the scene logs when it painted each stamp, the operator reads the
  stamp back from each decoded picture (one monotonic clock). Chromium's own capture time
  is not visible here, so this figure, which also holds the wait between the paint and
  Chromium's next grab, is an upper bound of capture-to-decoded;
* **fps**, **bitrate** and **CPU** (Chromium's whole process tree, every thread) over the window;
* **PSNR**: every ``psnr_every_s`` the benchmark grabs the X screen itself (mss), reads the
  stamp in its grab, and compares the decoded picture carrying that stamp with it.
"""

from __future__ import annotations

import asyncio
import collections
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["run_browser"]

_SCENE_CLASS = "madoguchi-scene"
"""The scene's X class name (``testbed.scene`` starts Qt with ``-name madoguchi-scene``)."""


_RECENT = 15
"""Decoded pictures kept for a grab that finishes after its picture arrived (half a second)."""


class BrowserBenchError(RuntimeError):
    """The browser run produced no usable figures."""


def _grab_rgb(display: str, width: int, height: int) -> npt.NDArray[np.uint8]:
    """The X screen's top-left ``width`` x ``height`` as RGB (a fresh connection: runs in a thread)."""
    import mss

    with mss.MSS(display=display) as sct:
        shot = sct.grab({"left": 0, "top": 0, "width": width, "height": height})
    return np.asarray(shot, dtype=np.uint8)[:, :, 2::-1].copy()


async def _raise_scene(display: str) -> None:
    """Put the scene's window over Chromium's (no window manager: a plain XRaiseWindow)."""
    env = {**os.environ, "DISPLAY": display}
    find = await asyncio.create_subprocess_exec(
        "xdotool", "search", "--classname", _SCENE_CLASS, stdout=asyncio.subprocess.PIPE, env=env
    )
    out, _ = await find.communicate()
    windows = out.decode().split()
    if not windows:
        raise BrowserBenchError("the scene's window was not found")
    for window in windows:
        proc = await asyncio.create_subprocess_exec("xdotool", "windowraise", window, env=env)
        await proc.wait()


def _tree_cpu_seconds(root: int) -> float | None:
    """CPU seconds of ``root`` and all its descendants (Chromium's renderer, GPU, utility processes)."""
    from benchmarks.machine import process_cpu_seconds

    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[-1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    total, found, todo = 0.0, False, [root]
    while todo:
        pid = todo.pop()
        seconds = process_cpu_seconds(pid)
        if seconds is not None:
            total += seconds
            found = True
        todo.extend(children.get(pid, ()))
    return total if found else None


async def run_browser(
    relay_url: str,
    password: str,
    *,
    display: str,
    size: tuple[int, int],
    stamp_xy: tuple[int, int],
    painted_log: Path,
    settings: Any,
) -> dict[str, Any]:
    """One normal-mode session of Chromium on ``display``; its figures (see the module docstring)."""
    from benchmarks.stats import freezes, negotiated_video_codec
    from client_core import rtc_tuning
    from operator_console.client import ClaimAccepted, OperatorClient, SessionEnded, ViewingStarted
    from testbed.browser import BrowserCustomer
    from testbed.operator import expect
    from testbed.stamp import StampError, read_stamp

    rtc_tuning.set_tuning_enabled(True)  # the console's own receive path
    width, height = size
    decoded: list[tuple[int, float]] = []
    references: dict[int, npt.NDArray[np.uint8]] = {}
    pictures: dict[int, npt.NDArray[np.uint8]] = {}
    recent: collections.deque[tuple[int, npt.NDArray[np.uint8]]] = collections.deque(maxlen=_RECENT)
    unreadable = 0

    def on_decoded(image: Any, at: float) -> None:
        nonlocal unreadable
        try:
            value = read_stamp(image, x=stamp_xy[0], y=stamp_xy[1])
        except StampError:
            value = None
        if value is None:
            unreadable += 1
            return
        decoded.append((value, at))
        recent.append((value, image))
        if value in references and value not in pictures:
            pictures[value] = image

    operator = OperatorClient(relay_url)
    operator.sink.on_frame = on_decoded
    async with BrowserCustomer.start(display) as browser:
        try:
            await browser.goto(f"{relay_url}/share?lang=en")
            await browser.click("#agree")
            await browser.wait("#view-code", timeout_s=15)
            code = await browser.text("#code")
            view_started = time.monotonic()
            await operator.login("bench", password)
            await operator.claim(code)
            await expect(operator, ClaimAccepted, 10, "the browser's code was not accepted")
            await browser.wait("#allow")
            await browser.click("#allow")
            await expect(operator, ViewingStarted, 20, "the browser's screen never arrived")
            await _raise_scene(display)
            peer = operator.peer
            if peer is None:
                raise BrowserBenchError("the operator has no peer connection")
            codec = negotiated_video_codec(str(peer.pc.localDescription.sdp)) or "?"
            await asyncio.sleep(settings.warmup_s)

            stats0 = await operator.stats()
            frames0 = operator.sink.frames_received
            start = time.monotonic()
            cpu0 = _tree_cpu_seconds(browser.pid)
            next_grab = start + settings.psnr_every_s / 2
            while (now := time.monotonic()) < start + settings.window_s:
                if now >= next_grab:
                    grab = await asyncio.to_thread(_grab_rgb, display, width, height)
                    try:
                        value = read_stamp(grab, x=stamp_xy[0], y=stamp_xy[1])
                    except StampError:
                        value = None
                    if value is not None:
                        references[value] = grab
                        # Its picture may have been decoded while the grab was being read.
                        pictures.update((v, image) for v, image in recent if v == value)
                    next_grab = now + settings.psnr_every_s
                await asyncio.sleep(0.02)
            end = time.monotonic()
            cpu1 = _tree_cpu_seconds(browser.pid)
            stats1 = await operator.stats()
            frames1 = operator.sink.frames_received
            await asyncio.sleep(0.3)  # the last references' pictures arrive
            await operator.end_session()
            await expect(operator, SessionEnded, 10, "the browser's session did not end")
            version = browser.version
        finally:
            await operator.close()
    if not decoded:
        raise BrowserBenchError("no stamped picture arrived from the browser")
    wall = end - start
    return {
        "codec": codec,
        "browser": f"Chromium {version}",
        "latency_ms": {"median": None, "p95": None, "max": None, "samples": 0},
        **_quality(painted_log, decoded, references, pictures, (start, end)),
        "fps": round((frames1 - frames0) / wall, 1),
        "window_s": round(wall, 2),
        "agent_cpu_percent": None if cpu0 is None or cpu1 is None else round((cpu1 - cpu0) / wall * 100, 1),
        "bitrate_kbps": (
            round((stats1.bytes_received - stats0.bytes_received) * 8 / 1000 / wall, 1)
            if stats0 is not None and stats1 is not None
            else None
        ),
        "first_picture_s": round(decoded[0][1] - view_started, 2),
        "freeze": freezes([at for _, at in decoded], start, end),
        "unreadable_stamps": unreadable,
    }


def _quality(
    painted_log: Path,
    decoded: list[tuple[int, float]],
    references: dict[int, npt.NDArray[np.uint8]],
    pictures: dict[int, npt.NDArray[np.uint8]],
    window: tuple[float, float],
) -> dict[str, Any]:
    """Paint-to-decoded over the window, and PSNR of each decoded picture against the grab with its stamp."""
    from benchmarks.stats import match_latencies, parse_stamp_log, summarize
    from testbed.quality import psnr_luma

    painted = parse_stamp_log(painted_log.read_text()) if painted_log.exists() else {}
    psnr = [psnr_luma(pictures[v], references[v]) for v in references if v in pictures]
    finite = [p for p in psnr if p != float("inf")]
    return {
        "paint_to_decoded_ms": summarize(match_latencies(painted, decoded, since=window[0], until=window[1])),
        "psnr_db": {
            "mean": round(statistics.fmean(finite), 1) if finite else None,
            "min": round(min(finite), 1) if finite else None,
            "samples": len(psnr),
        },
    }
