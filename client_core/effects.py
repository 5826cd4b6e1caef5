"""Effects both client state machines return (agent/state.py, operator_console/state.py).

Side-specific effects live with their core; these are the shared vocabulary of a
signaling client: send a message, apply a remote ICE candidate, report a refusal,
report the code the relay assigned. ``Refused``, ``CodeAssigned`` and ``TurnTrouble`` are also what
each client reports to its UI: one type per fact from the relay's message (``error``;
``registered`` or ``code_issued``) to the window that shows it.
"""

from __future__ import annotations

import dataclasses

from protocol import ErrorCode, Ice, Message

__all__ = ["MISCONFIGURED_TURN", "ApplyIce", "CodeAssigned", "Refused", "Send", "TurnTrouble"]


@dataclasses.dataclass(frozen=True)
class Send:
    """Send this message to the relay."""

    message: Message


@dataclasses.dataclass(frozen=True)
class ApplyIce:
    """Add the other peer's trickled ICE candidate."""

    ice: Ice


@dataclasses.dataclass(frozen=True)
class CodeAssigned:
    """The relay assigned a code to be read out on the phone: the 4 digits the agent shows
    (``registered``), or the 6 digits an operator gives the customer to type (``code_issued``)."""

    code: str
    expires_in_s: float


@dataclasses.dataclass(frozen=True)
class Refused:
    """The relay refused a request; the session may go on (non-fatal) or not."""

    code: ErrorCode
    message: str
    retry_after_s: float | None
    fatal: bool


MISCONFIGURED_TURN = frozenset({"credentials_refused", "certificate_untrusted"})
"""TURN problems that are a deployment's mistake, never the network's (client_core.turn kinds)."""


@dataclasses.dataclass(frozen=True)
class TurnTrouble:
    """TURN servers this peer could not use, by kind (``client_core.turn.TurnProblemKind`` values).

    Kept as plain strings so the UIs can show it without importing aioice. A UDP server
    that goes unanswered behind a firewall is expected (the client falls back to TLS);
    :attr:`misconfigured` is what a person must be told about.
    """

    kinds: frozenset[str]

    @property
    def misconfigured(self) -> frozenset[str]:
        return self.kinds & MISCONFIGURED_TURN
