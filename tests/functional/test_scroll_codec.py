"""benchmarks.scroll_codec: the offline encoder lab, run briefly on a small scroll.

Real pieces: the scroll scene's strip painted by Qt (offscreen), the agent's libx264
binding and encoder, FFmpeg's decoder. Checks behaviour, never timings.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from benchmarks.scroll_codec import encode_scroll, main, simulate
from testbed.scene import render_scroll_strip

WIDTH, HEIGHT = 640, 360


@pytest.fixture(scope="module")
def strip() -> tuple[npt.NDArray[np.uint8], int]:
    return render_scroll_strip(WIDTH, HEIGHT)


def test_the_strip_is_the_scene_s_text_and_wraps(strip: tuple[npt.NDArray[np.uint8], int]) -> None:
    image, tile_h = strip
    assert image.shape == (tile_h + HEIGHT, WIDTH, 4)
    assert tile_h > HEIGHT
    assert (image[..., 3] == 255).all()
    # Dark text on a light page, and rows tile_h apart identical: the scroll wraps seamlessly.
    assert image[..., :3].min() < 100 < image[..., :3].max()
    assert np.array_equal(image[:HEIGHT], image[tile_h : tile_h + HEIGHT])


def test_a_wide_motion_search_makes_scroll_frames_cheaper(strip: tuple[npt.NDArray[np.uint8], int]) -> None:
    dia = encode_scroll(WIDTH, HEIGHT, variant="dia16", qp=24, fps=10, frames=8, strip=strip)
    umh = encode_scroll(WIDTH, HEIGHT, variant="umh64", qp=24, fps=10, frames=8, strip=strip)
    assert dia.step_px == umh.step_px == 12  # 4 px a repaint, 3 repaints a frame
    assert dia.keyframe_bytes == umh.keyframe_bytes  # an IDR has no motion to search
    assert umh.p_bytes_mean < dia.p_bytes_mean
    assert umh.psnr_mean > 35  # QP 24: sharp text
    assert umh.psnr_min > 35  # every frame decoded
    coarse = encode_scroll(WIDTH, HEIGHT, qp=36, fps=10, frames=4, strip=strip)
    assert coarse.keyframe_bytes < umh.keyframe_bytes
    assert coarse.psnr_mean < umh.psnr_mean


def test_the_agent_s_encoder_at_a_fixed_estimate_sharpens_over_time(
    strip: tuple[npt.NDArray[np.uint8], int],
) -> None:
    seconds = simulate(WIDTH, HEIGHT, cap_bps=400_000, seconds=4, strip=strip)
    assert [s.second for s in seconds] == [0, 1, 2, 3]
    assert seconds[0].keyframes >= 1
    assert all(s.frames > 0 and s.psnr_mean > 0 for s in seconds)
    assert seconds[-1].psnr_mean > seconds[0].psnr_mean  # the coarse start is refined
    assert seconds[-1].width == WIDTH  # 360p is never scaled


def test_the_command_prints_a_table_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "lab.json"
    argv = ["--size", f"{WIDTH}x{HEIGHT}", "--qp", "30", "--scale", "1", "--fps", "10", "--frames", "3"]
    assert main([*argv, "--variant", "dia16,umh64", "--json", str(out)]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert len(rows) == 3  # the header and one row per variant
    assert [r["variant"] for r in json.loads(out.read_text())] == ["dia16", "umh64"]
    assert main([*argv, "--variant", "nonsense"]) == 2
    assert main(["--size", f"{WIDTH}x{HEIGHT}", "--cap", "300000", "--seconds", "2", "--set", "qp=20"]) == 0
    assert "window" not in capsys.readouterr().out  # 2 s end before the bench's window
    assert main(["--cap", "300000", "--set", "no_such_field=1"]) == 2
