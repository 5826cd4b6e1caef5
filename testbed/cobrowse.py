"""The operator's side of co-browsing, scripted: what a viewer receives, and what the relay forwarded.

:class:`CobrowseOperator` logs in to a real relay, asks for a 6-digit code, answers the
customer's offer with a real aiortc peer and collects what arrives on the ``cobrowse``
data channel (docs/cobrowse.md): rrweb events in gzip batches, and state messages. Every
signaling frame the relay forwarded to the operator is kept verbatim in ``forwarded``, so a
test can show that no page content ever passed through the relay. The pointer goes back on
the ``guidance`` channel, and :meth:`send_guidance` sends anything, for hostile-message tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription

from client_core.rtc import apply_remote_candidate, ice_host_addresses, rtc_configuration
from operator_console.cobrowse import CobrowseBatch, CobrowseReceiver
from operator_console.cobrowse_viewer import CobrowseViewer
from protocol import (
    Answer,
    Bye,
    Claim,
    ClaimPending,
    CodeIssued,
    Ended,
    Ice,
    IssueCode,
    Offer,
    SessionStart,
    decode_signaling,
)
from relay.server import RunningRelay
from relay.testing import SignalingClient, login
from testbed.browser import BrowserCustomer
from testbed.customer import TestbedError

__all__ = ["DEMO_BANK", "CobrowseOperator", "Received", "customer_asks", "replay_text"]

DEMO_BANK: dict[str, Any] = {
    "cobrowse_site_key": "demo-bank",
    "cobrowse_shareable": (
        "/demo/bank/",
        "/demo/bank/index.html",
        "/demo/bank/account.html",
        "/demo/bank/transfer.html",
        "/demo/bank/frame.html",
        "/demo/bank/shadow.html",
    ),
    "cobrowse_mask_selectors": (".account-no",),
    "cobrowse_block_selectors": ("#promo",),
    "cobrowse_keyboard_selectors": (".soft-keyboard",),
    "cobrowse_demo_site": True,
}
"""Relay settings for the demo bank (web/demo/bank): every page shared but privacy.html (R13)."""

logger = logging.getLogger(__name__)


@dataclass
class Received:
    """What the operator's side got on the ``cobrowse`` channel."""

    batches: list[tuple[float, list[dict[str, Any]]]] = field(default_factory=list)
    """(arrival time.time(), rrweb events) per batch: wall-clock, to compare with the page's own clock."""
    states: list[dict[str, Any]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    """Every data-channel message as it arrived (compressed chunks, state text as UTF-8)."""
    bytes_received: int = 0

    @property
    def events(self) -> list[dict[str, Any]]:
        return [e for _, batch in self.batches for e in batch]


class CobrowseOperator:
    """One operator, one co-browse session."""

    def __init__(self, relay: RunningRelay, signaling: SignalingClient) -> None:
        self.relay = relay
        self.signaling = signaling
        self.forwarded: list[str] = []
        """Every text frame the relay sent to this operator, verbatim."""
        self.received = Received()
        self.pc: RTCPeerConnection | None = None
        self.guidance: RTCDataChannel | None = None
        self.code = ""
        self.claim: ClaimPending | None = None
        self.ended: Ended | None = None
        self.ice_servers: tuple[Any, ...] = ()
        self.offers = 0
        """How many offers arrived: a new page of the site brings a new peer (docs/cobrowse.md)."""
        self.connected = asyncio.Event()
        self.channel_open = asyncio.Event()
        self._changed = asyncio.Event()
        self._receiver = CobrowseReceiver()
        self._reader: asyncio.Task[None] | None = None
        self.viewer: CobrowseViewer | None = None

    async def open_viewer(self) -> str:
        """Serve the operator's view (operator_console.cobrowse_viewer) fed by this session; its URL."""
        self.viewer = CobrowseViewer(on_pointer=self._viewer_pointer)
        return await self.viewer.start()

    def _viewer_pointer(self, text: str) -> None:
        if self.guidance is not None and self.guidance.readyState == "open":
            self.guidance.send(text)

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls, relay: RunningRelay, username: str, password: str, *, issue: bool = True
    ) -> AsyncIterator[CobrowseOperator]:
        """Log in and get a 6-digit code (``.code``) to read out to the customer; with
        ``issue=False`` none, for :meth:`claim_number` (one session per connection)."""
        async with aiohttp.ClientSession() as http:
            token = await login(http, relay, username, password)
            signaling = await SignalingClient.operator(http, relay, token, timeout=15.0)
            operator = cls(relay, signaling)
            try:
                if issue:
                    await signaling.send(IssueCode())
                    issued = await signaling.expect(CodeIssued)
                    operator.code = issued.code
                operator._reader = asyncio.create_task(operator._read())
                yield operator
            finally:
                await operator.close()

    async def claim_number(self, code: str, timeout: float = 10.0) -> ClaimPending:
        """The other direction: type the customer's 4-digit number, as in the console."""
        await self.signaling.send(Claim(code=code))
        try:
            await self.until("the number was not claimed", lambda: self.claim is not None, timeout)
        except TestbedError:
            raise TestbedError(f"the number was not claimed: {self.forwarded[-3:]}") from None
        assert self.claim is not None
        return self.claim

    async def _read(self) -> None:
        ws = self.signaling.ws
        async for frame in ws:
            if frame.type is not aiohttp.WSMsgType.TEXT:
                break
            self.forwarded.append(frame.data)
            message = decode_signaling(frame.data)
            if isinstance(message, ClaimPending):
                self.claim = message
            elif isinstance(message, SessionStart):
                self.ice_servers = message.ice_servers
            elif isinstance(message, Offer):
                self.offers += 1
                if self.pc is not None:  # the customer went to another page: a new peer
                    await self.pc.close()
                self.pc = RTCPeerConnection(rtc_configuration(self.ice_servers))
                self._receiver = CobrowseReceiver()
                self._watch(self.pc)
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=message.sdp, type="offer"))
                answer = await self.pc.createAnswer()
                with ice_host_addresses("loopback"):
                    await self.pc.setLocalDescription(answer)
                await self.signaling.send(Answer(sdp=str(self.pc.localDescription.sdp)))
            elif isinstance(message, Ice) and self.pc is not None:
                await apply_remote_candidate(self.pc, message)
            elif isinstance(message, Ended):
                self.ended = message
                if self.viewer is not None:
                    self.viewer.push_ended()
            self._changed.set()

    def _watch(self, pc: RTCPeerConnection) -> None:
        @pc.on("connectionstatechange")
        def _state() -> None:
            if pc.connectionState == "connected":
                self.connected.set()

        @pc.on("datachannel")
        def _channel(channel: RTCDataChannel) -> None:
            if channel.label == "guidance":
                self.guidance = channel
            elif channel.label == "cobrowse":
                self.channel_open.set()
                channel.on("message", self._content)

    def _content(self, data: bytes | str) -> None:
        raw = data.encode() if isinstance(data, str) else bytes(data)
        self.received.raw.append(raw)
        self.received.bytes_received += len(raw)
        for item in self._receiver.feed(data):  # what the console does (operator_console.cobrowse)
            if isinstance(item, CobrowseBatch):
                self.received.batches.append((time.time(), item.events))
                if self.viewer is not None:
                    self.viewer.push_events(item.events)
            else:
                self.received.states.append(item.as_json())
                if self.viewer is not None:
                    self.viewer.push_state(item.as_json())
        self._changed.set()

    async def until(self, what: str, predicate: Any, timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` is true; TestbedError(what) on timeout."""
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TestbedError(what)
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.1))

    def send_guidance(self, text: str) -> None:
        """Anything on the guidance channel: a pointer, or a hostile message a test tries."""
        if self.guidance is None or self.guidance.readyState != "open":
            raise TestbedError("the guidance channel is not open")
        self.guidance.send(text)

    def pointer(self, node: int, fx: float, fy: float, action: str = "move") -> None:
        self.send_guidance(
            json.dumps({"type": "cobrowse_pointer", "action": action, "node": node, "fx": fx, "fy": fy})
        )

    async def end(self) -> None:
        await self.signaling.send(Bye())

    async def close(self) -> None:
        if self.viewer is not None:
            await self.viewer.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self.pc is not None:
            await self.pc.close()
        await self.signaling.close()


async def customer_asks(browser: BrowserCustomer, page_url: str, code: str) -> str:
    """The customer opens the launcher on ``page_url`` and types ``code``: the request's text
    (the operator's verified name), with Allow on screen, not yet clicked."""
    await browser.goto(page_url)
    await browser.click("#cb-launcher")
    await browser.fill("#cb-code", code)
    await browser.click("#cb-connect")
    await browser.wait("#cb-allow", timeout_s=15)
    return await browser.text("#cb-request")


REPLAY_DOCUMENT = "document.querySelector('#player iframe')?.contentDocument"
"""The mirrored page's document in the operator's view (web/viewer)."""


async def replay_text(viewer: BrowserCustomer, selector: str, *, timeout_s: float = 10.0) -> str:
    """The text of ``selector`` in the mirrored page, once it is there."""
    script = (
        "new Promise((resolve, reject) => { const until = Date.now() + "
        f"{int(timeout_s * 1000)}; const look = () => {{ const el = {REPLAY_DOCUMENT}"
        f"?.querySelector({json.dumps(selector)}); if (el) resolve(el.textContent);"
        " else if (Date.now() > until) reject(new Error('not mirrored')); else setTimeout(look, 20); };"
        " look(); })"
    )
    return str(await viewer.eval(script))
