"""The operator side's session state machine (sans-IO).

Takes relay messages and the operator's actions, returns effects for the client
glue (operator_console/client.py). One instance per relay connection; after a
session ends the connection returns to ``READY`` and may claim the next code.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from typing import Literal

from client_core.effects import ApplyIce, CodeAssigned, Refused, Send
from operator_console.events import ClaimAccepted, CustomerConnection, RelayConnection, SessionEnded
from protocol import (
    AGENT_CODE_DIGITS,
    PROTOCOL_VERSION,
    Answer,
    Auth,
    Authenticated,
    Bye,
    Claim,
    ClaimPending,
    ClientKind,
    CodeIssued,
    Ended,
    EndReason,
    Error,
    ErrorCode,
    Ice,
    IceServer,
    IssueCode,
    Offer,
    OperatorIdentity,
    PeerStatus,
    Resume,
    Resumed,
    SessionStart,
    SignalingMessage,
    is_code,
)

__all__ = [
    "AcceptOffer",
    "ApplyIce",
    "LoggedIn",
    "ClaimAccepted",
    "CodeAssigned",
    "CustomerConnection",
    "OperatorCore",
    "OperatorEffect",
    "OperatorPhase",
    "PrepareSession",
    "Refused",
    "RelayConnection",
    "Send",
    "SessionEnded",
]

logger = logging.getLogger(__name__)


class OperatorPhase(enum.StrEnum):
    CONNECTING = "connecting"
    """Websocket open, ``auth`` sent."""
    READY = "ready"
    CLAIMING = "claiming"
    PENDING = "pending"
    """Code accepted; the customer is deciding."""
    NEGOTIATING = "negotiating"
    VIEWING = "viewing"
    CLOSED = "closed"


@dataclasses.dataclass(frozen=True)
class LoggedIn:
    username: str
    operator: OperatorIdentity


@dataclasses.dataclass(frozen=True)
class PrepareSession:
    session_id: str
    ice_servers: tuple[IceServer, ...]
    renew: bool = False
    """A co-browse customer went to another page of the site: a new peer for its new offer,
    in the same session (docs/protocol.md §5a, "Navigation")."""


@dataclasses.dataclass(frozen=True)
class AcceptOffer:
    sdp: str
    restart: int = 0
    """The offer's peer generation (docs/protocol.md step 11); the answer says it back."""


OperatorEffect = (
    Send
    | LoggedIn
    | ClaimAccepted
    | CodeAssigned
    | PrepareSession
    | AcceptOffer
    | ApplyIce
    | CustomerConnection
    | RelayConnection
    | Refused
    | SessionEnded
)


class OperatorCore:
    def __init__(self, token: str) -> None:
        self._token = token
        self.phase = OperatorPhase.CONNECTING
        self.operator: OperatorIdentity | None = None
        self.session_id: str | None = None
        self.client: ClientKind = "agent"
        """What the customer of the current (or last) claim shares from (``claim_pending``)."""
        self._ice_servers: tuple[IceServer, ...] = ()
        self._resume_token: str | None = None
        self.relay: Literal["connected", "reconnecting", "forgotten"] = "connected"
        """This connection's hold on the current session: see :class:`RelayConnection`."""
        self._socket_open = False
        self._stale_ended = False
        """A session ended here before the relay said so: its ``ended`` is still to come."""
        self._offered = False
        """The session's first offer was answered (another one is a co-browse page change)."""
        self._restart = 0
        """The newest peer generation the agent offered in this session (docs/protocol.md step 11)."""
        self._bye_sent = False
        """End session was asked during this session; a resume repeats the bye (the socket
        it went out on may have died before the relay read it)."""

    def connected(self) -> list[OperatorEffect]:
        self._set(OperatorPhase.CONNECTING)
        self._socket_open = True
        return [Send(Auth(protocol_version=PROTOCOL_VERSION, token=self._token))]

    def reconnected(self) -> list[OperatorEffect]:
        """A new websocket after a drop during a session: log in again, then resume."""
        self._socket_open = True
        return [Send(Auth(protocol_version=PROTOCOL_VERSION, token=self._token))]

    @property
    def in_session(self) -> bool:
        return self.session_id is not None and self.phase in (
            OperatorPhase.NEGOTIATING,
            OperatorPhase.VIEWING,
        )

    def is_reconnecting(self) -> bool:
        """The websocket dropped during a session and has not resumed yet."""
        return self.relay == "reconnecting" and self.in_session

    def media_lost(self) -> list[OperatorEffect]:
        """The peer connection failed (ICE consent lost): the connection is lost, not ended by
        anyone. Not after End session: then the customer's side closing it is the answer.
        Not in co-browsing either: each page of the site has its own peer, so the old one dies
        whenever the customer follows a link; the next page resumes with a new offer, or the
        relay ends the session after its grace."""
        if self._bye_sent or self.client == "cobrowse":
            return []
        return self._end_here(EndReason.CONNECTION_LOST, "relay")

    def gave_up(self) -> list[OperatorEffect]:
        """Neither the relay nor the media came back in time (client_core.reconnect)."""
        return self._end_here(EndReason.CONNECTION_LOST, "relay")

    def hung_up(self, reason: EndReason) -> list[OperatorEffect]:
        """The agent's ``hang_up`` on the data channel: the customer's side is gone now."""
        return self._end_here(reason, "agent")

    def _end_here(self, reason: EndReason, by: str) -> list[OperatorEffect]:
        """End the session on this side now; tell the relay if it still holds it."""
        if not self.in_session:
            return []
        effects: list[OperatorEffect] = []
        if self.relay == "connected" and self._socket_open:
            effects.append(Send(Bye(reason=reason)))
            self._stale_ended = True  # the relay answers with ended: already shown
        effects.append(SessionEnded(reason, by))
        self._session_over()
        return effects

    def _session_over(self) -> None:
        self._bye_sent = False
        self._offered = False
        self._restart = 0
        self.session_id = None
        self._resume_token = None
        self.relay = "connected"
        self._set(OperatorPhase.READY if self._socket_open else OperatorPhase.CLOSED)

    def claim(self, code: str) -> list[OperatorEffect]:
        """The operator typed a code. Obvious typos are caught here, before the relay counts them."""
        code = code.strip().replace(" ", "").replace("-", "")
        if self.phase is not OperatorPhase.READY:
            raise RuntimeError(f"cannot claim in phase {self.phase}")
        if not is_code(code, AGENT_CODE_DIGITS):
            return [Refused(ErrorCode.UNKNOWN_CODE, f"a code has {AGENT_CODE_DIGITS} digits", None, False)]
        self._stale_ended = False
        self._set(OperatorPhase.CLAIMING)
        return [Send(Claim(code=code))]

    def issue_code(self) -> list[OperatorEffect]:
        if self.phase is not OperatorPhase.READY:
            raise RuntimeError(f"cannot issue a code in phase {self.phase}")
        self._stale_ended = False
        self._set(OperatorPhase.CLAIMING)
        return [Send(IssueCode())]

    def end(self) -> list[OperatorEffect]:
        if self.in_session and (self.relay != "connected" or not self._socket_open):
            # The relay cannot carry the bye (away, or it forgot the session): end here;
            # the client's hang_up on the data channel tells the agent.
            return self._end_here(EndReason.NORMAL, "operator")
        if self.phase in (
            OperatorPhase.CLAIMING,
            OperatorPhase.PENDING,
            OperatorPhase.NEGOTIATING,
            OperatorPhase.VIEWING,
        ):
            self._bye_sent = self.in_session
            return [Send(Bye(reason=EndReason.NORMAL))]
        return []

    def answer_created(self, sdp: str, *, restart: int = 0) -> list[OperatorEffect]:
        # A co-browse page change, or the agent's new peer connection after its network changed.
        renewed = (self.client == "cobrowse" or restart > 0) and self.in_session
        if self.phase is not OperatorPhase.NEGOTIATING and not renewed:
            return []
        if restart != self._restart:
            return []  # a newer offer came while this one was being answered
        return [Send(Answer(sdp=sdp, restart=restart))]

    def media_connected(self) -> None:
        if self.phase is OperatorPhase.NEGOTIATING:
            self._set(OperatorPhase.VIEWING)

    def receive(self, message: SignalingMessage) -> list[OperatorEffect]:
        if self.relay == "reconnecting":
            return self._while_resuming(message)
        if isinstance(message, Error):
            refused = Refused(message.code, message.message, message.retry_after_s, message.fatal)
            if message.fatal:
                self._set(OperatorPhase.CLOSED)
            elif self.phase is OperatorPhase.CLAIMING:
                self._set(OperatorPhase.READY)
            return [refused]
        if isinstance(message, Authenticated) and self.phase is OperatorPhase.CONNECTING:
            self.operator = message.operator
            self._set(OperatorPhase.READY)
            return [LoggedIn(message.username, message.operator)]
        if isinstance(message, ClaimPending) and self.phase is OperatorPhase.CLAIMING:
            self._set(OperatorPhase.PENDING)
            self.client = message.client
            return [ClaimAccepted(message.timeout_s, message.client)]
        if isinstance(message, CodeIssued) and self.phase is OperatorPhase.CLAIMING:
            # Stay in CLAIMING: the customer's join turns into claim_pending.
            return [CodeAssigned(message.code, message.expires_in_s)]
        if isinstance(message, SessionStart) and self.phase is OperatorPhase.PENDING:
            self.session_id = message.session_id
            self._resume_token = message.resume_token or None
            self._ice_servers = message.ice_servers
            self._offered = False
            self._restart = 0
            self._set(OperatorPhase.NEGOTIATING)
            return [PrepareSession(message.session_id, message.ice_servers)]
        if isinstance(message, Offer) and self.client != "cobrowse" and self.in_session:
            if message.restart < self._restart:
                logger.info("offer for peer %d ignored: peer %d is newer", message.restart, self._restart)
                return []
            if message.restart > self._restart:
                # The agent's network changed (or its peer failed): a new peer connection in
                # the same session, under the customer's same Allow. The view goes on.
                assert self.session_id is not None
                self._restart = message.restart
                self._offered = True
                return [
                    PrepareSession(self.session_id, self._ice_servers, renew=True),
                    AcceptOffer(message.sdp, message.restart),
                ]
        first_offer = self.client != "cobrowse" or not self._offered
        if isinstance(message, Offer) and self.phase is OperatorPhase.NEGOTIATING and first_offer:
            self._offered = True
            return [AcceptOffer(message.sdp)]
        if isinstance(message, Offer) and self.in_session and self.client == "cobrowse":
            assert self.session_id is not None
            return [PrepareSession(self.session_id, self._ice_servers, renew=True), AcceptOffer(message.sdp)]
        if isinstance(message, Ice) and self.session_id is not None:
            return [ApplyIce(message)]
        if isinstance(message, PeerStatus) and self.session_id is not None:
            return [CustomerConnection(message.connected)]
        if isinstance(message, Ended):
            if self._stale_ended and self.session_id is None:
                self._stale_ended = False  # this side ended it first and said so
                return []
            self._session_over()
            return [SessionEnded(message.reason, message.by)]
        logger.warning("unexpected %s in phase %s ignored", message.type, self.phase)
        return []

    def _while_resuming(self, message: SignalingMessage) -> list[OperatorEffect]:
        """Messages on the new socket before ``resumed``: log in, resume, or learn it is gone."""
        if isinstance(message, Authenticated) and self._resume_token is not None:
            return [Send(Resume(protocol_version=PROTOCOL_VERSION, resume_token=self._resume_token))]
        if isinstance(message, Resumed) and message.session_id == self.session_id:
            self.relay = "connected"
            if self._bye_sent:
                return [RelayConnection("resumed"), Send(Bye(reason=EndReason.NORMAL))]
            return [RelayConnection("resumed")]
        if isinstance(message, Error):
            # unknown_resume_token (the relay restarted, or the grace ran out), or the login
            # is no longer accepted: the relay cannot carry this session any more.
            logger.info("resume refused: %s", message.code.value)
            self.relay = "forgotten"
            self._socket_open = not message.fatal
            return [RelayConnection("forgotten")]
        if isinstance(message, Ended):  # the relay ended it meanwhile: believe it
            self._session_over()
            return [SessionEnded(message.reason, message.by)]
        logger.warning("unexpected %s while resuming ignored", message.type)
        return []

    def closed(self) -> list[OperatorEffect]:
        self._socket_open = False
        if self.in_session and self._resume_token is not None and self.relay != "forgotten":
            self.relay = "reconnecting"
            return [RelayConnection("reconnecting")]
        if self.in_session and self.relay == "forgotten":
            return []  # viewing goes on peer to peer until someone ends it
        was_in_session = self.session_id is not None or self.phase in (
            OperatorPhase.PENDING,
            OperatorPhase.NEGOTIATING,
            OperatorPhase.VIEWING,
        )
        self._set(OperatorPhase.CLOSED)
        self.session_id = None
        return [SessionEnded(EndReason.PEER_GONE, "relay")] if was_in_session else []

    def _set(self, phase: OperatorPhase) -> None:
        if phase is not self.phase:
            logger.info("operator %s -> %s", self.phase, phase)
            self.phase = phase
