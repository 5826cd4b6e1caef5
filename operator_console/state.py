"""The operator side's session state machine (sans-IO).

Takes relay messages and the operator's actions, returns effects for the client
glue (operator_console/client.py). One instance per relay connection; after a
session ends the connection returns to ``READY`` and may claim the next code.
"""

from __future__ import annotations

import dataclasses
import enum
import logging

from client_core.effects import ApplyIce, CodeAssigned, Refused, Send
from operator_console.events import ClaimAccepted, CustomerConnection, SessionEnded
from protocol import (
    AGENT_CODE_DIGITS,
    PROTOCOL_VERSION,
    Answer,
    Auth,
    Authenticated,
    Bye,
    Claim,
    ClaimPending,
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


@dataclasses.dataclass(frozen=True)
class AcceptOffer:
    sdp: str


OperatorEffect = (
    Send
    | LoggedIn
    | ClaimAccepted
    | CodeAssigned
    | PrepareSession
    | AcceptOffer
    | ApplyIce
    | CustomerConnection
    | Refused
    | SessionEnded
)


class OperatorCore:
    def __init__(self, token: str) -> None:
        self._token = token
        self.phase = OperatorPhase.CONNECTING
        self.operator: OperatorIdentity | None = None
        self.session_id: str | None = None

    def connected(self) -> list[OperatorEffect]:
        self._set(OperatorPhase.CONNECTING)
        return [Send(Auth(protocol_version=PROTOCOL_VERSION, token=self._token))]

    def claim(self, code: str) -> list[OperatorEffect]:
        """The operator typed a code. Obvious typos are caught here, before the relay counts them."""
        code = code.strip().replace(" ", "").replace("-", "")
        if self.phase is not OperatorPhase.READY:
            raise RuntimeError(f"cannot claim in phase {self.phase}")
        if not is_code(code, AGENT_CODE_DIGITS):
            return [Refused(ErrorCode.UNKNOWN_CODE, f"a code has {AGENT_CODE_DIGITS} digits", None, False)]
        self._set(OperatorPhase.CLAIMING)
        return [Send(Claim(code=code))]

    def issue_code(self) -> list[OperatorEffect]:
        if self.phase is not OperatorPhase.READY:
            raise RuntimeError(f"cannot issue a code in phase {self.phase}")
        self._set(OperatorPhase.CLAIMING)
        return [Send(IssueCode())]

    def end(self) -> list[OperatorEffect]:
        if self.phase in (
            OperatorPhase.CLAIMING,
            OperatorPhase.PENDING,
            OperatorPhase.NEGOTIATING,
            OperatorPhase.VIEWING,
        ):
            return [Send(Bye(reason=EndReason.NORMAL))]
        return []

    def answer_created(self, sdp: str) -> list[OperatorEffect]:
        if self.phase is not OperatorPhase.NEGOTIATING:
            return []
        return [Send(Answer(sdp=sdp))]

    def media_connected(self) -> None:
        if self.phase is OperatorPhase.NEGOTIATING:
            self._set(OperatorPhase.VIEWING)

    def receive(self, message: SignalingMessage) -> list[OperatorEffect]:
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
            return [ClaimAccepted(message.timeout_s, message.client)]
        if isinstance(message, CodeIssued) and self.phase is OperatorPhase.CLAIMING:
            # Stay in CLAIMING: the customer's join turns into claim_pending.
            return [CodeAssigned(message.code, message.expires_in_s)]
        if isinstance(message, SessionStart) and self.phase is OperatorPhase.PENDING:
            self.session_id = message.session_id
            self._set(OperatorPhase.NEGOTIATING)
            return [PrepareSession(message.session_id, message.ice_servers)]
        if isinstance(message, Offer) and self.phase is OperatorPhase.NEGOTIATING:
            return [AcceptOffer(message.sdp)]
        if isinstance(message, Ice) and self.session_id is not None:
            return [ApplyIce(message)]
        if isinstance(message, PeerStatus) and self.session_id is not None:
            return [CustomerConnection(message.connected)]
        if isinstance(message, Ended):
            self.session_id = None
            self._set(OperatorPhase.READY)
            return [SessionEnded(message.reason, message.by)]
        logger.warning("unexpected %s in phase %s ignored", message.type, self.phase)
        return []

    def closed(self) -> list[OperatorEffect]:
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
