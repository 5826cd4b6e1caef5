"""Error codes and the one exception the protocol layer raises.

Exception tree (the whole of it)::

    ProtocolError(ValueError)   any input that is not a valid message; carries an
                                ErrorCode and a human-readable detail, never the
                                offending payload itself (it may hold secrets).

``ErrorCode`` values travel on the wire in ``error`` messages; a code is never
renamed or reused for another meaning once released.
"""

from __future__ import annotations

import enum

__all__ = ["EndReason", "ErrorCode", "ProtocolError"]


class ErrorCode(enum.StrEnum):
    """Why the relay (or a peer) refused something. Stable wire values."""

    BAD_MESSAGE = "bad_message"
    """Not JSON, unknown type, missing or wrongly typed field."""
    MESSAGE_TOO_LARGE = "message_too_large"
    UNEXPECTED_MESSAGE = "unexpected_message"
    """A valid message that is not allowed in the connection's current state."""
    VERSION_MISMATCH = "version_mismatch"
    CONSENT_REQUIRED = "consent_required"
    """The agent tried to register before the customer agreed to the terms."""
    UNKNOWN_CODE = "unknown_code"
    EXPIRED_CODE = "expired_code"
    CODE_ALREADY_USED = "code_already_used"
    RATE_LIMITED = "rate_limited"
    LOCKED_OUT = "locked_out"
    BUSY = "busy"
    """Capacity reached (R4): try again after ``retry_after_s``."""
    OPERATOR_SESSION_LIMIT = "operator_session_limit"
    NOT_AUTHORISED = "not_authorised"
    PEER_GONE = "peer_gone"
    UNKNOWN_RESUME_TOKEN = "unknown_resume_token"  # noqa: S105 (an error name, not a secret)
    RESUMED_ELSEWHERE = "resumed_elsewhere"
    """Another connection resumed this agent's code or session with its resume token."""
    IDLE_TIMEOUT = "idle_timeout"
    SHUTTING_DOWN = "shutting_down"
    UNAVAILABLE = "unavailable"
    """The relay cannot start anything new now (its shared store or its accounts database is
    down): try again after ``retry_after_s``; sessions already running go on."""
    INTERNAL_ERROR = "internal_error"


class EndReason(enum.StrEnum):
    """Why a session (or a pending claim) ended. Stable wire values."""

    NORMAL = "normal"
    """One side said ``bye`` (Stop, End session, window closed)."""
    DENIED = "denied"
    ALLOW_TIMEOUT = "allow_timeout"
    PEER_GONE = "peer_gone"
    """The other side's connection dropped and did not come back in time."""
    IDLE_TIMEOUT = "idle_timeout"
    SHUTDOWN = "shutdown"
    """The relay is shutting down."""
    ADMIN = "admin"
    """Staff ended it from the admin side (R5)."""
    CONNECTION_LOST = "connection_lost"
    """Decided by a client, never by the relay: the network to the other side was down
    (no media and no relay) for longer than the client waits, or the peer connection
    failed (docs/protocol.md §7, §8). The relay passes it on from a ``bye``."""


class ProtocolError(ValueError):
    """Input that is not a valid protocol message.

    ``code`` is the wire error code to answer with; ``detail`` says what was wrong
    (a field path and the rule it broke), and never echoes field values.
    """

    def __init__(self, detail: str, code: ErrorCode = ErrorCode.BAD_MESSAGE) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail

    def __repr__(self) -> str:
        return f"ProtocolError({self.code.value!r}, {self.detail!r})"
