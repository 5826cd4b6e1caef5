"""The operator side's sans-IO state machine."""

from __future__ import annotations

from operator_console.state import (
    AcceptOffer,
    ClaimAccepted,
    LoggedIn,
    OperatorCore,
    OperatorPhase,
    PrepareSession,
    Refused,
    Send,
    SessionEnded,
)
from protocol import (
    Answer,
    Auth,
    Authenticated,
    Bye,
    Claim,
    ClaimPending,
    Ended,
    EndReason,
    Error,
    ErrorCode,
    Offer,
    OperatorIdentity,
    SessionStart,
)

OP = OperatorIdentity(display_name="佐藤", organisation="Madoguchi")


def phase(core: OperatorCore) -> OperatorPhase:
    """Read the phase afresh (mypy would keep an earlier narrowing of ``core.phase``)."""
    return core.phase


def ready() -> OperatorCore:
    core = OperatorCore("tok")
    assert core.connected() == [Send(Auth(protocol_version=1, token="tok"))]
    assert core.receive(Authenticated(username="sato", operator=OP)) == [LoggedIn("sato", OP)]
    return core


def test_full_session_and_next_claim() -> None:
    core = ready()
    assert core.claim(" 48-21 ") == [Send(Claim(code="4821"))]
    assert core.receive(ClaimPending(timeout_s=60)) == [ClaimAccepted(60, "agent")]
    assert core.receive(SessionStart(session_id="s")) == [PrepareSession("s", ())]
    assert core.receive(Offer(sdp="o")) == [AcceptOffer("o")]
    assert core.answer_created("a") == [Send(Answer(sdp="a"))]
    core.media_connected()
    assert phase(core) is OperatorPhase.VIEWING
    assert core.end() == [Send(Bye())]
    assert core.receive(Ended(reason=EndReason.NORMAL, by="operator")) == [
        SessionEnded(EndReason.NORMAL, "operator")
    ]
    assert phase(core) is OperatorPhase.READY
    assert core.claim("1111") == [Send(Claim(code="1111"))]


def test_malformed_code_is_caught_locally() -> None:
    core = ready()
    [refused] = core.claim("12a")
    assert isinstance(refused, Refused)
    assert refused.code is ErrorCode.UNKNOWN_CODE
    assert core.phase is OperatorPhase.READY


def test_wrong_code_returns_to_ready() -> None:
    core = ready()
    core.claim("1234")
    [refused] = core.receive(Error(code=ErrorCode.UNKNOWN_CODE, message="no such code"))
    assert isinstance(refused, Refused)
    assert core.phase is OperatorPhase.READY


def test_offer_without_session_is_ignored() -> None:
    core = ready()
    assert core.receive(Offer(sdp="o")) == []


def test_connection_lost_mid_session() -> None:
    core = ready()
    core.claim("1234")
    core.receive(ClaimPending(timeout_s=60))
    core.receive(SessionStart(session_id="s"))
    assert core.closed() == [SessionEnded(EndReason.PEER_GONE, "relay")]


def test_the_browsers_screen_share_cannot_show_guidance() -> None:
    assert ClaimAccepted(60, "agent").guidance_on_screen
    assert not ClaimAccepted(60, "browser").guidance_on_screen
    assert ClaimAccepted(60, "cobrowse").guidance_on_screen  # drawn on the shared page itself
