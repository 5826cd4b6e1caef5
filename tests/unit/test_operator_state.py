"""The operator side's sans-IO state machine."""

from __future__ import annotations

import pytest

from operator_console.state import (
    AcceptOffer,
    ClaimAccepted,
    CustomerConnection,
    LoggedIn,
    OperatorCore,
    OperatorPhase,
    PrepareSession,
    Refused,
    RelayConnection,
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
    IssueCode,
    Offer,
    OperatorIdentity,
    PeerStatus,
    Resume,
    Resumed,
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


# --- the relay connection lost during a session -----------------------------------------


def viewing(resume_token: str = "op-secret") -> OperatorCore:
    core = ready()
    core.claim("4821")
    core.receive(ClaimPending(timeout_s=60))
    core.receive(SessionStart(session_id="s", resume_token=resume_token))
    core.receive(Offer(sdp="o"))
    core.answer_created("a")
    core.media_connected()
    return core


def test_a_dropped_socket_keeps_the_session_and_resumes_with_the_secret() -> None:
    core = viewing()
    assert core.closed() == [RelayConnection("reconnecting")]
    assert phase(core) is OperatorPhase.VIEWING
    assert core.is_reconnecting()
    assert core.reconnected() == [Send(Auth(protocol_version=1, token="tok"))]
    assert core.receive(Authenticated(username="sato", operator=OP)) == [
        Send(Resume(protocol_version=1, resume_token="op-secret"))
    ]
    assert core.receive(Resumed(session_id="s")) == [RelayConnection("resumed")]
    assert not core.is_reconnecting()
    assert core.receive(PeerStatus(connected=True)) == [CustomerConnection(True)]
    assert core.end() == [Send(Bye())]


def test_a_forgotten_session_goes_on_and_ends_here() -> None:
    core = viewing()
    core.closed()
    core.reconnected()
    core.receive(Authenticated(username="sato", operator=OP))
    refusal = Error(code=ErrorCode.UNKNOWN_RESUME_TOKEN, message="the relay restarted")
    assert core.receive(refusal) == [RelayConnection("forgotten")]
    assert phase(core) is OperatorPhase.VIEWING
    # The relay cannot carry a bye for a session it does not know: it ends here.
    assert core.end() == [SessionEnded(EndReason.NORMAL, "operator")]
    assert phase(core) is OperatorPhase.READY  # the socket is still logged in
    assert core.claim("1234") == [Send(Claim(code="1234"))]


def test_a_refused_login_on_resume_ends_nothing_while_the_media_flows() -> None:
    core = viewing()
    core.closed()
    core.reconnected()
    fatal = Error(code=ErrorCode.NOT_AUTHORISED, message="log in again", fatal=True)
    assert core.receive(fatal) == [RelayConnection("forgotten")]
    assert core.closed() == []
    assert core.hung_up(EndReason.NORMAL) == [SessionEnded(EndReason.NORMAL, "agent")]
    assert phase(core) is OperatorPhase.CLOSED


def test_an_agent_hang_up_ends_here_and_the_relay_end_is_not_shown_twice() -> None:
    core = viewing()
    assert core.hung_up(EndReason.NORMAL) == [
        Send(Bye(reason=EndReason.NORMAL)),
        SessionEnded(EndReason.NORMAL, "agent"),
    ]
    assert core.receive(Ended(reason=EndReason.NORMAL, by="agent")) == []
    assert phase(core) is OperatorPhase.READY
    # The next session's end is shown again.
    core.claim("4821")
    core.receive(ClaimPending(timeout_s=60))
    assert core.receive(Ended(reason=EndReason.DENIED, by="agent")) == [
        SessionEnded(EndReason.DENIED, "agent")
    ]


def test_lost_media_and_giving_up_end_with_connection_lost() -> None:
    core = viewing()
    assert core.media_lost() == [
        Send(Bye(reason=EndReason.CONNECTION_LOST)),
        SessionEnded(EndReason.CONNECTION_LOST, "relay"),
    ]
    other = viewing()
    other.closed()
    assert other.gave_up() == [SessionEnded(EndReason.CONNECTION_LOST, "relay")]
    assert phase(other) is OperatorPhase.CLOSED


def test_without_a_resume_secret_a_dropped_socket_ends_the_session_as_before() -> None:
    core = viewing(resume_token="")
    assert core.closed() == [SessionEnded(EndReason.PEER_GONE, "relay")]


def test_an_end_asked_just_before_a_drop_is_repeated_after_the_resume() -> None:
    core = viewing()
    assert core.end() == [Send(Bye())]  # written to a socket that turns out to be dead
    core.closed()
    core.reconnected()
    core.receive(Authenticated(username="sato", operator=OP))
    assert core.receive(Resumed(session_id="s")) == [RelayConnection("resumed"), Send(Bye())]
    assert core.receive(Ended(reason=EndReason.NORMAL, by="operator")) == [
        SessionEnded(EndReason.NORMAL, "operator")
    ]


@pytest.mark.parametrize("direction", ["issued", "typed"])
def test_a_co_browse_page_change_brings_a_new_peer_in_the_same_session(direction: str) -> None:
    """Each page of the site is a new document with a new offer (docs/protocol.md §5a).

    Whether the operator issued the 6-digit number or typed the customer's 4-digit one (the
    direction a co-browse page may also offer), ``claim_pending`` says co-browse and the rest
    is the same."""
    core = ready()
    if direction == "issued":
        assert core.issue_code() == [Send(IssueCode())]
    else:
        assert core.claim("4821") == [Send(Claim(code="4821"))]
    assert core.receive(ClaimPending(timeout_s=60, client="cobrowse")) == [ClaimAccepted(60, "cobrowse")]
    assert core.receive(SessionStart(session_id="s")) == [PrepareSession("s", ())]
    assert core.receive(Offer(sdp="o1")) == [AcceptOffer("o1")]
    assert core.answer_created("a1") == [Send(Answer(sdp="a1"))]
    # The customer follows a link before or after the first page connected: a new peer each time.
    assert core.receive(Offer(sdp="o2")) == [PrepareSession("s", (), renew=True), AcceptOffer("o2")]
    core.media_connected()
    assert core.receive(PeerStatus(connected=False)) == [CustomerConnection(False)]
    assert core.media_lost() == []  # the old page's peer died with the page: not an end
    assert core.receive(PeerStatus(connected=True)) == [CustomerConnection(True)]
    assert core.receive(Offer(sdp="o3")) == [PrepareSession("s", (), renew=True), AcceptOffer("o3")]
    assert core.answer_created("a3") == [Send(Answer(sdp="a3"))]
    assert phase(core) is OperatorPhase.VIEWING
    assert core.end() == [Send(Bye(reason=EndReason.NORMAL))]
    assert core.receive(Ended(reason=EndReason.NORMAL, by="operator")) == [
        SessionEnded(EndReason.NORMAL, "operator")
    ]
    # The next customer is an agent again: a second offer is not a new page.
    assert core.claim("4821") == [Send(Claim(code="4821"))]
    assert core.receive(ClaimPending(timeout_s=60)) == [ClaimAccepted(60, "agent")]
    core.receive(SessionStart(session_id="t"))
    assert core.receive(Offer(sdp="o")) == [AcceptOffer("o")]
    core.media_connected()
    assert core.receive(Offer(sdp="again")) == []
    assert core.media_lost() == [
        Send(Bye(reason=EndReason.CONNECTION_LOST)),
        SessionEnded(EndReason.CONNECTION_LOST, "relay"),
    ]


# --- the agent's new peer connection after its network changed (protocol step 11) ---------


def test_a_restart_offer_renews_the_peer_in_the_same_session() -> None:
    core = viewing()
    assert core.receive(Offer(sdp="o2", restart=1)) == [
        PrepareSession("s", (), renew=True),
        AcceptOffer("o2", 1),
    ]
    assert core.answer_created("a2", restart=1) == [Send(Answer(sdp="a2", restart=1))]
    assert phase(core) is OperatorPhase.VIEWING  # the view goes on: no new ViewingStarted


def test_an_offer_older_than_the_newest_restart_is_ignored() -> None:
    core = viewing()
    core.receive(Offer(sdp="o3", restart=2))
    assert core.receive(Offer(sdp="o2", restart=1)) == []
    assert core.receive(Offer(sdp="o", restart=0)) == []
    # An answer to a restart overtaken meanwhile is not sent either.
    assert core.answer_created("a1", restart=1) == []


def test_the_browsers_page_renews_its_peer_too() -> None:
    """The browser's normal mode offers a new peer after its network changed (restart.js)."""
    core = ready()
    core.claim("4821")
    assert core.receive(ClaimPending(timeout_s=60, client="browser")) == [ClaimAccepted(60, "browser")]
    core.receive(SessionStart(session_id="s"))
    assert core.receive(Offer(sdp="o")) == [AcceptOffer("o")]
    core.answer_created("a")
    core.media_connected()
    assert core.receive(Offer(sdp="o1", restart=1)) == [
        PrepareSession("s", (), renew=True),
        AcceptOffer("o1", 1),
    ]
    assert core.answer_created("a1", restart=1) == [Send(Answer(sdp="a1", restart=1))]
    assert core.receive(Offer(sdp="late", restart=0)) == []
    assert phase(core) is OperatorPhase.VIEWING
