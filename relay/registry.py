"""The pairing registry: the relay's whole behaviour, free of I/O.

Every entry point takes ``now`` (wall-clock seconds, ``time.time()``: wall clock
rather than monotonic because several relay nodes sharing a store must agree on
deadlines) and returns a list of :mod:`relay.effects` for the glue in
:mod:`relay.app` to carry out in order:

* :meth:`Registry.opened` / :meth:`Registry.closed`: a websocket came or went;
* :meth:`Registry.received`: a decoded signaling message;
* :meth:`Registry.rejected`: input that did not decode (bad JSON, too large);
* :meth:`Registry.tick`: timers (code expiry, allow timeout, resume grace, idle);
* :meth:`Registry.shutdown`: the relay is going away.

Connection state (role, which pairing a socket belongs to) is local to this
object; pairings, retired codes and counters live in a
:class:`relay.store.Store`, operator tokens in the accounts database
(relay.auth). Several relay nodes may share one store (``store.shared``): every
pairing change is then a compare-and-set, so one node makes each transition
(and writes its audit row); effects for another node's connections are routed
there by the glue (relay/cluster.py); and a store that is down makes new work
fail closed (``unavailable``) while live sessions carry on. The session flow is
documented in docs/protocol.md; the comments here say why the rules are what they are.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Iterable
from typing import Literal, Protocol, TypeGuard

from protocol import (
    AGENT_CODE_DIGITS,
    OPERATOR_CODE_DIGITS,
    PROTOCOL_VERSION,
    Answer,
    Auth,
    Authenticated,
    Bye,
    Claim,
    ClaimPending,
    CodeIssued,
    CodeSpaceExhausted,
    Decision,
    Ended,
    EndReason,
    Error,
    ErrorCode,
    Ice,
    IceServer,
    IssueCode,
    Join,
    Offer,
    OperatorIdentity,
    OperatorRequest,
    PeerStatus,
    ProtocolError,
    Register,
    Registered,
    Resume,
    Resumed,
    Role,
    SessionStart,
    Side,
    SignalingMessage,
)

from .code_pool import CodeAllocator
from .config import Limits, RelayConfig
from .database import DatabaseUnavailable
from .effects import Alarm, Audit, Close, CloseCode, Count, Effect, Send
from .store import Pairing, Store, StoreUnavailable, TokenRecord, digest

__all__ = ["Authenticator", "Registry", "RegistryStats", "Role"]

logger = logging.getLogger(__name__)


_AWAY_RETRY_S = 5.0

_CAS_TRIES = 8
"""Compare-and-set attempts on one pairing before giving up (each loss means another node
changed it in between: a handful at most, even in a race)."""

_CODE_TRIES = 16
"""Codes drawn for one registration while other nodes turn out to hold them already."""

_UNAVAILABLE_RETRY_S = 5.0


class Authenticator(Protocol):
    """Checks an operator token from ``POST /api/login`` (see :mod:`relay.auth`)."""

    def verify(self, token: str, now: float) -> TokenRecord | None: ...

    def active(self, username: str) -> bool:
        """The account exists and is not disabled (tokens aside)."""
        ...


@dataclasses.dataclass(frozen=True)
class RegistryStats:
    connections: int
    codes_pending: int
    """Live unclaimed codes (agent-issued waiting plus operator-issued)."""
    claims_pending: int
    """Claimed, waiting for the customer to allow."""
    sessions_active: int


@dataclasses.dataclass(eq=False, slots=True)  # one per socket: slots save ~300 bytes each
class _Conn:
    id: str
    role: Role
    ip: str
    opened_at: float
    last_seen: float
    hello: bool = False
    """True after a valid register/join/resume (agent) or auth (operator)."""
    account: TokenRecord | None = None
    token: str | None = dataclasses.field(default=None, repr=False)
    """The operator's login token, checked again before every claim."""
    pairing_id: str | None = None
    had_session: bool = False
    """An operator socket whose session ended: a late ``bye`` that crossed the end is quiet."""


class _Refused(Exception):
    """Internal: answer the current message with an error (and maybe close)."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        fatal: bool = False,
        retry_after_s: float | None = None,
        close_code: CloseCode = CloseCode.POLICY_VIOLATION,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fatal = fatal
        self.retry_after_s = retry_after_s
        self.close_code = close_code


class Registry:
    """Pairs agents and operators by code and enforces every relay limit."""

    def __init__(
        self, config: RelayConfig, store: Store, authenticator: Authenticator, *, node: str = ""
    ) -> None:
        self._config = config
        self._limits = config.limits
        self._store = store
        self._auth = authenticator
        self._shared = store.shared
        self.node = node
        """This relay node's id: with a shared store, every connection id is ``node.xxx``."""
        self._conns: dict[str, _Conn] = {}
        self._orphans: list[_Conn] = []
        """Sockets that closed while the store was down: their pairings go away once it is back."""
        self._store_down = False
        self._alarm_active = False
        self._next_account_check = 0.0
        # Which code to hand out next: an index over the store's live and retired codes,
        # rebuilt here from the live ones (the retired ones only shape the preference).
        self.codes = CodeAllocator(self._limits.retired_code_memory_s)
        self.codes.pool(AGENT_CODE_DIGITS)  # built now (~2 ms), not in the first customer's wait
        if not self._shared:  # a shared store's live codes are synced on every tick
            for code in store.live_codes():
                self.codes.take(code)

    # --- entry points ----------------------------------------------------------

    def opened(self, conn_id: str, role: Role, ip: str, now: float) -> list[Effect]:
        self._conns[conn_id] = _Conn(id=conn_id, role=role, ip=ip, opened_at=now, last_seen=now)
        logger.debug("%s %s from %s opened", role, conn_id, ip)
        return []

    def closed(self, conn_id: str, now: float) -> list[Effect]:
        """The websocket is gone (peer closed, network dropped, or we closed it)."""
        conn = self._conns.pop(conn_id, None)
        if conn is None:  # we closed it ourselves and cleaned up already
            return []
        out: list[Effect] = []
        try:
            self._cleanup(conn, now, out, graceful=True)
        except StoreUnavailable:
            if conn.pairing_id is not None:
                self._orphans.append(conn)  # the resume grace starts when the store is back
        return out

    def received(self, conn_id: str, message: SignalingMessage, now: float) -> list[Effect]:
        conn = self._conns.get(conn_id)
        if conn is None:
            return []
        conn.last_seen = now
        out: list[Effect] = []
        try:
            if conn.role == "agent":
                self._from_agent(conn, message, now, out)
            else:
                self._from_operator(conn, message, now, out)
        except _Refused as refusal:
            self._refuse(conn, refusal, now, out)
        except StoreUnavailable as exc:
            out = []
            self._unavailable(conn, message, exc, now, out)
        return out

    def _unavailable(
        self, conn: _Conn, message: SignalingMessage, exc: StoreUnavailable, now: float, out: list[Effect]
    ) -> None:
        """The shared store is down: fail closed for anything new, leave live sessions be.

        A session's media is peer to peer and goes on; its signaling (ice, a renegotiation)
        waits for the store, and the clients' own retries cover what is dropped here."""
        if conn.pairing_id is not None:
            logger.warning("%s %s: %s dropped, the store is down (%s)", conn.role, conn.id, message.type, exc)
            return
        out.append(Count("registrations_refused", ErrorCode.UNAVAILABLE.value))
        refusal = _Refused(
            ErrorCode.UNAVAILABLE,
            "the relay cannot start new sessions right now; please try again shortly",
            fatal=conn.role == "agent",  # an agent registers again on a new socket, as after busy
            retry_after_s=_UNAVAILABLE_RETRY_S,
            close_code=CloseCode.TRY_AGAIN_LATER,
        )
        try:
            self._refuse(conn, refusal, now, out)
        except StoreUnavailable:  # its cleanup needs the store: later, from tick()
            self._orphans.append(conn)

    def rejected(self, conn_id: str, error: ProtocolError, now: float) -> list[Effect]:
        """Input that is not a valid message: answer with the error and close only this socket."""
        conn = self._conns.get(conn_id)
        if conn is None:
            return []
        close_code = {
            ErrorCode.MESSAGE_TOO_LARGE: CloseCode.MESSAGE_TOO_BIG,
            ErrorCode.INTERNAL_ERROR: CloseCode.INTERNAL_ERROR,  # the glue caught a bug of ours
        }.get(error.code, CloseCode.POLICY_VIOLATION)
        out: list[Effect] = []
        self._refuse(conn, _Refused(error.code, error.detail, fatal=True, close_code=close_code), now, out)
        return out

    def tick(self, now: float) -> list[Effect]:
        out: list[Effect] = []
        try:
            self._tick_store(now, out)
            if self._store_down:
                self._store_down = False
                logger.warning("store: unavailable -> available")
        except StoreUnavailable as exc:
            if not self._store_down:
                self._store_down = True
                logger.warning("store: available -> unavailable (%s)", exc)
        self._tick_conns(now, out)
        return out

    def _tick_store(self, now: float, out: list[Effect]) -> None:
        """Timers on shared state. With several nodes every node runs them; the
        compare-and-set in :meth:`_end` lets exactly one of them act (and audit)."""
        while self._orphans:
            orphan = self._orphans[0]
            self._cleanup(orphan, now, out, graceful=True)
            self._orphans.pop(0)
        if self._shared:
            self._sync_codes(now)
        grace = self._config.resume_grace_s
        for p in self._store.pairings():
            if p.agent_away_since is not None and now >= p.agent_away_since + grace:
                if p.phase == "waiting":
                    if self._retire(p, "expired", now):
                        logger.info("pairing %s: agent did not come back within %.0f s", p.id, grace)
                        out.append(
                            Audit("code_expired", ip=p.agent_ip, code=p.code, detail={"why": "agent_gone"})
                        )
                elif self._end(p, EndReason.PEER_GONE, "agent", now, out, strict=True):
                    logger.info("pairing %s: agent did not come back within %.0f s", p.id, grace)
            elif p.operator_away_since is not None and now >= p.operator_away_since + grace:
                if self._end(p, EndReason.PEER_GONE, "operator", now, out, strict=True):
                    logger.info("pairing %s: operator did not come back within %.0f s", p.id, grace)
            elif p.phase in ("waiting", "issued") and now >= p.code_expires_at:
                self._expire_code(p, now, out)
            elif p.phase == "pending" and p.decision_deadline is not None and now >= p.decision_deadline:
                ended: list[Effect] = []
                if self._end(p, EndReason.ALLOW_TIMEOUT, "relay", now, ended, strict=True):
                    out.append(self._audit_pairing("allow_timeout", p))
                    out.extend(ended)
        if now >= self._next_account_check:
            self._next_account_check = now + self._limits.account_check_interval_s
            self._check_accounts(now, out)
        self._check_alarm(now, out)
        self._store.prune(now)

    def _tick_conns(self, now: float, out: list[Effect]) -> None:
        """Timers on this node's own sockets (they run while the store is down, too)."""
        for conn in list(self._conns.values()):
            if not conn.hello and now >= conn.opened_at + self._limits.hello_timeout_s:
                self._refuse(
                    conn,
                    _Refused(ErrorCode.IDLE_TIMEOUT, "no first message in time", fatal=True),
                    now,
                    out,
                )
            elif (
                conn.role == "operator"
                and conn.hello
                and conn.pairing_id is None
                and now >= conn.last_seen + self._limits.operator_idle_timeout_s
            ):
                self._refuse(
                    conn,
                    _Refused(ErrorCode.IDLE_TIMEOUT, "idle for too long; log in again", fatal=True),
                    now,
                    out,
                )

    def _sync_codes(self, now: float) -> None:
        """Make the code pool know every node's live codes, so that a new code is typo-safe
        against all of them (uniqueness does not depend on this: :meth:`Store.add_pairing`)."""
        live = self._store.live_codes()
        mine = self.codes.live()
        for code in live - mine:
            self.codes.take(code)
        for code in mine - live:
            self.codes.release(code, now)

    def node_lost(self, node: str, now: float) -> list[Effect]:
        """Another relay node stopped refreshing its liveness key (killed, cut off): its
        sockets are treated as dropped, so each pairing's resume grace starts. Every
        surviving node may call this; compare-and-set makes each change happen once."""
        out: list[Effect] = []
        prefix = f"{node}."
        for p in self._store.pairings():
            if p.agent_conn is not None and p.agent_conn.startswith(prefix):
                self._gone("agent", p.agent_conn, p.id, now, out, graceful=True)
            p2 = self._store.get_pairing(p.id)
            if p2 is not None and p2.operator_conn is not None and p2.operator_conn.startswith(prefix):
                self._gone("operator", p2.operator_conn, p2.id, now, out, graceful=True)
        return out

    def shutdown(self, now: float) -> list[Effect]:
        """Tell every connection why it is being closed, end every local session.

        One node of several hands over instead: its sockets close as if dropped (1001,
        no ``ended``), so each pairing keeps its resume grace and the clients resume on
        another node. A rolling restart keeps every code and session."""
        out: list[Effect] = []
        if self._shared:
            for conn in list(self._conns.values()):
                del self._conns[conn.id]
                try:
                    self._cleanup(conn, now, out, graceful=True)
                except StoreUnavailable:
                    logger.warning("shutdown: the store is down; %s is left to the node timers", conn.id)
                out.append(Close(conn.id, CloseCode.GOING_AWAY, "relay node restarting; reconnect"))
            return out
        try:
            for p in self._store.pairings():
                if p.agent_conn in self._conns or p.operator_conn in self._conns:
                    self._end(p, EndReason.SHUTDOWN, "relay", now, out)
        except StoreUnavailable:
            logger.warning("shutdown: the store is down; its pairings end by their timers")
            for conn in self._conns.values():
                conn.pairing_id = None
        for conn in list(self._conns.values()):
            self._refuse(
                conn,
                _Refused(
                    ErrorCode.SHUTTING_DOWN,
                    "the relay is shutting down; try again shortly",
                    fatal=True,
                    close_code=CloseCode.GOING_AWAY,
                ),
                now,
                out,
            )
        return out

    def stats(self) -> RegistryStats:
        try:
            phases = [p.phase for p in self._store.pairings()]
        except StoreUnavailable:  # /metrics keeps answering: the shared figures read 0
            phases = []
        return RegistryStats(
            connections=len(self._conns),
            codes_pending=sum(ph in ("waiting", "issued") for ph in phases),
            claims_pending=phases.count("pending"),
            sessions_active=phases.count("active"),
        )

    # --- agent -----------------------------------------------------------------

    def _from_agent(self, conn: _Conn, msg: SignalingMessage, now: float, out: list[Effect]) -> None:
        if not conn.hello:
            if isinstance(msg, Register):
                self._register(conn, msg, now, out)
            elif isinstance(msg, Join):
                self._join(conn, msg, now, out)
            elif isinstance(msg, Resume):
                self._resume(conn, msg, now, out)
            else:
                raise _unexpected(msg, "the first message must be register, join or resume")
            return
        p = self._pairing_of(conn)
        if isinstance(msg, Bye):
            self._end(p, msg.reason, "agent", now, out)
        elif p.phase == "pending" and isinstance(msg, Decision):
            self._decide(p, msg, now, out)
        elif p.phase == "active" and isinstance(msg, Offer | Ice):
            self._forward(p, msg, to="operator", out=out)
        else:
            raise _unexpected(msg, f"not allowed while {p.phase}")

    def _register(self, conn: _Conn, msg: Register, now: float, out: list[Effect]) -> None:
        self._check_hello(msg.protocol_version, msg.consent_accepted, conn, out)
        refusal = self._registration_refusal(conn, now)
        if refusal is not None:
            refused, limit = refusal
            out.append(Count("registrations_refused", refused.code.value))
            detail = {"reason": refused.code.value, "limit": limit}
            out.append(Audit("registration_refused", ip=conn.ip, detail=detail))
            raise refused
        token = secrets.token_urlsafe(32)
        p = self._add_pairing(
            AGENT_CODE_DIGITS,
            now,
            lambda code: Pairing(
                id=secrets.token_urlsafe(12),
                code=code,
                issued_by="agent",
                phase="waiting",
                created_at=now,
                code_expires_at=now + self._config.code_ttl_s,
                agent_conn=conn.id,
                agent_ip=conn.ip,
                resume_hash=digest(token),
                client=msg.client,
                sysinfo_scope=msg.sysinfo_scope,
                client_version=msg.client_version,
            ),
        )
        if p is None:
            out.append(Count("registrations_refused", ErrorCode.BUSY.value))
            raise _busy(self._limits.busy_retry_after_s)
        code = p.code
        conn.hello = True
        conn.pairing_id = p.id
        logger.info("pairing %s: none -> waiting (agent %s)", p.id, conn.id)
        out.append(
            Send(conn.id, Registered(code=code, expires_in_s=self._config.code_ttl_s, resume_token=token))
        )
        out.append(
            Audit(
                "code_issued",
                ip=conn.ip,
                code=code,
                detail={
                    "by": "agent",
                    "client": msg.client,
                    "sysinfo_scope": msg.sysinfo_scope,
                    "client_version": msg.client_version,
                    "locale": msg.locale,  # which terms the customer agreed to (relay.app adds the version)
                },
            )
        )

    def _registration_refusal(self, conn: _Conn, now: float) -> tuple[_Refused, str] | None:
        """Why this registration is refused, and which limit said so; in O(1), like the draw."""
        lim = self._limits
        count = self._store.add_event(f"reg-ip:{conn.ip}", now, lim.registrations_window_s)
        if count > lim.registrations_per_ip:
            retry = self._retry_after(f"reg-ip:{conn.ip}", now, lim.registrations_window_s)
            refused = _rate_limited("too many registrations from this address; try again later", retry)
            return refused, "registrations_per_ip"
        # The rate alone would let one address hold registrations_per_ip codes per window
        # for a whole code lifetime (it used to be 300 of 200): the relay's every code.
        if self._store.count_waiting_from(conn.ip) >= lim.max_live_codes_per_ip:
            refused = _rate_limited(
                "too many codes are waiting from this address; try again later", lim.busy_retry_after_s
            )
            return refused, "max_live_codes_per_ip"
        if self._codes_pending() >= lim.max_live_codes:
            return _busy(lim.busy_retry_after_s), "max_live_codes"
        if self._claims_and_sessions() >= lim.max_sessions:
            return _busy(lim.busy_retry_after_s), "max_sessions"
        return None

    def _join(self, conn: _Conn, msg: Join, now: float, out: list[Effect]) -> None:
        """Reverse pairing (R2): the customer typed the operator's 6-digit code."""
        self._check_hello(msg.protocol_version, msg.consent_accepted, conn, out)
        lim = self._limits
        key = f"join-ip:{conn.ip}"
        if self._store.count_events(key, now, lim.failed_claims_window_s) >= lim.failed_joins_per_ip:
            out.append(Count("joins_failed", ErrorCode.RATE_LIMITED.value))
            raise _Refused(
                ErrorCode.RATE_LIMITED,
                "too many wrong codes from this address; try again later",
                fatal=True,
                retry_after_s=self._retry_after(key, now, lim.failed_claims_window_s),
                close_code=CloseCode.TRY_AGAIN_LATER,
            )
        p = self._store.pairing_by_code(msg.code)
        if p is None or p.issued_by != "operator" or p.phase != "issued":
            code, text = self._why_not_claimable(msg.code, p, now)
            self._store.add_event(key, now, lim.failed_claims_window_s)
            self._store.add_event("failed-global", now, lim.failed_claims_window_s)
            out.append(Count("joins_failed", code.value))
            out.append(Audit("join_failed", ip=conn.ip, code=msg.code, detail={"reason": code.value}))
            self._check_alarm(now, out)
            raise _Refused(code, text)
        if self._claims_and_sessions() >= lim.max_sessions:
            out.append(Count("registrations_refused", ErrorCode.BUSY.value))
            raise _busy(lim.busy_retry_after_s)
        token = secrets.token_urlsafe(32)
        changed = self._update(
            p,
            lambda fresh: False,  # whatever changed it first (a join on another node) won
            phase="pending",
            agent_conn=conn.id,
            agent_ip=conn.ip,
            resume_hash=digest(token),
            client=msg.client,
            sysinfo_scope=msg.sysinfo_scope,
            client_version=msg.client_version,
            decision_deadline=now + self._config.allow_timeout_s,
        )
        if changed is None:
            raise _Refused(ErrorCode.CODE_ALREADY_USED, "this code has already been used")
        p = changed[1]
        conn.hello = True
        conn.pairing_id = p.id
        logger.info("pairing %s: issued -> pending (agent %s joined)", p.id, conn.id)
        remaining = max(0.0, p.code_expires_at - now)
        out.append(Send(conn.id, Registered(code=p.code, expires_in_s=remaining, resume_token=token)))
        out.append(self._audit_pairing("join_succeeded", p))
        self._ask_customer(p, out)

    def _resume(self, conn: _Conn, msg: Resume, now: float, out: list[Effect]) -> None:
        if msg.protocol_version != PROTOCOL_VERSION:
            raise _version_mismatch()
        hashed = digest(msg.resume_token)
        found = self._store.pairing_by_resume(hashed)
        changed = None
        if found is not None and found.resume_hash == hashed:  # not unknown, not the operator's secret
            changed = self._update(
                found,
                lambda fresh: fresh.resume_hash == hashed,
                agent_conn=conn.id,
                agent_ip=conn.ip,
                agent_away_since=None,
            )
        if changed is None:
            out.append(Audit("resume_failed", ip=conn.ip, detail={"role": "agent"}))
            raise _Refused(
                ErrorCode.UNKNOWN_RESUME_TOKEN,
                "nothing to resume: the code or session has ended; register again",
                fatal=True,
            )
        before, p = changed
        replaced = False
        if before.agent_conn is not None and before.agent_conn != conn.id:
            # The old socket may not have noticed it is dead yet, or someone else has the
            # resume token. The new one wins either way, but never silently: whoever
            # still reads the old socket (here or on another node), and the operator, learn about it.
            old = self._conns.pop(before.agent_conn, None)
            if old is not None or not self._is_local(before.agent_conn):
                replaced = True
                logger.warning(
                    "pairing %s: agent %s replaced by %s (resume)", p.id, before.agent_conn, conn.id
                )
                text = "another connection resumed this code or session with its resume token"
                out.append(
                    Send(before.agent_conn, Error(code=ErrorCode.RESUMED_ELSEWHERE, message=text, fatal=True))
                )
                out.append(
                    Close(before.agent_conn, CloseCode.POLICY_VIOLATION, "replaced by a resumed connection")
                )
        was_away = before.agent_away_since is not None
        conn.hello = True
        conn.pairing_id = p.id
        logger.info("pairing %s: agent away -> back (%s, %s)", p.id, conn.id, p.phase)
        out.append(
            Audit(
                "agent_resumed", ip=conn.ip, session_id=p.id, detail={"phase": p.phase, "replaced": replaced}
            )
        )
        if p.phase == "active":
            out.append(Send(conn.id, Resumed(session_id=p.id)))
            out.extend(Send(conn.id, m) for m in self._store.drain_agent_queue(p.id))
        else:
            remaining = max(0.0, p.code_expires_at - now)
            out.append(
                Send(conn.id, Registered(code=p.code, expires_in_s=remaining, resume_token=msg.resume_token))
            )
            if p.phase == "pending" and p.decision_deadline is not None:
                identity = OperatorIdentity(
                    display_name=p.operator_display_name, organisation=p.operator_organisation
                )
                timeout = max(0.0, p.decision_deadline - now)
                out.append(Send(conn.id, OperatorRequest(operator=identity, timeout_s=timeout)))
        if (was_away or replaced) and p.phase in ("pending", "active") and self._reachable(p.operator_conn):
            if replaced:  # the connection the operator knew is gone: the same two steps as a drop
                out.append(Send(p.operator_conn, PeerStatus(connected=False)))
            out.append(Send(p.operator_conn, PeerStatus(connected=True)))
        if p.phase == "active" and p.operator_away_since is not None:
            out.append(Send(conn.id, PeerStatus(connected=False)))  # the operator is resuming too

    def _resume_operator(self, conn: _Conn, msg: Resume, now: float, out: list[Effect]) -> None:
        """An authenticated operator socket takes over its session after a drop.

        Only the secret from this session's ``session_start`` does it (never the code,
        which the customer read out aloud), and only for the operator who claimed it."""
        assert conn.account is not None
        user = conn.account.username
        if msg.protocol_version != PROTOCOL_VERSION:
            raise _version_mismatch()
        hashed = digest(msg.resume_token)
        p = self._store.pairing_by_resume(hashed)

        def mine(fresh: Pairing) -> bool:
            return fresh.operator_resume_hash == hashed and fresh.operator == user and fresh.phase == "active"

        changed = None
        if p is not None and mine(p):
            changed = self._update(
                p, mine, operator_conn=conn.id, operator_ip=conn.ip, operator_away_since=None
            )
        if changed is None:
            why = "unknown" if p is None or p.operator_resume_hash != hashed else "other_operator"
            out.append(
                Audit("resume_failed", operator=user, ip=conn.ip, detail={"role": "operator", "why": why})
            )
            # Not fatal: the socket is still logged in and may claim; the console says
            # the session is over (or, if the media still flows, that the relay forgot it).
            raise _Refused(
                ErrorCode.UNKNOWN_RESUME_TOKEN,
                "nothing to resume: the session has ended or the relay restarted",
            )
        before, p = changed
        replaced = False
        text = "another connection resumed this session with its resume token"
        if before.operator_conn is not None and before.operator_conn != conn.id:
            old = self._conns.get(before.operator_conn)
            if old is not None:  # the old socket has not noticed it is dead yet
                replaced = True
                logger.warning("pairing %s: operator %s replaced by %s (resume)", p.id, old.id, conn.id)
                old.pairing_id = None
                self._refuse(old, _Refused(ErrorCode.RESUMED_ELSEWHERE, text, fatal=True), now, out)
            elif not self._is_local(before.operator_conn):  # on another node, alive or not
                replaced = True
                error = Error(code=ErrorCode.RESUMED_ELSEWHERE, message=text, fatal=True)
                out.append(Send(before.operator_conn, error))
                out.append(Close(before.operator_conn, CloseCode.POLICY_VIOLATION, text[:120]))
        was_away = before.operator_away_since is not None
        conn.pairing_id = p.id
        logger.info("pairing %s: operator away -> back (%s)", p.id, conn.id)
        out.append(
            Audit(
                "operator_resumed",
                operator=user,
                ip=conn.ip,
                session_id=p.id,
                detail={"replaced": replaced},
            )
        )
        out.append(Send(conn.id, Resumed(session_id=p.id)))
        out.extend(Send(conn.id, m) for m in self._store.drain_operator_queue(p.id))
        if p.agent_away_since is not None:
            out.append(Send(conn.id, PeerStatus(connected=False)))  # the customer is resuming too
        elif (was_away or replaced) and self._reachable(p.agent_conn):
            if replaced:
                out.append(Send(p.agent_conn, PeerStatus(connected=False)))
            out.append(Send(p.agent_conn, PeerStatus(connected=True)))

    def _decide(self, p: Pairing, decision: Decision, now: float, out: list[Effect]) -> None:
        if not decision.allowed and decision.timed_out:  # the agent's countdown ran out: nobody declined
            out.append(self._audit_pairing("allow_timeout", p))
            self._end(p, EndReason.ALLOW_TIMEOUT, "agent", now, out)
            return
        if not decision.allowed:
            out.append(self._audit_pairing("denied", p))
            self._end(p, EndReason.DENIED, "agent", now, out)
            return
        operator_token = secrets.token_urlsafe(32)
        agent_conn = p.agent_conn
        changed = self._update(
            p,
            lambda fresh: fresh.phase == "pending" and fresh.agent_conn == agent_conn,
            phase="active",
            started_at=now,
            decision_deadline=None,
            operator_resume_hash=digest(operator_token),
        )
        if (
            changed is None
        ):  # ended meanwhile (the allow timeout, the operator left): told by whoever ended it
            logger.info("pairing %s: allowed, but it ended meanwhile", p.id)
            return
        p = changed[1]
        logger.info("pairing %s: pending -> active", p.id)
        start = SessionStart(session_id=p.id, ice_servers=self._ice_servers(p.id, now))
        if self._reachable(p.agent_conn):
            out.append(Send(p.agent_conn, start))
        if self._reachable(p.operator_conn):
            out.append(Send(p.operator_conn, dataclasses.replace(start, resume_token=operator_token)))
        # The customer's choice about the PC information, as the agent reports it (the
        # report itself goes end to end on the data channel; the relay never sees it).
        system_info = p.sysinfo_scope if decision.system_info else "declined"
        out.append(self._audit_pairing("allowed", p, {"system_info": system_info}))
        out.append(self._audit_pairing("session_started", p))
        out.append(Count("sessions_started"))

    # --- operator --------------------------------------------------------------

    def _from_operator(self, conn: _Conn, msg: SignalingMessage, now: float, out: list[Effect]) -> None:
        if not conn.hello:
            if not isinstance(msg, Auth):
                raise _Refused(
                    ErrorCode.NOT_AUTHORISED, "log in first: the first message must be auth", fatal=True
                )
            self._authenticate(conn, msg, now, out)
            return
        if conn.pairing_id is None:
            if isinstance(msg, Bye) and conn.had_session:
                # It crossed the ended of its session (the agent's hang_up or bye came first).
                logger.debug("operator %s: bye after its session ended ignored", conn.id)
                return
            if isinstance(msg, Claim | IssueCode | Resume):
                self._revalidate(conn, now, out)
            if isinstance(msg, Claim):
                self._claim(conn, msg, now, out)
            elif isinstance(msg, IssueCode):
                self._issue_code(conn, now, out)
            elif isinstance(msg, Resume):
                self._resume_operator(conn, msg, now, out)
            else:
                raise _unexpected(msg, "expected claim, issue_code or resume")
            return
        p = self._store.get_pairing(conn.pairing_id)
        if self._shared and (p is None or p.operator_conn != conn.id):
            # Ended on another node (the customer's, or a timer there), or taken over by
            # a resume there: this node only heard it through a routed message, if at
            # all. The socket is idle again.
            conn.pairing_id = None
            conn.had_session = True
            self._from_operator(conn, msg, now, out)
            return
        if p is None:
            p = self._pairing_of(conn)  # refuses, as ever
        if isinstance(msg, Bye):
            self._end(p, msg.reason, "operator", now, out)
        elif p.phase == "active" and isinstance(msg, Answer | Ice):
            self._forward(p, msg, to="agent", out=out)
        else:
            raise _unexpected(msg, f"not allowed while {p.phase} (one session per connection)")

    def _authenticate(self, conn: _Conn, msg: Auth, now: float, out: list[Effect]) -> None:
        if msg.protocol_version != PROTOCOL_VERSION:
            raise _version_mismatch()
        account = self._verify(msg.token, now, fatal=True)
        if account is None:
            out.append(Audit("operator_auth_failed", ip=conn.ip))
            raise _Refused(ErrorCode.NOT_AUTHORISED, "invalid or expired token; log in again", fatal=True)
        conn.hello = True
        conn.account = account
        conn.token = msg.token
        logger.info("operator %s: connection %s authenticated", account.username, conn.id)
        identity = OperatorIdentity(display_name=account.display_name, organisation=account.organisation)
        out.append(Send(conn.id, Authenticated(username=account.username, operator=identity)))

    def _revalidate(self, conn: _Conn, now: float, out: list[Effect]) -> None:
        """A socket is only as good as its login: the token may have expired since
        ``auth``, or the account been disabled (by the admin CLI, in another process)."""
        account = self._verify(conn.token, now, fatal=False) if conn.token is not None else None
        if account is None:
            user = conn.account.username if conn.account else None
            out.append(Audit("operator_auth_failed", operator=user, ip=conn.ip, detail={"why": "recheck"}))
            raise _Refused(
                ErrorCode.NOT_AUTHORISED,
                "your login expired or the account was disabled; log in again",
                fatal=True,
            )
        conn.account = account  # the display name shown to customers may have changed too

    def _verify(self, token: str, now: float, *, fatal: bool) -> TokenRecord | None:
        """``Auth.verify``; the accounts database unreachable (relay/database.py) is a
        refusal to try again shortly, never "log in again" and never a crash. The socket
        stays open unless it has not authenticated yet (``fatal``)."""
        try:
            return self._auth.verify(token, now)
        except DatabaseUnavailable:
            raise _Refused(
                ErrorCode.UNAVAILABLE,
                "the relay cannot check logins right now (its accounts database is unreachable); "
                "try again shortly",
                fatal=fatal,
                retry_after_s=5.0,
                close_code=CloseCode.TRY_AGAIN_LATER,
            ) from None

    def _check_accounts(self, now: float, out: list[Effect]) -> None:
        """Close every socket of a disabled operator and end its sessions (docs/security.md).

        Only the account is checked here, not the token: a token that expires during a
        session does not cut the customer off; it only stops the next claim."""
        users = {c.account.username for c in self._conns.values() if c.account is not None}
        disabled = {user for user in users if not self._auth.active(user)}
        for conn in list(self._conns.values()):
            if conn.account is None or conn.account.username not in disabled:
                continue
            p = self._store.get_pairing(conn.pairing_id) if conn.pairing_id else None
            logger.warning("operator %s: active -> disabled; closing %s", conn.account.username, conn.id)
            if p is not None:
                self._end(p, EndReason.ADMIN, "relay", now, out)
            self._refuse(
                conn,
                _Refused(ErrorCode.NOT_AUTHORISED, "this operator account was disabled", fatal=True),
                now,
                out,
            )
        # A session whose operator is away (resume grace) ends too: no socket to close.
        for p in self._store.pairings():
            if p.operator_away_since is not None and p.operator and not self._auth.active(p.operator):
                logger.warning("operator %s: away and disabled; ending pairing %s", p.operator, p.id)
                self._end(p, EndReason.ADMIN, "relay", now, out)

    def _claim(self, conn: _Conn, msg: Claim, now: float, out: list[Effect]) -> None:
        assert conn.account is not None
        lim = self._limits
        user = conn.account.username
        window = lim.failed_claims_window_s
        # Limits are checked before the code is even looked at: a locked-out or
        # rate-limited attacker learns nothing from further guesses.
        locked = self._store.lock_until(f"lock:{user}", now)
        if locked is not None:
            out.append(Count("claims_failed", ErrorCode.LOCKED_OUT.value))
            raise _Refused(
                ErrorCode.LOCKED_OUT,
                "too many wrong codes: claiming is locked for this operator",
                retry_after_s=locked - now,
            )
        ip_key = f"claim-ip:{conn.ip}"
        if self._store.count_events(ip_key, now, window) >= lim.failed_claims_per_ip:
            out.append(Count("claims_failed", ErrorCode.RATE_LIMITED.value))
            raise _Refused(
                ErrorCode.RATE_LIMITED,
                "too many wrong codes from this address; try again later",
                retry_after_s=self._retry_after(ip_key, now, window),
            )
        if self._operator_sessions(user) >= lim.max_sessions_per_operator:
            raise _Refused(
                ErrorCode.OPERATOR_SESSION_LIMIT,
                f"you already have {lim.max_sessions_per_operator} sessions; end one first",
            )
        if self._claims_and_sessions() >= lim.max_sessions:
            raise _busy(lim.busy_retry_after_s, fatal=False)
        # The guess counts before the code is looked at, and is taken back if it was no
        # wrong guess. So guesses racing on several nodes each see the others' and no more
        # than failed_claims_per_operator codes are ever tried per window (docs/security.md).
        user_key = f"claim-user:{user}"
        failures = self._store.add_event(user_key, now, window)
        if failures > lim.failed_claims_per_operator:
            self._store.discard_event(user_key, now)
            out.append(Count("claims_failed", ErrorCode.LOCKED_OUT.value))
            raise _Refused(
                ErrorCode.LOCKED_OUT,
                "too many wrong codes: claiming is locked for this operator",
                retry_after_s=self._retry_after(user_key, now, window),
            )
        p = self._store.pairing_by_code(msg.code)
        if p is not None and p.issued_by == "agent" and p.phase == "waiting":
            self._store.discard_event(user_key, now)
            if p.agent_away_since is not None:
                # Not a wrong guess: the customer's connection is blinking.
                raise _Refused(
                    ErrorCode.PEER_GONE,
                    "the customer's connection is interrupted; try again in a moment",
                    retry_after_s=_AWAY_RETRY_S,
                )
            self._claimed(conn, p, now, out)
            return
        code, text = self._why_not_claimable(msg.code, p, now)
        self._store.add_event(ip_key, now, window)
        self._store.add_event("failed-global", now, window)
        out.append(Count("claims_failed", code.value))
        out.append(
            Audit(
                "claim_failed", operator=user, ip=conn.ip, code=msg.code[:16], detail={"reason": code.value}
            )
        )
        out.append(Send(conn.id, Error(code=code, message=text)))
        if failures >= lim.failed_claims_per_operator:
            self._store.set_lock(f"lock:{user}", now + lim.lockout_s)
            logger.warning("operator %s: unlocked -> locked out after %d failed claims", user, failures)
            out.append(Count("lockouts"))
            out.append(Audit("lockout", operator=user, ip=conn.ip, detail={"failures": failures}))
            out.append(
                Send(
                    conn.id,
                    Error(
                        code=ErrorCode.LOCKED_OUT,
                        message="too many wrong codes: claiming is locked for this operator",
                        retry_after_s=lim.lockout_s,
                    ),
                )
            )
        self._check_alarm(now, out)

    def _claimed(self, conn: _Conn, p: Pairing, now: float, out: list[Effect]) -> None:
        assert conn.account is not None
        account = conn.account
        changed = self._update(
            p,
            lambda fresh: False,  # a claim on another node won the race: this one is too late
            phase="pending",
            operator_conn=conn.id,
            operator=account.username,
            operator_display_name=account.display_name,
            operator_organisation=account.organisation,
            operator_ip=conn.ip,
            decision_deadline=now + self._config.allow_timeout_s,
        )
        if changed is None:
            logger.info("pairing %s: claim by %s lost a race", p.id, account.username)
            raise _Refused(ErrorCode.CODE_ALREADY_USED, "this code has already been used")
        p = changed[1]
        conn.pairing_id = p.id
        logger.info("pairing %s: waiting -> pending (claimed by %s)", p.id, account.username)
        out.append(self._audit_pairing("claim_succeeded", p))
        self._ask_customer(p, out)

    def _issue_code(self, conn: _Conn, now: float, out: list[Effect]) -> None:
        assert conn.account is not None
        lim = self._limits
        user = conn.account.username
        if self._operator_sessions(user) >= lim.max_sessions_per_operator:
            raise _Refused(
                ErrorCode.OPERATOR_SESSION_LIMIT,
                f"you already have {lim.max_sessions_per_operator} sessions; end one first",
            )
        if self._codes_pending() >= lim.max_live_codes or self._claims_and_sessions() >= lim.max_sessions:
            raise _busy(lim.busy_retry_after_s, fatal=False)
        account = conn.account
        p = self._add_pairing(
            OPERATOR_CODE_DIGITS,
            now,
            lambda code: Pairing(
                id=secrets.token_urlsafe(12),
                code=code,
                issued_by="operator",
                phase="issued",
                created_at=now,
                code_expires_at=now + self._config.code_ttl_s,
                operator_conn=conn.id,
                operator=account.username,
                operator_display_name=account.display_name,
                operator_organisation=account.organisation,
                operator_ip=conn.ip,
            ),
        )
        if p is None:
            raise _busy(lim.busy_retry_after_s, fatal=False)
        code = p.code
        conn.pairing_id = p.id
        logger.info("pairing %s: none -> issued (operator %s)", p.id, user)
        out.append(Send(conn.id, CodeIssued(code=code, expires_in_s=self._config.code_ttl_s)))
        out.append(Audit("code_issued", operator=user, ip=conn.ip, code=code, detail={"by": "operator"}))

    # --- shared steps ----------------------------------------------------------

    def _check_hello(self, version: int, consent: bool, conn: _Conn, out: list[Effect]) -> None:
        if version != PROTOCOL_VERSION:
            out.append(Count("registrations_refused", ErrorCode.VERSION_MISMATCH.value))
            raise _version_mismatch()
        if not consent:
            out.append(Count("registrations_refused", ErrorCode.CONSENT_REQUIRED.value))
            # Not fatal: the agent shows the terms again and may retry on this socket.
            raise _Refused(ErrorCode.CONSENT_REQUIRED, "the customer must accept the terms first")

    def _ask_customer(self, p: Pairing, out: list[Effect]) -> None:
        """Claimed: the operator waits, the customer sees who asks and decides (R15)."""
        timeout = self._config.allow_timeout_s
        identity = OperatorIdentity(
            display_name=p.operator_display_name, organisation=p.operator_organisation
        )
        if self._reachable(p.operator_conn):
            out.append(
                Send(
                    p.operator_conn,
                    ClaimPending(
                        timeout_s=timeout,
                        client=p.client,
                        sysinfo_scope=p.sysinfo_scope,
                        client_version=p.client_version,
                    ),
                )
            )
        if self._reachable(p.agent_conn):
            out.append(Send(p.agent_conn, OperatorRequest(operator=identity, timeout_s=timeout)))

    def _forward(self, p: Pairing, msg: Offer | Answer | Ice, *, to: Role, out: list[Effect]) -> None:
        target = p.operator_conn if to == "operator" else p.agent_conn
        if target is not None and self._reachable(target):
            out.append(Send(target, msg))
            out.append(Count("messages_forwarded", msg.type))
        elif to == "agent" and p.agent_away_since is not None:
            if self._store.queue_for_agent(p.id, msg, self._limits.max_queued_for_agent):
                out.append(Count("messages_forwarded", msg.type))  # delivered on resume
            else:
                logger.warning("pairing %s: queue for the away agent is full; dropping %s", p.id, msg.type)
        elif to == "operator" and p.operator_away_since is not None:
            if self._store.queue_for_operator(p.id, msg, self._limits.max_queued_for_agent):
                out.append(Count("messages_forwarded", msg.type))
            else:
                logger.warning("pairing %s: queue for the away operator is full; dropping %s", p.id, msg.type)

    def _end(
        self, p: Pairing, reason: EndReason, by: Side, now: float, out: list[Effect], *, strict: bool = False
    ) -> bool:
        """End a pairing in any phase; tell whoever is connected, then forget it.

        If another node changed the pairing since ``p`` was read, a ``strict`` end (a
        timer's: what it checked may no longer hold) does nothing; otherwise (a bye, an
        admin) the pairing as it is now is ended. False if nothing was ended here."""
        for _ in range(_CAS_TRIES):
            if self._retire(p, "used" if p.phase in ("pending", "active") else "expired", now):
                break
            fresh = self._store.get_pairing(p.id)
            if strict or fresh is None:  # someone else ended it (and told both sides)
                return False
            p = fresh
        else:
            return False
        logger.info("pairing %s: %s -> ended (%s by %s)", p.id, p.phase, reason.value, by)
        ended = Ended(reason=reason, by=by)
        if self._reachable(p.agent_conn):
            self._conns.pop(p.agent_conn, None)
            # The code was single-use: the agent's socket is done, it registers again for another.
            out.append(Send(p.agent_conn, ended))
            if reason is EndReason.SHUTDOWN:
                out.append(Close(p.agent_conn, CloseCode.GOING_AWAY, "relay shutting down"))
            else:
                out.append(Close(p.agent_conn, CloseCode.NORMAL, "session ended"))
        operator = self._conns.get(p.operator_conn) if p.operator_conn is not None else None
        if operator is not None:
            operator.pairing_id = None
            operator.had_session = True
            operator.last_seen = now
            out.append(Send(operator.id, ended))
        elif p.operator_conn is not None and not self._is_local(p.operator_conn):
            out.append(Send(p.operator_conn, ended))  # its node notices on its next message
        detail: dict[str, object] = {"reason": reason.value, "by": by, "phase": p.phase}
        if p.phase == "active" and p.started_at is not None:
            detail["duration_s"] = round(now - p.started_at, 3)
            out.append(self._audit_pairing("session_ended", p, detail))
            out.append(Count("sessions_ended", reason.value))
        elif p.phase == "pending":
            out.append(self._audit_pairing("claim_ended", p, detail))
            # Denied and allow_timeout only ever end claims: counted, or they never show.
            out.append(Count("sessions_ended", reason.value))
        else:
            out.append(
                Audit("code_withdrawn", operator=p.operator, ip=p.agent_ip, code=p.code, detail=detail)
            )
        return True

    def _expire_code(self, p: Pairing, now: float, out: list[Effect]) -> None:
        if not self._retire(p, "expired", now):
            return  # another node expired it, or it changed meanwhile (the next tick looks again)
        logger.info("pairing %s: %s -> expired", p.id, p.phase)
        out.append(Audit("code_expired", operator=p.operator, ip=p.agent_ip, code=p.code))
        text = "the code expired unclaimed; get a new one"
        if p.phase == "waiting" and p.agent_conn is not None:
            agent = self._conns.pop(p.agent_conn, None)
            if agent is not None or not self._is_local(p.agent_conn):
                out.append(Send(p.agent_conn, Error(code=ErrorCode.EXPIRED_CODE, message=text, fatal=True)))
                out.append(Close(p.agent_conn, CloseCode.NORMAL, "code expired"))
        elif p.phase == "issued" and p.operator_conn is not None:
            operator = self._conns.get(p.operator_conn)
            if operator is not None:
                operator.pairing_id = None
            if operator is not None or not self._is_local(p.operator_conn):
                out.append(Send(p.operator_conn, Error(code=ErrorCode.EXPIRED_CODE, message=text)))

    def _retire(self, p: Pairing, reason: Literal["expired", "used"], now: float) -> bool:
        """Forget ``p`` and remember its code as retired, if ``p`` is still as read."""
        if not self._store.retire_pairing(p, reason, now + self._limits.retired_code_memory_s):
            return False
        with contextlib.suppress(ValueError):  # drawn on another node, not synced here yet
            self.codes.release(p.code, now)
        return True

    def _add_pairing(self, digits: int, now: float, make: Callable[[str], Pairing]) -> Pairing | None:
        """Draw a code and store a new pairing with it; None when no code is free.

        The store refuses a code that another node made live since our pool last synced
        with it: that code stays taken here and another is drawn."""
        for _ in range(_CODE_TRIES):
            try:
                code = self.codes.allocate(digits, now)
            except CodeSpaceExhausted:
                return None
            p = make(code)
            if self._store.add_pairing(p):
                return p
            logger.debug("code %s: live on another node; drawing again", code)
        return None

    def _update(
        self, p: Pairing, still: Callable[[Pairing], bool], **changes: object
    ) -> tuple[Pairing, Pairing] | None:
        """Compare-and-set ``changes`` onto ``p``: (the record before, after), or None.

        If another node changed the pairing first, it is read again and the change made on
        that, as long as ``still(fresh)`` holds (and at most a few times)."""
        for _ in range(_CAS_TRIES):
            new = dataclasses.replace(p, **changes)  # type: ignore[arg-type]
            if self._store.replace_pairing(p, new):
                return p, new
            fresh = self._store.get_pairing(p.id)
            if fresh is None or not still(fresh):
                return None
            p = fresh
        return None

    def _cleanup(self, conn: _Conn, now: float, out: list[Effect], *, graceful: bool) -> None:
        """A socket is gone: keep its pairing for the resume grace, or end it."""
        if conn.pairing_id is None:
            return
        self._gone(conn.role, conn.id, conn.pairing_id, now, out, graceful=graceful)
        conn.pairing_id = None  # only now: if the store failed, tick() tries again

    def _gone(
        self, role: Role, conn_id: str, pairing_id: str, now: float, out: list[Effect], *, graceful: bool
    ) -> None:
        p = self._store.get_pairing(pairing_id)
        if p is None:
            return
        grace = graceful and self._config.resume_grace_s > 0
        if role == "agent" and p.agent_conn == conn_id:
            if grace:
                changed = self._update(
                    p, lambda fresh: fresh.agent_conn == conn_id, agent_conn=None, agent_away_since=now
                )
                if changed is None:
                    return
                p = changed[1]
                logger.info("pairing %s: agent connected -> away (%s)", p.id, p.phase)
                if p.phase in ("pending", "active") and self._reachable(p.operator_conn):
                    out.append(Send(p.operator_conn, PeerStatus(connected=False)))
            else:
                self._end(p, EndReason.PEER_GONE, "agent", now, out)
        elif role == "operator" and p.operator_conn == conn_id:
            if grace and p.phase == "active":
                # The media is peer to peer and may well go on: the console resumes with
                # its session secret. The customer sees the Stop button all along.
                changed = self._update(
                    p,
                    lambda fresh: fresh.operator_conn == conn_id and fresh.phase == "active",
                    operator_conn=None,
                    operator_away_since=now,
                )
                if changed is None:
                    return
                p = changed[1]
                logger.info("pairing %s: operator connected -> away", p.id)
                if self._reachable(p.agent_conn):
                    out.append(Send(p.agent_conn, PeerStatus(connected=False)))
            else:
                # A claim or an issued code has no grace: the console claims anew.
                self._end(p, EndReason.PEER_GONE, "operator", now, out)

    def _refuse(self, conn: _Conn, refusal: _Refused, now: float, out: list[Effect]) -> None:
        out.append(
            Send(
                conn.id,
                Error(
                    code=refusal.code,
                    message=refusal.message,
                    retry_after_s=refusal.retry_after_s,
                    fatal=refusal.fatal,
                ),
            )
        )
        if refusal.code in (ErrorCode.BAD_MESSAGE, ErrorCode.MESSAGE_TOO_LARGE, ErrorCode.UNEXPECTED_MESSAGE):
            out.append(Count("protocol_errors", refusal.code.value))
            user = conn.account.username if conn.account else None
            out.append(
                Audit(
                    "protocol_error",
                    operator=user,
                    ip=conn.ip,
                    detail={"role": conn.role, "error": refusal.code.value},
                )
            )
        if refusal.fatal and self._conns.pop(conn.id, None) is not None:
            logger.info("%s %s: closed by the relay (%s)", conn.role, conn.id, refusal.code.value)
            out.append(Close(conn.id, refusal.close_code, refusal.message[:120]))
            self._cleanup(conn, now, out, graceful=False)

    # --- helpers ---------------------------------------------------------------

    def _is_local(self, conn_id: str) -> bool:
        """Is ``conn_id`` a socket of this node (always, with a store of its own)?"""
        return not self._shared or conn_id.startswith(f"{self.node}.")

    def _reachable(self, conn_id: str | None) -> TypeGuard[str]:
        """May a ``Send`` to ``conn_id`` arrive: open here, or on another node (routed there)."""
        return conn_id is not None and (conn_id in self._conns or not self._is_local(conn_id))

    def _pairing_of(self, conn: _Conn) -> Pairing:
        p = self._store.get_pairing(conn.pairing_id) if conn.pairing_id else None
        if p is None:  # ended by a timer on another node, or a bug: never crash
            conn.pairing_id = None
            raise _Refused(
                ErrorCode.UNEXPECTED_MESSAGE, "no pairing on this connection", fatal=conn.role == "agent"
            )
        return p

    def _why_not_claimable(self, code: str, p: Pairing | None, now: float) -> tuple[ErrorCode, str]:
        if p is not None and p.phase in ("pending", "active"):
            return ErrorCode.CODE_ALREADY_USED, "this code has already been used"
        retired = self._store.retired_code(code, now)
        if retired == "used":
            return ErrorCode.CODE_ALREADY_USED, "this code has already been used"
        if retired == "expired":
            return ErrorCode.EXPIRED_CODE, "this code has expired; ask for a new one"
        return ErrorCode.UNKNOWN_CODE, "no such code; check the digits"

    def _codes_pending(self) -> int:
        return self._store.count_phase("waiting") + self._store.count_phase("issued")

    def _claims_and_sessions(self) -> int:
        return self._store.count_phase("pending") + self._store.count_phase("active")

    def _operator_sessions(self, username: str) -> int:
        return self._store.count_held_by(username)

    def _retry_after(self, key: str, now: float, window_s: float) -> float:
        oldest = self._store.oldest_event(key, now, window_s)
        return window_s if oldest is None else max(1.0, oldest + window_s - now)

    def _check_alarm(self, now: float, out: list[Effect]) -> None:
        failures = self._store.count_events("failed-global", now, self._limits.failed_claims_window_s)
        active = failures >= self._limits.failed_claims_alarm
        if active != self._alarm_active:
            self._alarm_active = active
            detail = f"{failures} failed claims/joins in the last {self._limits.failed_claims_window_s:.0f} s"
            out.append(Alarm("failed_claims", active, detail))
            if active:
                out.append(Audit("failed_claims_alarm", detail={"failures": failures}))

    def _ice_servers(self, session_id: str, now: float) -> tuple[IceServer, ...]:
        servers: list[IceServer] = []
        for cfg in self._config.ice_servers:
            if cfg.turn_rest_secret:
                # coturn "use-auth-secret": the credential is valid until the
                # timestamp in the username, so a leaked one soon stops working.
                username = f"{int(now) + cfg.turn_rest_ttl_s}:{session_id}"
                mac = hmac.new(cfg.turn_rest_secret.encode(), username.encode(), hashlib.sha1).digest()
                credential = base64.b64encode(mac).decode()
                servers.append(IceServer(urls=cfg.urls, username=username, credential=credential))
            else:
                servers.append(IceServer(urls=cfg.urls, username=cfg.username, credential=cfg.credential))
        return tuple(servers)

    @staticmethod
    def _audit_pairing(event: str, p: Pairing, detail: dict[str, object] | None = None) -> Audit:
        return Audit(
            event,
            operator=p.operator,
            ip=p.operator_ip if p.operator_ip else p.agent_ip,
            session_id=p.id,
            code=p.code,
            detail={"agent_ip": p.agent_ip, **(detail or {})},
        )

    def connections(self) -> Iterable[str]:
        return list(self._conns)

    # --- admin hooks (relay/admin_web.py) ----------------------------------------

    def live_pairings(self) -> list[Pairing]:
        """Every code and session now, for the admin web's overview (no screen content exists here)."""
        return self._store.pairings()

    def end_by_admin(self, pairing_id: str, now: float) -> tuple[Pairing | None, list[Effect]]:
        """End one pairing (a waiting code, a claim or a session) for an admin: both sides get
        ``ended`` with ``EndReason.ADMIN``. The pairing as it was, or None if it is gone."""
        out: list[Effect] = []
        p = self._store.get_pairing(pairing_id)
        if p is not None:
            self._end(p, EndReason.ADMIN, "relay", now, out)
        return p, out

    def set_limits(self, limits: Limits) -> None:
        """New limits (capacity set in the admin web); counted from the next message on."""
        self._limits = limits
        self._config = dataclasses.replace(self._config, limits=limits)


def _unexpected(msg: SignalingMessage, why: str) -> _Refused:
    return _Refused(ErrorCode.UNEXPECTED_MESSAGE, f"{msg.type}: {why}", fatal=True)


def _version_mismatch() -> _Refused:
    return _Refused(
        ErrorCode.VERSION_MISMATCH,
        f"this relay speaks protocol version {PROTOCOL_VERSION}; update the program",
        fatal=True,
    )


def _rate_limited(message: str, retry_after_s: float) -> _Refused:
    return _Refused(
        ErrorCode.RATE_LIMITED,
        message,
        fatal=True,
        retry_after_s=retry_after_s,
        close_code=CloseCode.TRY_AGAIN_LATER,
    )


def _busy(retry_after_s: float, *, fatal: bool = True) -> _Refused:
    return _Refused(
        ErrorCode.BUSY,
        "all lines are busy; please try again later",
        fatal=fatal,
        retry_after_s=retry_after_s,
        close_code=CloseCode.TRY_AGAIN_LATER,
    )
