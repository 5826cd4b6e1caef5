"""client_core.turn.classify: every way a TURN allocation fails has a name and advice."""

from __future__ import annotations

import asyncio
import errno
import ssl

import aioice.stun
import pytest

from client_core.turn import TurnProblem, TurnProblemKind, classify, turn_url


def _error_response(code: int, reason: str) -> aioice.stun.TransactionFailed:
    response = aioice.stun.Message(
        message_method=aioice.stun.Method.ALLOCATE, message_class=aioice.stun.Class.ERROR
    )
    response.attributes["ERROR-CODE"] = (code, reason)
    return aioice.stun.TransactionFailed(response)


@pytest.mark.parametrize(
    ("exc", "kind", "detail"),
    [
        (_error_response(401, "Unauthorized"), TurnProblemKind.CREDENTIALS_REFUSED, "401 Unauthorized"),
        (_error_response(441, "Wrong Credentials"), TurnProblemKind.CREDENTIALS_REFUSED, "441"),
        (_error_response(486, "Allocation Quota Reached"), TurnProblemKind.REFUSED, "486"),
        (_error_response(403, "Forbidden IP"), TurnProblemKind.REFUSED, "403 Forbidden IP"),
        (
            ssl.SSLCertVerificationError(1, "certificate verify failed"),
            TurnProblemKind.CERTIFICATE_UNTRUSTED,
            "",
        ),
        (ssl.SSLError(1, "wrong version number"), TurnProblemKind.TLS_FAILED, ""),
        (aioice.stun.TransactionTimeout(), TurnProblemKind.NO_ANSWER, "no answer"),
        (asyncio.CancelledError(), TurnProblemKind.NO_ANSWER, "no answer"),
        (
            ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
            TurnProblemKind.UNREACHABLE,
            "refused",
        ),
        (ValueError("odd"), TurnProblemKind.UNREACHABLE, "ValueError"),
    ],
)
def test_classify(exc: BaseException, kind: TurnProblemKind, detail: str) -> None:
    got_kind, got_detail = classify(exc)
    assert got_kind is kind
    assert detail in got_detail


def test_every_kind_has_advice_and_the_message_names_the_server() -> None:
    url = turn_url(("turn.example.com", 443), tls=True, transport="tcp")
    assert url == "turns:turn.example.com:443?transport=tcp"
    for kind in TurnProblemKind:
        problem = TurnProblem(url, kind, "detail")
        assert problem.advice
        assert str(problem).startswith(url)
