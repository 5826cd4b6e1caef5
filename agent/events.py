"""What an agent session reports to its UI: the events of :class:`agent.session.AgentSession`.

Kept apart from the session (which pulls in aiortc, PyAV and numpy) so the customer's
windows can handle events without loading the media stack: the consent screen then
appears before those heavy imports are done.
"""

from __future__ import annotations

import dataclasses

from protocol import EndReason, ErrorCode, OperatorIdentity, SysInfoReport

__all__ = [
    "AgentEvent",
    "CodeShown",
    "OperatorAsking",
    "OperatorConnection",
    "Reconnected",
    "Reconnecting",
    "RefusedByRelay",
    "SessionEnded",
    "SharingStarted",
    "SystemInfoSent",
]


@dataclasses.dataclass(frozen=True)
class CodeShown:
    code: str
    expires_in_s: float


@dataclasses.dataclass(frozen=True)
class OperatorAsking:
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
    connected: bool


@dataclasses.dataclass(frozen=True)
class RefusedByRelay:
    code: ErrorCode
    message: str
    retry_after_s: float | None


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
    CodeShown
    | OperatorAsking
    | SharingStarted
    | Reconnecting
    | Reconnected
    | OperatorConnection
    | RefusedByRelay
    | SystemInfoSent
    | SessionEnded
)
