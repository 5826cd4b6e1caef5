"""The PC-information choice on the wire (issue 18, item 4): ``decision.system_info`` and
``sysinfo.declined``, both optional for older peers."""

from __future__ import annotations

import pytest

from protocol import Decision, ProtocolError, SysInfoReport
from protocol.codec import decode_guidance, decode_signaling, encode


def test_decision_without_the_field_means_the_information_goes_along() -> None:
    assert decode_signaling('{"type": "decision", "allowed": true}') == Decision(
        allowed=True, system_info=True
    )
    declined = Decision(allowed=True, system_info=False)
    assert decode_signaling(encode(declined)) == declined


def test_declined_report_carries_no_items() -> None:
    report = SysInfoReport(scope="detailed", data={}, unavailable={}, declined=True)
    assert decode_guidance(encode(report)) == report
    old = decode_guidance(
        '{"type": "sysinfo", "scope": "normal", "data": {"os": "Windows"}, "unavailable": {}}'
    )
    assert isinstance(old, SysInfoReport)
    assert not old.declined
    with pytest.raises(ProtocolError):
        SysInfoReport(scope="normal", data={"os": "Windows"}, unavailable={}, declined=True)
