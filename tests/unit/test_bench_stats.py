"""benchmarks.stats: percentiles, stamp matching, keyframe detection, ratios, targets, table, JSON shape."""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks.stats import (
    PIPELINES,
    SCENARIOS,
    check_targets,
    is_keyframe,
    match_latencies,
    negotiated_video_codec,
    parse_stamp_log,
    percentile,
    ratios,
    render_table,
    summarize,
)


def test_percentile_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.95) == 7.0
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 0.5) == 51.0
    assert percentile(values, 0.95) == 95.0
    assert percentile(list(reversed(values)), 1.0) == 100.0
    with pytest.raises(ValueError):
        percentile(values, 1.5)


def test_summarize_rounds_and_counts() -> None:
    assert summarize([]) == {"median": None, "p95": None, "max": None, "samples": 0}
    assert summarize([10.04, 20.06, 30.0]) == {"median": 20.1, "p95": 30.0, "max": 30.0, "samples": 3}


def test_match_latencies_first_decode_of_each_stamp() -> None:
    captured = {1: 10.000, 2: 10.033, 3: 10.066}
    decoded = [(1, 10.020), (2, 10.050), (2, 11.500), (9, 12.0), (3, 10.100)]
    assert match_latencies(captured, decoded) == pytest.approx([20.0, 17.0, 34.0])


def test_match_latencies_window_counts_first_decodes_only() -> None:
    captured = {1: 10.0, 2: 12.0}
    # Stamp 1 was first shown before the window; its keep-alive repeat at 11.5 is no new sample.
    decoded = [(1, 10.02), (1, 11.5), (2, 12.03)]
    assert match_latencies(captured, decoded, since=11.0, until=13.0) == pytest.approx([30.0])
    assert match_latencies(captured, decoded, since=12.5) == []


def test_parse_stamp_log_keeps_first_paint_and_skips_partial_lines() -> None:
    text = "1 100.5\n2 100.6\n2 100.9\ngarbage\n3 1"
    assert parse_stamp_log(text) == {1: 100.5, 2: 100.6, 3: 1.0}
    assert parse_stamp_log("4 10.0\n5") == {4: 10.0}


def test_keyframe_detection() -> None:
    idr = b"\x00\x00\x00\x01\x67\x42\x00\x1f" + b"\x00\x00\x00\x01\x68\xce" + b"\x00\x00\x01\x65\x88\x84"
    p_slice = b"\x00\x00\x00\x01\x41\x9a\x02"
    assert is_keyframe("H264", idr)
    assert not is_keyframe("h264", p_slice)
    assert not is_keyframe("H264", b"")
    assert is_keyframe("VP8", bytes([0x10, 0x02, 0x00]))  # frame tag bit 0 = 0: key frame
    assert not is_keyframe("VP8", bytes([0x11, 0x02, 0x00]))
    with pytest.raises(ValueError):
        is_keyframe("AV1", b"\x00")


SDP = "\r\n".join(
    [
        "v=0",
        "m=audio 9 UDP/TLS/RTP/SAVPF 96",
        "a=rtpmap:96 opus/48000/2",
        "m=video 9 UDP/TLS/RTP/SAVPF 99 100",
        "a=rtpmap:100 rtx/90000",
        "a=rtpmap:99 H264/90000",
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    ]
)


def test_negotiated_video_codec() -> None:
    assert negotiated_video_codec(SDP) == "H264"
    assert negotiated_video_codec("v=0\r\nm=audio 9 RTP 0") is None


def entry(latency: float, cpu: float, kbps: float, psnr: float = 41.0) -> dict[str, Any]:
    return {
        "codec": "H264",
        "latency_ms": {"median": latency, "p95": latency * 1.5, "max": latency * 2, "samples": 100},
        "paint_to_decoded_ms": {"median": latency + 5, "p95": None, "max": latency + 10, "samples": 100},
        "fps": 30.0,
        "agent_cpu_percent": cpu,
        "operator_cpu_percent": 10.0,
        "bitrate_kbps": kbps,
        "psnr_db": {"mean": psnr, "min": psnr - 1, "samples": 10},
        "keyframe_bytes": 400_000,
        "keyframe_kb": 400,
    }


def test_ratios_are_baseline_over_madoguchi() -> None:
    r = ratios(entry(60.0, 80.0, 1500.0), entry(15.0, 40.0, 3000.0))
    assert r["latency_median"] == 4.0
    assert r["agent_cpu"] == 2.0
    assert r["bitrate"] == 0.5
    assert r["keyframe_bytes"] == 1.0
    zero = entry(15.0, 0.0, 0.0)
    assert ratios(entry(1.0, 1.0, 1.0), zero)["agent_cpu"] is None


def report() -> dict[str, Any]:
    scenarios = {
        "1080p-scroll": {
            "baseline": entry(60.0, 80.0, 1500.0, psnr=30.0),
            "madoguchi": entry(18.0, 50.0, 2800.0),
        },
        "1080p-static": {"baseline": entry(1500.0, 10.0, 40.0), "madoguchi": entry(20.0, 2.0, 15.0)},
    }
    for s in scenarios.values():
        s["ratios"] = ratios(s["baseline"], s["madoguchi"])
    return {"scenarios": scenarios, "targets": check_targets(scenarios)}


def test_targets_checked_only_for_scenarios_that_ran() -> None:
    targets = report()["targets"]
    assert {t["scenario"] for t in targets} == {"1080p-scroll", "1080p-static"}
    by = {(t["scenario"], t["target"]): t for t in targets}
    assert by[("1080p-scroll", "latency median ms")]["met"] is True
    assert by[("1080p-scroll", "agent CPU % of a core")] == {
        "scenario": "1080p-scroll",
        "target": "agent CPU % of a core",
        "limit": "<= 45",
        "value": 50.0,
        "met": False,
    }
    assert by[("1080p-scroll", "latency ratio baseline/madoguchi")]["value"] == pytest.approx(3.33)
    assert by[("1080p-static", "change shown after ms (max)")]["met"] is True  # 30 ms <= 33.3
    assert by[("1080p-scroll", "PSNR dB")]["met"] is True


def test_table_and_json_shape() -> None:
    r = report()
    table = render_table(r)
    lines = table.splitlines()
    assert lines[0].startswith("| scenario | pipeline | codec | lat med |")
    assert "| 1080p-scroll | madoguchi | H264 | 18.0 | 27.0 |" in table
    assert "| 1080p-scroll | ratio b/m |  | 3.33 |" in table
    assert "| 1080p-scroll | agent CPU % of a core | <= 45 | 50.0 | **no** |" in table
    decoded = json.loads(json.dumps(r))
    for scenario in decoded["scenarios"].values():
        assert set(PIPELINES) | {"ratios"} <= set(scenario)


def test_scenario_catalogue() -> None:
    assert set(SCENARIOS) == {f"{s}-{w}" for s in ("1080p", "720p") for w in ("typing", "scroll", "static")}
    assert SCENARIOS["1080p-static"].scene == "rare"
    assert (SCENARIOS["720p-scroll"].width, SCENARIOS["720p-scroll"].height) == (1280, 720)


def test_freezes_counts_gaps_over_200_ms_with_the_window_edges() -> None:
    from benchmarks.stats import freezes

    times = [10.1, 10.2, 10.3, 11.0, 11.05, 12.5]
    result = freezes(times, start=10.0, end=13.0)
    assert result["longest_ms"] == 1450  # 11.05 -> 12.5
    assert result["count"] == 3  # 10.3 -> 11.0, 11.05 -> 12.5, 12.5 -> 13.0
    assert result["frozen_share"] == round((0.7 + 1.45 + 0.5) / 3.0, 3)
    nothing = freezes([], start=0.0, end=2.0)
    assert (nothing["longest_ms"], nothing["frozen_share"], nothing["count"]) == (2000, 1.0, 1)


def test_the_browser_run_is_a_row_of_its_own_with_its_targets() -> None:
    scenarios = report()["scenarios"]
    browser = entry(0.0, 41.3, 805.0, psnr=25.9)
    browser["latency_ms"] = {"median": None, "p95": None, "max": None, "samples": 0}  # not observable
    browser["paint_to_decoded_ms"] = {"median": 41.0, "p95": 88.1, "max": 113.8, "samples": 80}
    browser["fps"] = 28.6
    scenarios["1080p-scroll"]["browser"] = browser
    targets = check_targets(scenarios)
    by = {t["target"]: t for t in targets if t["scenario"] == "1080p-scroll"}
    assert by["browser: paint->decoded median ms"]["met"] is True  # 41.0 <= 60
    assert by["browser: received fps"]["met"] is True  # 28.6 >= 25
    assert by["browser: PSNR dB"]["met"] is False  # 25.9 < 35
    table = render_table({"scenarios": scenarios, "targets": targets})
    assert "| 1080p-scroll | browser | H264 | - | - | 41.0 |" in table
    assert "| 1080p-scroll | browser: PSNR dB | >= 35 | 25.9 | **no** |" in table
    # Without a browser run the browser's targets are listed, unmeasured.
    without = {t["target"]: t for t in report()["targets"]}
    assert without["browser: PSNR dB"] == {
        "scenario": "1080p-scroll",
        "target": "browser: PSNR dB",
        "limit": ">= 35",
        "value": None,
        "met": None,
    }
