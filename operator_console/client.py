"""The operator client core: login, claim, view, guide, end. No Qt here.

``OperatorClient`` holds one relay connection (one console tab): it logs in over
HTTP, opens ``/ws/operator``, authenticates, claims codes and runs one session
at a time through :class:`operator_console.state.OperatorCore`. The UI (or the
demo, or a test) reads what happens from ``on_event`` and the frame sink.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import ssl
from collections.abc import Callable, Sequence
from typing import Literal

import aiohttp

from client_core.ice_consent import silence_before_failure, tolerate_silence
from client_core.proxy import ProxySetting, resolve_proxy
from client_core.reconnect import CONNECTION_LOST_S, RECONNECT_DELAYS_S, Reconnector
from client_core.rtc import IceAddressMode, is_loopback_url
from client_core.signaling_client import RelayUnreachable, SignalingSocket
from client_core.turn import TurnProblem, choose_turn
from operator_console.cobrowse import CobrowseBatch, CobrowseReceiver, CobrowseView
from operator_console.cobrowse_viewer import CobrowseViewer
from operator_console.cursor import RemoteCursor
from operator_console.events import (
    ClaimAccepted,
    CobrowseUpdate,
    CodeAssigned,
    CustomerConnection,
    CustomerMessage,
    OperatorEvent,
    Refused,
    RelayConnection,
    SessionEnded,
    TurnTrouble,
    ViewingStarted,
)
from operator_console.frames import FrameSink
from operator_console.peer import ConnectionStats, OperatorPeer
from operator_console.state import (
    AcceptOffer,
    ApplyIce,
    LoggedIn,
    OperatorCore,
    OperatorEffect,
    OperatorPhase,
    PrepareSession,
    Send,
)
from protocol import (
    AgentGuidance,
    CobrowsePointer,
    EndReason,
    ErrorCode,
    HangUp,
    IceServer,
    KeyGuide,
    KeyGuideClear,
    Monitors,
    OperatorIdentity,
    Pointer,
    ProtocolError,
    RelayAway,
    SharingState,
    decode_guidance,
)

__all__ = [
    # The events are defined in operator_console.events and re-exported for the client's users.
    "ClaimAccepted",
    "CobrowseUpdate",
    "CodeAssigned",
    "CustomerConnection",
    "CustomerMessage",
    "LoginFailed",
    "OperatorClient",
    "OperatorEvent",
    "Refused",
    "RelayConnection",
    "SessionEnded",
    "TurnTrouble",
    "ViewingStarted",
    "fetch_token",
    "request_token",
]

logger = logging.getLogger(__name__)

_HANG_UP_FLUSH_S = 0.05
"""How long the data channel gets to send ``hang_up`` before the peer connection closes."""
_VIEWER_LINGER_S = 0.5
"""How long the co-browse view stays up after the session ended, so its tabs read "ended"."""


class LoginFailed(Exception):
    """Login refused.

    ``kind``: wrong_credentials, locked, rate_limited, unavailable (the relay cannot
    check logins: its accounts database is down), unreachable, proxy (the network's
    HTTP proxy refused: it wants a login or blocks the relay), certificate (the
    relay's TLS certificate did not verify), version, token_refused (the relay no
    longer accepts a token: it expired, or the account was disabled or its password
    changed; the password gets a new one), error.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


async def request_token(
    http: aiohttp.ClientSession,
    relay_url: str,
    username: str,
    password: str,
    *,
    ssl_context: ssl.SSLContext | None = None,
    proxy: ProxySetting = None,
) -> str:
    """``POST /api/login``: a login token, or :class:`LoginFailed` saying why not."""
    url = f"{relay_url.rstrip('/')}/api/login"
    try:
        async with http.post(
            url,
            proxy=resolve_proxy(url, proxy),
            json={"username": username, "password": password},
            ssl=ssl_context if ssl_context is not None else True,
            timeout=aiohttp.ClientTimeout(total=15),
        ) as response:
            body = await response.json(content_type=None)
            status = response.status
    except aiohttp.ClientConnectorCertificateError as exc:
        raise LoginFailed("certificate", "the relay's TLS certificate could not be verified") from exc
    except aiohttp.ClientHttpProxyError as exc:
        raise LoginFailed("proxy", f"the HTTP proxy refused the connection (HTTP {exc.status})") from exc
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise LoginFailed("unreachable", f"cannot reach the relay: {type(exc).__name__}") from exc
    except ValueError as exc:
        raise LoginFailed("error", "the relay answered with something that is not JSON") from exc
    message = str(body.get("message", "")) if isinstance(body, dict) else ""
    if status == 401:
        raise LoginFailed("wrong_credentials", message or "wrong user name or password")
    if status == 403:
        raise LoginFailed("locked", message or "this account is locked")
    if status == 429:
        raise LoginFailed("rate_limited", message or "too many attempts; try again later")
    if status == 503:  # the relay's accounts database is unreachable (relay/auth.py)
        raise LoginFailed("unavailable", message or "the relay cannot check logins right now")
    if status != 200 or not isinstance(body, dict) or not isinstance(body.get("token"), str):
        raise LoginFailed("error", message or f"login failed (HTTP {status})")
    return str(body["token"])


async def fetch_token(
    relay_url: str,
    username: str,
    password: str,
    *,
    ssl_context: ssl.SSLContext | None = None,
    proxy: ProxySetting = None,
) -> str:
    """:func:`request_token` on its own HTTP session (a new login for tabs that are already open)."""
    async with aiohttp.ClientSession() as http:
        return await request_token(http, relay_url, username, password, ssl_context=ssl_context, proxy=proxy)


class OperatorClient:
    """One authenticated relay connection that views one session at a time."""

    def __init__(
        self,
        relay_url: str,
        *,
        on_event: Callable[[OperatorEvent], None] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        reconnect_delays_s: Sequence[float] = RECONNECT_DELAYS_S,
        connection_lost_s: float = CONNECTION_LOST_S,
        proxy: ProxySetting = None,
    ) -> None:
        self.relay_url = relay_url.rstrip("/")
        self._on_event = on_event
        self._ssl = ssl_context
        self._proxy = proxy
        """An explicit proxy (client_core.proxy); None: the environment's or the system's."""
        self._http: aiohttp.ClientSession | None = None
        self._socket: SignalingSocket | None = None
        self._core: OperatorCore | None = None
        self._reader: asyncio.Task[None] | None = None
        self._delays = tuple(reconnect_delays_s)
        self._connection_lost_s = connection_lost_s
        tolerate_silence(connection_lost_s)  # ICE survives what the session rides out
        self._lost: Reconnector | None = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._authenticated = asyncio.Event()
        self._auth_error: Refused | None = None
        self.identity: OperatorIdentity | None = None
        self.username: str | None = None
        self._token: str | None = None
        self.peer: OperatorPeer | None = None
        self.sink = FrameSink()
        self.cursor = RemoteCursor()
        """The customer's mouse cursor (latest state; the view polls it like the frame sink)."""
        self.events: asyncio.Queue[OperatorEvent] = asyncio.Queue()
        self.session_id: str | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.viewer: CobrowseViewer | None = None
        """Co-browsing: the operator's view on the loopback (docs/cobrowse.md), for one session."""
        self._viewer_closing: asyncio.Task[None] | None = None
        self._session_ice: tuple[IceServer, ...] = ()
        """The ICE servers chosen for this session; a co-browse page change reuses them."""
        self._receiver = CobrowseReceiver()
        self.cobrowse = CobrowseView()
        """Co-browsing: the mirror's state as the console shows it (also sent as CobrowseUpdate)."""
        # Every party is on this machine when the relay is: offer 127.0.0.1, which aioice omits.
        self._host_addresses: IceAddressMode = "loopback" if is_loopback_url(relay_url) else "auto"

    # --- connection ----------------------------------------------------------------

    async def login(self, username: str, password: str) -> OperatorIdentity:
        """POST /api/login, then open and authenticate the websocket."""
        self._http = self._http or aiohttp.ClientSession()
        token = await request_token(
            self._http, self.relay_url, username, password, ssl_context=self._ssl, proxy=self._proxy
        )
        await self._open(token)
        return self._require_identity()

    @property
    def token(self) -> str | None:
        """The token of the last successful login; it lets more tabs open without the password."""
        return self._token

    async def login_with_token(self, token: str) -> OperatorIdentity:
        """Open and authenticate the websocket with a token from an earlier :meth:`login`."""
        self._http = self._http or aiohttp.ClientSession()
        await self._open(token)
        return self._require_identity()

    async def _open(self, token: str) -> None:
        self._core = OperatorCore(token)
        socket = SignalingSocket(
            self.relay_url, "/ws/operator", http=self._http, ssl_context=self._ssl, proxy=self._proxy
        )
        try:
            await socket.connect()
        except RelayUnreachable as exc:
            raise LoginFailed("unreachable", str(exc)) from exc
        self._socket = socket
        self._authenticated.clear()
        self._reader = asyncio.ensure_future(self._read(socket))
        await self._execute(self._core.connected())
        waiter = asyncio.ensure_future(self._authenticated.wait())
        done, _ = await asyncio.wait({waiter, self._reader}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            waiter.cancel()
            raise LoginFailed("error", "the relay did not accept the session token")
        if self._auth_error is not None:
            kinds = {ErrorCode.VERSION_MISMATCH: "version", ErrorCode.NOT_AUTHORISED: "token_refused"}
            raise LoginFailed(kinds.get(self._auth_error.code, "error"), self._auth_error.message)
        if self.identity is not None:
            self._token = token

    def _require_identity(self) -> OperatorIdentity:
        if self.identity is None:
            raise LoginFailed("error", "not authenticated")
        return self.identity

    async def _read(self, socket: SignalingSocket) -> None:
        assert self._core is not None
        async for message in socket.messages():
            await self._execute(self._core.receive(message))
        if socket is not self._socket:
            return  # an old socket, replaced by a resumed one
        await self._execute(self._core.closed())
        self._authenticated.set()

    async def _reconnect(self) -> None:
        """Retry the relay with backoff during a session; resume once it answers."""
        core = self._core
        loop = asyncio.get_running_loop()
        if core is None:
            return
        if self._lost is None:
            self._lost = Reconnector(loop.time(), self._delays, self._connection_lost_s)
        lost = self._lost
        while core.is_reconnecting():
            await asyncio.sleep(lost.next_delay())
            if not core.is_reconnecting():
                return
            socket = SignalingSocket(
                self.relay_url, "/ws/operator", http=self._http, ssl_context=self._ssl, proxy=self._proxy
            )
            try:
                await socket.connect()
            except RelayUnreachable as exc:
                logger.warning("%s", exc)
                if lost.give_up(loop.time(), media_alive=self._media_alive()):
                    await self._execute(core.gave_up())
                    return
                continue
            self._socket = socket
            self._reader = asyncio.ensure_future(self._read(socket))
            await self._execute(core.reconnected())
            return

    def _media_alive(self) -> bool:
        return self.peer is not None and self.peer.connection_state == "connected"

    # --- operator actions -----------------------------------------------------------

    async def claim(self, code: str) -> None:
        """Claim the customer's code. The answer arrives as an event."""
        await self._execute(self._core_or_raise().claim(code))

    async def issue_code(self) -> None:
        """Ask for a 6-digit code for the customer to type in (R2)."""
        await self._execute(self._core_or_raise().issue_code())

    async def end_session(self) -> None:
        core = self._core_or_raise()
        in_session = core.in_session
        effects = core.end()  # first: the customer's side closing the media now is the answer
        if in_session and self.peer is not None and self.peer.send(HangUp(reason=EndReason.NORMAL)):
            # End to end first: the agent stops even if the relay is slow or gone.
            await asyncio.sleep(_HANG_UP_FLUSH_S)
        await self._execute(effects)

    def send_pointer(self, x: float, y: float, *, monitor: int = 0, action: str = "move") -> bool:
        if self.peer is None:
            return False
        return self.peer.send(
            Pointer(
                action="click" if action == "click" else "hide" if action == "hide" else "move",
                x=min(max(x, 0.0), 1.0),
                y=min(max(y, 0.0), 1.0),
                monitor=monitor,
            )
        )

    def send_key_guide(self, keys: Sequence[Sequence[str]], caption: str = "") -> bool:
        if self.peer is None:
            return False
        return self.peer.send(KeyGuide(keys=tuple(tuple(c) for c in keys), caption=caption))

    def clear_key_guide(self) -> bool:
        return self.peer is not None and self.peer.send(KeyGuideClear())

    async def stats(self) -> ConnectionStats | None:
        if self.peer is None:
            return None
        self.peer.ping()
        return await self.peer.stats()

    @property
    def phase(self) -> OperatorPhase:
        return OperatorPhase.CLOSED if self._core is None else self._core.phase

    async def next_event(self, timeout: float | None = None) -> OperatorEvent:
        return await asyncio.wait_for(self.events.get(), timeout)

    async def close(self) -> None:
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        if self._core is not None and self._core.phase not in (OperatorPhase.READY, OperatorPhase.CLOSED):
            await self.end_session()
        await self._close_peer()
        await self._close_viewer(linger=False)
        if self._viewer_closing is not None:
            with contextlib.suppress(Exception):
                await self._viewer_closing
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._http is not None:
            await self._http.close()
            self._http = None

    # --- effects ----------------------------------------------------------------------

    def _core_or_raise(self) -> OperatorCore:
        if self._core is None:
            raise RuntimeError("log in first")
        return self._core

    async def _execute(self, effects: Sequence[OperatorEffect]) -> None:
        for effect in effects:
            if isinstance(effect, Send):
                if self._socket is not None:
                    await self._socket.send(effect.message)
            elif isinstance(effect, LoggedIn):
                self.identity = effect.operator
                self.username = effect.username
                self._authenticated.set()
            elif isinstance(effect, ClaimAccepted | CodeAssigned):
                self._emit(effect)
            elif isinstance(effect, CustomerConnection):
                self._emit(effect)
                cobrowse = self._core is not None and self._core.client == "cobrowse"
                if cobrowse and self.session_id is not None and not effect.connected:
                    self._set_cobrowse(state="changing_page")  # the page is loading the next one
                browser = self._core is not None and self._core.client == "browser"
                if browser and not effect.connected and self.peer is not None:
                    # The page cannot tell that its socket died with an address the media
                    # survived (docs/browser.md): tell it end to end, so it resumes in time.
                    self.peer.send(RelayAway())
            elif isinstance(effect, RelayConnection):
                await self._relay_connection(effect)
            elif isinstance(effect, PrepareSession):
                await self._prepare(effect)
            elif isinstance(effect, AcceptOffer):
                await self._accept_offer(effect.sdp, effect.restart)
            elif isinstance(effect, ApplyIce):
                if self.peer is not None:
                    await self.peer.add_ice(effect.ice)
            elif isinstance(effect, Refused):
                if not self._authenticated.is_set():
                    self._auth_error = effect
                    self._authenticated.set()
                self._emit(effect)
            elif isinstance(effect, SessionEnded):
                peer = self.peer
                if peer is not None and effect.by != "agent" and peer.send(HangUp(reason=effect.reason)):
                    # The relay's ended may not have reached the customer (it shut down, or
                    # their link is away): say it end to end too before the peer closes.
                    await asyncio.sleep(_HANG_UP_FLUSH_S)
                await self._close_peer()
                self.cursor.reset()
                self.session_id = None
                if self._core is not None and self._core.client == "cobrowse":
                    self._set_cobrowse(state="ended")
                if self.viewer is not None:
                    self._viewer_closing = asyncio.ensure_future(self._close_viewer(linger=True))
                self._emit(effect)

    async def _relay_connection(self, effect: RelayConnection) -> None:
        if effect.state == "reconnecting":
            self._emit(effect)
            if self._reconnecting is None or self._reconnecting.done():
                self._reconnecting = asyncio.ensure_future(self._reconnect())
        elif effect.state == "resumed" or self._media_alive():  # forgotten, the picture flows: go on
            self._lost = None
            self._emit(effect)
        elif self._core is not None:
            await self._execute(self._core.gave_up())

    def _hung_up(self, message: HangUp) -> None:
        if self._core is not None:
            self._spawn(self._core.hung_up(message.reason))

    def _spawn(self, effects: Sequence[OperatorEffect]) -> None:
        task = asyncio.ensure_future(self._execute(effects))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _prepare(self, effect: PrepareSession) -> None:
        await self._close_peer()
        cobrowse = self._core is not None and self._core.client == "cobrowse"
        if cobrowse and not effect.renew:
            await self._open_viewer()
        elif cobrowse:
            self._set_cobrowse(state="changing_page")
        self._receiver = CobrowseReceiver()  # a new page's channel starts a new stream
        self.session_id = effect.session_id
        if not (effect.renew and not cobrowse):  # the agent's new peer: the same view goes on
            self.sink = FrameSink(on_frame=self.sink.on_frame)
            self.cursor.reset()
        turn_problems: list[TurnProblem] = []
        if effect.renew:  # the next page of the same site: no new TURN allocation test
            ice_servers = self._session_ice
        else:
            # aiortc uses one TURN URI: take the first of the relay's list that allocates.
            ice_servers = await choose_turn(
                effect.ice_servers, ssl_context=self._ssl, on_problem=turn_problems.append
            )
            self._session_ice = ice_servers
        if turn_problems:
            self._emit(TurnTrouble(frozenset(p.kind.value for p in turn_problems)))
        peer: OperatorPeer | None = None

        def state_changed(state: str) -> None:
            if peer is not None and peer is self.peer:  # a replaced peer's last states are history
                self._peer_state_changed(state)

        self.peer = peer = OperatorPeer(
            ice_servers=ice_servers,
            turn_problems=turn_problems,
            on_turn_problem=lambda p: self._emit(TurnTrouble(frozenset({p.kind.value}))),
            sink=self.sink,
            on_agent_message=self._agent_message,
            on_hang_up=self._hung_up,
            on_connection_state=state_changed,
            host_addresses=self._host_addresses,
            on_cursor=self.cursor.apply,
            turn_ssl_context=self._ssl,  # a private CA trusted for the relay is trusted for TURN
            on_cobrowse=self._cobrowse_message if cobrowse else None,
        )

    # --- co-browsing ----------------------------------------------------------------------

    async def _open_viewer(self) -> None:
        """A new view for a new co-browse session (a new secret path: an old tab sees nothing)."""
        await self._close_viewer(linger=False)
        viewer = CobrowseViewer(on_pointer=self._viewer_pointer)
        try:
            url = await viewer.start()
        except OSError:
            logger.exception("the co-browse view cannot be served")  # the panel still shows the state
            url = ""
        else:
            self.viewer = viewer
        self.cobrowse = CobrowseView(url=url)
        self._emit(CobrowseUpdate(self.cobrowse))

    async def _close_viewer(self, *, linger: bool) -> None:
        viewer, self.viewer = self.viewer, None
        if viewer is None:
            return
        viewer.push_ended()
        if linger:
            await asyncio.sleep(_VIEWER_LINGER_S)
        await viewer.close()

    def _cobrowse_message(self, data: bytes | str) -> None:
        """One message of the ``cobrowse`` channel: reassembled, shown, passed to the view."""
        viewer = self.viewer
        for item in self._receiver.feed(data):
            if isinstance(item, CobrowseBatch):
                if viewer is not None:
                    viewer.push_events(item.events)
                view = self.cobrowse.with_batch(item)
            else:
                if viewer is not None:
                    viewer.push_state(item.as_json())
                view = self.cobrowse.with_state(item)
            if view != self.cobrowse:
                self.cobrowse = view
                self._emit(CobrowseUpdate(view))

    def _set_cobrowse(self, *, state: Literal["changing_page", "ended"]) -> None:
        if self.cobrowse.state != state:
            self.cobrowse = dataclasses.replace(self.cobrowse, state=state)
            self._emit(CobrowseUpdate(self.cobrowse))

    def _viewer_pointer(self, text: str) -> None:
        """The operator clicked or moved in the view: only a checked ``cobrowse_pointer`` goes out."""
        try:
            message = decode_guidance(text)
        except ProtocolError:
            return
        if isinstance(message, CobrowsePointer) and self.peer is not None:
            self.peer.send(message)

    def _agent_message(self, message: AgentGuidance) -> None:
        if isinstance(message, SharingState | Monitors):
            self.cursor.apply(message)  # paused hides the cursor; another area too
        self._emit(CustomerMessage(message))

    async def _accept_offer(self, sdp: str, restart: int = 0) -> None:
        if self.peer is None or self._core is None:
            return
        answer = await self.peer.accept_offer(sdp)
        await self._execute(self._core.answer_created(answer, restart=restart))

    def _peer_state_changed(self, state: str) -> None:
        if self._core is None:
            return
        if state == "connected" and self._core.phase is OperatorPhase.NEGOTIATING:
            self._core.media_connected()
            self._emit(ViewingStarted(self.session_id or ""))
        elif state in ("failed", "closed") and self.peer is not None and self._core.in_session:
            # ICE consent lost (client_core.ice_consent closes the connection): this peer's
            # picture cannot come back. The customer's side, the agent or the browser's page
            # (web/static/js/restart.js), may offer a new peer (its network changed:
            # docs/protocol.md step 11), so the session ends only if none is connected by the
            # end of its give-up time, which the silence before "failed" already counts toward.
            # (Our own close clears self.peer first.) Co-browsing makes a new peer for every
            # page of the site instead, and media_lost leaves its end to the relay's grace.
            if self._core.client == "cobrowse":
                self._spawn(self._core.media_lost())
            else:
                peer = self.peer
                wait = max(0.0, self._connection_lost_s - silence_before_failure())
                task = asyncio.ensure_future(self._media_lost_later(peer, self.session_id, wait))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _media_lost_later(self, failed: OperatorPeer, session_id: str | None, wait: float) -> None:
        await asyncio.sleep(wait)
        peer = self.peer
        if self._core is None or not self._core.in_session or self.session_id != session_id:
            return  # that session is over (and maybe another one began)
        if peer is not failed and peer is not None and peer.connection_state == "connected":
            return  # a new peer connection brought the picture back
        await self._execute(self._core.media_lost())

    async def _close_peer(self) -> None:
        peer, self.peer = self.peer, None
        if peer is not None:
            await peer.close()

    def _emit(self, event: OperatorEvent) -> None:
        self.events.put_nowait(event)
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:
                logger.exception("event handler failed on %s", type(event).__name__)
