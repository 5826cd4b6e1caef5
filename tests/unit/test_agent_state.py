"""The agent's sans-IO state machine, driven in memory."""

from __future__ import annotations

import pytest

from agent.state import (
    AgentCore,
    AgentPhase,
    ApplyAnswer,
    ApplyIce,
    CodeAssigned,
    Finish,
    OperatorAsking,
    Refused,
    RelayForgot,
    Send,
    StartPeer,
)
from protocol import (
    Answer,
    Bye,
    Decision,
    Ended,
    EndReason,
    Error,
    ErrorCode,
    Ice,
    Join,
    Offer,
    OperatorIdentity,
    OperatorRequest,
    Register,
    Registered,
    Resume,
    SessionStart,
)

OP = OperatorIdentity(display_name="佐藤", organisation="Madoguchi")


def phase(core: AgentCore) -> AgentPhase:
    """Read the phase afresh (mypy would keep an earlier narrowing of ``core.phase``)."""
    return core.phase


def registered(core: AgentCore) -> None:
    core.start(consent_accepted=True)
    core.receive(Registered(code="4821", expires_in_s=600, resume_token="secret"))


def asking(core: AgentCore) -> None:
    registered(core)
    core.receive(OperatorRequest(operator=OP, timeout_s=60))


def test_no_registration_without_consent() -> None:
    core = AgentCore(client_version="t")
    with pytest.raises(ValueError, match="agreed"):
        core.start(consent_accepted=False)
    assert core.phase is AgentPhase.IDLE


def test_happy_path() -> None:
    core = AgentCore(client_version="t")
    [send] = core.start(consent_accepted=True)
    assert isinstance(send, Send)
    assert isinstance(send.message, Register)
    assert send.message.consent_accepted
    assert core.receive(Registered(code="4821", expires_in_s=600, resume_token="r")) == [
        CodeAssigned("4821", 600)
    ]
    assert core.receive(OperatorRequest(operator=OP, timeout_s=60)) == [OperatorAsking(OP, 60)]
    assert core.decide(True) == [Send(Decision(allowed=True))]
    [start] = core.receive(SessionStart(session_id="s1"))
    assert start == StartPeer("s1", (), OP)
    assert core.offer_created("v=0") == [Send(Offer(sdp="v=0"))]
    assert core.receive(Answer(sdp="v=0 a")) == [ApplyAnswer("v=0 a")]
    ice = Ice(candidate="")
    assert core.receive(ice) == [ApplyIce(ice)]
    core.media_connected()
    assert phase(core) is AgentPhase.SHARING
    assert core.stop() == [Send(Bye()), Finish(EndReason.NORMAL, "agent")]
    assert phase(core) is AgentPhase.ENDED


def test_session_start_without_allow_never_starts_the_peer() -> None:
    core = AgentCore(client_version="t")
    asking(core)
    # A misbehaving relay skips the customer's decision.
    effects = core.receive(SessionStart(session_id="s1"))
    assert not any(isinstance(e, StartPeer) for e in effects)
    assert Finish(EndReason.PEER_GONE, "relay") in effects
    assert core.phase is AgentPhase.ENDED


def test_session_start_before_any_claim_is_ignored() -> None:
    core = AgentCore(client_version="t")
    registered(core)
    assert core.receive(SessionStart(session_id="s1")) == []
    assert core.phase is AgentPhase.WAITING


def test_deny() -> None:
    core = AgentCore(client_version="t")
    asking(core)
    assert core.decide(False) == [Send(Decision(allowed=False)), Finish(EndReason.DENIED, "agent")]
    assert core.receive(SessionStart(session_id="s1")) == []


def test_countdown_running_out_is_a_timeout_not_a_refusal() -> None:
    core = AgentCore(client_version="t")
    asking(core)
    assert core.decide(False, timed_out=True) == [
        Send(Decision(allowed=False, timed_out=True)),
        Finish(EndReason.ALLOW_TIMEOUT, "agent"),
    ]


def test_answer_before_offer_is_a_violation() -> None:
    core = AgentCore(client_version="t")
    asking(core)
    core.decide(True)
    core.receive(SessionStart(session_id="s1"))
    effects = core.receive(Answer(sdp="v=0"))
    assert not any(isinstance(e, ApplyAnswer) for e in effects)
    assert effects[-1] == Finish(EndReason.PEER_GONE, "relay")


def test_ended_by_operator() -> None:
    core = AgentCore(client_version="t")
    asking(core)
    core.decide(True)
    assert core.receive(Ended(reason=EndReason.NORMAL, by="operator")) == [
        Finish(EndReason.NORMAL, "operator")
    ]
    assert core.stop() == []


def test_reconnect_resumes_with_token() -> None:
    core = AgentCore(client_version="t")
    registered(core)
    [send] = core.reconnected()
    assert isinstance(send, Send)
    assert send.message == Resume(protocol_version=1, resume_token="secret")
    # The relay answers with the same code.
    assert core.receive(Registered(code="4821", expires_in_s=500, resume_token="secret")) == [
        CodeAssigned("4821", 500)
    ]


def test_reconnect_before_code_registers_again() -> None:
    core = AgentCore(client_version="t")
    core.start(consent_accepted=True)
    [send] = core.reconnected()
    assert isinstance(send, Send)
    assert isinstance(send.message, Register)


def test_busy_is_reported_not_fatal() -> None:
    core = AgentCore(client_version="t")
    core.start(consent_accepted=True)
    busy = Error(code=ErrorCode.BUSY, message="busy", retry_after_s=60, fatal=False)
    assert core.receive(busy) == [Refused(ErrorCode.BUSY, "busy", 60, False)]


def test_unknown_resume_token_ends() -> None:
    core = AgentCore(client_version="t")
    registered(core)
    effects = core.receive(Error(code=ErrorCode.UNKNOWN_RESUME_TOKEN, message="gone"))
    assert effects[-1] == Finish(EndReason.PEER_GONE, "relay")
    assert core.phase is AgentPhase.ENDED


def test_join_with_operator_code() -> None:
    core = AgentCore(client_version="t", sysinfo_scope="normal", operator_code="123456")
    [send] = core.start(consent_accepted=True)
    assert isinstance(send, Send)
    assert send.message == Join(
        protocol_version=1,
        code="123456",
        sysinfo_scope="normal",
        client_version="t",
        consent_accepted=True,
    )
    # The relay confirms with the code and a resume token, then the operator asks as usual.
    assert core.receive(Registered(code="123456", expires_in_s=60, resume_token="r")) == [
        CodeAssigned("123456", 60)
    ]
    assert core.receive(OperatorRequest(operator=OP, timeout_s=60)) == [OperatorAsking(OP, 60)]


def test_operator_code_must_have_six_digits() -> None:
    with pytest.raises(ValueError, match="6 digits"):
        AgentCore(client_version="t", operator_code="1234")


def test_resume_while_asking_keeps_the_question() -> None:
    core = AgentCore(client_version="t")
    asking(core)
    [send] = core.reconnected()
    assert isinstance(send, Send)
    assert isinstance(send.message, Resume)
    # The relay's answer to resume while a claim is open: the code again, then the request.
    assert core.receive(Registered(code="4821", expires_in_s=500, resume_token="secret")) == []
    assert core.receive(OperatorRequest(operator=OP, timeout_s=42)) == [OperatorAsking(OP, 42)]
    assert phase(core) is AgentPhase.ASKING
    assert core.decide(True) == [Send(Decision(allowed=True))]


def test_allow_given_while_disconnected_survives_the_resume() -> None:
    core = AgentCore(client_version="t")
    asking(core)
    core.decide(True)  # queued by the session while the socket is down
    core.reconnected()
    assert core.receive(Registered(code="4821", expires_in_s=500, resume_token="secret")) == []
    assert core.receive(OperatorRequest(operator=OP, timeout_s=42)) == []
    [start] = core.receive(SessionStart(session_id="s1"))
    assert isinstance(start, StartPeer)


def test_another_operator_while_asking_is_a_violation() -> None:
    core = AgentCore(client_version="t")
    asking(core)
    other = OperatorIdentity(display_name="Mallory", organisation="Evil")
    effects = core.receive(OperatorRequest(operator=other, timeout_s=60))
    assert not any(isinstance(e, OperatorAsking) for e in effects)
    assert phase(core) is AgentPhase.ENDED


# --- outages: the relay gone, restarted, or the media lost ------------------------------


def sharing() -> AgentCore:
    core = AgentCore(client_version="t")
    asking(core)
    core.decide(True)
    core.receive(SessionStart(session_id="s1"))
    core.offer_created("v=0")
    core.media_connected()
    return core


def test_a_restarted_relay_leaves_the_live_session_running() -> None:
    core = sharing()
    assert core.reconnected() == [Send(Resume(protocol_version=1, resume_token="secret"))]
    refusal = Error(code=ErrorCode.UNKNOWN_RESUME_TOKEN, message="restarted", fatal=True)
    assert core.receive(refusal) == [RelayForgot()]
    assert phase(core) is AgentPhase.SHARING
    assert core.reconnected() == []  # nothing left to resume on the relay
    # The operator's hang_up on the data channel ends it, as does the customer's Stop.
    assert core.hung_up(EndReason.NORMAL) == [Finish(EndReason.NORMAL, "operator")]
    assert phase(core) is AgentPhase.ENDED
    assert core.hung_up(EndReason.NORMAL) == []


def test_an_unknown_resume_token_before_sharing_still_ends() -> None:
    core = AgentCore(client_version="t")
    registered(core)
    refusal = Error(code=ErrorCode.UNKNOWN_RESUME_TOKEN, message="gone", fatal=True)
    [refused, finish] = core.receive(refusal)
    assert isinstance(refused, Refused)
    assert finish == Finish(EndReason.PEER_GONE, "relay")


def test_lost_media_and_giving_up_end_with_connection_lost() -> None:
    core = sharing()
    assert core.media_lost() == [
        Send(Bye(reason=EndReason.CONNECTION_LOST)),
        Finish(EndReason.CONNECTION_LOST, "relay"),
    ]
    assert core.media_lost() == []
    assert core.gave_up() == []
    other = sharing()
    assert other.gave_up() == [Finish(EndReason.CONNECTION_LOST, "relay")]
    assert phase(other) is AgentPhase.ENDED


def test_a_hang_up_before_any_session_is_ignored() -> None:
    core = AgentCore(client_version="t")
    asking(core)
    assert core.hung_up(EndReason.NORMAL) == []
    assert phase(core) is AgentPhase.ASKING


def test_a_restart_offers_again_in_the_same_session_without_a_new_allow() -> None:
    core = sharing()
    assert core.offer_created("v=0 b", restart=1) == [Send(Offer(sdp="v=0 b", restart=1))]
    assert core.receive(Answer(sdp="v=0 c", restart=1)) == [ApplyAnswer("v=0 c", 1)]
    assert core.phase is AgentPhase.SHARING
    core.stop()
    assert core.offer_created("v=0 d", restart=2) == []  # nothing after the end
