"""The admin web's browser sessions: a cookie, a CSRF token bound to it, an idle timeout.

Sans-IO: every call takes ``now``. A session starts *anonymous* when the login page
is shown (so that the login form is CSRF-protected too) and is replaced by a new
one, with a new id and a new CSRF token, when the admin logs in: an id planted
before the login is worth nothing after it. The cookie carries a 256-bit random id;
only its SHA-256 is kept. A session unused for ``idle_timeout_s`` is gone, and so
is the oldest one when there are more than ``max_sessions`` (a flood of login
pages cannot grow memory). Sessions live in this node's memory: a restart of the
relay logs every admin out. With PostgreSQL (several nodes, no stickiness)
relay/shared_admin_sessions.py keeps them in the database instead, with the same calls.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from collections import OrderedDict

__all__ = ["AdminSession", "AdminSessions"]


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclasses.dataclass
class AdminSession:
    csrf: str = dataclasses.field(repr=False)
    last_seen: float
    lang: str = "ja"
    username: str | None = None
    """None until the admin logs in."""

    def csrf_ok(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token.encode(), self.csrf.encode())


class AdminSessions:
    def __init__(self, idle_timeout_s: float, max_sessions: int = 10_000) -> None:
        self.idle_timeout_s = idle_timeout_s
        self.max_sessions = max_sessions
        self._by_hash: OrderedDict[str, AdminSession] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_hash)

    def start(self, now: float, *, lang: str = "ja", username: str | None = None) -> tuple[str, AdminSession]:
        """A new session; its cookie value (the only copy) and the session."""
        cookie = secrets.token_urlsafe(32)
        session = AdminSession(csrf=secrets.token_urlsafe(32), last_seen=now, lang=lang, username=username)
        self._by_hash[_digest(cookie)] = session
        while len(self._by_hash) > self.max_sessions:
            self._by_hash.popitem(last=False)
        return cookie, session

    def get(self, cookie: str | None, now: float) -> AdminSession | None:
        """The live session of this cookie, its idle clock restarted; None if unknown or idle too long."""
        if not cookie:
            return None
        key = _digest(cookie)
        session = self._by_hash.get(key)
        if session is None:
            return None
        if now - session.last_seen >= self.idle_timeout_s:
            del self._by_hash[key]
            return None
        session.last_seen = now
        self._by_hash.move_to_end(key)
        return session

    def end(self, cookie: str | None) -> None:
        if cookie:
            self._by_hash.pop(_digest(cookie), None)

    def end_user(self, username: str) -> int:
        """Log ``username`` out everywhere (their account was disabled); how many sessions."""
        keys = [k for k, s in self._by_hash.items() if s.username == username]
        for key in keys:
            del self._by_hash[key]
        return len(keys)

    def prune(self, now: float) -> None:
        while self._by_hash:
            key, session = next(iter(self._by_hash.items()))
            if now - session.last_seen < self.idle_timeout_s:
                break
            del self._by_hash[key]
