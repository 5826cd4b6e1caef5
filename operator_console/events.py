"""What an operator client reports to its UI: the events of :class:`operator_console.client.OperatorClient`.

The sans-IO core (operator_console/state.py) returns these as effects and the client
passes them on unchanged, so each relay notification has one type from the core to
the window: ``claim_pending`` is :class:`ClaimAccepted`, ``code_issued`` is
:class:`client_core.effects.CodeAssigned`, ``peer_status`` is :class:`CustomerConnection`,
``error`` is :class:`client_core.effects.Refused` and ``ended`` is :class:`SessionEnded`.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from client_core.effects import CodeAssigned, Refused, TurnTrouble
from operator_console.cobrowse import CobrowseView
from protocol import AgentGuidance, ClientKind, EndReason

__all__ = [
    "ClaimAccepted",
    "CobrowseUpdate",
    "CodeAssigned",
    "CustomerConnection",
    "CustomerMessage",
    "OperatorEvent",
    "Refused",
    "RelayConnection",
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

        The installed agent draws over the desktop (co-browsing draws the pointer on the shared
        page itself, from the view in the operator's browser); the browser's screen share
        cannot draw outside its own page (it shows the pointer in a small picture inside the
        page and no keyboard guide), so the console should say so and disable those tools
        (docs/browser.md).
        """
        return self.client != "browser"


@dataclasses.dataclass(frozen=True)
class CobrowseUpdate:
    """Co-browsing: the mirror's state and the view's address changed (docs/cobrowse.md)."""

    view: CobrowseView


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
class RelayConnection:
    """This console's own relay connection during a session; the media is peer to peer
    and goes on meanwhile. ``reconnecting``: the websocket dropped, the client retries;
    ``resumed``: back, the relay kept the session; ``forgotten``: back, but the relay no
    longer knows the session (it restarted): viewing goes on until someone ends it."""

    state: Literal["reconnecting", "resumed", "forgotten"]


@dataclasses.dataclass(frozen=True)
class SessionEnded:
    reason: EndReason
    by: str
    """"agent", "operator" or "relay"."""


OperatorEvent = (
    ClaimAccepted
    | CobrowseUpdate
    | CodeAssigned
    | ViewingStarted
    | CustomerMessage
    | CustomerConnection
    | RelayConnection
    | Refused
    | SessionEnded
    | TurnTrouble
)
