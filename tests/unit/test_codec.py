"""Round trips and golden wire forms for every message type."""

from __future__ import annotations

import json

import pytest

import protocol as p
from protocol.messages import GUIDANCE_TYPES, SIGNALING_TYPES

OP = p.OperatorIdentity(display_name="佐藤 花子", organisation="Madoguchi Securities")

SAMPLES: list[p.Message] = [
    p.Register(protocol_version=1, client="agent", client_version="0.1.0", consent_accepted=True),
    p.Resume(protocol_version=1, resume_token="r" * 43),
    p.Join(protocol_version=1, code="123456", client_version="browser", consent_accepted=True),
    p.Decision(allowed=True),
    p.Registered(code="4821", expires_in_s=600.0, resume_token="t" * 43),
    p.Resumed(session_id="s1"),
    p.OperatorRequest(operator=OP, timeout_s=60.0),
    p.Auth(protocol_version=1, token="tok"),
    p.Claim(code="4821"),
    p.IssueCode(),
    p.Authenticated(username="hanako", operator=OP),
    p.CodeIssued(code="123456", expires_in_s=600.0),
    p.ClaimPending(timeout_s=60.0),
    p.SessionStart(session_id="s1", ice_servers=(p.IceServer(urls=("stun:127.0.0.1:3478",)),)),
    p.SessionStart(session_id="s2", resume_token="secret-for-the-operator"),
    p.Offer(sdp="v=0\r\n"),
    p.Answer(sdp="v=0\r\n"),
    p.Ice(candidate="candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdp_mid="0", sdp_mline_index=0),
    p.PeerStatus(connected=False),
    p.Bye(),
    p.Ended(reason=p.EndReason.DENIED, by="agent"),
    p.Error(code=p.ErrorCode.BUSY, message="all lines are busy", retry_after_s=120.0),
    p.Pointer(action="click", x=0.25, y=0.75, monitor=1),
    p.CobrowsePointer(action="click", node=57, fx=0.25, fy=1.0),
    p.KeyGuide(keys=(("Ctrl", "C"), ("Win", "R")), caption="コピー"),
    p.KeyGuideClear(),
    p.KeyGuideClosed(),
    p.RelayAway(),
    p.Ping(seq=7),
    p.HangUp(reason=p.EndReason.CONNECTION_LOST),
    p.Pong(seq=7),
    p.SharingState(paused=True),
    p.Monitors(monitors=(p.MonitorInfo(index=0, x=0, y=0, width=1920, height=1080, primary=True),), active=0),
    p.SysInfoReport(
        scope="normal", data={"os": "Windows", "os_version": None}, unavailable={"os_version": "x"}
    ),
    p.Cursor(x=0.5, y=0.25, monitor=1, shape=3),
    p.CursorShape.from_pixels(id=3, width=2, height=1, pixels=bytes([1, 2, 3, 4, 5, 6, 7, 8]), hot_x=1),
]


def test_every_type_has_a_sample() -> None:
    assert {type(m) for m in SAMPLES} == set(SIGNALING_TYPES.values()) | set(GUIDANCE_TYPES.values())


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: m.type)
def test_round_trip(message: p.Message) -> None:
    text = p.encode(message)
    decode = p.decode_guidance if message.type in GUIDANCE_TYPES else p.decode_signaling
    assert decode(text) == message
    assert decode(text.encode()) == message
    assert json.loads(text)["type"] == message.type


def test_golden_register() -> None:
    assert json.loads(p.encode(SAMPLES[0])) == {
        "type": "register",
        "protocol_version": 1,
        "client": "agent",
        "sysinfo_scope": "detailed",
        "client_version": "0.1.0",
        "consent_accepted": True,
        "locale": "ja",
    }


def test_a_timed_out_decision() -> None:
    """``timed_out`` is optional: older agents send only ``allowed``."""
    assert p.decode_signaling('{"type":"decision","allowed":false}') == p.Decision(
        allowed=False, timed_out=False
    )
    timed_out = p.Decision(allowed=False, timed_out=True)
    assert p.decode_signaling(p.encode(timed_out)) == timed_out


def test_unknown_fields_are_ignored() -> None:
    assert p.decode_signaling('{"type":"decision","allowed":false,"future":1}') == p.Decision(allowed=False)


def test_families_are_separate() -> None:
    with pytest.raises(p.ProtocolError):
        p.decode_guidance(p.encode(p.Bye()))
    with pytest.raises(p.ProtocolError):
        p.decode_signaling(p.encode(p.KeyGuideClear()))


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "not valid JSON"),
        ("[1]", "JSON object"),
        ('{"type": 3}', "'type'"),
        ('{"type": "click", "x": 1}', "unknown message type"),
        ('{"type": "keypress", "key": "A"}', "unknown message type"),
        ('{"type": "decision"}', "required field missing"),
        ('{"type": "decision", "allowed": 1}', "true or false"),
        ('{"type": "claim", "code": null}', "must be a string"),
        ('{"type": "registered", "code": "1", "expires_in_s": 1, "resume_token": "x"}', "length"),
        ('{"type": "error", "code": "nope", "message": ""}', "unknown value"),
        ('{"type": "ended", "reason": "normal", "by": "martian"}', "one of"),
        (
            '{"type": "register", "protocol_version": 1.5, "client_version": "", "consent_accepted": true}',
            "integer",
        ),
        ('{"type": "session_start", "session_id": "s", "ice_servers": {}}', "array"),
        ('{"type": "resume", "protocol_version": 1, "resume_token": "", "x": 1}', "length"),
    ],
)
def test_bad_signaling(raw: str, fragment: str) -> None:
    with pytest.raises(p.ProtocolError) as info:
        p.decode_signaling(raw)
    assert fragment in info.value.detail
    assert info.value.code is p.ErrorCode.BAD_MESSAGE


@pytest.mark.parametrize(
    "raw",
    [
        '{"type": "pointer", "x": 1.5, "y": 0}',
        '{"type": "pointer", "x": NaN, "y": 0}',
        '{"type": "pointer", "action": "drag"}',
        '{"type": "key_guide", "keys": []}',
        '{"type": "key_guide", "keys": [["Ctrl", "Launch"]]}',
        '{"type": "key_guide", "keys": [["A","B","C","D","E"]]}',
        '{"type": "key_guide", "keys": [["A"],["A"],["A"],["A"],["A"]]}',
        '{"type": "key_guide", "keys": "Ctrl+C"}',
        '{"type": "sysinfo", "scope": "normal", "data": [], "unavailable": {}}',
        '{"type": "sysinfo", "scope": "normal", "data": {}, "unavailable": {"a": 1}}',
    ],
)
def test_bad_guidance(raw: str) -> None:
    with pytest.raises(p.ProtocolError):
        p.decode_guidance(raw)


def test_size_limit() -> None:
    huge = '{"type":"offer","sdp":"' + "a" * p.MAX_MESSAGE_BYTES + '"}'
    with pytest.raises(p.ProtocolError) as info:
        p.decode_signaling(huge)
    assert info.value.code is p.ErrorCode.MESSAGE_TOO_LARGE
    with pytest.raises(p.ProtocolError) as info:
        p.encode(p.SysInfoReport(scope="detailed", data={"apps": ["x" * 100] * 1000}, unavailable={}))
    assert info.value.code is p.ErrorCode.MESSAGE_TOO_LARGE


def test_invalid_message_cannot_be_constructed() -> None:
    with pytest.raises(p.ProtocolError):
        p.Pointer(x=-0.1, y=0.5)
    with pytest.raises(p.ProtocolError):
        p.Join(protocol_version=1, code="12345a", client_version="", consent_accepted=True)
    for bad in ({"node": -1}, {"node": 1, "fx": 1.5}, {"node": 1, "fy": -0.1}):
        with pytest.raises(p.ProtocolError):
            p.CobrowsePointer(**bad)


def test_error_detail_never_echoes_values() -> None:
    secret = "hunter2-password"
    with pytest.raises(p.ProtocolError) as info:
        p.decode_signaling(
            '{"type": "auth", "protocol_version": 1, "token": 5, "password": "' + secret + '"}'
        )
    assert secret not in str(info.value)


def test_normalise_key() -> None:
    assert p.normalise_key("ctrl") == "Ctrl"
    assert p.normalise_key("Escape") == "Esc"
    assert p.normalise_key("f5") == "F5"
    assert p.normalise_key("launch-missiles") is None


@pytest.mark.parametrize(
    "raw",
    [
        '{"type": "claim", "code": "\\ud800"}',
        '{"type": "claim", "code": "12\\udfff"}',
        '{"type": "offer", "sdp": "v=0\\ude00\\ud83d"}',
        '{"type": "sysinfo", "scope": "normal", "data": {"os": "\\udc80"}, "unavailable": {}}',
        '{"type": "sysinfo", "scope": "normal", "data": {"\\ud800": 1}, "unavailable": {}}',
        '{"type": "sysinfo", "scope": "normal", "data": {"a": [[{"b": "\\udbff"}]]}, "unavailable": {}}',
        '{"type": "sysinfo", "scope": "normal", "data": {}, "unavailable": {"\\ud800": "x"}}',
        '{"type": "key_guide", "keys": [["A"]], "caption": "\\ud800"}',
    ],
)
def test_lone_surrogates_are_bad_messages(raw: str) -> None:
    decode = p.decode_guidance if '"sysinfo"' in raw or '"key_guide"' in raw else p.decode_signaling
    with pytest.raises(p.ProtocolError) as info:
        decode(raw)
    assert info.value.code is p.ErrorCode.BAD_MESSAGE
    assert "Unicode" in info.value.detail


def test_surrogate_pairs_and_unknown_fields_are_fine() -> None:
    assert p.decode_signaling('{"type": "claim", "code": "\\ud83d\\ude00"}') == p.Claim(code="\U0001f600")
    # an unknown field is dropped unread, whatever it holds
    assert p.decode_signaling('{"type": "claim", "code": "1234", "x": "\\ud800"}') == p.Claim(code="1234")


def test_login_request() -> None:
    login = p.decode_login_request(b'{"username": "hanako", "password": "correct horse"}')
    assert login == p.LoginRequest(username="hanako", password="correct horse")
    assert "correct horse" not in repr(login)
    for raw in (
        '{"username": "hanako"}',
        '{"username": "", "password": "x"}',
        '{"username": "' + "u" * 65 + '", "password": "x"}',
        '{"username": "hanako", "password": 3}',
        '{"username": "\\ud800", "password": "correct horse"}',
        '{"username": "hanako", "password": "' + "p" * 1025 + '"}',
        "[]",
        "not json",
    ):
        with pytest.raises(p.ProtocolError):
            p.decode_login_request(raw)


def test_restart_is_left_out_at_zero_and_old_offers_stay_valid() -> None:
    # docs/protocol.md step 11: the field came later; an offer or answer without it is
    # the session's first peer, and one for the first peer goes out as it always did.
    old = p.decode_signaling('{"type":"offer","sdp":"v=0"}')
    assert isinstance(old, p.Offer)
    assert old.restart == 0
    assert p.encode(p.Offer(sdp="v=0")) == '{"type":"offer","sdp":"v=0"}'
    restarted = p.Answer(sdp="v=0", restart=3)
    assert p.encode(restarted) == '{"type":"answer","sdp":"v=0","restart":3}'
    assert p.decode_signaling(p.encode(restarted)) == restarted
    with pytest.raises(p.ProtocolError):
        p.decode_signaling('{"type":"offer","sdp":"v=0","restart":-1}')
