"""``python -m benchmarks.relay_load --quick`` end to end: it runs, every part reports, the JSON holds.

Not a performance test: no figure is compared with a target here (machines are noisy,
and the quick counts are too small for the targets; those live in the benchmark's output).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.relay_load import main


def test_quick_run_reports_every_part(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "relay.json"
    assert main(["--quick", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| baseline |" in printed
    assert "| madoguchi |" in printed
    report = json.loads(out.read_text())
    assert report["benchmark"] == "relay_load"
    assert report["settings"]["live"] == 50
    assert report["machine"]["logical_cores"] >= 1
    assert len(report["machine"]["load_average_at_end"]) == 3
    draw = report["draw"]
    for name in ("baseline", "madoguchi"):
        assert draw[name]["samples"] == 20
        assert draw[name]["p99_ms"] > 0
        assert draw[name]["live_codes"] == 50
    assert draw["madoguchi"]["reused_while_remembered"]["total"] == 0
    relay = report["relay"]
    for phase in ("register_at_live_codes", "register_with_sockets"):
        assert relay[phase]["samples"] == 20
        assert relay[phase]["p50_ms"] > 0
    assert relay["churn"]["registrations"] > 0
    for memory in (relay["memory"], relay["memory_pythonmalloc_malloc"]):
        assert memory["rss_peak_kib"] > memory["rss_baseline_kib"] > 0
        assert memory["kib_per_idle_socket"] > 0
    assert relay["memory_pythonmalloc_malloc"]["kib_per_waiting_customer"] is not None
    targets = {t["target"] for t in report["targets"]}
    assert targets >= {"KiB per idle socket", "register p99 ms at live codes"}
