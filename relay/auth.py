"""Operator login: password check, rate limits, short-lived tokens.

``POST /api/login`` calls :meth:`Auth.login`; the operator websocket's first
message carries the token, which :meth:`Auth.verify` checks (it is the
registry's :class:`relay.registry.Authenticator`). Tokens are 256-bit random
values kept only as SHA-256 digests in the accounts database (so they outlive a
restart of the relay), expire after ``token_ttl_s``, and stop working as soon as
the account is disabled or its password changed.

Failed logins are limited three ways (docs/security.md has the resulting bounds):

* per username *and* address (5 per 15 min): the guesser at one address;
* per address (20 per 15 min): one address spraying many usernames;
* per username from all addresses (30 per hour), except from addresses where that
  operator logged in successfully in the last 30 days: a crowd of addresses is
  bounded too, yet cannot lock staff out at their usual desks; one stranger alone
  never reaches it (5 per 15 min is 20 per hour).

Each attempt *reserves* its place in every counter before the password is
checked, with no ``await`` in between, and gives it back only if the password was
right. So parallel attempts see each other: a burst of 1,000 wrong logins checks at
most the limit, and over a limit the password is not even looked at.

With the accounts database unreachable (PostgreSQL down, relay/database.py), a login
is refused with HTTP 503 ``unavailable``; the places it reserved are given back.
Sockets already open carry on: :meth:`Auth.active` keeps an operator it cannot check,
and :meth:`Auth.verify` answers from this node's memory of the tokens it verified
(until their expiry); a token this node has never seen raises
:class:`relay.database.DatabaseUnavailable` (the registry refuses that socket, to try
again shortly).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import time

from .accounts import Accounts, OperatorAccount
from .config import RelayConfig
from .database import DatabaseUnavailable
from .effects import Audit
from .store import Store, TokenRecord, digest

__all__ = ["Auth", "LoginRefused", "LoginResult"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class LoginResult:
    token: str = dataclasses.field(repr=False)
    expires_in_s: float
    username: str


class LoginRefused(Exception):
    """Why a login failed: HTTP status, a stable ``error`` word and a message for people."""

    def __init__(self, status: int, error: str, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.retry_after_s = retry_after_s


_KNOWN_TOKENS_MAX = 10_000
_DISABLED_FRESH_S = 3.0


class Auth:
    def __init__(self, config: RelayConfig, store: Store, accounts: Accounts) -> None:
        self._config = config
        self._limits = config.limits
        self._store = store
        self.accounts = accounts
        self._known: dict[str, TokenRecord] = {}
        """Tokens verified on this node (by digest): answers while the database is unreachable."""
        self._disabled: tuple[float, dict[str, bool]] | None = None
        """When read, and every account's ``disabled`` flag (a shared database only)."""

    async def login(self, username: str, password: str, ip: str, now: float) -> tuple[LoginResult, Audit]:
        """Check the password (in a worker thread: scrypt is slow on purpose).

        Returns the token and the audit row to write; raises :class:`LoginRefused`
        (the caller audits it) for a wrong password, a disabled account, an admin
        account (admins log in to the admin web only) or too many failures.
        """
        account = await self.check(username, password, ip, now)
        if account.role != "operator":
            raise LoginRefused(403, "not_operator", "this is not an operator account")
        token = secrets.token_urlsafe(32)
        ttl = self._config.token_ttl_s
        try:
            await asyncio.to_thread(self.accounts.add_token, digest(token), account.username, now + ttl, now)
            await asyncio.to_thread(self.accounts.touch_login, account.username, now)
        except DatabaseUnavailable:
            raise _unavailable() from None
        logger.info("operator %s: logged out -> logged in", account.username)
        audit = Audit("login_succeeded", operator=account.username, ip=ip)
        return LoginResult(token=token, expires_in_s=ttl, username=account.username), audit

    async def check(self, username: str, password: str, ip: str, now: float) -> OperatorAccount:
        """The enabled account whose password this is, under the login limits (any role).

        The operator login and the admin web's login share these counters: one address
        guessing at both forms is bounded once, not twice.
        """
        lim = self._limits
        known_key = f"login-known:{username}:{ip}"
        counters = [
            (f"login-user-ip:{username}:{ip}", lim.login_failures_per_user_ip, lim.login_window_s, True),
            (f"login-ip:{ip}", lim.login_failures_per_ip, lim.login_window_s, True),
            (
                f"login-user:{username}",
                lim.login_failures_per_user,
                lim.login_user_window_s,
                # An expiring flag in the store, like a lock: lost on restart, like the counters.
                self._store.lock_until(known_key, now) is None,
            ),
        ]
        for key, limit, window, enforced in counters:
            if enforced and self._store.count_events(key, now, window) >= limit:
                oldest = self._store.oldest_event(key, now, window)
                retry = window if oldest is None else max(1.0, oldest + window - now)
                raise LoginRefused(429, "rate_limited", "too many failed logins; try again later", retry)
        # Counted as failed until the password proves right: no await between the check
        # above and this, so attempts running in parallel cannot all pass the check.
        for key, _, window, _ in counters:
            self._store.add_event(key, now, window)
        try:
            account = await asyncio.to_thread(self.accounts.check_password, username, password)
        except DatabaseUnavailable:
            self._release(counters, now)
            logger.warning("login for %s refused: the accounts database is unreachable", username)
            raise _unavailable() from None
        except BaseException:  # cancelled or broken: no verdict, give the places back
            self._release(counters, now)
            raise
        if account is None:
            raise LoginRefused(401, "invalid_credentials", "wrong username or password")
        self._release(counters, now)
        if account.disabled:
            raise LoginRefused(403, "locked", "this operator account is disabled; ask an administrator")
        self._store.set_lock(known_key, now + lim.login_known_address_s)
        return account

    def _release(self, counters: list[tuple[str, int, float, bool]], now: float) -> None:
        for key, _, _, _ in counters:
            self._store.discard_event(key, now)

    def verify(self, token: str, now: float) -> TokenRecord | None:
        """The token's operator; None if unknown, expired or disabled.

        Raises :class:`relay.database.DatabaseUnavailable` only for a token this node has
        not verified before (it cannot tell); a known one is answered from memory."""
        key = digest(token)
        try:
            owner = self.accounts.token_owner(key, now)
        except DatabaseUnavailable:
            known = self._known.get(key)
            if known is None or known.expires_at <= now:
                raise
            return known
        if owner is None:
            self._known.pop(key, None)
            return None
        account, expires_at = owner
        if account.role != "operator":  # never issued; refused all the same
            return None
        if account.disabled:
            # Disabled after login (possibly by the admin CLI in another process).
            self._known.pop(key, None)
            self.accounts.drop_tokens(account.username)
            return None
        record = TokenRecord(
            username=account.username,
            display_name=account.display_name,
            organisation=account.organisation,
            expires_at=expires_at,
        )
        self._remember(key, record, now)
        return record

    def _remember(self, key: str, record: TokenRecord, now: float) -> None:
        if key not in self._known and len(self._known) >= _KNOWN_TOKENS_MAX:
            self._known = {k: r for k, r in self._known.items() if r.expires_at > now}
            while len(self._known) >= _KNOWN_TOKENS_MAX:
                del self._known[next(iter(self._known))]
        self._known[key] = record

    def active(self, username: str) -> bool:
        """The account exists and is enabled; True when the database cannot say (it is
        unreachable): an outage must not end the sessions of the operators on this node."""
        try:
            flags = self._disabled_now() if self.accounts.database.shared else {}
            if username in flags:
                disabled = flags[username]
            else:  # SQLite, or an account added since the copy was read
                account = self.accounts.get(username)
                disabled = account is None or account.disabled
            if disabled:
                self._known = {k: r for k, r in self._known.items() if r.username != username}
                self.accounts.drop_tokens(username)
                return False
        except DatabaseUnavailable:
            return True
        return True

    def _disabled_now(self) -> dict[str, bool]:
        """Every account's ``disabled``: the registry asks about each operator on this node
        in turn, and on a shared database (PostgreSQL) one query beats a round trip per
        operator. The relay's upkeep (relay/db_upkeep.py) reads it every second off the
        event loop (:meth:`refresh_accounts`); only a stale copy is read here."""
        if self._disabled is None or time.monotonic() - self._disabled[0] >= _DISABLED_FRESH_S:
            self.refresh_accounts()
        assert self._disabled is not None
        return self._disabled[1]

    def refresh_accounts(self) -> None:
        """Read every account's ``disabled`` flag (blocking; raises DatabaseUnavailable)."""
        self._disabled = (time.monotonic(), self.accounts.disabled_by_username())


def _unavailable() -> LoginRefused:
    return LoginRefused(
        503,
        "unavailable",
        "the relay cannot check logins right now (its accounts database is unreachable); "
        "sessions already open carry on; try again in a few minutes",
        60.0,
    )
