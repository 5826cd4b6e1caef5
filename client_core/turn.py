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
  ``kind`` says what is wrong and ``advice`` what to do about it (without a handler,
  it is logged as an error).

:func:`choose_turn` works around aiortc's one-TURN-URI limit: it tries the relay's
TURN entries at once and keeps the first of the list that allocates, in bounded time.

The choice is a context variable, so it holds for that peer's gathering alone (and
the tasks it starts). :func:`classify` is the pure part, tested on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import enum
import functools
import logging
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import aioice.stun
import aioice.turn
from aiortc.rtcicetransport import parse_stun_turn_uri

from protocol import IceServer

__all__ = [
    "TurnProblem",
    "TurnProblemKind",
    "choose_turn",
    "classify",
    "note_problem",
    "turn_gathering",
    "turn_url",
]

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


def note_problem(
    problems: list[TurnProblem], problem: TurnProblem, on_new: Callable[[TurnProblem], None] | None
) -> None:
    """Add ``problem`` to a peer's ``problems`` and tell ``on_new``, unless that server
    already had that problem (aiortc gathers once per transport before bundling them)."""
    if any((p.url, p.kind) == (problem.url, problem.kind) for p in problems):
        return
    problems.append(problem)
    logger.error("TURN allocation failed: %s", problem)
    if on_new is not None:
        on_new(problem)


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
        if gathering.on_problem is None:
            logger.error("TURN allocation failed: %s", problem)
        else:
            try:
                gathering.on_problem(problem)
            except Exception:
                logger.exception("TURN problem handler failed")
        raise


_wrapped_create_turn_endpoint.__wrapped__ = _create_turn_endpoint  # type: ignore[attr-defined]
aioice.turn.create_turn_endpoint = _wrapped_create_turn_endpoint


def _turn_entries(servers: tuple[IceServer, ...]) -> list[tuple[IceServer, str, dict[str, Any]]]:
    entries = []
    for server in servers:
        for url in server.urls:
            if url.startswith(("turn:", "turns:")):
                try:
                    parsed = parse_stun_turn_uri(url)
                except ValueError:
                    continue
                entries.append((server, url, parsed))
    return entries


async def _probe(server: IceServer, parsed: dict[str, Any]) -> None:
    tls = parsed["scheme"] == "turns"
    transport, _ = await aioice.turn.create_turn_endpoint(
        asyncio.DatagramProtocol,
        server_addr=(parsed["host"], parsed["port"]),
        username=server.username,
        password=server.credential,
        ssl=True if tls else None,
        transport=parsed["transport"],
    )
    transport.close()  # releases the allocation


async def choose_turn(
    servers: tuple[IceServer, ...],
    *,
    ssl_context: ssl.SSLContext | None = None,
    on_problem: Callable[[TurnProblem], None] | None = None,
    grace_s: float = 2.0,
    timeout_s: float = 5.0,
) -> tuple[IceServer, ...]:
    """The ICE servers with one TURN URI: the first of the list that allocates, in bounded time.

    aiortc uses only the first TURN URI it is given, so a customer behind a firewall
    that passes only TCP 443 would try TURN/UDP alone and never connect. Every TURN
    URI is tried at once; the earliest in the list that allocates wins, but once a
    later one has succeeded the earlier ones get ``grace_s`` from the start, no more
    (UDP that a firewall drops never answers), and nothing waits beyond ``timeout_s``. Failures
    reach ``on_problem`` as :class:`TurnProblem`. STUN entries are kept in front;
    with at most one TURN URI, or none that works, ``servers`` is returned unchanged.
    """
    entries = _turn_entries(servers)
    if len(entries) <= 1:
        return servers
    loop = asyncio.get_running_loop()
    chosen: int | None = None
    silent: set[int] = set()

    def report(index: int, problem: TurnProblem) -> None:
        if problem.kind is TurnProblemKind.NO_ANSWER:
            if chosen is not None and index > chosen:
                return  # cancelled because an earlier entry won: not a problem
            silent.add(index)
        logger.error("TURN allocation failed: %s", problem)
        if on_problem is not None:
            on_problem(problem)

    tasks = []
    for index, (server, _, parsed) in enumerate(entries):
        with turn_gathering(ssl_context=ssl_context, on_problem=functools.partial(report, index)):
            tasks.append(asyncio.ensure_future(_probe(server, parsed)))
    start = loop.time()
    try:
        while True:
            now = loop.time()
            ok = [i for i, t in enumerate(tasks) if t.done() and not t.cancelled() and t.exception() is None]
            if ok and (all(t.done() for t in tasks[: ok[0]]) or now - start >= grace_s):
                chosen = ok[0]
                break
            if all(t.done() for t in tasks) or now - start >= timeout_s:
                break
            until = start + (grace_s if ok else timeout_s)
            pending = [t for t in tasks if not t.done()]
            await asyncio.wait(pending, timeout=max(until - now, 0.01), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if chosen is None:
        logger.warning("no TURN server allocated; gathering tries %s", entries[0][1])
        return servers
    server, url, parsed = entries[chosen]
    # UDP to the TURN server went unanswered while TCP works: a firewall drops UDP, and a
    # STUN query would only hold gathering up until its timeout (5 s in aioice).
    udp_blocked = parsed["transport"] == "tcp" and any(entries[i][2]["transport"] == "udp" for i in silent)
    dropped = ("turn:", "turns:", "stun:", "stuns:") if udp_blocked else ("turn:", "turns:")
    logger.info("TURN: using %s%s", url, " (UDP blocked: no STUN)" if udp_blocked else "")
    others = tuple(
        dataclasses.replace(s, urls=rest)
        for s in servers
        if (rest := tuple(u for u in s.urls if not u.startswith(dropped)))
    )
    return (*others, dataclasses.replace(server, urls=(url,)))
