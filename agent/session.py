"""One customer session: relay signaling + state machine + WebRTC peer.

This is the I/O glue around :class:`agent.state.AgentCore`. It keeps the relay
websocket alive (reconnecting and resuming with the same code when it drops,
before or during sharing), carries out the core's effects, and reports what
happens to the UI through ``on_event``. The screen track is created only when
the core emits ``StartPeer``, which it does only after the customer's Allow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import aiohttp
from aiortc import MediaStreamTrack

from agent.capture import CaptureError
from agent.cursor_feed import CursorFeed, CursorSample
from agent.events import (
    AgentEvent,
    CodeAssigned,
    OperatorAsking,
    OperatorConnection,
    Reconnected,
    Reconnecting,
    Refused,
    RelayForgot,
    SessionEnded,
    SharingStarted,
    SystemInfoSent,
    TurnTrouble,
)
from agent.peer import AgentPeer, GuidanceHandler
from agent.state import (
    AgentCore,
    AgentEffect,
    AgentPhase,
    ApplyAnswer,
    ApplyIce,
    Finish,
    Send,
    StartPeer,
)
from agent.track import ScreenTrack
from client_core import __version__
from client_core.ice_consent import silence_before_failure, tolerate_silence
from client_core.peer_restart import GiveUp, OfferNewPeer, PeerRestart, RestartAction
from client_core.proxy import ProxySetting
from client_core.reconnect import CONNECTION_LOST_S, RECONNECT_DELAYS_S, Reconnector
from client_core.rtc import IceAddressMode, host_addresses, is_loopback_url
from client_core.signaling_client import RelayUnreachable, SignalingSocket
from client_core.turn import TurnProblem, choose_turn
from protocol import EndReason, GuidanceMessage, HangUp, IceServer, Scope, SharingState, SysInfoReport

__all__ = [
    "AgentEvent",
    "AgentSession",
    "CodeAssigned",
    "OperatorAsking",
    "OperatorConnection",
    "Reconnected",
    "Reconnecting",
    "Refused",
    "RelayForgot",
    "SessionEnded",
    "SharingStarted",
    "SystemInfoSent",
]

logger = logging.getLogger(__name__)


TrackFactory = Callable[[], MediaStreamTrack]

_HANG_UP_FLUSH_S = 0.05
"""How long the data channel gets to send ``hang_up`` before the peer connection closes."""

_CURSOR_POLL_S = 1 / 30
"""How often the cursor is read while sharing; the feed sends at most this often."""

_WATCH_S = 0.5
"""How often the local addresses are read while sharing (a changed network: Wi-Fi to
tethering), and how often client_core.peer_restart is asked whether to restart."""


class AgentSession:
    """Runs one session attempt from registration to the end."""

    def __init__(
        self,
        relay_url: str,
        *,
        track_factory: TrackFactory,
        on_event: Callable[[AgentEvent], None],
        on_guidance: GuidanceHandler,
        initial_guidance: Callable[[], Sequence[GuidanceMessage]] = tuple,
        sysinfo_scope: Scope = "detailed",
        locale: str = "ja",
        operator_code: str | None = None,
        send_system_info: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        reconnect_delays_s: Sequence[float] = RECONNECT_DELAYS_S,
        reconnect_give_up_s: float = CONNECTION_LOST_S,
        proxy: ProxySetting = None,
    ) -> None:
        self.relay_url = relay_url
        self._proxy = proxy
        """An explicit proxy for the signaling websocket (client_core.proxy); None: automatic."""
        self.core = AgentCore(
            sysinfo_scope=sysinfo_scope,
            client_version=__version__,
            locale=locale,
            operator_code=operator_code,
        )
        self._track_factory = track_factory
        self._on_event = on_event
        self._on_guidance = on_guidance
        self._initial_guidance = initial_guidance
        self._ssl = ssl_context
        self._delays = tuple(reconnect_delays_s)
        self._give_up_s = reconnect_give_up_s
        tolerate_silence(reconnect_give_up_s)  # ICE survives what the session rides out
        self._socket: SignalingSocket | None = None
        self._http: aiohttp.ClientSession | None = None
        self._outbox: list[Send] = []
        self.peer: AgentPeer | None = None
        self.track: MediaStreamTrack | None = None
        self.paused = False
        self._ended = asyncio.Event()
        self._result: SessionEnded | None = None
        self._sharing_since: float | None = None
        # The detailed scope reports the R19 items, the normal scope only the four R20 items.
        self._sysinfo_scope: Scope | None = sysinfo_scope if send_system_info else None
        self._sysinfo: asyncio.Task[SysInfoReport] | None = None
        self._sysinfo_declined = False
        self._declared_scope: Scope = sysinfo_scope
        self.system_info: SysInfoReport | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._hanging_up: asyncio.Future[None] | None = None
        self.cursor_feed = CursorFeed(max_rate_hz=1 / _CURSOR_POLL_S)
        self._cursor_task: asyncio.Task[None] | None = None
        self._restart = PeerRestart(give_up_s=reconnect_give_up_s)
        """When a new peer connection is offered in this session (docs/protocol.md step 11)."""
        self._ice_servers: tuple[IceServer, ...] = ()
        self._watch_task: asyncio.Task[None] | None = None
        self._relay_moved = False
        """The relay socket was cut because its local address disappeared: reconnect at once."""
        # Every party is on this machine when the relay is: offer 127.0.0.1, which aioice omits.
        self._host_addresses: IceAddressMode = "loopback" if is_loopback_url(relay_url) else "auto"

    # --- public API (call from the event loop) -------------------------------------

    async def run(self, *, consent_accepted: bool) -> SessionEnded:
        """Register and run until the session ends; returns how it ended."""
        loop = asyncio.get_running_loop()
        self._http = aiohttp.ClientSession()
        try:
            pending: list[AgentEffect] = list(self.core.start(consent_accepted=consent_accepted))
            lost: Reconnector | None = None
            while not self._ended.is_set():
                if self.core.off_relay:
                    # The relay forgot the session; the media goes on until someone ends it.
                    await self._ended.wait()
                    break
                socket = SignalingSocket(
                    self.relay_url, "/ws/agent", http=self._http, ssl_context=self._ssl, proxy=self._proxy
                )
                try:
                    await socket.connect()
                except RelayUnreachable as exc:
                    if lost is None:
                        lost = Reconnector(loop.time(), self._delays, self._give_up_s)
                    logger.warning("%s", exc)
                    if lost.give_up(loop.time(), media_alive=self._media_alive()):
                        await self._execute(self.core.gave_up())
                        break
                    self._emit(Reconnecting(lost.attempts + 1))
                    await self._sleep(lost.next_delay())
                    continue
                self._socket = socket
                if lost is not None:
                    pending = list(self.core.reconnected())
                    self._emit(Reconnected())
                lost = None
                pending.extend(self._outbox)
                self._outbox.clear()
                await self._execute(pending)
                pending = []
                self._restart.relay(True)  # an offer waiting for the relay goes after the resume
                if self.peer is not None:
                    self._spawn(self._act(self._restart.poll(loop.time())))
                async for message in socket.messages():
                    await self._execute(self.core.receive(message))
                    if self._ended.is_set():
                        break
                self._restart.relay(False)
                self._socket = None
                await socket.close()
                if self._ended.is_set() or self.core.phase is AgentPhase.ENDED:
                    break
                if self._off_relay():
                    continue
                logger.info("relay connection lost (code %s)", socket.close_code)
                lost = Reconnector(loop.time(), self._delays, self._give_up_s)
                self._emit(Reconnecting(1))
                if self._relay_moved:  # we cut it: the new address can reach the relay now
                    self._relay_moved = False
                    continue
                await self._sleep(lost.next_delay())
            if self._result is None:
                await self._execute([Finish(EndReason.PEER_GONE, "relay")])
            if self._hanging_up is not None:
                await self._hanging_up  # the peer is closed and capture stopped before run() returns
            assert self._result is not None
            return self._result
        finally:
            await self._shutdown()

    async def decide(self, allowed: bool, *, timed_out: bool = False, system_info: bool = True) -> None:
        """The customer's Allow / Deny, or the countdown running out (``timed_out``). With
        ``system_info`` False the screen is shared without the PC information: nothing
        is collected, and the operator gets a declined report instead."""
        if allowed and not system_info:
            self._sysinfo_declined = self._sysinfo_scope is not None
            self._sysinfo_scope = None
        await self._execute(
            self.core.decide(
                allowed,
                timed_out=timed_out,
                system_info=system_info and self._sysinfo_scope is not None,
            )
        )

    async def stop(self) -> None:
        """Stop sharing and end the session now (Stop button, window closed)."""
        await self._execute(self.core.stop())

    def pause(self, paused: bool) -> None:
        """Pause: the operator gets no new content and is told so."""
        self.paused = paused
        if isinstance(self.track, ScreenTrack):
            if paused:
                self.track.pause()
            else:
                self.track.resume()
        # Nothing about the cursor leaves while paused; after resuming it is sent afresh.
        if paused:
            self.cursor_feed.pause()
        else:
            self.cursor_feed.resume()
        if self.peer is not None:
            self.peer.send(SharingState(paused=paused))

    def send_guidance(self, message: GuidanceMessage) -> bool:
        return self.peer is not None and self.peer.send(message)

    @property
    def ended(self) -> asyncio.Event:
        return self._ended

    @property
    def peer_restarts(self) -> int:
        """New peer connections offered in this session after the first (docs/protocol.md step 11)."""
        return self._restart.generation

    # --- effects ---------------------------------------------------------------------

    async def _execute(self, effects: Sequence[AgentEffect]) -> None:
        for effect in effects:
            if isinstance(effect, Send):
                socket = self._socket
                if socket is None or not await socket.send(effect.message):
                    self._outbox.append(effect)
            elif isinstance(effect, CodeAssigned | OperatorAsking | OperatorConnection | Refused):
                self._emit(effect)
            elif isinstance(effect, StartPeer):
                await self._start_peer(effect)
            elif isinstance(effect, ApplyAnswer):
                if effect.restart != self._restart.generation:
                    current = self._restart.generation
                    logger.info("answer to peer %d ignored: peer %d is current", effect.restart, current)
                elif self.peer is not None:
                    await self.peer.apply_answer(effect.sdp)
            elif isinstance(effect, ApplyIce):
                if self.peer is not None:
                    await self.peer.add_ice(effect.ice)
            elif isinstance(effect, RelayForgot):
                if self._media_alive():
                    self._emit(effect)
                else:  # nothing flows and nobody can tell the operator: it is over
                    await self._execute(self.core.gave_up())
            elif isinstance(effect, Finish):
                await self._finish(effect)

    async def _start_peer(self, effect: StartPeer) -> None:
        # Collected only now, after the customer's Allow, and sent once over the data channel.
        if self._sysinfo_scope is not None:
            self._sysinfo = asyncio.ensure_future(_collect_report(self._sysinfo_scope))
        self.track = self._track_factory()
        if self.paused and isinstance(self.track, ScreenTrack):
            self.track.pause()
        turn_problems: list[TurnProblem] = []
        # aiortc uses one TURN URI: take the first of the relay's list that allocates.
        ice_servers = await choose_turn(
            effect.ice_servers, ssl_context=self._ssl, on_problem=turn_problems.append
        )
        if turn_problems:
            self._emit(TurnTrouble(frozenset(p.kind.value for p in turn_problems)))
        self._ice_servers = ice_servers
        sdp = await self._new_peer(self.track, turn_problems).create_offer()
        self._restart.peer_started(asyncio.get_running_loop().time(), host_addresses(self._host_addresses))
        await self._execute(self.core.offer_created(sdp))
        self._watch_task = asyncio.ensure_future(self._watch())

    def _new_peer(self, track: MediaStreamTrack, turn_problems: list[TurnProblem]) -> AgentPeer:
        peer: AgentPeer | None = None

        def state_changed(state: str) -> None:
            if peer is self.peer:  # a replaced peer's last states are history
                self._peer_state_changed(state)

        peer = AgentPeer(
            ice_servers=self._ice_servers,
            turn_problems=turn_problems,
            on_turn_problem=lambda p: self._emit(TurnTrouble(frozenset({p.kind.value}))),
            track=track,
            on_guidance=self._on_guidance,
            on_hang_up=self._hung_up,
            on_connection_state=state_changed,
            on_channel_open=self._channel_opened,
            host_addresses=self._host_addresses,
            turn_ssl_context=self._ssl,  # a private CA trusted for the relay is trusted for TURN
        )
        self.peer = peer
        return peer

    async def _restart_peer(self, generation: int) -> None:
        """A new peer connection in the same session: same consent, same operator, same capture.

        The old peer is closed first, its sender letting go of the screen track so that the
        track goes on into the new peer (aiortc's sender would stop it); the guidance
        channel is opened again on the new peer (``_channel_opened``)."""
        old, track = self.peer, self.track
        if track is None or self.core.phase is AgentPhase.ENDED:
            return
        peer = self._new_peer(track, [])
        if old is not None:
            await old.close(keep_track=True)
        sdp = await peer.create_offer()
        if peer is not self.peer or self._ended.is_set():
            return  # replaced again, or ended, while gathering
        self._restart.peer_started(asyncio.get_running_loop().time(), host_addresses(self._host_addresses))
        logger.info("peer %d offered (a new peer connection in the same session)", generation)
        await self._execute(self.core.offer_created(sdp, restart=generation))

    async def _watch(self) -> None:
        """While the session lives: read the local addresses and ask whether to restart."""
        loop = asyncio.get_running_loop()
        while not self._ended.is_set():
            await self._sleep(_WATCH_S)
            if self._ended.is_set():
                return
            addresses = host_addresses(self._host_addresses)  # getifaddrs: well under a millisecond
            now = loop.time()
            self._restart.addresses(now, addresses)
            socket = self._socket
            local = socket.local_address if socket is not None else None
            if socket is not None and local and not _is_loopback(local) and local not in addresses:
                # Its address has gone with the old network: nothing will ever arrive on it.
                logger.info("relay connection's address %s gone: reconnecting from the new one", local)
                self._relay_moved = True
                self._restart.relay(False)
                socket.abort()
            await self._act(self._restart.poll(now))

    async def _act(self, actions: Sequence[RestartAction]) -> None:
        for action in actions:
            if isinstance(action, OfferNewPeer):
                await self._restart_peer(action.generation)
            elif isinstance(action, GiveUp):
                # Media cannot flow any more and no new peer connection came up: end the
                # session rather than pretend.
                await self._execute(self.core.media_lost())

    def _peer_state_changed(self, state: str) -> None:
        loop = asyncio.get_running_loop()
        if state == "connected" and self.core.phase is AgentPhase.CONNECTING:
            self.core.media_connected()
            self._sharing_since = loop.time()
            assert self.core.operator is not None
            self._emit(SharingStarted(self.core.operator))
        if self.core.phase is AgentPhase.ENDED:
            return
        # ``closed`` here is not our doing (ours replaces or ends first): the same as failed.
        bad = state in ("failed", "closed")
        silent = silence_before_failure() if bad else 0.0
        self._restart.peer_state(loop.time(), "failed" if bad else state, silent_s=silent)
        if state in ("failed", "closed"):
            # ICE consent lost (client_core.ice_consent) or the network changed: a new peer
            # connection if the relay can carry its offer, else the end (client_core.peer_restart).
            self._spawn(self._act(self._restart.poll(loop.time())))

    def _hung_up(self, message: HangUp) -> None:
        effects = self.core.hung_up(message.reason)
        if effects:
            self._hanging_up = asyncio.ensure_future(self._execute(effects))

    def _off_relay(self) -> bool:
        return self.core.off_relay

    def _media_alive(self) -> bool:
        return self.peer is not None and self.peer.connection_state == "connected"

    def _channel_opened(self) -> None:
        if self.peer is None:
            return
        for message in self._initial_guidance():
            self.peer.send(message)
        if self.paused:
            self.peer.send(SharingState(paused=True))
        if self._sysinfo is not None and self.system_info is None:  # once: a restarted peer has it
            self._spawn(self._send_system_info(self._sysinfo))
        elif self._sysinfo_declined:
            self.peer.send(SysInfoReport(scope=self._declared_scope, data={}, unavailable={}, declined=True))
        if isinstance(self.track, ScreenTrack) and self._cursor_task is None:
            # The channel opens only after the customer's Allow: no cursor leaves before.
            self._cursor_task = asyncio.ensure_future(self._follow_cursor(self.track))

    async def _follow_cursor(self, track: ScreenTrack) -> None:
        """Read the cursor ~30 times a second and send what the feed decides (see cursor_feed)."""
        feed, source = self.cursor_feed, track.source
        loop = asyncio.get_running_loop()
        while not self._ended.is_set():
            await asyncio.sleep(_CURSOR_POLL_S)
            peer = self.peer
            if self.paused or feed.paused or peer is None or not peer.channel_open:
                continue
            try:
                # ~16 µs of CPU on X (one round trip), a few user32 calls on Windows.
                serial = source.cursor_shape_serial()
                if feed.wants_image(serial):
                    image = source.cursor_image()
                    shape = None if image is None else feed.shape(image)
                    if shape is not None:
                        peer.send(shape)
                sample = CursorSample(source.cursor_normalised(), source.selected.index, serial)
            except CaptureError:
                return  # the source is closed: sharing is over
            except Exception:
                # The cursor is a courtesy: never let it take the session down.
                logger.exception("reading the cursor failed; it is no longer shown to the operator")
                return
            now = loop.time()
            message = feed.update(sample, now) or feed.flush(now)
            if message is not None:
                peer.send(message)

    async def _send_system_info(self, collecting: asyncio.Task[SysInfoReport]) -> None:
        try:
            report = await collecting
        except Exception:
            logger.exception("system information could not be collected")
            return
        if self.peer is not None and self.peer.send(report):
            self.system_info = report
            self._emit(SystemInfoSent(report))

    async def _finish(self, effect: Finish) -> None:
        if self._result is not None:
            return
        loop = asyncio.get_running_loop()
        shared = 0.0 if self._sharing_since is None else loop.time() - self._sharing_since
        self._result = SessionEnded(effect.reason, effect.by, self.core.operator, shared)
        logger.info("session ended: %s by %s after %.1f s shared", effect.reason, effect.by, shared)
        if self._sysinfo is not None and not self._sysinfo.done():
            self._sysinfo.cancel()
        if self._cursor_task is not None:
            self._cursor_task.cancel()
        self._restart.ended()
        if self._watch_task is not None and self._watch_task is not asyncio.current_task():
            self._watch_task.cancel()  # (it ends by itself when it is what ends the session)
        # Media first: Stop must stop frames at once, before any network goodbye completes.
        if self.track is not None:
            self.track.stop()
        if self.peer is not None:
            if effect.by != "operator" and self.peer.send(HangUp(reason=effect.reason)):
                # End to end, past a slow or absent relay; let the channel write it out.
                await asyncio.sleep(_HANG_UP_FLUSH_S)
            await self.peer.close()
        # Flush a final bye if it is queued, then drop the relay connection.
        socket = self._socket
        if socket is not None:
            for send in self._outbox:
                await socket.send(send.message)
            self._outbox.clear()
            await socket.close()
        self._ended.set()
        self._emit(self._result)

    # --- helpers ---------------------------------------------------------------------

    def _emit(self, event: AgentEvent) -> None:
        try:
            self._on_event(event)
        except Exception:
            logger.exception("event handler failed on %s", type(event).__name__)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ended.wait(), seconds)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _shutdown(self) -> None:
        if self.peer is not None:
            await self.peer.close()
        if self._socket is not None:
            await self._socket.close()
        if self._http is not None:
            await self._http.close()
            self._http = None


def _is_loopback(address: str) -> bool:
    return address.startswith("127.") or address == "::1"


async def _collect_report(scope: Scope) -> SysInfoReport:
    from agent.sysinfo import collect_async, to_report

    return to_report(await collect_async(scope))
