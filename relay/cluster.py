"""Several relay nodes on one Redis: routing effects between nodes, and node liveness.

With a shared store (``store = "redis://..."``) every connection id is
``<node>.<local id>`` and a pairing names its two connections. When the registry
on node A emits a ``Send`` or ``Close`` for a connection of node B, this module
publishes it on B's channel (``mg:to:<B>``, Redis pub/sub, ``redis.asyncio``) and
node B's subscriber hands it to that socket's outbox, in the order published.

Failure semantics (pub/sub is at-most-once; docs/operations.md):

* A routed message is lost if it is published while the receiving node's
  subscription is down (its Redis connection is reconnecting, Redis is down) or
  the receiving node has died. Nothing is retried: the message is for a socket,
  and the same step is lost as when that socket drops at that instant. A lost
  ``peer_status`` is corrected by the next one; a lost ``ended`` leaves the other
  client with a socket whose pairing is gone, which its node notices on the next
  message (the operator's socket is idle again); a lost ``session_start``,
  ``offer`` or ``answer`` stalls that one session's setup until the customer or
  the operator ends it and starts again. This only happens while Redis or a node is
  in trouble. Messages to a client that is *known* to be away are not routed
  at all: they wait in the store's queue and are delivered on resume.
* Messages published by one node to another arrive in the order published (one
  publisher task per node, one subscriber per node).

Liveness: each node refreshes ``mg:node:<id>`` (a PX expiry of ``node_ttl_s``)
every third of that and lists itself in ``mg:nodes``. A node whose key expired is
dead: every surviving node runs :meth:`relay.registry.Registry.node_lost` for it,
which treats its sockets as dropped (each pairing's resume grace starts); the
compare-and-set writes make each change happen once however many nodes run it.
A node only judges others after its own heartbeat has succeeded for a whole
``node_ttl_s`` in a row: after a Redis outage every key may have lapsed, and the
others must get the chance to refresh theirs first.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .redis_store import PREFIX

__all__ = ["Cluster", "NodeInfo", "Routed", "new_node_id", "node_of"]

logger = logging.getLogger(__name__)

_NODES = PREFIX + "nodes"
_QUEUE_LIMIT = 10_000
"""Routed messages waiting to be published; past this they are dropped (Redis is down)."""
_RETRY_S = 0.5
_HEALTH_CHECK_S = 5
"""An idle subscription's connection is checked (PING) this often."""


def new_node_id() -> str:
    """A fresh id per process start: a restarted node is a new node."""
    return secrets.token_hex(4)


def node_of(conn_id: str) -> str:
    """The node of a ``<node>.<local>`` connection id ("" for a single node's ids)."""
    node, dot, _ = conn_id.partition(".")
    return node if dot else ""


@dataclasses.dataclass(frozen=True)
class Routed:
    """A ``Send`` (``text``, already encoded) or ``Close`` for a socket on this node."""

    conn: str
    text: str | None = None
    close_code: int | None = None
    reason: str = ""


@dataclasses.dataclass(frozen=True)
class NodeInfo:
    """What a live node says about itself in its liveness key (the admin overview)."""

    node: str
    started_at: float
    connections: int
    sessions_here: int = 0


def _node_key(node: str) -> str:
    return f"{PREFIX}node:{node}"


def _channel(node: str) -> str:
    return f"{PREFIX}to:{node}"


class Cluster:
    """This node's part: publish to other nodes, receive for ours, heartbeat, find dead nodes."""

    def __init__(
        self,
        url: str,
        node: str,
        ttl_s: float,
        *,
        deliver: Callable[[Routed], None],
        node_lost: Callable[[str], bool],
        describe: Callable[[], dict[str, Any]],
    ) -> None:
        self.node = node
        self.ttl_s = ttl_s
        self._deliver = deliver
        self._node_lost = node_lost
        self._describe = describe
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url, decode_responses=True, socket_timeout=2.0, socket_connect_timeout=1.0
        )
        # The subscription sits idle for as long as no other node routes to us: no read
        # timeout there (it would drop the subscription, and what is routed meanwhile),
        # but a PING when idle (health check) so that a dead connection is noticed.
        self._sub_redis: aioredis.Redis = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=None,
            socket_connect_timeout=1.0,
            socket_keepalive=True,
            health_check_interval=_HEALTH_CHECK_S,
        )
        self._outgoing: asyncio.Queue[tuple[str, str]] = asyncio.Queue(_QUEUE_LIMIT)
        self._tasks: list[asyncio.Task[None]] = []
        self._started_at = time.time()
        self._healthy_since: float | None = None
        self.dropped = 0
        """Routed messages dropped because Redis was down (the publish queue was full)."""

    async def start(self) -> None:
        ready = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._subscriber(ready), name=f"relay-cluster-sub-{self.node}"),
            asyncio.create_task(self._publisher(), name=f"relay-cluster-pub-{self.node}"),
            asyncio.create_task(self._heartbeat(), name=f"relay-cluster-beat-{self.node}"),
        ]
        # Routed messages for us only arrive once subscribed: wait a moment for that
        # (not for ever: a node must start, and fail closed, while Redis is down).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ready.wait(), 2.0)

    async def stop(self) -> None:
        # What the node said last (a shutdown's ``ended`` to other nodes' sockets) goes out first.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._outgoing.join(), 1.0)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(RedisError, OSError):
            await self._redis.delete(_node_key(self.node))  # gone now, not in node_ttl_s
            await cast(Awaitable[int], self._redis.srem(_NODES, self.node))
        await self._redis.aclose()
        await self._sub_redis.aclose()

    def route(self, conn: str, *, text: str | None = None, close: tuple[int, str] | None = None) -> None:
        """Publish a Send (``text``) or Close for ``conn`` of another node; never blocks."""
        node = node_of(conn)
        payload: dict[str, Any] = {"conn": conn}
        if text is not None:
            payload["text"] = text
        if close is not None:
            payload["close"], payload["reason"] = close
        try:
            self._outgoing.put_nowait((_channel(node), json.dumps(payload, ensure_ascii=False)))
        except asyncio.QueueFull:
            self.dropped += 1

    async def nodes(self) -> list[NodeInfo]:
        """The live nodes, as each last described itself (raises RedisError if Redis is down)."""
        members = sorted(cast(set[str], await self._redis.smembers(_NODES)))  # type: ignore[misc]
        values = await self._redis.mget([_node_key(n) for n in members]) if members else []
        out: list[NodeInfo] = []
        for node, raw in zip(members, values, strict=True):
            if raw is None:
                continue
            info = json.loads(raw)
            out.append(
                NodeInfo(
                    node=node,
                    started_at=float(info.get("started_at", 0.0)),
                    connections=int(info.get("connections", 0)),
                    sessions_here=int(info.get("sessions_here", 0)),
                )
            )
        return out

    # --- tasks -----------------------------------------------------------------------

    async def _subscriber(self, ready: asyncio.Event) -> None:
        while True:
            pubsub = self._sub_redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(_channel(self.node))
                ready.set()
                logger.info("node %s: unsubscribed -> subscribed", self.node)
                while True:
                    message = await pubsub.get_message(timeout=1.0)  # also runs the health check
                    if message is None or message.get("type") != "message":
                        continue
                    self._received(str(message["data"]))
            except (RedisError, OSError) as exc:
                logger.warning("node %s: subscribed -> reconnecting (%s)", self.node, exc)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(_RETRY_S)

    def _received(self, data: str) -> None:
        try:
            payload = json.loads(data)
            routed = Routed(
                conn=str(payload["conn"]),
                text=payload.get("text"),
                close_code=payload.get("close"),
                reason=str(payload.get("reason", "")),
            )
        except (ValueError, KeyError, TypeError):
            logger.warning("node %s: undecodable routed message dropped", self.node)
            return
        try:
            self._deliver(routed)
        except Exception:  # one bad message must not stop the subscription
            logger.exception("node %s: delivering a routed message failed", self.node)

    async def _publisher(self) -> None:
        while True:
            channel, data = await self._outgoing.get()
            try:
                await self._redis.publish(channel, data)
            except (RedisError, OSError) as exc:
                self.dropped += 1
                logger.warning("node %s: routed message to %s dropped (%s)", self.node, channel, exc)
            finally:
                self._outgoing.task_done()

    async def _heartbeat(self) -> None:
        interval = self.ttl_s / 3
        while True:
            try:
                info = {"started_at": self._started_at, **self._describe()}
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.set(_node_key(self.node), json.dumps(info), px=int(self.ttl_s * 1000))
                    pipe.sadd(_NODES, self.node)
                    await pipe.execute()
                now = time.monotonic()
                if self._healthy_since is None:
                    self._healthy_since = now
                    logger.info("node %s: heartbeat down -> up", self.node)
                if now - self._healthy_since >= self.ttl_s:
                    await self._find_dead()
            except (RedisError, OSError) as exc:
                if self._healthy_since is not None:
                    logger.warning("node %s: heartbeat up -> down (%s)", self.node, exc)
                self._healthy_since = None
            await asyncio.sleep(interval)

    async def _find_dead(self) -> None:
        members = cast(set[str], await self._redis.smembers(_NODES))  # type: ignore[misc]
        for node in sorted(members - {self.node}):
            if await self._redis.exists(_node_key(node)):
                continue
            logger.warning(
                "node %s: node %s alive -> lost (no heartbeat for %.0f s)", self.node, node, self.ttl_s
            )
            if self._node_lost(node):  # its pairings are handled (here or by another node)
                await cast(Awaitable[int], self._redis.srem(_NODES, node))
