"""What the sans-IO registry asks the I/O layer to do: the effect types.

The registry never touches a socket, a database or a metric; it returns a list of
these, in order, and :mod:`relay.app` carries them out in that order (a ``Send``
listed before a ``Close`` for the same connection reaches the peer first).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Literal

from protocol import SignalingMessage

__all__ = ["CloseCode", "Send", "Close", "Audit", "Count", "Alarm", "Effect", "MetricName"]


class CloseCode(enum.IntEnum):
    """Websocket close codes the relay uses (RFC 6455 section 7.4.1)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011
    TRY_AGAIN_LATER = 1013


@dataclasses.dataclass(frozen=True)
class Send:
    conn: str
    message: SignalingMessage


@dataclasses.dataclass(frozen=True)
class Close:
    conn: str
    code: CloseCode
    reason: str


@dataclasses.dataclass(frozen=True)
class Audit:
    """One audit row. ``detail`` holds plain JSON values, never secrets or screen content."""

    event: str
    operator: str | None = None
    ip: str | None = None
    session_id: str | None = None
    code: str | None = None
    detail: Mapping[str, object] = dataclasses.field(default_factory=dict)


MetricName = Literal[
    "claims_failed",
    "joins_failed",
    "registrations_refused",
    "lockouts",
    "sessions_started",
    "sessions_ended",
    "messages_forwarded",
    "protocol_errors",
]


@dataclasses.dataclass(frozen=True)
class Count:
    """Increment counter ``madoguchi_<metric>_total`` (with ``label`` as its reason, if any)."""

    metric: MetricName
    label: str = ""


@dataclasses.dataclass(frozen=True)
class Alarm:
    """Something an operator of the relay must look at (log at WARNING, metric)."""

    name: str
    active: bool
    detail: str


Effect = Send | Close | Audit | Count | Alarm
