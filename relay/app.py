"""The aiohttp application: thin glue between websockets/HTTP and the registry.

``create_app(config)`` builds everything from the config: the store, accounts,
audit log, login, registry and metrics, kept under typed ``web.AppKey`` s. Each
websocket gets a connection id and an outbox (a queue drained by one writer
task), so the registry's effects are applied synchronously and in order, and a
slow or dead client can only ever stall its own socket.

Routes: ``GET /healthz``, ``GET /metrics``, ``POST /api/login``,
``GET /api/terms?lang=ja|en``, ``GET /ws/agent``, ``GET /ws/operator``, the
customer's pages (``GET /``, ``GET /share``, ``/static/``: relay/web.py) and the
admin web (``/admin``: relay/admin_web.py).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import itertools
import logging
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any, Literal

from aiohttp import WebSocketError, WSCloseCode, WSMsgType, web

from protocol import ErrorCode, ProtocolError, decode_login_request, decode_signaling, encode

from .accounts import Accounts
from .admin_web import add_admin_routes
from .audit import AuditLog
from .auth import Auth, LoginRefused
from .cluster import Cluster, Routed, new_node_id, node_of
from .config import RelayConfig
from .database import Storage, open_storage
from .db_upkeep import add_metrics as add_database_metrics
from .db_upkeep import running_upkeep
from .effects import Alarm, Audit, Close, CloseCode, Count, Effect, Send
from .heartbeat import verdict
from .memory import CrowdWatch, release_memory
from .metrics import CONTENT_TYPE, RelayMetrics
from .redis_store import RedisStore
from .registry import Registry, Role
from .settings import Settings, terms_version
from .store import MemoryStore, Store, StoreUnavailable
from .web import add_web_routes, origin_allowed

__all__ = ["RELAY", "RelayState", "create_app"]

logger = logging.getLogger(__name__)

_OUTBOX_LIMIT = 256
_WRITER_DRAIN_S = 1.0


@dataclasses.dataclass(frozen=True)
class _CloseCommand:
    code: int
    reason: str


@dataclasses.dataclass(frozen=True)
class _Control:
    """A ping or a pong, written in turn with the messages."""

    opcode: Literal[WSMsgType.PING, WSMsgType.PONG]
    data: bytes = b""


class _Outbox:
    """One websocket's outgoing frames, written in order by one task, and its heartbeat.

    The task and its queue exist only while there is something to write: most sockets
    are idle (an operator console between sessions, a customer reading the code out),
    and an idle socket then holds neither (about 5 KiB less each, docs/performance.md).
    Likewise no timer per socket for the heartbeat: two numbers, which the relay's
    ticker reads (:mod:`relay.heartbeat`).
    """

    __slots__ = ("closing", "conn_id", "heard", "pinged", "queue", "stopped", "task", "transport", "ws")

    def __init__(
        self, conn_id: str, ws: web.WebSocketResponse, transport: asyncio.Transport | None, now: float
    ) -> None:
        self.conn_id = conn_id
        self.ws = ws
        self.transport = transport
        self.queue: collections.deque[str | _CloseCommand | _Control] | None = None
        self.closing = False
        self.stopped = False
        self.task: asyncio.Task[None] | None = None
        self.heard = now
        """When the last frame arrived (any frame: a message, a pong, a ping)."""
        self.pinged: float | None = None
        """When the relay pinged since, if it did."""

    def heard_from(self, now: float) -> None:
        self.heard = now
        self.pinged = None

    def control(self, frame: _Control) -> None:
        """A ping or a pong; not counted against the outbox limit."""
        if not self.closing and not self.stopped:
            self._put(frame)

    def abort(self) -> None:
        """Cut the connection off without a close frame (the peer sees 1006)."""
        self.stopped = True
        if self.transport is not None:
            self.transport.abort()

    def send(self, text: str) -> None:
        if self.closing or self.stopped:
            return
        if self.queue is not None and len(self.queue) >= _OUTBOX_LIMIT:
            # The client does not read; do not let it hold memory for ever.
            logger.warning("connection %s: outbox full, closing", self.conn_id)
            self.close(CloseCode.POLICY_VIOLATION, "not reading fast enough")
            return
        self._put(text)

    def close(self, code: int, reason: str) -> None:
        if not self.closing and not self.stopped:
            self.closing = True
            self._put(_CloseCommand(code, reason))

    def stop(self) -> None:
        """Write what is queued, then nothing more."""
        self.stopped = True

    async def drain(self, timeout: float) -> None:
        """Wait (at most ``timeout``) until what was queued has been written."""
        if self.task is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self.task), timeout)

    def _put(self, item: str | _CloseCommand | _Control) -> None:
        if self.queue is None:
            self.queue = collections.deque()
        self.queue.append(item)
        if self.task is None:
            self.task = asyncio.create_task(self._run(), name=f"relay-writer-{self.conn_id}")

    async def _run(self) -> None:
        queue = self.queue
        assert queue is not None
        try:
            # No await between the last emptiness check and the end: nothing queued is missed.
            while queue:
                item = queue.popleft()
                if isinstance(item, _CloseCommand):
                    queue.clear()
                    await self.ws.close(code=item.code, message=_close_reason(item.reason))
                    return
                if isinstance(item, _Control):
                    if item.opcode is WSMsgType.PING:
                        await self.ws.ping(item.data)
                    else:
                        await self.ws.pong(item.data)
                    continue
                await self.ws.send_str(item)
        except (ConnectionError, RuntimeError) as exc:  # peer vanished mid-write
            self.stopped = True
            queue.clear()
            logger.debug("connection %s: write failed (%s)", self.conn_id, type(exc).__name__)
        finally:
            self.task = None
            self.queue = None


class _RelayWebSocket(web.WebSocketResponse):
    """aiohttp's websocket, except that a message over the size limit does not close it at once.

    aiohttp refuses a frame as soon as its header (or the fragments so far) says the
    message is over ``max_msg_size``, without buffering the payload, and then closes
    with 1009 and an empty reason. The relay wants the client to read why first
    (``error`` ``message_too_large``), so that one close is left to the registry,
    whose own close always carries a reason: that is how the two are told apart.
    """

    async def close(self, *, code: int = WSCloseCode.OK, message: bytes = b"", drain: bool = True) -> bool:
        if code == WSCloseCode.MESSAGE_TOO_BIG and not message and not self.closed:
            return False
        return await super().close(code=code, message=message, drain=drain)


def _close_reason(reason: str) -> bytes:
    data = reason.encode()
    # RFC 6455 allows 123 bytes; cut on a character boundary.
    return data[:123].decode(errors="ignore").encode()


@dataclasses.dataclass
class RelayState:
    """Everything one relay app owns."""

    config: RelayConfig
    store: Store
    accounts: Accounts
    audit: AuditLog
    auth: Auth
    registry: Registry
    metrics: RelayMetrics
    settings: Settings
    alarm_active: bool = False
    """The failed-claims alarm (relay.registry), as last raised or cleared."""
    storage: Storage | None = None
    """The databases under accounts, audit and settings (relay/database.py)."""
    node: str = ""
    """This node's id when the store is shared (connection ids are ``node.xxx``), else empty."""
    cluster: Cluster | None = None
    """Routing to other nodes and node liveness, with a shared store (relay/cluster.py)."""
    outboxes: dict[str, _Outbox] = dataclasses.field(default_factory=dict)
    _ids: itertools.count[int] = dataclasses.field(default_factory=lambda: itertools.count(1))

    def _with_terms_version(self, effect: Audit) -> Audit:
        """A customer's new code, with the version of the terms they agreed to.

        The agent (and the browser page) fetch ``/api/terms`` for the customer's language
        just before they register, so the version in force at registration is the text
        they agreed to, unless an admin changed it within those seconds."""
        if effect.event != "code_issued" or effect.detail.get("by") != "agent":
            return effect
        lang = "en" if str(effect.detail.get("locale", "ja")).startswith("en") else "ja"
        version = terms_version(self.settings.terms(lang))
        return dataclasses.replace(effect, detail={**effect.detail, "terms_version": version})

    def client_ip(self, request: web.Request) -> str:
        return _client_ip(request)

    def new_conn_id(self, role: Role) -> str:
        local = f"{role[0]}{next(self._ids)}"
        return f"{self.node}.{local}" if self.node else local

    def apply(self, effects: Iterable[Effect], now: float | None = None) -> None:
        """Carry out registry effects, in order. Never raises for one bad effect."""
        for effect in effects:
            try:
                self._apply_one(effect, time.time() if now is None else now)
            except Exception:
                logger.exception("failed to apply %s", type(effect).__name__)

    def _apply_one(self, effect: Effect, now: float) -> None:
        if isinstance(effect, Send):
            box = self.outboxes.get(effect.conn)
            if box is not None:
                box.send(encode(effect.message))
            elif self._elsewhere(effect.conn):
                assert self.cluster is not None
                self.cluster.route(effect.conn, text=encode(effect.message))
        elif isinstance(effect, Close):
            box = self.outboxes.get(effect.conn)
            if box is not None:
                box.close(int(effect.code), effect.reason)
            elif self._elsewhere(effect.conn):
                assert self.cluster is not None
                self.cluster.route(effect.conn, close=(int(effect.code), effect.reason))
        elif isinstance(effect, Audit):
            self.audit.write(self._with_terms_version(effect), now)
        elif isinstance(effect, Count):
            self.metrics.count(effect)
        elif isinstance(effect, Alarm):
            self.alarm_active = effect.active  # shown in the admin web's overview
            self.metrics.set_alarm(effect)
            if effect.active:
                logger.warning("alarm %s: off -> on: %s", effect.name, effect.detail)
            else:
                logger.warning("alarm %s: on -> off: %s", effect.name, effect.detail)

    def _elsewhere(self, conn: str) -> bool:
        """A socket of another relay node (the registry's effects reach it through Redis)."""
        return self.cluster is not None and node_of(conn) not in ("", self.node)

    def deliver(self, routed: Routed) -> None:
        """A Send or Close that another node's registry emitted for one of our sockets."""
        box = self.outboxes.get(routed.conn)
        if box is None:  # gone meanwhile: as for any Send to a socket that just closed
            return
        if routed.text is not None:
            box.send(routed.text)
        if routed.close_code is not None:
            box.close(routed.close_code, routed.reason)

    def node_lost(self, node: str) -> bool:
        """Another node died: its sockets count as dropped. False while the store is down."""
        now = time.time()
        try:
            effects = self.registry.node_lost(node, now)
        except StoreUnavailable:
            return False
        self.apply(effects, now)
        return True


RELAY = web.AppKey("relay", RelayState)
CONFIG = web.AppKey("relay_config", RelayConfig)


def create_app(config: RelayConfig, *, store: Store | None = None) -> web.Application:
    """The relay as an aiohttp application; resources open in cleanup_ctx."""
    app = web.Application(client_max_size=config.limits.max_message_bytes)
    app[CONFIG] = config
    app.cleanup_ctx.append(_make_state(store))
    app.cleanup_ctx.append(_cluster)
    app.cleanup_ctx.append(_ticker)
    app.on_shutdown.append(_on_shutdown)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    app.router.add_post("/api/login", _login)
    app.router.add_get("/api/terms", _terms)
    app.router.add_get("/ws/agent", _ws_agent)
    app.router.add_get("/ws/operator", _ws_operator)
    add_web_routes(app, config, lambda request: request.app[RELAY].settings)
    add_admin_routes(app, RELAY)
    return app


def _make_state(store: Store | None) -> Any:
    async def state_ctx(app: web.Application) -> AsyncIterator[None]:
        config = app[CONFIG]
        shared: Store
        if store is not None:
            shared = store
        elif config.store == "memory":
            shared = MemoryStore()
        else:
            shared = RedisStore(config.store)
        node = new_node_id() if shared.shared else ""
        # SQLite files in data_dir, or PostgreSQL shared by several nodes (relay/database.py)
        storage = await asyncio.to_thread(open_storage, config)
        accounts = Accounts(storage.accounts)
        spool = config.data_dir / "audit-spool.jsonl" if storage.shared else None
        audit = AuditLog(storage.audit, spool=spool)
        auth = Auth(config, shared, accounts)
        registry = Registry(config, shared, auth, node=node)
        settings = Settings(storage.settings, config)
        registry.set_limits(settings.limits())  # as last changed in the admin web
        metrics = RelayMetrics(registry.stats)
        add_database_metrics(metrics.registry, storage, audit)
        app[RELAY] = RelayState(
            config=config,
            store=shared,
            accounts=accounts,
            audit=audit,
            auth=auth,
            registry=registry,
            metrics=metrics,
            settings=settings,
            storage=storage,
            node=node,
        )
        logger.info(
            "relay state: none -> ready (data in %s%s)", config.data_dir, f", node {node}" if node else ""
        )
        try:
            if storage.shared:
                refresh = lambda: registry.set_limits(settings.limits())  # noqa: E731
                async with running_upkeep(storage, audit, settings, refresh, auth.refresh_accounts):
                    yield
            else:
                yield
        finally:
            audit.close()  # its queued rows first
            storage.close()
            if store is None and isinstance(shared, RedisStore):
                shared.close()
            logger.info("relay state: ready -> closed")

    return state_ctx


async def _cluster(app: web.Application) -> AsyncIterator[None]:
    """With a Redis store: routing to and from other nodes, and the node heartbeat."""
    state = app[RELAY]
    if not isinstance(state.store, RedisStore):
        yield
        return
    cluster = Cluster(
        state.store.url,
        state.node,
        state.config.node_ttl_s,
        deliver=state.deliver,
        node_lost=state.node_lost,
        describe=lambda: {"connections": len(state.outboxes)},
    )
    await cluster.start()
    state.cluster = cluster
    try:
        yield
    finally:
        state.cluster = None
        await cluster.stop()


async def _ticker(app: web.Application) -> AsyncIterator[None]:
    state = app[RELAY]

    async def loop() -> None:
        crowd = CrowdWatch()
        while True:
            await asyncio.sleep(state.config.tick_interval_s)
            try:
                now = time.time()
                state.apply(state.registry.tick(now), now)
                _heartbeat(state, now)
            except Exception:  # a bug in one tick must not stop expiry for good
                logger.exception("timer tick failed")
            if crowd.left(len(state.outboxes)):  # their memory is not freed by itself
                release_memory()

    task = asyncio.create_task(loop(), name="relay-ticker")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _heartbeat(state: RelayState, now: float) -> None:
    """Ping the sockets silent for ``heartbeat_s``; cut off those that stayed silent."""
    interval = state.config.limits.heartbeat_s
    for box in list(state.outboxes.values()):
        what = verdict(box.heard, box.pinged, now, interval)
        if what == "ping":
            box.pinged = now
            box.control(_Control(WSMsgType.PING))
        elif what == "dead":
            silent = now - box.heard
            logger.info("connection %s: no answer to a ping, silent for %.0f s: cut off", box.conn_id, silent)
            box.abort()


async def _on_shutdown(app: web.Application) -> None:
    state = app[RELAY]
    now = time.time()
    state.apply(state.registry.shutdown(now), now)
    boxes = list(state.outboxes.values())
    for box in boxes:
        box.close(int(CloseCode.GOING_AWAY), "relay shutting down")
    writers = [b.task for b in boxes if b.task is not None]
    if writers:
        await asyncio.wait(writers, timeout=_WRITER_DRAIN_S)
    for box in boxes:
        if not box.ws.closed:
            await box.ws.close(code=int(CloseCode.GOING_AWAY), message=b"relay shutting down")


# --- HTTP ---------------------------------------------------------------------


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _metrics(request: web.Request) -> web.Response:
    body = request.app[RELAY].metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def _json_error(status: int, error: str, message: str, retry_after_s: float | None = None) -> web.Response:
    payload: dict[str, Any] = {"error": error, "message": message}
    headers = {}
    if retry_after_s is not None:
        payload["retry_after_s"] = round(retry_after_s, 1)
        headers["Retry-After"] = str(max(1, int(retry_after_s + 0.999)))
    return web.json_response(payload, status=status, headers=headers)


async def _login(request: web.Request) -> web.Response:
    state = request.app[RELAY]
    ip = _client_ip(request)
    try:
        async with asyncio.timeout(state.config.limits.http_body_timeout_s):
            body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _json_error(413, "too_large", "the request body is too large")
    except TimeoutError:  # a trickled body must not hold a connection (and a handler) for ever
        return _json_error(408, "timeout", "the request body did not arrive in time")
    try:
        # The websocket messages' decoder: the same checks, lone surrogates included.
        login = decode_login_request(body)
    except ProtocolError as error:
        if error.code is ErrorCode.MESSAGE_TOO_LARGE:
            return _json_error(413, "too_large", "the request body is too large")
        return _json_error(
            400, "bad_request", f'the body must be JSON {{"username": ..., "password": ...}}: {error.detail}'
        )
    username, password = login.username, login.password
    now = time.time()
    try:
        result, audit = await state.auth.login(username, password, ip, now)
    except StoreUnavailable:  # its rate limits live in the shared store: fail closed
        logger.warning("login for %s from %s refused: the store is down", username, ip)
        return _json_error(
            503, "unavailable", "the relay cannot log anyone in right now; try again shortly", 5.0
        )
    except LoginRefused as refused:
        state.metrics.logins.labels(refused.error).inc()
        state.apply([Audit("login_failed", operator=username, ip=ip, detail={"reason": refused.error})], now)
        logger.info("login for %s from %s refused: %s", username, ip, refused.error)
        return _json_error(refused.status, refused.error, refused.message, refused.retry_after_s)
    state.metrics.logins.labels("ok").inc()
    state.apply([audit], now)
    return web.json_response(
        {"token": result.token, "expires_in_s": result.expires_in_s, "username": result.username}
    )


async def _terms(request: web.Request) -> web.Response:
    lang = request.query.get("lang", "ja")
    if lang not in ("ja", "en"):
        return _json_error(400, "bad_request", "lang must be ja or en")
    text = request.app[RELAY].settings.terms(lang)  # the admin web may have changed them
    return web.json_response({"lang": lang, "version": terms_version(text), "text": text})


def _client_ip(request: web.Request) -> str:
    if request.app[CONFIG].trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "")
        first = forwarded.split(",")[0].strip()
        if first:
            return first
    return request.remote or "unknown"


# --- websockets ---------------------------------------------------------------


async def _ws_agent(request: web.Request) -> web.StreamResponse:
    return await _serve_ws(request, "agent")


async def _ws_operator(request: web.Request) -> web.StreamResponse:
    return await _serve_ws(request, "operator")


async def _serve_ws(request: web.Request, role: Role) -> web.StreamResponse:
    state = request.app[RELAY]
    if not origin_allowed(request, state.config.cobrowse_allowed_origins):
        # A browser page of another site (the co-browse script on a site the relay does not
        # know): refused before the upgrade. The agent and the console send no Origin.
        origin = request.headers.get("Origin", "")
        logger.info("websocket from origin %r refused: not in [cobrowse] allowed_origins", origin)
        message = f"pages of {origin} may not connect: add it to [cobrowse] allowed_origins"
        return _json_error(403, "origin_not_allowed", message)
    limits = state.config.limits
    # aiohttp refuses messages of max_msg_size bytes or more; ours may be exactly the limit.
    ws = _RelayWebSocket(
        autoping=False,  # pings and pongs reach the loop below: the heartbeat is ours (_heartbeat)
        max_msg_size=limits.max_message_bytes + 1,
        timeout=5.0,
        compress=False,  # permessage-deflate: ~113 KiB of zlib state per socket, for tiny messages
    )
    await ws.prepare(request)
    conn_id = state.new_conn_id(role)
    box = _Outbox(conn_id, ws, request.transport, time.time())
    state.outboxes[conn_id] = box
    registry = state.registry
    state.apply(registry.opened(conn_id, role, _client_ip(request), time.time()))
    try:
        async for frame in ws:
            now = time.time()
            box.heard_from(now)
            if frame.type is WSMsgType.PING:
                box.control(_Control(WSMsgType.PONG, frame.data))
                continue
            if frame.type is WSMsgType.PONG:
                continue
            if frame.type is WSMsgType.TEXT:
                try:
                    effects = _handle_text(registry, conn_id, frame.data, limits.max_message_bytes, now)
                except Exception:  # a bug: tell this client (internal_error, 1011), keep the rest
                    logger.exception("connection %s: relay bug while handling a message", conn_id)
                    error = ProtocolError("internal error in the relay", ErrorCode.INTERNAL_ERROR)
                    effects = registry.rejected(conn_id, error, now)
            elif frame.type is WSMsgType.BINARY:
                error = ProtocolError("binary frames are not accepted; send JSON text")
                effects = registry.rejected(conn_id, error, now)
            elif isinstance(frame.data, WebSocketError):
                # Broken framing. aiohttp has closed the socket itself (1002, 1007), except
                # for an oversized message, which is ours to answer; either way it is bad
                # input, audited as such, not a dropped connection that may resume.
                if frame.data.code == WSCloseCode.MESSAGE_TOO_BIG:
                    text = f"message exceeds {limits.max_message_bytes} bytes"
                    error = ProtocolError(text, ErrorCode.MESSAGE_TOO_LARGE)
                else:
                    error = ProtocolError(f"invalid websocket framing (close code {frame.data.code})")
                state.apply(registry.rejected(conn_id, error, now), now)
                break
            else:  # ERROR without bad input (a missed pong): a dropped connection
                break
            state.apply(effects, now)
            del effects, frame  # an idle socket keeps neither until its next message
            if box.closing:
                break
    finally:
        now = time.time()
        state.apply(registry.closed(conn_id, now), now)
        box.stop()
        await box.drain(_WRITER_DRAIN_S)
        state.outboxes.pop(conn_id, None)
        if not ws.closed:
            await ws.close()
    return ws


def _handle_text(registry: Registry, conn_id: str, data: str, max_bytes: int, now: float) -> list[Effect]:
    if len(data) > max_bytes or len(data.encode("utf-8", "surrogatepass")) > max_bytes:
        error = ProtocolError(f"message exceeds {max_bytes} bytes", ErrorCode.MESSAGE_TOO_LARGE)
        return registry.rejected(conn_id, error, now)
    try:
        message = decode_signaling(data)
    except ProtocolError as error:
        return registry.rejected(conn_id, error, now)
    return registry.received(conn_id, message, now)
