"""What an agent session reports to its UI: the events of :class:`agent.session.AgentSession`.

Kept apart from the session (which pulls in aiortc, PyAV and numpy) so the customer's
windows can handle events without loading the media stack: the consent screen then
appears before those heavy imports are done.
"""

from __future__ import annotations

import dataclasses

from client_core.effects import CodeAssigned, Refused, TurnTrouble
from protocol import EndReason, OperatorIdentity, SysInfoReport

__all__ = [
    "AgentEvent",
    "CodeAssigned",
    "OperatorAsking",
    "OperatorConnection",
    "Reconnected",
    "Reconnecting",
    "Refused",
    "SessionEnded",
    "SharingStarted",
    "SystemInfoSent",
    "TurnTrouble",
]


@dataclasses.dataclass(frozen=True)
class OperatorAsking:
    """An operator claimed the code; the customer decides within ``timeout_s``."""

    operator: OperatorIdentity
    timeout_s: float


@dataclasses.dataclass(frozen=True)
class SharingStarted:
    operator: OperatorIdentity


@dataclasses.dataclass(frozen=True)
class Reconnecting:
    """The relay connection dropped; ``attempt`` counts from 1. Sharing may go on."""

    attempt: int


@dataclasses.dataclass(frozen=True)
class Reconnected:
    """The relay connection is back after :class:`Reconnecting` (the relay then resumes or refuses)."""


@dataclasses.dataclass(frozen=True)
class OperatorConnection:
    """The operator's relay connection dropped (False) or came back (True)."""

    connected: bool


@dataclasses.dataclass(frozen=True)
class SystemInfoSent:
    """The system information that went to the operator (for the end-of-session summary)."""

    report: SysInfoReport


@dataclasses.dataclass(frozen=True)
class SessionEnded:
    reason: EndReason
    by: str
    operator: OperatorIdentity | None
    shared_seconds: float


AgentEvent = (
    CodeAssigned
    | OperatorAsking
    | SharingStarted
    | Reconnecting
    | Reconnected
    | OperatorConnection
    | Refused
    | SystemInfoSent
    | SessionEnded
    | TurnTrouble
)
