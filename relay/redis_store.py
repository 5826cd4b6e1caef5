"""The shared :class:`relay.store.Store` of several relay nodes, on Redis (or Valkey).

Why a *blocking* client (redis-py's ``redis.Redis``) in an asyncio relay: the
registry is a synchronous, sans-IO core, and every store call sits in the middle
of one of its transitions. Making the store async would make the whole registry
async (and its invariants would then have to survive interleaving at every
``await``). A round trip to Redis on loopback or a LAN takes about 0.1 ms, and each
store call here is exactly one round trip (a Lua script or a single command), so a
registry step costs well under a millisecond of blocked loop. What must never
happen is a long block: the client has short socket timeouts, retries once at once
(a pooled connection that died with a restarted Redis), and after any failure a
circuit breaker answers :class:`relay.store.StoreUnavailable` at once for
``_OPEN_S`` without touching the network. The asynchronous parts (pub/sub routing
between nodes, node heartbeats) use ``redis.asyncio`` in :mod:`relay.cluster`.

Data model (``mg:`` prefix; one Redis database per relay cluster):

* ``mg:pairings`` hash: pairing id -> the record as JSON (sorted keys, so that a
  compare-and-set compares exact text); ``mg:codes`` hash: live code -> id;
  ``mg:resume`` hash: resume digest -> id; ``mg:phases`` hash: phase -> count;
  ``mg:waiting-ip`` hash: agent address -> waiting codes; ``mg:held`` hash:
  operator -> pairings held. One Lua script
  (``_WRITE``) checks the expected record and updates all of them atomically;
* ``mg:q:<id>`` / ``mg:q:<id>/operator`` lists: messages for an away client;
* ``mg:r:<code>``: a retired code, ``"reason until"``, with a PX expiry;
* ``mg:e:<key>`` sorted sets (score = time): sliding-window counters, pruned and
  counted in one script; ``mg:l:<key>``: a lock, its end time, with a PX expiry.

Lockouts (``mg:l:lock:<user>``) must survive a Redis restart: run Redis with
``appendonly yes`` and ``appendfsync everysec`` (docs/operations.md).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from protocol import ProtocolError, SignalingMessage, decode_signaling, encode

from .store import Pairing, Phase, RetiredReason, StoreUnavailable

__all__ = ["RedisStore", "PREFIX"]

logger = logging.getLogger(__name__)

PREFIX = "mg:"
_PAIRINGS = PREFIX + "pairings"
_CODES = PREFIX + "codes"
_RESUME = PREFIX + "resume"
_PHASES = PREFIX + "phases"
_WAITING_IP = PREFIX + "waiting-ip"
_HELD = PREFIX + "held"

_SOCKET_TIMEOUT_S = 0.25
"""A healthy Redis answers in a fraction of a millisecond; a quarter second is already an
outage. With the one retry, an unreachable Redis (packets dropped, not refused) blocks a
node at most about half a second before the breaker opens."""

_OPEN_S = 1.0
"""After a failure, fail fast this long before trying Redis again (the circuit breaker)."""

_T = TypeVar("_T")

# Insert (expected ""), replace, or remove (new "") one pairing and its indexes, only if the
# stored record is the expected one. KEYS: pairings codes resume phases waiting-ip queue
# operator-queue retired held. ARGV: id expected new old_code new_code old_hashes new_hashes
# old_phase new_phase old_wait_ip new_wait_ip retired_value retired_px old_holder new_holder
_WRITE = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '' then
  if cur then return 0 end
  if redis.call('HEXISTS', KEYS[2], ARGV[5]) == 1 then return 0 end
else
  if cur ~= ARGV[2] then return 0 end
  if redis.call('HGET', KEYS[2], ARGV[4]) == ARGV[1] then redis.call('HDEL', KEYS[2], ARGV[4]) end
  for h in string.gmatch(ARGV[6], '%S+') do
    if redis.call('HGET', KEYS[3], h) == ARGV[1] then redis.call('HDEL', KEYS[3], h) end
  end
  redis.call('HINCRBY', KEYS[4], ARGV[8], -1)
  if ARGV[10] ~= '' and redis.call('HINCRBY', KEYS[5], ARGV[10], -1) <= 0 then
    redis.call('HDEL', KEYS[5], ARGV[10])
  end
  if ARGV[14] ~= '' and redis.call('HINCRBY', KEYS[9], ARGV[14], -1) <= 0 then
    redis.call('HDEL', KEYS[9], ARGV[14])
  end
end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('DEL', KEYS[6], KEYS[7])
  if ARGV[12] ~= '' then redis.call('SET', KEYS[8], ARGV[12], 'PX', ARGV[13]) end
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  redis.call('HSET', KEYS[2], ARGV[5], ARGV[1])
  for h in string.gmatch(ARGV[7], '%S+') do redis.call('HSET', KEYS[3], h, ARGV[1]) end
  redis.call('HINCRBY', KEYS[4], ARGV[9], 1)
  if ARGV[11] ~= '' then redis.call('HINCRBY', KEYS[5], ARGV[11], 1) end
  if ARGV[15] ~= '' then redis.call('HINCRBY', KEYS[9], ARGV[15], 1) end
end
return 1
"""

# KEYS: index hash, pairings. ARGV: index field.
_LOOKUP = """
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then return false end
return redis.call('HGET', KEYS[2], id)
"""

# KEYS: queue. ARGV: message limit.
_QUEUE = """
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[1])
return 1
"""

# KEYS: events. ARGV: now window member ttl_ms. Events at or before now - window are gone.
_ADD_EVENT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return redis.call('ZCARD', KEYS[1])
"""

# KEYS: events. ARGV: at.
_DISCARD_EVENT = """
local found = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1], 'LIMIT', 0, 1)
if found[1] then redis.call('ZREM', KEYS[1], found[1]) end
return 0
"""


class RedisStore:
    """:class:`relay.store.Store` on one Redis database (module docstring)."""

    shared = True

    def __init__(self, url: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self._clock = clock
        self._redis: redis.Redis = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=_SOCKET_TIMEOUT_S,
            socket_connect_timeout=_SOCKET_TIMEOUT_S,
            retry=Retry(NoBackoff(), 1),
            health_check_interval=0,
        )
        self._write = self._redis.register_script(_WRITE)
        self._lookup = self._redis.register_script(_LOOKUP)
        self._queue = self._redis.register_script(_QUEUE)
        self._add_event = self._redis.register_script(_ADD_EVENT)
        self._discard_event = self._redis.register_script(_DISCARD_EVENT)
        self._open_until = 0.0

    def close(self) -> None:
        self._redis.close()

    def ping(self) -> bool:
        """True if Redis answers now (ignores the circuit breaker)."""
        try:
            return bool(self._redis.ping())
        except redis.RedisError:
            return False

    # --- the circuit breaker -------------------------------------------------------

    def _call(self, what: str, fn: Callable[[], _T]) -> _T:
        if self._clock() < self._open_until:
            raise StoreUnavailable(f"redis at {self._where()} failed a moment ago")
        try:
            return fn()
        except (
            redis.ConnectionError,
            redis.TimeoutError,
            redis.BusyLoadingError,
            redis.ReadOnlyError,
        ) as exc:
            if self._open_until == 0.0:
                logger.warning("redis %s: closed -> open (%s failed: %s)", self._where(), what, exc)
            self._open_until = self._clock() + _OPEN_S
            raise StoreUnavailable(f"redis at {self._where()}: {type(exc).__name__}") from exc

    def _ok(self) -> None:
        if self._open_until:
            logger.warning("redis %s: open -> closed", self._where())
            self._open_until = 0.0

    def _run(self, what: str, fn: Callable[[], _T]) -> _T:
        result = self._call(what, fn)
        self._ok()
        return result

    def _where(self) -> str:
        kwargs = self._redis.connection_pool.connection_kwargs
        return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"

    # --- pairings ------------------------------------------------------------------

    def add_pairing(self, pairing: Pairing) -> bool:
        return self._cas(None, pairing)

    def replace_pairing(self, old: Pairing, new: Pairing) -> bool:
        if old.id != new.id:
            return False
        return self._cas(old, new)

    def retire_pairing(self, old: Pairing, reason: RetiredReason, until: float) -> bool:
        return self._cas(old, None, retired=(reason, until))

    def _cas(
        self, old: Pairing | None, new: Pairing | None, *, retired: tuple[RetiredReason, float] | None = None
    ) -> bool:
        some = new if new is not None else old
        assert some is not None
        keys = [
            _PAIRINGS,
            _CODES,
            _RESUME,
            _PHASES,
            _WAITING_IP,
            _queue_key(some.id),
            _queue_key(some.id) + "/operator",
            _retired_key(some.code),
            _HELD,
        ]
        value, px = "", "0"
        if retired is not None:
            reason, until = retired
            value = f"{reason} {until!r}"
            px = str(_ttl_ms(until))
        args = [
            some.id,
            "" if old is None else _dump(old),
            "" if new is None else _dump(new),
            "" if old is None else old.code,
            "" if new is None else new.code,
            "" if old is None else " ".join(_resume_hashes(old)),
            "" if new is None else " ".join(_resume_hashes(new)),
            "" if old is None else old.phase,
            "" if new is None else new.phase,
            _waiting_ip(old),
            _waiting_ip(new),
            value,
            px,
            _holder(old),
            _holder(new),
        ]
        return bool(self._run("write", lambda: self._write(keys=keys, args=args)))

    def get_pairing(self, pairing_id: str) -> Pairing | None:
        raw = self._run("get", lambda: self._redis.hget(_PAIRINGS, pairing_id))
        return None if raw is None else _load(cast(str, raw))

    def pairing_by_code(self, code: str) -> Pairing | None:
        raw = self._run("lookup", lambda: self._lookup(keys=[_CODES, _PAIRINGS], args=[code]))
        return _load(raw) if raw else None

    def pairing_by_resume(self, resume_hash: str) -> Pairing | None:
        raw = self._run("lookup", lambda: self._lookup(keys=[_RESUME, _PAIRINGS], args=[resume_hash]))
        return _load(raw) if raw else None

    def pairings(self) -> list[Pairing]:
        raws = self._run("list", lambda: self._redis.hvals(_PAIRINGS))
        return [_load(raw) for raw in cast(list[str], raws)]

    def live_codes(self) -> set[str]:
        return set(cast(list[str], self._run("codes", lambda: self._redis.hkeys(_CODES))))

    def count_phase(self, phase: Phase) -> int:
        return int(cast(str | None, self._run("count", lambda: self._redis.hget(_PHASES, phase))) or 0)

    def count_waiting_from(self, ip: str) -> int:
        return int(cast(str | None, self._run("count", lambda: self._redis.hget(_WAITING_IP, ip))) or 0)

    def count_held_by(self, operator: str) -> int:
        return int(cast(str | None, self._run("count", lambda: self._redis.hget(_HELD, operator))) or 0)

    # --- queues for an away client ---------------------------------------------------

    def queue_for_agent(self, pairing_id: str, message: SignalingMessage, limit: int) -> bool:
        return self._push(_queue_key(pairing_id), message, limit)

    def drain_agent_queue(self, pairing_id: str) -> list[SignalingMessage]:
        return self._drain(_queue_key(pairing_id))

    def queue_for_operator(self, pairing_id: str, message: SignalingMessage, limit: int) -> bool:
        return self._push(_queue_key(pairing_id) + "/operator", message, limit)

    def drain_operator_queue(self, pairing_id: str) -> list[SignalingMessage]:
        return self._drain(_queue_key(pairing_id) + "/operator")

    def _push(self, key: str, message: SignalingMessage, limit: int) -> bool:
        return bool(self._run("queue", lambda: self._queue(keys=[key], args=[encode(message), limit])))

    def _drain(self, key: str) -> list[SignalingMessage]:
        def drain() -> list[Any]:
            pipe = self._redis.pipeline(transaction=True)
            pipe.lrange(key, 0, -1)
            pipe.delete(key)
            return pipe.execute()

        raws = cast(list[str], self._run("drain", drain)[0])
        out: list[SignalingMessage] = []
        for raw in raws:
            try:
                out.append(decode_signaling(raw))
            except ProtocolError:  # written by a node of another version: drop, never crash
                logger.warning("queue %s: undecodable message dropped", key)
        return out

    # --- retired codes ---------------------------------------------------------------

    def retire_code(self, code: str, reason: RetiredReason, until: float) -> None:
        value = f"{reason} {until!r}"
        self._run("retire", lambda: self._redis.set(_retired_key(code), value, px=_ttl_ms(until)))

    def retired_code(self, code: str, now: float) -> RetiredReason | None:
        raw = cast(str | None, self._run("retired", lambda: self._redis.get(_retired_key(code))))
        if raw is None:
            return None
        reason, _, until = raw.partition(" ")
        if float(until) <= now or reason not in ("expired", "used"):
            return None
        return cast(RetiredReason, reason)

    # --- counters and locks ----------------------------------------------------------

    def add_event(self, key: str, now: float, window_s: float) -> int:
        member = f"{now!r}:{secrets.token_hex(4)}"  # members are unique, scores need not be
        ttl = math.ceil(window_s * 1000) + 1000
        args: list[str | int] = [repr(now), repr(window_s), member, ttl]
        return int(self._run("count", lambda: self._add_event(keys=[_event_key(key)], args=args)))

    def discard_event(self, key: str, at: float) -> None:
        self._run("count", lambda: self._discard_event(keys=[_event_key(key)], args=[repr(at)]))

    def count_events(self, key: str, now: float, window_s: float) -> int:
        low = f"({now - window_s!r}"
        return int(cast(int, self._run("count", lambda: self._redis.zcount(_event_key(key), low, "+inf"))))

    def oldest_event(self, key: str, now: float, window_s: float) -> float | None:
        low = f"({now - window_s!r}"
        found = self._run(
            "count",
            lambda: self._redis.zrangebyscore(_event_key(key), low, "+inf", start=0, num=1, withscores=True),
        )
        pairs = cast(list[tuple[str, float]], found)
        return float(pairs[0][1]) if pairs else None

    def set_lock(self, key: str, until: float) -> None:
        self._run("lock", lambda: self._redis.set(_lock_key(key), repr(until), px=_ttl_ms(until)))

    def lock_until(self, key: str, now: float) -> float | None:
        raw = cast(str | None, self._run("lock", lambda: self._redis.get(_lock_key(key))))
        if raw is None:
            return None
        until = float(raw)
        return until if until > now else None

    def prune(self, now: float) -> None:
        """Nothing to do: retired codes, counters and locks carry their own Redis expiry."""


def _dump(p: Pairing) -> str:
    return json.dumps(dataclasses.asdict(p), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _load(raw: str) -> Pairing:
    return Pairing(**json.loads(raw))


def _resume_hashes(p: Pairing) -> list[str]:
    return [h for h in (p.resume_hash, p.operator_resume_hash) if h]


def _waiting_ip(p: Pairing | None) -> str:
    if p is None or p.phase != "waiting" or p.agent_ip is None:
        return ""
    return p.agent_ip


def _holder(p: Pairing | None) -> str:
    """The operator a pairing counts against (its issued code, claim or session), if any."""
    if p is None or not p.operator or p.phase == "waiting":
        return ""
    return p.operator


def _ttl_ms(until: float) -> int:
    """A Redis expiry for a wall-clock deadline: the value says the deadline, the TTL only tidies."""
    return max(1, math.ceil((until - time.time()) * 1000) + 1000)


def _queue_key(pairing_id: str) -> str:
    return f"{PREFIX}q:{pairing_id}"


def _retired_key(code: str) -> str:
    return f"{PREFIX}r:{code}"


def _event_key(key: str) -> str:
    return f"{PREFIX}e:{key}"


def _lock_key(key: str) -> str:
    return f"{PREFIX}l:{key}"
