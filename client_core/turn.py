"""TURN as the clients use it: a private CA for TURN over TLS, and failures that are never silent.

aioice gathers a relayed candidate with ``aioice.turn.create_turn_endpoint`` and drops
any exception it raises: a wrong REST secret, an untrusted certificate or a TURN
server nobody can reach all end as "no relay candidate" without a log line, and the
session later sits in ``checking``. It also verifies TURN over TLS against the
system store only (or ``SSL_CERT_FILE``, which is process-wide), while a bank runs
its own CA.

Within :func:`turn_gathering` (the block in which a peer gathers, beside
:func:`client_core.rtc.ice_host_addresses`), a wrapper around
``create_turn_endpoint`` - installed once when this module is imported, doing
exactly what aioice does outside such a block - therefore

* verifies ``turns:`` servers against the given :class:`ssl.SSLContext` (a private
  CA, with host name checking) instead of the default context; and
* hands every failed allocation to ``on_problem`` as a :class:`TurnProblem`, whose
  ``kind`` says what is wrong and ``advice`` what to do about it.

The choice is a context variable, so it holds for that peer's gathering alone (and
the tasks it starts). :func:`classify` is the pure part, tested on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import enum
import logging
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import aioice.stun
import aioice.turn

__all__ = ["TurnProblem", "TurnProblemKind", "classify", "turn_gathering", "turn_url"]

logger = logging.getLogger(__name__)


class TurnProblemKind(enum.StrEnum):
    CREDENTIALS_REFUSED = "credentials_refused"
    CERTIFICATE_UNTRUSTED = "certificate_untrusted"
    TLS_FAILED = "tls_failed"
    REFUSED = "refused"
    NO_ANSWER = "no_answer"
    UNREACHABLE = "unreachable"


_ADVICE: dict[TurnProblemKind, str] = {
    TurnProblemKind.CREDENTIALS_REFUSED: (
        "the TURN server refused the relay's credentials: the relay's turn_rest_secret must equal "
        "coturn's static-auth-secret (and the clocks must agree)"
    ),
    TurnProblemKind.CERTIFICATE_UNTRUSTED: (
        "the TURN server's TLS certificate is not trusted: install its CA (the same CA file as the "
        "relay's) or give coturn a certificate from a public CA"
    ),
    TurnProblemKind.TLS_FAILED: (
        "the TLS handshake with the TURN server failed (a proxy in the way, or an old TLS version?)"
    ),
    TurnProblemKind.REFUSED: "the TURN server refused the allocation (quota or policy on the server)",
    TurnProblemKind.NO_ANSWER: (
        "the TURN server did not answer: a firewall drops this protocol or port (TURN over TLS on 443 "
        "is the one most firewalls pass)"
    ),
    TurnProblemKind.UNREACHABLE: "the TURN server cannot be reached (address, port or routing)",
}


@dataclasses.dataclass(frozen=True)
class TurnProblem:
    """One TURN server this peer could not use, and why."""

    url: str
    kind: TurnProblemKind
    detail: str

    @property
    def advice(self) -> str:
        return _ADVICE[self.kind]

    def __str__(self) -> str:
        return f"{self.url}: {self.advice} ({self.detail})"


def turn_url(server: tuple[str, int], *, tls: bool, transport: str) -> str:
    """The URI aiortc was given for this server, rebuilt from what aioice passes on."""
    scheme = "turns" if tls else "turn"
    return f"{scheme}:{server[0]}:{server[1]}?transport={transport}"


def classify(exc: BaseException) -> tuple[TurnProblemKind, str]:
    """What a failed ``create_turn_endpoint`` means (kind, short detail without secrets)."""
    if isinstance(exc, aioice.stun.TransactionFailed):
        code = exc.response.error_code
        reason = exc.response.attributes.get("ERROR-CODE", (code, ""))[1]
        if code in (401, 431, 441):
            return TurnProblemKind.CREDENTIALS_REFUSED, f"{code} {reason}".strip()
        return TurnProblemKind.REFUSED, f"{code} {reason}".strip()
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TurnProblemKind.CERTIFICATE_UNTRUSTED, str(getattr(exc, "verify_message", None) or exc)
    if isinstance(exc, ssl.SSLError):
        return TurnProblemKind.TLS_FAILED, str(getattr(exc, "reason", None) or exc)
    if isinstance(exc, aioice.stun.TransactionTimeout | TimeoutError | asyncio.CancelledError):
        return TurnProblemKind.NO_ANSWER, "no answer before gathering ended"
    if isinstance(exc, OSError):
        return TurnProblemKind.UNREACHABLE, exc.strerror or type(exc).__name__
    return TurnProblemKind.UNREACHABLE, type(exc).__name__


@dataclasses.dataclass(frozen=True)
class _Gathering:
    ssl_context: ssl.SSLContext | None
    on_problem: Callable[[TurnProblem], None] | None


_gathering: contextvars.ContextVar[_Gathering | None] = contextvars.ContextVar("turn_gathering", default=None)


@contextlib.contextmanager
def turn_gathering(
    *, ssl_context: ssl.SSLContext | None = None, on_problem: Callable[[TurnProblem], None] | None = None
) -> Iterator[None]:
    """Within this block, ``turns:`` trusts ``ssl_context`` and failed allocations reach ``on_problem``."""
    token = _gathering.set(_Gathering(ssl_context, on_problem))
    try:
        yield
    finally:
        _gathering.reset(token)


_create_turn_endpoint: Callable[..., Any] = getattr(
    aioice.turn.create_turn_endpoint, "__wrapped__", aioice.turn.create_turn_endpoint
)


async def _wrapped_create_turn_endpoint(
    protocol_factory: Callable[[], Any],
    server_addr: tuple[str, int],
    username: str | None,
    password: str | None,
    *args: Any,
    **kwargs: Any,
) -> Any:
    gathering = _gathering.get()
    if gathering is None:
        return await _create_turn_endpoint(protocol_factory, server_addr, username, password, *args, **kwargs)
    tls = kwargs.get("ssl") is True or isinstance(kwargs.get("ssl"), ssl.SSLContext)
    if kwargs.get("ssl") is True and gathering.ssl_context is not None:
        kwargs["ssl"] = gathering.ssl_context
    url = turn_url(server_addr, tls=tls, transport=str(kwargs.get("transport", "udp")))
    try:
        return await _create_turn_endpoint(protocol_factory, server_addr, username, password, *args, **kwargs)
    except BaseException as exc:
        kind, detail = classify(exc)
        problem = TurnProblem(url, kind, detail)
        logger.error("TURN allocation failed: %s", problem)
        if gathering.on_problem is not None:
            try:
                gathering.on_problem(problem)
            except Exception:
                logger.exception("TURN problem handler failed")
        raise


_wrapped_create_turn_endpoint.__wrapped__ = _create_turn_endpoint  # type: ignore[attr-defined]
aioice.turn.create_turn_endpoint = _wrapped_create_turn_endpoint
