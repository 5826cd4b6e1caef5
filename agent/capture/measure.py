"""Measure the capture path's costs on this machine: ``python -m agent.capture.measure``.

Prints median and p95 milliseconds for: a full ``ScreenSource.grab()`` (the factory's
backend, a large screen shrunk), mss's grab of the whole area at full size, shrinking a
full-size grab by 2 with libyuv and with numpy, the cursor query alone, the change
test on an unchanged and on a changed screen, wrapping a frame as an ``av.VideoFrame``
without copying, the copying alternative, and the BGRA -> yuv420p conversion every encoder performs. Uses the
display in ``$DISPLAY`` (or ``--display``); ``--json`` prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import av
import numpy as np
import numpy.typing as npt

from .change import images_equal
from .cursor import create_cursor_reader
from .downscale import Downscaler
from .factory import create_source

__all__ = ["main", "measure"]


def _timed(fn: Callable[[], object], repeat: int) -> dict[str, float]:
    fn()  # warm-up: first calls allocate buffers
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 3),
        "p95_ms": round(samples[min(len(samples) - 1, int(0.95 * len(samples)))], 3),
    }


def measure(display: str | None = None, monitor: int | None = 0, repeat: int = 50) -> dict[str, object]:
    """The figures as a dict (see the module docstring)."""
    with (
        create_source(display) as source,
        create_source(display, min_picture=None, shared_memory=False) as full_size,
    ):
        area = source.select(monitor)
        full_size.select(monitor)
        whole = full_size.grab().image
        image = source.grab().image
        same = source.grab().image
        changed = image.copy()
        changed[image.shape[0] // 2, image.shape[1] // 2, 0] ^= 0xFF
        results: dict[str, object] = {
            "area": f"{area.width}x{area.height}",
            "grab": _timed(source.grab, repeat),
            "grab_mss_full_size": _timed(full_size.grab, repeat),
            "shrink_by_2_libyuv": _timed(lambda: Downscaler().shrink(whole, 2), repeat),
            "shrink_by_2_numpy": _timed(lambda: Downscaler(use_libyuv=False).shrink(whole, 2), repeat),
            "change_test_unchanged": _timed(lambda: images_equal(image, same), repeat),
            "change_test_one_pixel_changed": _timed(lambda: images_equal(image, changed), repeat),
            "wrap_from_numpy_buffer": _timed(lambda: _wrap(image), repeat),
            "copy_from_ndarray": _timed(
                lambda: av.VideoFrame.from_ndarray(np.asarray(image), format="bgra"), repeat
            ),
            "bgra_to_yuv420p": _timed(lambda: _wrap(image).reformat(format="yuv420p"), repeat),
        }
    reader = create_cursor_reader(display)
    try:
        results["cursor_query"] = _timed(reader.position, repeat)
    finally:
        reader.close()
    return results


def _wrap(image: npt.NDArray[np.uint8]) -> av.VideoFrame:
    return av.VideoFrame.from_numpy_buffer(image, format="bgra")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m agent.capture.measure", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--display", help="X display (default $DISPLAY)")
    parser.add_argument("--monitor", type=int, default=0, help="monitor index (default 0)")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    results = measure(args.display, args.monitor, args.repeat)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"capture costs for {results.pop('area')} (median / p95, ms)")
    for name, value in results.items():
        assert isinstance(value, dict)
        print(f"  {name:32s} {value['median_ms']:8.3f} {value['p95_ms']:8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
