"""agent.track.to_video_frame: zero-copy wrapping that encoders accept."""

from __future__ import annotations

import numpy as np
import pytest
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder

from agent.track import VIDEO_TIME_BASE, to_video_frame


@pytest.mark.parametrize(("height", "width"), [(480, 640), (601, 1001), (1, 3)])
def test_wraps_without_copy_and_crops_odd_edges(height: int, width: int) -> None:
    image = np.zeros((height, width, 4), np.uint8)
    frame = to_video_frame(image)
    assert (frame.width, frame.height) == (width - width % 2, height - height % 2)
    assert frame.format.name == "bgra"
    if frame.width and frame.height:
        # The frame shares the image's memory: a pixel written afterwards shows up.
        image[0, 0] = (1, 2, 3, 255)
        assert tuple(frame.to_ndarray()[0, 0]) == (1, 2, 3, 255)


def test_read_only_odd_sized_capture_encodes() -> None:
    # libx264 refuses odd 4:2:0 sizes outright (avcodec_open2 fails), hence the crop.
    image = np.random.default_rng(0).integers(0, 256, (361, 641, 4), dtype=np.uint8)
    image.flags.writeable = False  # as CapturedFrame hands it out
    frame = to_video_frame(image)
    frame.pts = 0
    frame.time_base = VIDEO_TIME_BASE
    for encoder in (H264Encoder(), Vp8Encoder()):
        payloads, _ = encoder.encode(frame)
        assert payloads
