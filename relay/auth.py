"""Operator login: password check, rate limits, short-lived tokens.

``POST /api/login`` calls :meth:`Auth.login`; the operator websocket's first
message carries the token, which :meth:`Auth.verify` checks (it is the
registry's :class:`relay.registry.Authenticator`). Tokens are 256-bit random
values kept only as SHA-256 digests in the store, expire after
``token_ttl_s``, and stop working as soon as the account is disabled.

Failed logins are counted per client IP and per username in a sliding window;
once either limit is reached further attempts are refused *before* the password
is checked, so a guesser gets at most that many tries per window.
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
        window = lim.login_window_s
        for key, limit in (
            (f"login-ip:{ip}", lim.login_failures_per_ip),
            (f"login-user:{username}", lim.login_failures_per_user),
        ):
            if self._store.count_events(key, now, window) >= limit:
                oldest = self._store.oldest_event(key, now, window)
                retry = window if oldest is None else max(1.0, oldest + window - now)
                raise LoginRefused(429, "rate_limited", "too many failed logins; try again later", retry)
        account = await asyncio.to_thread(self.accounts.check_password, username, password)
        if account is None:
            self._store.add_event(f"login-ip:{ip}", now, window)
            self._store.add_event(f"login-user:{username}", now, window)
            raise LoginRefused(401, "invalid_credentials", "wrong username or password")
        if account.disabled:
            raise LoginRefused(403, "locked", "this operator account is disabled; ask an administrator")
        token = secrets.token_urlsafe(32)
        ttl = self._config.token_ttl_s
        self._store.put_token(
            digest(token),
            TokenRecord(
                username=account.username,
                display_name=account.display_name,
                organisation=account.organisation,
                expires_at=now + ttl,
            ),
        )
        logger.info("operator %s: logged out -> logged in", account.username)
        audit = Audit("login_succeeded", operator=account.username, ip=ip)
        return LoginResult(token=token, expires_in_s=ttl, username=account.username), audit

    def verify(self, token: str, now: float) -> TokenRecord | None:
        record = self._store.get_token(digest(token), now)
        if record is None:
            return None
        account = self.accounts.get(record.username)
        if account is None or account.disabled:
            # Disabled after login (possibly by the admin CLI in another process).
            self._store.drop_tokens_of(record.username)
            return None
        return dataclasses.replace(
            record, display_name=account.display_name, organisation=account.organisation
        )

    def active(self, username: str) -> bool:
        account = self.accounts.get(username)
        if account is None or account.disabled:
            self._store.drop_tokens_of(username)
            return False
        return True
