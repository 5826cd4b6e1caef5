"""The agent's session state machine (sans-IO).

It takes relay messages and customer decisions and returns *effects* for the I/O
glue (agent/session.py) to carry out. Nothing here touches a socket, the screen
or a clock, so every path is tested in memory (tests/unit/test_agent_state.py).

Security properties enforced here rather than trusted to the relay:

* nothing is registered before the customer agreed to the terms (R15);
* ``StartPeer`` - the only effect that leads to screen capture - is emitted only
  after the customer allowed *this* operator request locally, even if a
  misbehaving relay sends ``session_start`` unasked (R9, "no frame before Allow");
* only ``offer``/``answer``/``ice`` of the current session reach the peer.
"""

from __future__ import annotations

import dataclasses
import enum
import logging

from agent.events import OperatorAsking, OperatorConnection, RelayForgot
from client_core.effects import ApplyIce, CodeAssigned, Refused, Send
from protocol import (
    OPERATOR_CODE_DIGITS,
    PROTOCOL_VERSION,
    Answer,
    Bye,
    ClientKind,
    Decision,
    Ended,
    EndReason,
    Error,
    ErrorCode,
    Ice,
    IceServer,
    Join,
    Offer,
    OperatorIdentity,
    OperatorRequest,
    PeerStatus,
    Register,
    Registered,
    Resume,
    Resumed,
    Scope,
    SessionStart,
    SignalingMessage,
    is_code,
)

__all__ = [
    "AgentCore",
    "AgentEffect",
    "AgentPhase",
    "ApplyAnswer",
    "ApplyIce",
    "CodeAssigned",
    "Finish",
    "OperatorAsking",
    "OperatorConnection",
    "Refused",
    "RelayForgot",
    "Send",
    "StartPeer",
]

logger = logging.getLogger(__name__)


class AgentPhase(enum.StrEnum):
    IDLE = "idle"
    REGISTERING = "registering"
    WAITING = "waiting"
    """Code shown; waiting for the operator to claim it."""
    ASKING = "asking"
    """An operator claimed the code; the customer is deciding."""
    CONNECTING = "connecting"
    """Allowed; waiting for ``session_start`` / negotiating WebRTC."""
    SHARING = "sharing"
    ENDED = "ended"


@dataclasses.dataclass(frozen=True)
class StartPeer:
    session_id: str
    ice_servers: tuple[IceServer, ...]
    operator: OperatorIdentity


@dataclasses.dataclass(frozen=True)
class ApplyAnswer:
    sdp: str
    restart: int = 0
    """The peer connection it answers (docs/protocol.md step 11); the session ignores an older one's."""


@dataclasses.dataclass(frozen=True)
class Finish:
    reason: EndReason
    by: str
    """"agent", "operator" or "relay"."""


AgentEffect = (
    Send
    | CodeAssigned
    | OperatorAsking
    | StartPeer
    | ApplyAnswer
    | ApplyIce
    | OperatorConnection
    | RelayForgot
    | Refused
    | Finish
)


class AgentCore:
    """Customer-side pairing and consent logic. One instance per session attempt."""

    def __init__(
        self,
        *,
        client: ClientKind = "agent",
        sysinfo_scope: Scope = "detailed",
        client_version: str,
        locale: str = "ja",
        operator_code: str | None = None,
    ) -> None:
        """``operator_code``: join with a 6-digit code the operator read out (R2) instead
        of registering for a 4-digit code of our own."""
        if operator_code is not None and not is_code(operator_code, OPERATOR_CODE_DIGITS):
            raise ValueError(f"an operator code has {OPERATOR_CODE_DIGITS} digits")
        self.operator_code = operator_code
        self.client: ClientKind = client
        self.sysinfo_scope: Scope = sysinfo_scope
        self.client_version = client_version
        self.locale = locale
        self.phase = AgentPhase.IDLE
        self.code: str | None = None
        self.operator: OperatorIdentity | None = None
        self.session_id: str | None = None
        self._resume_token: str | None = None
        self._allowed = False
        self._offer_sent = False
        self.off_relay = False
        """The relay forgot the session (restart) while it was live: it goes on peer to peer."""

    # --- inputs from the customer -------------------------------------------------

    def start(self, *, consent_accepted: bool) -> list[AgentEffect]:
        """Register with the relay. Refuses (ValueError) without consent."""
        if not consent_accepted:
            raise ValueError("the customer has not agreed to the terms")
        if self.phase is not AgentPhase.IDLE:
            raise RuntimeError(f"start() in phase {self.phase}")
        self._set_phase(AgentPhase.REGISTERING)
        if self.operator_code is not None:
            join = Join(
                protocol_version=PROTOCOL_VERSION,
                code=self.operator_code,
                client=self.client,
                sysinfo_scope=self.sysinfo_scope,
                client_version=self.client_version,
                consent_accepted=True,
                locale=self.locale,
            )
            return [Send(join)]
        register = Register(
            protocol_version=PROTOCOL_VERSION,
            client=self.client,
            sysinfo_scope=self.sysinfo_scope,
            client_version=self.client_version,
            consent_accepted=True,
            locale=self.locale,
        )
        return [Send(register)]

    def decide(
        self, allowed: bool, *, timed_out: bool = False, system_info: bool = True
    ) -> list[AgentEffect]:
        """The customer clicked Allow or Deny, or the countdown ran out (``timed_out``);
        ``system_info``: whether the PC information goes along (the relay audits it)."""
        if self.phase is not AgentPhase.ASKING:
            logger.info("decision ignored in phase %s", self.phase)
            return []
        self._allowed = allowed
        if allowed:
            self._set_phase(AgentPhase.CONNECTING)
            return [Send(Decision(allowed=True, system_info=system_info))]
        self._set_phase(AgentPhase.ENDED)
        if timed_out:
            return [Send(Decision(allowed=False, timed_out=True)), Finish(EndReason.ALLOW_TIMEOUT, "agent")]
        return [Send(Decision(allowed=False)), Finish(EndReason.DENIED, "agent")]

    def stop(self) -> list[AgentEffect]:
        """The customer pressed Stop or closed the window."""
        if self.phase is AgentPhase.ENDED:
            return []
        was_registered = self.phase is not AgentPhase.IDLE
        self._set_phase(AgentPhase.ENDED)
        effects: list[AgentEffect] = [Send(Bye(reason=EndReason.NORMAL))] if was_registered else []
        effects.append(Finish(EndReason.NORMAL, "agent"))
        return effects

    # --- inputs from the connection ---------------------------------------------

    def reconnected(self) -> list[AgentEffect]:
        """The websocket to the relay was re-established: resume if we can."""
        if self.phase in (AgentPhase.IDLE, AgentPhase.ENDED) or self.off_relay:
            return []
        if self._resume_token is None:
            # Never got a code: simply register again.
            self.phase = AgentPhase.IDLE
            return self.start(consent_accepted=True)
        return [Send(Resume(protocol_version=PROTOCOL_VERSION, resume_token=self._resume_token))]

    def media_lost(self) -> list[AgentEffect]:
        """The peer connection failed (ICE consent lost: the network has been down too long).

        Not ``normal``: the customer did not stop, the connection was lost; both sides say so."""
        if self.phase is AgentPhase.ENDED or self.session_id is None:
            return []
        self._set_phase(AgentPhase.ENDED)
        return [Send(Bye(reason=EndReason.CONNECTION_LOST)), Finish(EndReason.CONNECTION_LOST, "relay")]

    def gave_up(self) -> list[AgentEffect]:
        """Neither the relay nor the media came back in time (client_core.reconnect)."""
        if self.phase is AgentPhase.ENDED:
            return []
        self._set_phase(AgentPhase.ENDED)
        return [Finish(EndReason.CONNECTION_LOST, "relay")]

    def hung_up(self, reason: EndReason) -> list[AgentEffect]:
        """The operator's ``hang_up`` on the data channel: end now, whatever the relay says."""
        if self.phase is AgentPhase.ENDED or self.session_id is None:
            return []
        self._set_phase(AgentPhase.ENDED)
        return [Finish(reason, "operator")]

    def offer_created(self, sdp: str, *, restart: int = 0) -> list[AgentEffect]:
        """The peer's offer is ready. ``restart`` > 0: a new peer connection in the running
        session (client_core.peer_restart), under the same consent: no new Allow."""
        if restart > 0:
            if self.phase not in (AgentPhase.CONNECTING, AgentPhase.SHARING) or self.session_id is None:
                return []
            return [Send(Offer(sdp=sdp, restart=restart))]
        if self.phase is not AgentPhase.CONNECTING or self._offer_sent:
            return []
        self._offer_sent = True
        return [Send(Offer(sdp=sdp))]

    def media_connected(self) -> None:
        if self.phase is AgentPhase.CONNECTING:
            self._set_phase(AgentPhase.SHARING)

    def receive(self, message: SignalingMessage) -> list[AgentEffect]:
        """A message from the relay."""
        if self.phase is AgentPhase.ENDED:
            return []
        if isinstance(message, Error):
            return self._on_error(message)
        if isinstance(message, Ended):
            self._set_phase(AgentPhase.ENDED)
            return [Finish(message.reason, message.by)]
        if isinstance(message, Registered) and self.phase in (AgentPhase.REGISTERING, AgentPhase.WAITING):
            self.code = message.code
            self._resume_token = message.resume_token
            self._set_phase(AgentPhase.WAITING)
            return [CodeAssigned(message.code, message.expires_in_s)]
        if (
            isinstance(message, Registered)
            and self.phase in (AgentPhase.ASKING, AgentPhase.CONNECTING)
            and message.code == self.code
        ):
            # Resumed while an operator's request was open: the relay repeats the code and
            # then the request; the customer's question (or answer) stands.
            self._resume_token = message.resume_token
            return []
        if isinstance(message, Resumed) and self.phase in (AgentPhase.CONNECTING, AgentPhase.SHARING):
            return []
        if isinstance(message, OperatorRequest) and self.phase is AgentPhase.WAITING:
            self.operator = message.operator
            self._set_phase(AgentPhase.ASKING)
            return [OperatorAsking(message.operator, message.timeout_s)]
        if isinstance(message, OperatorRequest) and self.phase is AgentPhase.ASKING:
            if message.operator != self.operator:
                return self._protocol_violation("a different operator's request while asking")
            # Repeated after a resume, with the time that is really left.
            return [OperatorAsking(message.operator, message.timeout_s)]
        if (
            isinstance(message, OperatorRequest)
            and self.phase is AgentPhase.CONNECTING
            and message.operator == self.operator
        ):
            # The customer allowed while we were away; the queued Allow follows the resume.
            return []
        if isinstance(message, SessionStart) and self.phase is AgentPhase.CONNECTING:
            if not self._allowed or self.operator is None or self.session_id is not None:
                return self._protocol_violation("session_start without the customer's Allow")
            self.session_id = message.session_id
            return [StartPeer(message.session_id, message.ice_servers, self.operator)]
        if isinstance(message, Answer) and self.session_id is not None and self._offer_sent:
            return [ApplyAnswer(message.sdp, message.restart)]
        if isinstance(message, Ice) and self.session_id is not None:
            return [ApplyIce(message)]
        if isinstance(message, PeerStatus) and self.session_id is not None:
            return [OperatorConnection(message.connected)]
        return self._protocol_violation(f"unexpected {message.type} in phase {self.phase}")

    # --- helpers ---------------------------------------------------------------------

    def _on_error(self, error: Error) -> list[AgentEffect]:
        refused = Refused(error.code, error.message, error.retry_after_s, error.fatal)
        if error.code is ErrorCode.UNKNOWN_RESUME_TOKEN and self.phase is AgentPhase.SHARING:
            # The relay restarted while the media flowed: it goes on until someone ends it
            # (the session glue ends it at once if the media is not flowing).
            self.off_relay = True
            return [RelayForgot()]
        if error.code is ErrorCode.UNKNOWN_RESUME_TOKEN:
            # The relay forgot us (restart, grace period over): the old code is gone.
            self._set_phase(AgentPhase.ENDED)
            return [refused, Finish(EndReason.PEER_GONE, "relay")]
        if error.fatal:
            self._set_phase(AgentPhase.ENDED)
            return [refused, Finish(EndReason.PEER_GONE, "relay")]
        return [refused]

    def _protocol_violation(self, what: str) -> list[AgentEffect]:
        # A relay that breaks the protocol is not trusted with the session.
        logger.warning("relay protocol violation: %s", what)
        if self.phase in (AgentPhase.CONNECTING, AgentPhase.SHARING, AgentPhase.ASKING):
            self._set_phase(AgentPhase.ENDED)
            return [Send(Bye(reason=EndReason.NORMAL)), Finish(EndReason.PEER_GONE, "relay")]
        return []

    def _set_phase(self, phase: AgentPhase) -> None:
        if phase is not self.phase:
            logger.info("agent %s -> %s", self.phase, phase)
            self.phase = phase
