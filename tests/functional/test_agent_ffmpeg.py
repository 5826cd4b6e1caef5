"""installer/ffmpeg_build.py: the agent's own FFmpeg, built for real and loaded by PyAV's modules.

The build is shared with `make dist` and the packaged-agent test (``installer.build.NATIVE_CACHE``):
the first run on a machine downloads the pinned sources and compiles for about a minute.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import av
import numpy as np
import pytest

from installer import ffmpeg_build
from installer.build import NATIVE_CACHE, ROOT
from testbed.quality import psnr_luma

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="the agent's FFmpeg is built on Linux only"),
    pytest.mark.timeout(600),
]

_SITE = Path(av.__file__).resolve().parent.parent

# Runs with the swapped copy of PyAV first on sys.path: encodes a 320x240 pattern three ways
# (PyAV's libx264 encoder, agent.swscale + agent.x264, PyAV's reformatter) and reports.
_CHILD = textwrap.dedent(
    """
    import json, sys
    from fractions import Fraction
    import av, numpy as np
    from agent import swscale, x264

    out = sys.argv[1]
    image = np.full((240, 320, 4), 235, np.uint8)
    image[40:200:8, 30:290, :3] = 20
    image[60:180, 100:104, :3] = 20

    context = av.CodecContext.create("libx264", "w")
    context.width, context.height, context.pix_fmt = 320, 240, "yuv420p"
    context.time_base = Fraction(1, 90000)
    context.options = {"tune": "zerolatency", "qp": "18"}
    frame = av.VideoFrame.from_ndarray(image, format="bgra").reformat(format="yuv420p")
    frame.pts = 0
    pyav = b"".join(bytes(p) for p in context.encode(frame))
    pyav += b"".join(bytes(p) for p in context.encode(None))

    converted = swscale.BgraToYuv420().convert(image)
    planes = converted.planes
    encoder = x264.X264Encoder(320, 240, options={"repeat-headers": "1"})
    binding = encoder.encode(
        tuple(p.buffer_ptr for p in planes), tuple(p.line_size for p in planes),
        pts=0, qp=18, keyframe=True,
    ).data

    maps = open("/proc/self/maps").read()
    with open(out + "/pyav.h264", "wb") as f:
        f.write(pyav)
    with open(out + "/binding.h264", "wb") as f:
        f.write(binding)
    json.dump({
        "codecs": sorted(av.codecs_available),
        "version": str(av.ffmpeg_version_info),
        "mapped": sorted({l.split()[-1] for l in maps.splitlines() if "libav" in l or "x264" in l}),
        "x264_build": encoder.library.build,
    }, open(out + "/report.json", "w"))
    """
)


@pytest.fixture(scope="module")
def swapped_pyav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of PyAV (``av`` and ``av.libs``) with the agent's FFmpeg in place of the wheel's."""
    root = tmp_path_factory.mktemp("pyav")
    built = ffmpeg_build.build_agent_ffmpeg(_SITE / "av.libs", NATIVE_CACHE, root / "built")
    shutil.copytree(_SITE / "av", root / "site" / "av")
    shutil.copytree(_SITE / "av.libs", root / "site" / "av.libs")
    for name, path in built.items():
        shutil.copyfile(path, root / "site" / "av.libs" / name)
    return root / "site"


def _decode(data: bytes) -> list[av.VideoFrame]:
    decoder = av.CodecContext.create("h264", "r")
    frames = [f for f in decoder.decode(av.Packet(data)) if isinstance(f, av.VideoFrame)]
    frames += [f for f in decoder.decode(None) if isinstance(f, av.VideoFrame)]
    return frames


def test_pyav_runs_on_the_agents_ffmpeg_and_its_pictures_decode(swapped_pyav: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(swapped_pyav), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    # Only the agent's encoder is there, so these are our libraries, loaded from the copy.
    assert report["codecs"] == ["libx264"]
    assert report["version"] == ffmpeg_build.FFMPEG_VERSION
    assert report["mapped"]
    assert all(path.startswith(str(swapped_pyav)) for path in report["mapped"])
    assert report["x264_build"] == ffmpeg_build.X264_BUILD

    image = np.full((240, 320, 4), 235, np.uint8)  # the child's pattern
    image[40:200:8, 30:290, :3] = 20
    image[60:180, 100:104, :3] = 20
    rgb = np.ascontiguousarray(image[:, :, 2::-1])
    for name in ("pyav.h264", "binding.h264"):
        frames = _decode((tmp_path / name).read_bytes())
        assert len(frames) == 1, name
        received = np.asarray(frames[0].to_ndarray(format="rgb24"), np.uint8)
        assert psnr_luma(received, rgb) > 35, name


def test_the_built_libraries_carry_the_wheels_names(swapped_pyav: Path) -> None:
    from installer.spec_support import elf_needed

    libs = swapped_pyav / "av.libs"
    codec = next(libs.glob("libavcodec-*"))
    needed = elf_needed(str(codec))
    assert any(name.startswith("libavutil-") for name in needed)
    assert any(name.startswith("libx264-") for name in needed)
    assert not any("x265" in name or "dav1d" in name or "Svt" in name for name in needed)
    soname = subprocess.run(["readelf", "-d", str(codec)], capture_output=True, text=True, check=True).stdout
    assert f"[{codec.name}]" in soname
