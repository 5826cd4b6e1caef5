"""agent.rate_control: the per-frame quantizer against a model encoder."""

from __future__ import annotations

import itertools

import pytest

from agent.rate_control import QpControl, QpSettings

FPS = 30.0


def _bits(complexity: float, qp: int, base: int = 24) -> int:
    """A model encoder: size at ``base`` times 2^((base - qp) / 6), as H.264 roughly behaves."""
    return int(complexity * 2.0 ** ((base - qp) / 6.0))


def _run(
    control: QpControl,
    complexities: list[float],
    *,
    start: float = 0.0,
    keyframes: frozenset[int] = frozenset(),
) -> list[tuple[int, int]]:
    """Feed one frame per 1/30 s; returns (qp, bits) per frame."""
    out = []
    for index, complexity in enumerate(complexities):
        now = start + index / FPS
        keyframe = index in keyframes
        qp = control.choose(now, keyframe=keyframe)
        bits = _bits(complexity * (8 if keyframe else 1), qp, control.settings.base_qp)
        control.record(now, bits, qp, keyframe=keyframe)
        out.append((qp, bits))
    return out


def test_a_screen_within_the_cap_keeps_the_base_quality() -> None:
    control = QpControl(QpSettings(base_qp=20), cap_bps=3_000_000)
    # 60 kbit per frame at base = 1.8 Mbit/s, under the 3 Mbit/s cap, with bursts twice that.
    frames = _run(control, [60_000.0 if i % 3 else 120_000.0 for i in range(300)])
    assert {qp for qp, _ in frames} == {20}


def test_an_expensive_picture_raises_the_quantizer_until_the_cap_holds() -> None:
    control = QpControl(QpSettings(base_qp=20, max_qp=44), cap_bps=2_000_000)
    frames = _run(control, [400_000.0] * 300)  # 12 Mbit/s at base quality
    qps = [qp for qp, _ in frames]
    assert max(qps) <= 44
    assert qps[-1] > 30
    # Over the last 5 s the rate is within the cap (the bucket absorbs the first seconds).
    late = sum(bits for _, bits in frames[150:]) / (150 / FPS)
    assert late <= 2_000_000 * 1.1
    assert control.level <= control.capacity


def test_the_quantizer_comes_back_when_the_picture_gets_cheap() -> None:
    control = QpControl(QpSettings(base_qp=20), cap_bps=2_000_000)
    _run(control, [400_000.0] * 120)
    assert control.qp > 30
    frames = _run(control, [20_000.0] * 60, start=120 / FPS)
    assert frames[-1][0] == 20
    # One or two steps per frame on the way down: no jump that would overshoot.
    steps = [a - b for (a, _), (b, _) in itertools.pairwise(frames)]
    assert max(steps) <= 2


def test_keyframes_are_coded_above_the_current_quantizer_and_do_not_move_it() -> None:
    control = QpControl(QpSettings(base_qp=20, keyframe_offset=4), cap_bps=3_000_000)
    frames = _run(control, [30_000.0] * 10, keyframes=frozenset({0, 5}))
    assert frames[0][0] == 24
    assert frames[5][0] == 24
    assert control.qp in (20, 21, 22)


def test_a_storm_of_keyframes_is_not_owed_for_seconds() -> None:
    control = QpControl(QpSettings(base_qp=20), cap_bps=3_000_000)
    # Ten 4.6 Mbit keyframes in a row, as when a receiver keeps asking while it starts.
    _run(control, [580_000.0] * 10, keyframes=frozenset(range(10)))
    assert control.level <= control.capacity
    # The bucket holds at most its depth (2 s of the cap): 2.5 s later quality is back.
    frames = _run(control, [60_000.0] * 90, start=10 / FPS)
    assert frames[-1][0] == 20


def test_a_lower_cap_applies_from_the_next_frame() -> None:
    control = QpControl(QpSettings(base_qp=20), cap_bps=3_000_000)
    _run(control, [80_000.0] * 60)
    assert control.qp == 20
    control.cap = 500_000
    frames = _run(control, [80_000.0] * 240, start=2.0)
    assert frames[-1][0] > 20
    late = sum(bits for _, bits in frames[120:]) / (120 / FPS)
    assert late <= 500_000 * 1.15


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base_qp": 30, "max_qp": 20},
        {"max_qp": 52},
        {"keyframe_offset": -1},
        {"buffer_s": 0},
        {"spread_frames": 0.5},
        {"fill": 0},
    ],
)
def test_settings_are_checked(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        QpSettings(**kwargs)  # type: ignore[arg-type]


def test_inputs_are_checked() -> None:
    control = QpControl(QpSettings(), cap_bps=1_000_000)
    with pytest.raises(ValueError):
        control.cap = 0
    with pytest.raises(ValueError):
        control.record(0.0, -1, 24, keyframe=False)


def test_keyframes_shrink_to_fit_a_low_cap() -> None:
    control = QpControl(QpSettings(base_qp=18, keyframe_offset=4), cap_bps=1_000_000)
    # A text screen whose keyframe is 5 Mbit at QP 22: 2.5 s of a 1 Mbit/s uplink.
    first = control.choose(0.0, keyframe=True)
    assert first == 22  # nothing known yet
    control.record(0.0, _bits(5_000_000, first, 22), first, keyframe=True)
    later = control.choose(10.0, keyframe=True)  # the bucket has drained by then
    size = _bits(5_000_000, later, 22)
    assert size <= control.capacity
    assert later > 22


def test_a_keyframe_is_what_the_cap_drains_in_200_ms_then_sharpened() -> None:
    settings = QpSettings(base_qp=18, keyframe_offset=4, keyframe_drain_s=0.2)
    control = QpControl(settings, cap_bps=2_400_000)  # 90 % of a 2.7 Mbit/s estimate
    control.constrained = True
    # The first keyframe of a 1080p text screen: guessed from its size (no keyframe seen yet).
    first = control.choose(0.0, keyframe=True, pixels=1920 * 1080)
    predicted = 1920 * 1080 * settings.keyframe_bits_per_pixel * 2.0 ** ((22 - first) / 6.0)
    assert predicted <= 2_400_000 * 0.2
    assert first > 30  # coarse
    control.record(0.0, round(predicted), first, keyframe=True)
    # The following P-frames start near the keyframe's quantizer and walk back to the base
    # quality as long as they fit: the picture sharpens over the next frames.
    qps = []
    for i in range(1, 60):
        qp = control.choose(i / 30, keyframe=False)
        qps.append(qp)
        control.record(i / 30, _bits(200_000, qp, 22) // 8, qp, keyframe=False)
    assert qps[0] >= min(first - settings.keyframe_offset, settings.max_qp)
    assert max(qps) <= first
    assert qps[-1] == 18
    # Measured sizes then predict the next keyframe: a faster link allows a finer one.
    control.cap = 8_000_000
    assert control.choose(10.0, keyframe=True) < first


def test_a_link_behind_gets_fewer_frames_not_blurrier_ones() -> None:
    control = QpControl(QpSettings(base_qp=18, max_backlog_s=0.1, min_fps=5.0), cap_bps=1_000_000)
    control.constrained = True  # the path's estimate brought the cap down
    sent = skipped = 0
    qps = set()
    for i in range(300):  # 10 s at 30 fps of frames worth 2 Mbit/s at the base quality
        now = i / 30
        if control.skip(now):
            skipped += 1
            continue
        qp = control.choose(now, keyframe=False)
        qps.add(qp)
        control.record(now, 2_000_000 // 30, qp, keyframe=False)
        sent += 1
    assert 0.4 < skipped / 300 < 0.6  # about half the frames: the cap is half the demand
    assert max(qps) == 18  # sharpness kept
    assert control.level <= 1_000_000 * 0.1 + 2_000_000 / 30  # no standing queue
    assert control.skipped == skipped
