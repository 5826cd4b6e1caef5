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
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets

from .accounts import Accounts
from .config import RelayConfig
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


class Auth:
    def __init__(self, config: RelayConfig, store: Store, accounts: Accounts) -> None:
        self._config = config
        self._limits = config.limits
        self._store = store
        self.accounts = accounts

    async def login(self, username: str, password: str, ip: str, now: float) -> tuple[LoginResult, Audit]:
        """Check the password (in a worker thread: scrypt is slow on purpose).

        Returns the token and the audit row to write; raises :class:`LoginRefused`
        (the caller audits it) for a wrong password, a disabled account or too
        many failures.
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
        except BaseException:  # cancelled or broken: no verdict, give the places back
            self._release(counters, now)
            raise
        if account is None:
            raise LoginRefused(401, "invalid_credentials", "wrong username or password")
        self._release(counters, now)
        if account.disabled:
            raise LoginRefused(403, "locked", "this operator account is disabled; ask an administrator")
        self._store.set_lock(known_key, now + lim.login_known_address_s)
        token = secrets.token_urlsafe(32)
        ttl = self._config.token_ttl_s
        await asyncio.to_thread(self.accounts.add_token, digest(token), account.username, now + ttl, now)
        logger.info("operator %s: logged out -> logged in", account.username)
        audit = Audit("login_succeeded", operator=account.username, ip=ip)
        return LoginResult(token=token, expires_in_s=ttl, username=account.username), audit

    def _release(self, counters: list[tuple[str, int, float, bool]], now: float) -> None:
        for key, _, _, _ in counters:
            self._store.discard_event(key, now)

    def verify(self, token: str, now: float) -> TokenRecord | None:
        owner = self.accounts.token_owner(digest(token), now)
        if owner is None:
            return None
        account, expires_at = owner
        if account.disabled:
            # Disabled after login (possibly by the admin CLI in another process).
            self.accounts.drop_tokens(account.username)
            return None
        return TokenRecord(
            username=account.username,
            display_name=account.display_name,
            organisation=account.organisation,
            expires_at=expires_at,
        )

    def active(self, username: str) -> bool:
        account = self.accounts.get(username)
        if account is None or account.disabled:
            self.accounts.drop_tokens(username)
            return False
        return True
