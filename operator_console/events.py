"""What an operator client reports to its UI: the events of :class:`operator_console.client.OperatorClient`.

The sans-IO core (operator_console/state.py) returns these as effects and the client
passes them on unchanged, so each relay notification has one type from the core to
the window: ``claim_pending`` is :class:`ClaimAccepted`, ``code_issued`` is
:class:`client_core.effects.CodeAssigned`, ``peer_status`` is :class:`CustomerConnection`,
``error`` is :class:`client_core.effects.Refused` and ``ended`` is :class:`SessionEnded`.
"""

from __future__ import annotations

import dataclasses

from client_core.effects import CodeAssigned, Refused, TurnTrouble
from protocol import AgentGuidance, ClientKind, EndReason

__all__ = [
    "ClaimAccepted",
    "CodeAssigned",
    "CustomerConnection",
    "CustomerMessage",
    "OperatorEvent",
    "Refused",
    "SessionEnded",
    "TurnTrouble",
    "ViewingStarted",
]


@dataclasses.dataclass(frozen=True)
class ClaimAccepted:
    """The code is right; the customer is being asked to allow within ``timeout_s``."""

    timeout_s: float
    client: ClientKind
    """What the customer shares from: the installed agent, or the browser."""

    @property
    def guidance_on_screen(self) -> bool:
        """Whether the pointer and the keyboard guide appear on what the customer shares.

        The installed agent draws over the desktop (and co-browsing will draw on the shared
        page itself); the browser's screen share cannot draw outside its own page (it shows
        the pointer in a small picture inside the page and no keyboard guide), so the console
        should say so and disable those tools (docs/browser.md).
        """
        return self.client != "browser"


@dataclasses.dataclass(frozen=True)
class ViewingStarted:
    """The customer's screen is connected."""

    session_id: str


@dataclasses.dataclass(frozen=True)
class CustomerMessage:
    """Sharing paused/resumed, monitor list, system information, guide closed: from the agent."""

    message: AgentGuidance


@dataclasses.dataclass(frozen=True)
class CustomerConnection:
    """The customer's relay connection dropped (False) or came back (True); sharing may go on."""

    connected: bool


@dataclasses.dataclass(frozen=True)
class SessionEnded:
    reason: EndReason
    by: str
    """"agent", "operator" or "relay"."""


OperatorEvent = (
    ClaimAccepted
    | CodeAssigned
    | ViewingStarted
    | CustomerMessage
    | CustomerConnection
    | Refused
    | SessionEnded
    | TurnTrouble
)
