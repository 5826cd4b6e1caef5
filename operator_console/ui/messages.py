"""Friendly, translated texts for what the relay, the customer or the network say.

Every :class:`protocol.ErrorCode`, :class:`protocol.EndReason` and login failure
kind maps to a sentence an operator can act on (and read out to the customer).
The functions translate when called, so a widget that keeps a callable rather than
a string re-renders in the new language after a run-time switch.

The ``QCoreApplication.translate("Messages", ...)`` calls are spelled out in full
because ``pyside6-lupdate`` finds the source strings by that exact shape.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication

from protocol import EndReason, ErrorCode

__all__ = ["end_text", "login_error_text", "refusal_text", "retry_text", "turn_trouble_text"]

logger = logging.getLogger(__name__)


def retry_text(retry_after_s: float | None) -> str:
    """ "Try again in N minutes/seconds." or an empty string."""
    if retry_after_s is None or retry_after_s <= 0:
        return ""
    if retry_after_s >= 90:
        minutes = math.ceil(retry_after_s / 60)
        return QCoreApplication.translate("Messages", "Try again in {n} min.").format(n=minutes)
    return QCoreApplication.translate("Messages", "Try again in {n} s.").format(n=math.ceil(retry_after_s))


_REFUSALS: dict[ErrorCode, Callable[[], str]] = {
    ErrorCode.UNKNOWN_CODE: lambda: QCoreApplication.translate(
        "Messages", "That number is not valid. Ask the customer to read the number on their screen again."
    ),
    ErrorCode.EXPIRED_CODE: lambda: QCoreApplication.translate(
        "Messages", "That number has expired. Ask the customer to start sharing again for a new number."
    ),
    ErrorCode.CODE_ALREADY_USED: lambda: QCoreApplication.translate(
        "Messages", "That number was already used. Ask the customer to start sharing again for a new number."
    ),
    ErrorCode.RATE_LIMITED: lambda: QCoreApplication.translate(
        "Messages", "Too many attempts in a short time."
    ),
    ErrorCode.LOCKED_OUT: lambda: QCoreApplication.translate(
        "Messages", "Number entry is locked after too many wrong numbers."
    ),
    ErrorCode.BUSY: lambda: QCoreApplication.translate(
        "Messages", "The service is busy right now (all sessions in use)."
    ),
    ErrorCode.OPERATOR_SESSION_LIMIT: lambda: QCoreApplication.translate(
        "Messages", "You already have as many sessions open as you may. End one first."
    ),
    ErrorCode.VERSION_MISMATCH: lambda: QCoreApplication.translate(
        "Messages", "This console is not compatible with the relay. Please update the console."
    ),
    # The same words as a refused token at login: one fact, one sentence (the bar asks).
    ErrorCode.NOT_AUTHORISED: lambda: login_error_text("token_refused"),
    ErrorCode.PEER_GONE: lambda: QCoreApplication.translate(
        "Messages", "The customer is no longer connected."
    ),
    ErrorCode.IDLE_TIMEOUT: lambda: QCoreApplication.translate(
        "Messages", "The connection was closed after a long time without activity."
    ),
    ErrorCode.SHUTTING_DOWN: lambda: QCoreApplication.translate(
        "Messages", "The relay is restarting for maintenance."
    ),
    ErrorCode.UNAVAILABLE: lambda: QCoreApplication.translate(
        "Messages", "The relay cannot start new sessions right now. Sessions already running go on."
    ),
}


def refusal_text(code: ErrorCode, retry_after_s: float | None = None) -> str:
    """What to tell the operator about an ``error`` from the relay."""
    make = _REFUSALS.get(code)
    if make is None:
        text = QCoreApplication.translate("Messages", "Something went wrong ({code}).")
        text = text.format(code=code.value)
    else:
        text = make()
    retry = retry_text(retry_after_s)
    return f"{text} {retry}" if retry else text


def end_text(reason: EndReason, by: str) -> str:
    """Why the session ended, and by whom."""
    if reason is EndReason.NORMAL:
        if by == "agent":
            return QCoreApplication.translate("Messages", "The customer ended the session.")
        if by == "operator":
            return QCoreApplication.translate("Messages", "You ended the session.")
        return QCoreApplication.translate("Messages", "The session was ended.")
    if reason is EndReason.DENIED:
        return QCoreApplication.translate("Messages", "The customer declined to share their screen.")
    if reason is EndReason.ALLOW_TIMEOUT:
        return QCoreApplication.translate("Messages", "The customer did not answer in time.")
    if reason is EndReason.PEER_GONE:
        if by == "relay":
            return QCoreApplication.translate("Messages", "The connection to the relay was lost.")
        return QCoreApplication.translate("Messages", "The customer's connection was lost.")
    if reason is EndReason.IDLE_TIMEOUT:
        return QCoreApplication.translate("Messages", "The session ended after a long time without activity.")
    if reason is EndReason.SHUTDOWN:
        return QCoreApplication.translate("Messages", "The relay shut down and ended the session.")
    if reason is EndReason.CONNECTION_LOST:
        return QCoreApplication.translate(
            "Messages", "The connection to the customer was lost for too long. The session has ended."
        )
    return QCoreApplication.translate("Messages", "An administrator ended the session.")


def login_error_text(kind: str) -> str:
    """A login failure kind from :class:`operator_console.client.LoginFailed`."""
    if kind == "wrong_credentials":
        return QCoreApplication.translate("Messages", "Wrong user name or password.")
    if kind == "locked":
        return QCoreApplication.translate(
            "Messages", "This account is locked or disabled. Please contact your administrator."
        )
    if kind == "rate_limited":
        return QCoreApplication.translate(
            "Messages", "Too many failed logins. Wait a few minutes, then try again."
        )
    if kind == "unreachable":
        return QCoreApplication.translate(
            "Messages", "Cannot reach the relay. Check the address and your network connection."
        )
    if kind == "certificate":
        return QCoreApplication.translate(
            "Messages", "The relay's security certificate could not be verified. Contact your administrator."
        )
    if kind == "version":
        return QCoreApplication.translate(
            "Messages", "This console version is not compatible with the relay. Please update the console."
        )
    if kind == "proxy":
        return QCoreApplication.translate(
            "Messages",
            "Your network's proxy refused the connection to the relay. Ask your administrator to let the "
            "relay's address through, or to give the console the proxy's user name and password.",
        )
    if kind == "token_refused":
        return QCoreApplication.translate(
            "Messages",
            "The relay no longer accepts your login. Enter your password above; this tab stays open.",
        )
    if kind == "unavailable":
        return QCoreApplication.translate(
            "Messages",
            "The relay cannot check logins right now. Sessions already open carry on. "
            "Try again in a few minutes.",
        )
    if kind == "bad_url":
        return QCoreApplication.translate(
            "Messages", "The relay address must start with https:// or http://."
        )
    return QCoreApplication.translate("Messages", "Login failed. Please try again.")


def turn_trouble_text(kinds: frozenset[str]) -> str:
    """What the operator is told when the TURN server is set up wrongly (client_core.effects.TurnTrouble)."""
    lines = []
    if "credentials_refused" in kinds:
        lines.append(
            QCoreApplication.translate(
                "Messages",
                "The TURN server refused this session's credentials, so the picture can reach you only "
                "where a direct path exists. Tell your administrator: the relay's TURN secret does not "
                "match the TURN server's.",
            )
        )
    if "certificate_untrusted" in kinds:
        lines.append(
            QCoreApplication.translate(
                "Messages",
                "This PC does not trust the TURN server's certificate, so the picture cannot use TURN "
                "over TLS. Tell your administrator: install the TURN server's CA on this PC or give the "
                "TURN server a certificate from a public CA.",
            )
        )
    return "\n".join(lines)
