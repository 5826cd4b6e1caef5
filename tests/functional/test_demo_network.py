"""``madoguchi demo --network CASE``: the demo through the lab, the chosen pair, the time to first frame."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from madoguchi.cli import main


@pytest.mark.slow
def test_demo_through_a_tcp_443_only_firewall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)  # the demo starts its own Xvfb and sets DISPLAY
    out = tmp_path / "demo.json"
    code = main(
        ["demo", "--network", "tcp443-only", "--seconds", "0.5", "--size", "320x240", "--json", str(out)]
    )
    assert code == 0
    result = json.loads(out.read_text())
    assert result["network"] == "tcp443-only"
    assert result["ice"] == {
        "local_type": "relay",
        "remote_type": result["ice"]["remote_type"],
        "protocol": "udp",
        "relay_protocol": "tls",
    }
    assert 0 < result["first_frame_s"] <= 6.0
    assert result["frames_received"] > 0
