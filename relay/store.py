"""Shared relay state behind one interface: pairings, retired codes, counters, locks.

The registry keeps only per-connection state in its own memory; everything that
several relay nodes would have to agree on lives in a :class:`Store`. Records are
frozen dataclasses: the registry reads a record, builds a changed copy with
``dataclasses.replace`` and writes it back with a compare-and-set
(:meth:`Store.replace_pairing`: only if the record is still the one it read), so a
store that serialises records (:class:`relay.redis_store.RedisStore`, see
docs/operations.md) works the same way as :class:`MemoryStore`, the embedded
default, and two relay nodes never both make one transition (two claims of one
code, two expiries of one session). New pairings reserve their code atomically
(:meth:`Store.add_pairing`), so codes are unique across nodes.

Secrets are never stored in the clear: resume tokens are kept as SHA-256 digests
(they are 256-bit random values, so a plain hash is enough). Operator login tokens
are not here: they live in the accounts database (relay.accounts), which outlives
a restart.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from collections import Counter, deque
from typing import TYPE_CHECKING, Literal, Protocol

from protocol import ClientKind, Role, Scope, SignalingMessage

__all__ = [
    "Phase",
    "Pairing",
    "RetiredReason",
    "TokenRecord",
    "Store",
    "StoreUnavailable",
    "MemoryStore",
    "digest",
]

Phase = Literal["waiting", "issued", "pending", "active"]
"""``waiting``: agent holds a 4-digit code; ``issued``: operator holds a 6-digit code;
``pending``: claimed, the customer is asked to allow; ``active``: a session."""

RetiredReason = Literal["expired", "used"]


def digest(secret: str) -> str:
    """The stored form of a random secret token."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)  # one per pairing: ~1 KiB less each
class Pairing:
    """One code's life: from issue through claim and allow to the end of the session."""

    id: str
    """Also the session id once the customer allows."""
    code: str
    issued_by: Role
    phase: Phase
    created_at: float
    code_expires_at: float
    agent_conn: str | None = None
    agent_ip: str | None = None
    agent_away_since: float | None = None
    """Set while the agent's websocket is gone and the resume grace runs."""
    resume_hash: str | None = None
    client: ClientKind = "agent"
    sysinfo_scope: Scope = "detailed"
    client_version: str = ""
    operator_conn: str | None = None
    operator: str | None = None
    operator_display_name: str = ""
    operator_organisation: str = ""
    operator_ip: str | None = None
    operator_away_since: float | None = None
    """Set while the operator's websocket is gone during a session and the resume grace runs."""
    operator_resume_hash: str | None = None
    """Digest of the secret in the operator's ``session_start``, which resumes the session."""
    decision_deadline: float | None = None
    started_at: float | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)  # one per operator socket
class TokenRecord:
    """An operator login, as :meth:`relay.auth.Auth.verify` finds it (relay.accounts keeps the tokens)."""

    username: str
    display_name: str
    organisation: str
    expires_at: float


class StoreUnavailable(Exception):
    """A shared store cannot be reached (or failed a moment ago: the circuit is open).

    The registry answers new claims and registrations with ``unavailable`` and
    keeps live sessions' sockets (docs/operations.md, "Several nodes")."""


class Store(Protocol):
    """Everything the registry shares with other relay nodes.

    Methods are synchronous: the in-memory store is trivially so, and a networked
    store answers in a round trip of a tenth of a millisecond on a LAN (see
    relay/redis_store.py). Any method of a networked store may raise
    :class:`StoreUnavailable`.
    """

    shared: bool
    """True when other relay nodes use this store too (the registry then syncs its code
    pool with the store's live codes and routes effects to other nodes' connections)."""

    # pairings: writes are compare-and-set, so nodes never both make one transition
    def add_pairing(self, pairing: Pairing) -> bool:
        """Insert a new pairing; False (and nothing stored) if its id or code is live already."""
        ...

    def replace_pairing(self, old: Pairing, new: Pairing) -> bool:
        """Store ``new`` (same id) only if the stored record still equals ``old``."""
        ...

    def retire_pairing(self, old: Pairing, reason: RetiredReason, until: float) -> bool:
        """Remove the pairing (and its queues) and retire its code until ``until``, only if the
        stored record still equals ``old``: whoever gets True is the one who ended it."""
        ...

    def get_pairing(self, pairing_id: str) -> Pairing | None: ...
    def pairing_by_code(self, code: str) -> Pairing | None: ...
    def pairing_by_resume(self, resume_hash: str) -> Pairing | None: ...
    def pairings(self) -> list[Pairing]: ...
    def live_codes(self) -> set[str]: ...
    def count_phase(self, phase: Phase) -> int:
        """How many pairings are in ``phase``, without listing them (checked on every registration)."""
        ...

    def count_waiting_from(self, ip: str) -> int:
        """Agent codes waiting for a claim whose agent is at ``ip`` (the per-address cap)."""
        ...

    def count_held_by(self, operator: str) -> int:
        """Pairings ``operator`` holds: issued codes, claims and sessions (the per-operator cap)."""
        ...

    # messages for an agent (or, in a session, an operator) that is away (resume grace)
    def queue_for_agent(self, pairing_id: str, message: SignalingMessage, limit: int) -> bool: ...
    def drain_agent_queue(self, pairing_id: str) -> list[SignalingMessage]: ...
    def queue_for_operator(self, pairing_id: str, message: SignalingMessage, limit: int) -> bool: ...
    def drain_operator_queue(self, pairing_id: str) -> list[SignalingMessage]: ...

    # codes that were expired or used, to tell those apart from unknown codes
    def retire_code(self, code: str, reason: RetiredReason, until: float) -> None: ...
    def retired_code(self, code: str, now: float) -> RetiredReason | None: ...

    # sliding-window counters and locks (rate limits, lockouts)
    def add_event(self, key: str, now: float, window_s: float) -> int: ...
    def discard_event(self, key: str, at: float) -> None:
        """Take back one event added at ``at`` (a reservation that turned out not to count)."""
        ...

    def count_events(self, key: str, now: float, window_s: float) -> int: ...
    def oldest_event(self, key: str, now: float, window_s: float) -> float | None: ...
    def set_lock(self, key: str, until: float) -> None: ...
    def lock_until(self, key: str, now: float) -> float | None: ...

    def prune(self, now: float) -> None:
        """Forget expired retired codes, old counter events and ended locks."""
        ...


class MemoryStore:
    """The embedded single-node store: plain dicts, pruned on every timer tick."""

    def __init__(self, *, shared: bool = False) -> None:
        self.shared = shared
        """True: several registries in one process use this store as relay nodes use Redis
        (the registry's unit tests of several nodes)."""
        self._pairings: dict[str, Pairing] = {}
        self._by_code: dict[str, str] = {}
        self._by_resume: dict[str, str] = {}
        # Kept with every put/remove so that limits are checked in O(1), not by a scan.
        self._phases: Counter[Phase] = Counter()
        self._waiting_ips: Counter[str] = Counter()
        self._held: Counter[str] = Counter()
        self._queues: dict[str, list[SignalingMessage]] = {}
        self._retired: dict[str, tuple[RetiredReason, float]] = {}
        self._events: dict[str, deque[float]] = {}
        self._event_windows: dict[str, float] = {}
        self._locks: dict[str, float] = {}

    # pairings ------------------------------------------------------------------
    def add_pairing(self, pairing: Pairing) -> bool:
        if pairing.id in self._pairings or pairing.code in self._by_code:
            return False
        self.put_pairing(pairing)
        return True

    def replace_pairing(self, old: Pairing, new: Pairing) -> bool:
        if old.id != new.id or self._pairings.get(old.id) != old:
            return False
        self.put_pairing(new)
        return True

    def retire_pairing(self, old: Pairing, reason: RetiredReason, until: float) -> bool:
        if self._pairings.get(old.id) != old:
            return False
        self.remove_pairing(old.id)
        self.retire_code(old.code, reason, until)
        return True

    def put_pairing(self, pairing: Pairing) -> None:
        """Store unconditionally (a single node's tests; the registry uses the methods above)."""
        old = self._pairings.get(pairing.id)
        if old is not None:
            if old.code != pairing.code:
                self._by_code.pop(old.code, None)
            for h in _resume_hashes(old) - _resume_hashes(pairing):
                self._by_resume.pop(h, None)
            self._uncount(old)
        self._count(pairing)
        self._pairings[pairing.id] = pairing
        self._by_code[pairing.code] = pairing.id
        for h in _resume_hashes(pairing):
            self._by_resume[h] = pairing.id

    def get_pairing(self, pairing_id: str) -> Pairing | None:
        return self._pairings.get(pairing_id)

    def remove_pairing(self, pairing_id: str) -> None:
        old = self._pairings.pop(pairing_id, None)
        self._queues.pop(pairing_id, None)
        self._queues.pop(_operator_queue(pairing_id), None)
        if old is None:
            return
        self._uncount(old)
        if self._by_code.get(old.code) == pairing_id:
            del self._by_code[old.code]
        for h in _resume_hashes(old):
            if self._by_resume.get(h) == pairing_id:
                del self._by_resume[h]

    def pairing_by_code(self, code: str) -> Pairing | None:
        pid = self._by_code.get(code)
        return None if pid is None else self._pairings.get(pid)

    def pairing_by_resume(self, resume_hash: str) -> Pairing | None:
        pid = self._by_resume.get(resume_hash)
        return None if pid is None else self._pairings.get(pid)

    def pairings(self) -> list[Pairing]:
        return list(self._pairings.values())

    def live_codes(self) -> set[str]:
        return set(self._by_code)

    def count_phase(self, phase: Phase) -> int:
        return self._phases[phase]

    def count_waiting_from(self, ip: str) -> int:
        return self._waiting_ips[ip]

    def count_held_by(self, operator: str) -> int:
        return self._held[operator]

    def _count(self, p: Pairing) -> None:
        self._phases[p.phase] += 1
        if p.phase == "waiting" and p.agent_ip is not None:
            self._waiting_ips[p.agent_ip] += 1
        if p.operator and p.phase != "waiting":
            self._held[p.operator] += 1

    def _uncount(self, p: Pairing) -> None:
        if p.operator and p.phase != "waiting":
            self._held[p.operator] -= 1
            if not self._held[p.operator]:
                del self._held[p.operator]
        self._phases[p.phase] -= 1
        if p.phase == "waiting" and p.agent_ip is not None:
            self._waiting_ips[p.agent_ip] -= 1
            if not self._waiting_ips[p.agent_ip]:
                del self._waiting_ips[p.agent_ip]

    # agent queue ---------------------------------------------------------------
    def queue_for_agent(self, pairing_id: str, message: SignalingMessage, limit: int) -> bool:
        queue = self._queues.setdefault(pairing_id, [])
        if len(queue) >= limit:
            return False
        queue.append(message)
        return True

    def drain_agent_queue(self, pairing_id: str) -> list[SignalingMessage]:
        return self._queues.pop(pairing_id, [])

    def queue_for_operator(self, pairing_id: str, message: SignalingMessage, limit: int) -> bool:
        return self.queue_for_agent(_operator_queue(pairing_id), message, limit)

    def drain_operator_queue(self, pairing_id: str) -> list[SignalingMessage]:
        return self._queues.pop(_operator_queue(pairing_id), [])

    # retired codes -------------------------------------------------------------
    def retire_code(self, code: str, reason: RetiredReason, until: float) -> None:
        self._retired[code] = (reason, until)

    def retired_code(self, code: str, now: float) -> RetiredReason | None:
        entry = self._retired.get(code)
        if entry is None or entry[1] <= now:
            return None
        return entry[0]

    # counters and locks --------------------------------------------------------
    def _window(self, key: str, now: float, window_s: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        self._event_windows[key] = max(window_s, self._event_windows.get(key, 0.0))
        while events and events[0] <= now - window_s:
            events.popleft()
        return events

    def add_event(self, key: str, now: float, window_s: float) -> int:
        events = self._window(key, now, window_s)
        events.append(now)
        return len(events)

    def discard_event(self, key: str, at: float) -> None:
        events = self._events.get(key)
        if events is not None:
            with contextlib.suppress(ValueError):  # already pruned
                events.remove(at)

    def count_events(self, key: str, now: float, window_s: float) -> int:
        if key not in self._events:
            return 0
        return len(self._window(key, now, window_s))

    def oldest_event(self, key: str, now: float, window_s: float) -> float | None:
        if key not in self._events:
            return None
        events = self._window(key, now, window_s)
        return events[0] if events else None

    def set_lock(self, key: str, until: float) -> None:
        self._locks[key] = until

    def lock_until(self, key: str, now: float) -> float | None:
        until = self._locks.get(key)
        return until if until is not None and until > now else None

    def prune(self, now: float) -> None:
        for code in [c for c, (_, until) in self._retired.items() if until <= now]:
            del self._retired[code]
        for key in list(self._events):
            events = self._window(key, now, self._event_windows.get(key, 0.0))
            if not events:
                del self._events[key]
                self._event_windows.pop(key, None)
        for key in [k for k, until in self._locks.items() if until <= now]:
            del self._locks[key]


def _resume_hashes(pairing: Pairing) -> set[str]:
    """The digests that resume ``pairing``: the agent's and, in a session, the operator's."""
    return {h for h in (pairing.resume_hash, pairing.operator_resume_hash) if h}


def _operator_queue(pairing_id: str) -> str:
    return f"{pairing_id}/operator"


if TYPE_CHECKING:  # mypy proves MemoryStore satisfies Store
    _STORE: Store = MemoryStore()
