"""Every wire message, as frozen dataclasses with a ``type`` tag.

Two families travel on two transports:

* **signaling** — JSON text frames on the relay websockets (``/ws/agent`` and
  ``/ws/operator``): pairing, consent, SDP/ICE forwarding, errors, endings;
* **guidance** — JSON text on the WebRTC data channel labelled ``guidance``,
  end to end between operator and agent: the pointer and the keyboard guide
  (operator -> agent), sharing state, monitor list, system information and the
  customer's mouse cursor (agent -> operator).

There is deliberately no message that asks the agent to click, type or run
anything (R9): such a message cannot even be decoded.

Field constraints (lengths, ranges) are declared with :func:`text`, :func:`number`
and :func:`items` and checked on construction, so an invalid message cannot
exist in memory; :mod:`protocol.codec` turns JSON into these classes.
Rules for evolving: add optional fields with defaults; never rename a field or
reuse a removed field's name or a ``type`` value for another meaning.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import math
import zlib
from typing import Any, ClassVar, Literal

from .codes import AGENT_CODE_DIGITS, OPERATOR_CODE_DIGITS, is_code
from .errors import EndReason, ErrorCode, ProtocolError
from .keys import KEY_NAMES, MAX_COMBOS, MAX_KEYS_PER_COMBO

__all__ = [
    "PROTOCOL_VERSION",
    "MAX_MESSAGE_BYTES",
    "GUIDANCE_CHANNEL",
    "Message",
    "JsonObject",
    "IceServer",
    "OperatorIdentity",
    "MonitorInfo",
    "LoginRequest",
    "Register",
    "Resume",
    "Join",
    "Registered",
    "Resumed",
    "Auth",
    "Authenticated",
    "Claim",
    "IssueCode",
    "CodeIssued",
    "ClaimPending",
    "OperatorRequest",
    "Decision",
    "SessionStart",
    "Offer",
    "Answer",
    "Ice",
    "PeerStatus",
    "Ping",
    "Pong",
    "Bye",
    "Ended",
    "Error",
    "Pointer",
    "CobrowsePointer",
    "POINTER_IDLE_S",
    "POINTER_FADE_S",
    "KeyGuide",
    "KeyGuideClear",
    "KeyGuideClosed",
    "RelayAway",
    "AgentGuidance",
    "SharingState",
    "Monitors",
    "SysInfoReport",
    "Cursor",
    "CursorShape",
    "MAX_CURSOR_SIZE",
    "cursor_pixels",
    "SignalingMessage",
    "GuidanceMessage",
    "HangUp",
    "SIGNALING_TYPES",
    "GUIDANCE_TYPES",
    "ClientKind",
    "PointerAction",
    "Role",
    "Scope",
    "Side",
]

PROTOCOL_VERSION = 1
"""Bumped only for incompatible changes; peers must send exactly this value."""

MAX_MESSAGE_BYTES = 64 * 1024
"""Upper bound for one encoded message on either transport."""

GUIDANCE_CHANNEL = "guidance"
"""Label of the WebRTC data channel the agent opens for guidance messages."""

JsonObject = dict[str, Any]
"""A JSON object whose values are checked to be plain JSON (see codec)."""

Role = Literal["agent", "operator"]
"""Which end of a relay connection: the customer's side (``/ws/agent``) or an operator (``/ws/operator``)."""
Side = Literal["agent", "operator", "relay"]
"""Who ended a session or sent a message: one of the two roles, or the relay itself."""
ClientKind = Literal["agent", "browser", "cobrowse"]
"""What the customer shares from: the installed agent (detailed mode, R6), the browser's
screen share (normal mode, R7), or co-browsing of the company's own pages (R8)."""
Scope = Literal["detailed", "normal"]
"""Which system information the customer's side reports: the R19 items, or the four of R20."""
PointerAction = Literal["move", "click", "hide"]

_SDP_MAX = 48 * 1024
_TOKEN_MAX = 256
_NAME_MAX = 128
_PASSWORD_MAX = 1024


def text(max_len: int, *, min_len: int = 0, default: str | None = None) -> Any:
    """A string field of bounded length."""
    meta = {"max_len": max_len, "min_len": min_len}
    if default is None:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def number(lo: float, hi: float, *, default: float | int | None = None, omit_default: bool = False) -> Any:
    """An int or float field within [lo, hi]; ``omit_default``: not encoded at its default
    (a field added later, so that a message not using it goes out as it always did)."""
    meta: dict[str, Any] = {"lo": lo, "hi": hi, "omit_default": omit_default}
    if default is None:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def items(max_items: int, *, default: tuple[Any, ...] | None = None) -> Any:
    """A tuple field (a JSON array) with at most ``max_items`` entries."""
    meta = {"max_items": max_items}
    if default is None:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _check_constraints(obj: object) -> None:
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        meta = f.metadata
        where = f"{type(obj).__name__}.{f.name}"
        if (
            "max_len" in meta
            and isinstance(value, str)
            and not meta["min_len"] <= len(value) <= meta["max_len"]
        ):
            raise ProtocolError(f"{where}: length must be {meta['min_len']}..{meta['max_len']}")
        if "lo" in meta and isinstance(value, int | float) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                raise ProtocolError(f"{where}: must be a finite number")
            if not meta["lo"] <= value <= meta["hi"]:
                raise ProtocolError(f"{where}: must be within {meta['lo']}..{meta['hi']}")
        if "max_items" in meta and isinstance(value, tuple) and len(value) > meta["max_items"]:
            raise ProtocolError(f"{where}: at most {meta['max_items']} items")


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Checked:
    def __post_init__(self) -> None:
        _check_constraints(self)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Message(_Checked):
    """Base of every wire message; subclasses set ``type`` to a Literal tag."""

    type: ClassVar[str]


# --- shared parts --------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class IceServer(_Checked):
    """One STUN/TURN server, as in WebRTC's ``RTCIceServer``."""

    urls: tuple[str, ...] = items(8)
    username: str | None = None
    credential: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class OperatorIdentity(_Checked):
    """Who is asking to see the screen, as verified by the relay at login."""

    display_name: str = text(_NAME_MAX, min_len=1)
    organisation: str = text(_NAME_MAX, min_len=1)


@dataclasses.dataclass(frozen=True, kw_only=True)
class MonitorInfo(_Checked):
    """One shareable monitor, in the agent's desktop coordinates (physical pixels)."""

    index: int = number(0, 64)
    x: int = number(-100_000, 100_000)
    y: int = number(-100_000, 100_000)
    width: int = number(1, 100_000)
    height: int = number(1, 100_000)
    primary: bool = False


# --- signaling: customer agent -> relay ------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Register(Message):
    """The agent asks for a 4-digit code. Sent only after the customer agreed (R15)."""

    type: ClassVar[str] = "register"
    protocol_version: int = number(0, 1_000_000)
    # Field "mode" (protocol 1 drafts) is retired: it meant both of these.
    client: ClientKind = "agent"
    sysinfo_scope: Scope = "detailed"
    client_version: str = text(64)
    consent_accepted: bool
    locale: str = text(16, default="ja")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Resume(Message):
    """A client's websocket dropped; it reconnects and keeps its code or session.

    The agent sends it as its first message with the token of ``registered``; the
    operator sends it after ``auth``, with the token of its ``session_start``."""

    type: ClassVar[str] = "resume"
    protocol_version: int = number(0, 1_000_000)
    resume_token: str = text(_TOKEN_MAX, min_len=1)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Join(Message):
    """Reverse pairing (R2): the customer typed an operator-issued 6-digit code."""

    type: ClassVar[str] = "join"
    protocol_version: int = number(0, 1_000_000)
    code: str = text(OPERATOR_CODE_DIGITS)
    client: ClientKind = "agent"
    sysinfo_scope: Scope = "detailed"
    client_version: str = text(64)
    consent_accepted: bool
    locale: str = text(16, default="ja")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not is_code(self.code, OPERATOR_CODE_DIGITS):
            raise ProtocolError(f"Join.code: must be {OPERATOR_CODE_DIGITS} digits")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Decision(Message):
    """The customer's answer to an ``operator_request``: Allow or Deny.

    ``timed_out`` (with ``allowed`` false): nobody answered before the agent's countdown
    ran out. The relay then ends the claim as ``allow_timeout``, not ``denied``, so the
    operator is never told that the customer declined.
    """

    type: ClassVar[str] = "decision"
    allowed: bool
    timed_out: bool = False
    # The customer's choice on the Allow page: also send the PC information (a
    # ``sysinfo`` report on the data channel) or share the screen only. The relay
    # audits it; agents before this field always sent it, hence the default.
    system_info: bool = True


# --- signaling: relay -> customer agent ------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Registered(Message):
    """The agent's code; show it large. ``resume_token`` is secret: never display or log it."""

    type: ClassVar[str] = "registered"
    code: str = text(OPERATOR_CODE_DIGITS, min_len=AGENT_CODE_DIGITS)
    expires_in_s: float = number(0, 86_400)
    resume_token: str = text(_TOKEN_MAX, min_len=1)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Resumed(Message):
    """Answer to ``resume`` when the agent was already in a session."""

    type: ClassVar[str] = "resumed"
    session_id: str = text(64, min_len=1)


@dataclasses.dataclass(frozen=True, kw_only=True)
class OperatorRequest(Message):
    """An operator claimed the code: ask the customer to allow (anti-scam, R15)."""

    type: ClassVar[str] = "operator_request"
    operator: OperatorIdentity
    timeout_s: float = number(0, 3600)


# --- HTTP: the operator's login ------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class LoginRequest(_Checked):
    """The JSON body of ``POST /api/login``: not a websocket message, so no ``type``."""

    username: str = text(64, min_len=1)
    password: str = dataclasses.field(repr=False, metadata={"max_len": _PASSWORD_MAX, "min_len": 1})


# --- signaling: operator console -> relay ---------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Auth(Message):
    """First message on ``/ws/operator``: the token from ``POST /api/login``."""

    type: ClassVar[str] = "auth"
    protocol_version: int = number(0, 1_000_000)
    token: str = text(_TOKEN_MAX, min_len=1)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Claim(Message):
    """The operator typed the customer's 4-digit code."""

    type: ClassVar[str] = "claim"
    code: str = text(16)


@dataclasses.dataclass(frozen=True, kw_only=True)
class IssueCode(Message):
    """Reverse pairing (R2): the operator asks for a 6-digit code to read out."""

    type: ClassVar[str] = "issue_code"


# --- signaling: relay -> operator console ---------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Authenticated(Message):
    type: ClassVar[str] = "authenticated"
    username: str = text(_NAME_MAX, min_len=1)
    operator: OperatorIdentity


@dataclasses.dataclass(frozen=True, kw_only=True)
class CodeIssued(Message):
    type: ClassVar[str] = "code_issued"
    code: str = text(OPERATOR_CODE_DIGITS, min_len=OPERATOR_CODE_DIGITS)
    expires_in_s: float = number(0, 86_400)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClaimPending(Message):
    """The code is valid; the customer is being asked to allow."""

    type: ClassVar[str] = "claim_pending"
    timeout_s: float = number(0, 3600)
    client: ClientKind = "agent"
    sysinfo_scope: Scope = "detailed"
    client_version: str = text(64, default="")


# --- signaling: relay -> both, and forwarded between them -------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class SessionStart(Message):
    """The customer allowed. The agent now makes the offer; the operator waits for it."""

    type: ClassVar[str] = "session_start"
    session_id: str = text(64, min_len=1)
    ice_servers: tuple[IceServer, ...] = items(16, default=())
    resume_token: str = dataclasses.field(
        default="", repr=False, metadata={"max_len": _TOKEN_MAX, "min_len": 0}
    )
    """To the operator only: the secret that resumes this session after a dropped websocket
    (the agent resumes with the token of ``registered``). Empty to the agent."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Offer(Message):
    """SDP offer, agent -> operator (forwarded verbatim by the relay).

    ``restart``: which peer connection of the session the offer is for; 0 the first,
    then 1, 2, ... for each new peer the agent offers after its network changed or its
    peer connection failed (docs/protocol.md step 11). A message without it is 0."""

    type: ClassVar[str] = "offer"
    sdp: str = text(_SDP_MAX, min_len=1)
    restart: int = number(0, 1_000_000, default=0, omit_default=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Answer(Message):
    """SDP answer, operator -> agent (forwarded verbatim by the relay).

    ``restart``: the ``restart`` of the offer it answers (0 when absent), so the agent
    applies it to that peer connection and ignores a late answer to an older one."""

    type: ClassVar[str] = "answer"
    sdp: str = text(_SDP_MAX, min_len=1)
    restart: int = number(0, 1_000_000, default=0, omit_default=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Ice(Message):
    """A trickled ICE candidate, either direction; ``candidate`` empty = end of candidates."""

    type: ClassVar[str] = "ice"
    candidate: str = text(1024)
    sdp_mid: str | None = None
    sdp_mline_index: int | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class PeerStatus(Message):
    """The other side's relay connection dropped (``connected`` false) or came back."""

    type: ClassVar[str] = "peer_status"
    connected: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class Bye(Message):
    """Either side ends the session (R5); the relay tells the other side with ``ended``."""

    type: ClassVar[str] = "bye"
    reason: EndReason = EndReason.NORMAL


@dataclasses.dataclass(frozen=True, kw_only=True)
class Ended(Message):
    """The session (or pending claim) is over; ``by`` says who ended it."""

    type: ClassVar[str] = "ended"
    reason: EndReason
    by: Side


@dataclasses.dataclass(frozen=True, kw_only=True)
class Error(Message):
    """A refusal. ``fatal`` errors are followed by the relay closing the websocket."""

    type: ClassVar[str] = "error"
    code: ErrorCode
    message: str = text(512)
    retry_after_s: float | None = None
    fatal: bool = False


# --- guidance (data channel) ------------------------------------------------------


POINTER_IDLE_S = 3.0
"""The agent shows the operator's pointer this long after its last ``pointer`` message ..."""
POINTER_FADE_S = 0.8
"""... then fades it out over this long. The console mirrors both, so its picture of where
the customer's pointer rests disappears when the customer's does."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Pointer(Message):
    """Operator's pointer, normalised to the monitor: (0, 0) top-left, (1, 1) bottom-right."""

    type: ClassVar[str] = "pointer"
    action: PointerAction = "move"
    x: float = number(0.0, 1.0, default=0.0)
    y: float = number(0.0, 1.0, default=0.0)
    monitor: int = number(0, 64, default=0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CobrowsePointer(Message):
    """Operator's pointer during co-browsing (docs/cobrowse.md): anchored to a mirrored element.

    ``node`` is the element's rrweb id, ``fx``/``fy`` a point in its box as fractions, so the
    pointer lands on the same element whatever the two viewports' size, zoom and scroll.
    """

    type: ClassVar[str] = "cobrowse_pointer"
    action: PointerAction = "move"
    node: int = number(0, 2**31)
    fx: float = number(0.0, 1.0, default=0.5)
    fy: float = number(0.0, 1.0, default=0.5)


@dataclasses.dataclass(frozen=True, kw_only=True)
class KeyGuide(Message):
    """Show a keyboard with these combinations highlighted, e.g. ``[["Ctrl", "C"]]``."""

    type: ClassVar[str] = "key_guide"
    keys: tuple[tuple[str, ...], ...] = items(MAX_COMBOS)
    caption: str = text(200, default="")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.keys:
            raise ProtocolError("KeyGuide.keys: at least one combination")
        for combo in self.keys:
            if not 1 <= len(combo) <= MAX_KEYS_PER_COMBO:
                raise ProtocolError(f"KeyGuide.keys: 1..{MAX_KEYS_PER_COMBO} keys per combination")
            if any(k not in KEY_NAMES for k in combo):
                raise ProtocolError("KeyGuide.keys: unknown key name")


@dataclasses.dataclass(frozen=True, kw_only=True)
class KeyGuideClear(Message):
    type: ClassVar[str] = "key_guide_clear"


@dataclasses.dataclass(frozen=True, kw_only=True)
class KeyGuideClosed(Message):
    """Agent -> operator: the customer closed the keyboard guide with its × button.

    The console then stops claiming that keys are shown on the customer's screen.
    """

    type: ClassVar[str] = "key_guide_closed"


@dataclasses.dataclass(frozen=True, kw_only=True)
class RelayAway(Message):
    """Operator -> the browser's page: the relay says the page's websocket is away, while
    the media still flows.

    A page cannot see its addresses: after Wi-Fi to tethering that Chromium's WebRTC rode
    out on its own, its websocket is bound to an address that went and is dead without
    knowing it. The page then opens a fresh socket and ``resume``s (docs/browser.md)
    before the relay's resume grace ends the session."""

    type: ClassVar[str] = "relay_away"


@dataclasses.dataclass(frozen=True, kw_only=True)
class HangUp(Message):
    """Either side, end to end: the session is over (``bye`` also goes through the relay).

    Sent on the data channel just before the sender closes its peer connection, so the
    other side ends at once even when the relay is slow, unreachable or has forgotten
    the session (a relay restart while the media goes on)."""

    type: ClassVar[str] = "hang_up"
    reason: EndReason = EndReason.NORMAL


@dataclasses.dataclass(frozen=True, kw_only=True)
class Ping(Message):
    """Operator -> agent: measure the round-trip time; the agent answers ``pong``."""

    type: ClassVar[str] = "ping"
    seq: int = number(0, 2**53)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Pong(Message):
    """Agent -> operator: the answer to ``ping`` with the same ``seq``."""

    type: ClassVar[str] = "pong"
    seq: int = number(0, 2**53)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SharingState(Message):
    """Agent -> operator: the customer paused or resumed sharing."""

    type: ClassVar[str] = "sharing_state"
    paused: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class Monitors(Message):
    """Agent -> operator: the customer's monitors and which one is being shared."""

    type: ClassVar[str] = "monitors"
    monitors: tuple[MonitorInfo, ...] = items(16)
    active: int = number(0, 64)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SysInfoReport(Message):
    """Agent -> operator, once after Allow: system information (R19/R20).

    ``data`` maps item keys to readings; ``unavailable`` maps item keys whose
    reading is null to a short reason. ``declined``: the customer chose to share
    the screen without the PC information; ``data`` and ``unavailable`` are then
    empty and the operator is told so.
    """

    type: ClassVar[str] = "sysinfo"
    scope: Scope
    data: JsonObject
    unavailable: dict[str, str]
    declined: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.declined and (self.data or self.unavailable):
            raise ProtocolError("SysInfoReport: a declined report carries no items")


MAX_CURSOR_SIZE = 64
"""Largest cursor image side on the wire, in image pixels (bigger cursors are sent scaled down)."""
_CURSOR_DATA_MAX = 32 * 1024
_CURSOR_SHAPE_ID_MAX = 2**31 - 1


@dataclasses.dataclass(frozen=True, kw_only=True)
class Cursor(Message):
    """Agent -> operator: where the customer's mouse cursor is, at most ~30 times a second.

    ``x``, ``y`` are normalised to the shared area like :class:`Pointer`: (0, 0) is its
    top-left pixel's corner, (1, 1) its bottom-right corner, and the cursor's hotspot
    is at pixel ``(x * width, y * height)`` of the picture. ``visible`` false: the
    cursor left the shared area (or the OS hides it); ``x``/``y`` then mean nothing.
    ``shape`` names the last :class:`CursorShape` sent (0: none known yet, draw an arrow).
    """

    type: ClassVar[str] = "cursor"
    x: float = number(0.0, 1.0, default=0.0)
    y: float = number(0.0, 1.0, default=0.0)
    monitor: int = number(0, 64, default=0)
    visible: bool = True
    shape: int = number(0, _CURSOR_SHAPE_ID_MAX, default=0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CursorShape(Message):
    """Agent -> operator: the cursor's picture, sent once each time the shape changes.

    ``rgba`` is base64 of the zlib-compressed image, rows top to bottom, 4 bytes per
    pixel (R, G, B, A, alpha not premultiplied): exactly ``width * height * 4`` bytes
    once inflated. The hotspot (``hot_x``, ``hot_y``) lies inside the image. ``scale``
    is how many screen pixels one image pixel covers (1 unless a cursor larger than
    :data:`MAX_CURSOR_SIZE` was scaled down to fit). Construction checks all of it, so a
    shape in memory always inflates to the right size (:func:`cursor_pixels`).
    """

    type: ClassVar[str] = "cursor_shape"
    id: int = number(1, _CURSOR_SHAPE_ID_MAX)
    width: int = number(1, MAX_CURSOR_SIZE)
    height: int = number(1, MAX_CURSOR_SIZE)
    hot_x: int = number(0, MAX_CURSOR_SIZE - 1, default=0)
    hot_y: int = number(0, MAX_CURSOR_SIZE - 1, default=0)
    scale: float = number(1.0, 8.0, default=1.0)
    rgba: str = text(_CURSOR_DATA_MAX, min_len=4)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.hot_x >= self.width or self.hot_y >= self.height:
            raise ProtocolError("CursorShape: the hotspot must lie inside the image")
        cursor_pixels(self)

    @classmethod
    def from_pixels(
        cls,
        *,
        id: int,
        width: int,
        height: int,
        pixels: bytes,
        hot_x: int = 0,
        hot_y: int = 0,
        scale: float = 1.0,
    ) -> CursorShape:
        """Pack ``width * height`` RGBA pixels; ProtocolError if they do not fit the limits."""
        packed = base64.b64encode(zlib.compress(pixels, 6)).decode("ascii")
        return cls(id=id, width=width, height=height, hot_x=hot_x, hot_y=hot_y, scale=scale, rgba=packed)


def cursor_pixels(shape: CursorShape) -> bytes:
    """The shape's RGBA bytes (``width * height * 4``); ProtocolError if ``rgba`` is not that."""
    expected = shape.width * shape.height * 4
    try:
        packed = base64.b64decode(shape.rgba.encode("ascii"), validate=True)
        # Bounded inflation: a small message can never expand into a large allocation.
        inflater = zlib.decompressobj()
        pixels = inflater.decompress(packed, expected + 1)
    except (ValueError, binascii.Error, zlib.error, UnicodeEncodeError):
        raise ProtocolError("CursorShape.rgba: not base64 of zlib data") from None
    if len(pixels) != expected or not inflater.eof:
        raise ProtocolError(f"CursorShape.rgba: must inflate to exactly {expected} bytes")
    return pixels


SignalingMessage = (
    Register
    | Resume
    | Join
    | Decision
    | Registered
    | Resumed
    | OperatorRequest
    | Auth
    | Claim
    | IssueCode
    | Authenticated
    | CodeIssued
    | ClaimPending
    | SessionStart
    | Offer
    | Answer
    | Ice
    | PeerStatus
    | Bye
    | Ended
    | Error
)
GuidanceMessage = (
    HangUp
    | Pointer
    | CobrowsePointer
    | KeyGuide
    | KeyGuideClear
    | KeyGuideClosed
    | RelayAway
    | Ping
    | Pong
    | SharingState
    | Monitors
    | SysInfoReport
    | Cursor
    | CursorShape
)
AgentGuidance = SharingState | Monitors | SysInfoReport | KeyGuideClosed
"""What the agent reports to the operator on the data channel (besides ``pong`` and the
cursor's ``cursor``/``cursor_shape``, which go to the view)."""

SIGNALING_TYPES: dict[str, type[Message]] = {
    cls.type: cls
    for cls in (
        Register,
        Resume,
        Join,
        Decision,
        Registered,
        Resumed,
        OperatorRequest,
        Auth,
        Claim,
        IssueCode,
        Authenticated,
        CodeIssued,
        ClaimPending,
        SessionStart,
        Offer,
        Answer,
        Ice,
        PeerStatus,
        Bye,
        Ended,
        Error,
    )
}
GUIDANCE_TYPES: dict[str, type[Message]] = {
    cls.type: cls
    for cls in (
        HangUp,
        Pointer,
        CobrowsePointer,
        KeyGuide,
        KeyGuideClear,
        KeyGuideClosed,
        RelayAway,
        Ping,
        Pong,
        SharingState,
        Monitors,
        SysInfoReport,
        Cursor,
        CursorShape,
    )
}
