"""One contract for both stores: the embedded MemoryStore and RedisStore on a real redis-server.

The compare-and-set writes are what let several relay nodes share pairings without
two of them making one transition; the counters are what hold the lockout across
nodes. The Redis half runs against a redis-server started here (testbed.redis).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest
import redis

from protocol import Ice
from relay.redis_store import RedisStore
from relay.store import MemoryStore, Pairing, Store, StoreUnavailable, digest
from testbed.redis import RunningRedis, running_redis


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RunningRedis]:
    with running_redis() as server:
        yield server


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    server: RunningRedis = request.getfixturevalue("redis_server")
    redis.Redis.from_url(server.url).flushdb()
    s = RedisStore(server.url)
    try:
        yield s
    finally:
        s.close()


def _pairing(pid: str = "p1", code: str = "1234", **fields: object) -> Pairing:
    now = time.time()
    values: dict[str, object] = {
        "id": pid,
        "code": code,
        "issued_by": "agent",
        "phase": "waiting",
        "created_at": now,
        "code_expires_at": now + 600,
        "agent_conn": "n1.a1",
        "agent_ip": "10.0.0.1",
        "resume_hash": digest(f"token-{pid}"),
    }
    values.update(fields)
    return Pairing(**values)  # type: ignore[arg-type]


def test_add_reserves_the_code(store: Store) -> None:
    p = _pairing()
    assert store.add_pairing(p)
    assert not store.add_pairing(_pairing("p2", "1234")), "a live code is never handed out twice"
    assert not store.add_pairing(_pairing("p1", "9999")), "nor a live id"
    assert store.get_pairing("p1") == p
    assert store.pairing_by_code("1234") == p
    assert store.pairing_by_resume(digest("token-p1")) == p
    assert store.live_codes() == {"1234"}
    assert store.count_phase("waiting") == 1
    assert store.count_waiting_from("10.0.0.1") == 1
    assert store.pairings() == [p]


def test_replace_is_compare_and_set(store: Store) -> None:
    p = _pairing()
    store.add_pairing(p)
    claimed = dataclasses.replace(p, phase="pending", operator_conn="n2.o1", operator="hanako")
    other = dataclasses.replace(p, phase="pending", operator_conn="n3.o1", operator="taro")
    assert store.replace_pairing(p, claimed)
    assert not store.replace_pairing(p, other), "the second claim of one code loses"
    assert store.get_pairing("p1") == claimed
    assert store.count_phase("waiting") == 0
    assert store.count_phase("pending") == 1
    assert store.count_waiting_from("10.0.0.1") == 0
    assert store.count_held_by("hanako") == 1
    assert store.count_held_by("taro") == 0
    active = dataclasses.replace(claimed, phase="active", operator_resume_hash=digest("op"))
    assert store.replace_pairing(claimed, active)
    assert store.pairing_by_resume(digest("op")) == active
    assert store.pairing_by_resume(digest("token-p1")) == active


def test_retire_happens_once(store: Store) -> None:
    now = time.time()
    p = _pairing(phase="pending", operator="hanako")
    store.add_pairing(p)
    assert store.count_held_by("hanako") == 1
    assert store.queue_for_agent("p1", Ice(candidate="c"), 2)
    assert store.retire_pairing(p, "expired", now + 60)
    assert not store.retire_pairing(p, "expired", now + 60), "only one node ends it (and audits)"
    assert store.get_pairing("p1") is None
    assert store.pairing_by_code("1234") is None
    assert store.pairing_by_resume(digest("token-p1")) is None
    assert store.live_codes() == set()
    assert store.count_phase("pending") == 0
    assert store.count_waiting_from("10.0.0.1") == 0
    assert store.count_held_by("hanako") == 0
    assert store.retired_code("1234", now) == "expired"
    assert store.retired_code("1234", now + 61) is None
    assert store.drain_agent_queue("p1") == []
    assert store.add_pairing(_pairing("p2", "1234")), "a retired code may be live again"


def test_stale_record_cannot_retire(store: Store) -> None:
    p = _pairing()
    store.add_pairing(p)
    away = dataclasses.replace(p, agent_conn=None, agent_away_since=time.time())
    assert store.replace_pairing(p, away)
    assert not store.retire_pairing(p, "expired", time.time() + 60)
    assert store.get_pairing("p1") == away


def test_queues_keep_order_and_limit(store: Store) -> None:
    store.add_pairing(_pairing())
    assert store.queue_for_agent("p1", Ice(candidate="a"), 2)
    assert store.queue_for_agent("p1", Ice(candidate="b"), 2)
    assert not store.queue_for_agent("p1", Ice(candidate="c"), 2)
    assert store.queue_for_operator("p1", Ice(candidate="o"), 2)
    assert store.drain_agent_queue("p1") == [Ice(candidate="a"), Ice(candidate="b")]
    assert store.drain_agent_queue("p1") == []
    assert store.drain_operator_queue("p1") == [Ice(candidate="o")]


def test_sliding_window_counters(store: Store) -> None:
    now = time.time()
    assert store.add_event("k", now - 10, 5) == 1
    assert store.add_event("k", now - 1, 5) == 1, "the event 10 s ago is outside the 5 s window"
    assert store.add_event("k", now, 5) == 2
    assert store.add_event("k", now, 5) == 3, "two events at one instant are two"
    assert store.count_events("k", now, 5) == 3
    assert store.oldest_event("k", now, 5) == pytest.approx(now - 1)
    store.discard_event("k", now)
    assert store.count_events("k", now, 5) == 2
    assert store.count_events("k", now + 4.5, 5) == 1
    assert store.count_events("nothing", now, 5) == 0
    assert store.oldest_event("nothing", now, 5) is None


def test_locks(store: Store) -> None:
    now = time.time()
    assert store.lock_until("lock:hanako", now) is None
    store.set_lock("lock:hanako", now + 30)
    assert store.lock_until("lock:hanako", now) == pytest.approx(now + 30)
    assert store.lock_until("lock:hanako", now + 31) is None
    store.prune(now)
    assert store.lock_until("lock:hanako", now) == pytest.approx(now + 30)


def test_redis_down_fails_fast_and_recovers(redis_server: RunningRedis) -> None:
    store = RedisStore(redis_server.url)
    try:
        store.set_lock("lock:hanako", time.time() + 60)
        time.sleep(1.2)  # appendfsync everysec: the lock is on disk within a second
        redis_server.kill()
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            store.lock_until("lock:hanako", time.time())
        with pytest.raises(StoreUnavailable):  # the breaker is open: no network at all
            store.count_phase("waiting")
        assert time.monotonic() - started < 0.5
        redis_server.start()
        deadline = time.monotonic() + 3
        while True:
            try:
                locked = store.lock_until("lock:hanako", time.time())
                break
            except StoreUnavailable:
                assert time.monotonic() < deadline, "the store did not come back by itself"
                time.sleep(0.1)
        assert locked is not None, "the lockout survived the crash (AOF, appendfsync everysec)"
    finally:
        store.close()
        if redis_server.process is None or redis_server.process.poll() is not None:
            redis_server.start()
