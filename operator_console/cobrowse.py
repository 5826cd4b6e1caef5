"""What arrives on the co-browse data channel, decoded (sans-IO; docs/protocol.md §5a).

The customer's page sends rrweb batches as binary messages, a gzip stream split into
messages of at most 16 KiB (byte 0: ``1`` more follows, ``0`` last), and states as text
(``{"type": "cobrowse_state", "paused": true, "reason": "not_shared" | "keyboard"}``).
:class:`CobrowseReceiver` reassembles and checks them; :class:`CobrowseView` is what the
console shows about the mirror (connected, the page, not shared, paused, changing page).
Both the console (operator_console/client.py) and the scripted operator (testbed/cobrowse.py)
use them, so what a test receives is what the console receives.

    receiver = CobrowseReceiver()
    for item in receiver.feed(data):      # data: bytes or str from the channel
        if isinstance(item, CobrowseBatch): viewer.push_events(item.events)
        else: viewer.push_state(item.as_json())
"""

from __future__ import annotations

import dataclasses
import json
import logging
import zlib
from typing import Any, Literal

__all__ = [
    "MAX_BATCH_BYTES",
    "CobrowseBatch",
    "CobrowseReceiver",
    "CobrowseState",
    "CobrowseView",
    "page_of",
]

logger = logging.getLogger(__name__)

MAX_BATCH_BYTES = 32 * 1024 * 1024
"""The most one decompressed batch may be (a large page's first snapshot is about 330 KB);
a bigger one is dropped, so a hostile page cannot fill the console's memory."""
_MAX_COMPRESSED = 8 * 1024 * 1024
_MAX_STATE_CHARS = 512

PauseReason = Literal["not_shared", "keyboard"]


@dataclasses.dataclass(frozen=True)
class CobrowseBatch:
    """One batch of rrweb events, decompressed."""

    events: list[dict[str, Any]]
    raw_bytes: int
    """Its size as it came (compressed), for the figures."""


@dataclasses.dataclass(frozen=True)
class CobrowseState:
    """The customer's page paused (not shared, or a keyboard is up) or sharing again."""

    paused: bool
    reason: PauseReason | None

    def as_json(self) -> dict[str, Any]:
        return {"type": "cobrowse_state", "paused": self.paused, "reason": self.reason}


class CobrowseReceiver:
    """Reassembles one peer's ``cobrowse`` channel; a new peer (a new page) gets a new one."""

    def __init__(self) -> None:
        self._pending = bytearray()
        self.rejected = 0
        """Messages or batches dropped as malformed or too large."""
        self.bytes_received = 0

    def feed(self, data: bytes | str) -> list[CobrowseBatch | CobrowseState]:
        """Take one channel message; what it completed (a batch, a state), if anything."""
        if isinstance(data, str):
            self.bytes_received += len(data.encode())
            state = _state(data)
            if state is None:
                self.rejected += 1
                return []
            return [state]
        raw = bytes(data)
        self.bytes_received += len(raw)
        if not raw or raw[0] not in (0, 1):
            self.rejected += 1
            return []
        self._pending += raw[1:]
        if len(self._pending) > _MAX_COMPRESSED:
            logger.warning("co-browse batch over %d bytes compressed dropped", _MAX_COMPRESSED)
            self._pending.clear()
            self.rejected += 1
            return []
        if raw[0] == 1:
            return []
        compressed, self._pending = bytes(self._pending), bytearray()
        events = _events(compressed)
        if events is None:
            self.rejected += 1
            return []
        return [CobrowseBatch(events, len(compressed))]


def _state(text: str) -> CobrowseState | None:
    if len(text) > _MAX_STATE_CHARS:
        return None
    try:
        message = json.loads(text)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("type") != "cobrowse_state":
        return None
    paused, reason = message.get("paused"), message.get("reason")
    if paused is False and reason is None:
        return CobrowseState(False, None)
    if paused is True and reason in ("not_shared", "keyboard"):
        return CobrowseState(True, reason)
    return None


def _events(compressed: bytes) -> list[dict[str, Any]] | None:
    inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip
    try:
        text = inflate.decompress(compressed, MAX_BATCH_BYTES)
        if inflate.unconsumed_tail or not inflate.eof:
            logger.warning("co-browse batch over %d bytes or truncated: dropped", MAX_BATCH_BYTES)
            return None
        batch = json.loads(text)
    except (zlib.error, ValueError):
        return None
    events = batch.get("events") if isinstance(batch, dict) else None
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        return None
    return events


def page_of(events: list[dict[str, Any]]) -> str | None:
    """The address of the page a batch starts (rrweb's Meta event, origin and path only)."""
    for event in events:
        data = event.get("data")
        if event.get("type") == 4 and isinstance(data, dict) and isinstance(data.get("href"), str):
            return str(data["href"])[:2048]
    return None


ViewState = Literal["waiting", "sharing", "not_shared", "keyboard", "changing_page", "ended"]


@dataclasses.dataclass(frozen=True)
class CobrowseView:
    """What the console's session panel says about the mirror, and where the view is.

    ``state``: ``waiting`` (connected, no page yet), ``sharing``, ``not_shared`` (the
    customer is on a page that is never shared), ``keyboard`` (paused: the customer is
    typing), ``changing_page`` (the customer's page is loading the next one), ``ended``.
    """

    state: ViewState = "waiting"
    url: str = ""
    """The operator's view (operator_console.cobrowse_viewer), empty until it listens."""
    page: str = ""
    """The shared page's address (origin and path), empty until the first snapshot."""

    def with_batch(self, batch: CobrowseBatch) -> CobrowseView:
        page = page_of(batch.events)
        state: ViewState = self.state
        if self.state in ("waiting", "changing_page") or page is not None:
            state = "sharing"
        return dataclasses.replace(self, state=state, page=page or self.page)

    def with_state(self, message: CobrowseState) -> CobrowseView:
        state: ViewState = "sharing" if message.reason is None else message.reason
        page = "" if message.reason == "not_shared" else self.page  # its address is not sent
        return dataclasses.replace(self, state=state, page=page)
