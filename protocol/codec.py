"""JSON codec for wire messages: ``encode`` and the two ``decode_*`` functions.

Decoding is driven by the dataclass type hints in :mod:`protocol.messages`: every
field is checked for presence and type, nested objects are built recursively,
unknown fields are ignored (forward compatibility), and the constraints declared
on the fields are enforced by the classes themselves. Whatever the input,
decoding either returns a message or raises :class:`ProtocolError`; nothing else
escapes (tests/unit/test_codec_fuzz.py proves that with hypothesis).

Every string a decoded message holds is valid Unicode: JSON's ``\\u`` escapes can
spell a lone surrogate (``"\\ud800"``), which ``json.loads`` accepts but no UTF-8
encoder does, so it would fail far from here (re-encoding for the peer, an SQLite
audit row, a password hash). Such text is refused here, once, as ``bad_message``.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import types
import typing
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from .errors import ErrorCode, ProtocolError
from .messages import (
    GUIDANCE_TYPES,
    MAX_MESSAGE_BYTES,
    SIGNALING_TYPES,
    GuidanceMessage,
    LoginRequest,
    Message,
    SignalingMessage,
)

__all__ = ["encode", "decode_signaling", "decode_guidance", "decode_login_request", "to_jsonable"]

_MAX_DEPTH = 8
_T = TypeVar("_T")


def to_jsonable(value: object) -> Any:
    """Turn a message (or any part of one) into plain JSON-ready Python values."""
    if isinstance(value, Message):
        out: dict[str, Any] = {"type": value.type}
        for f in dataclasses.fields(value):
            field_value = getattr(value, f.name)
            if f.metadata.get("omit_default") and field_value == f.default:
                continue  # a field added later: at its default the message is as it always was
            out[f.name] = to_jsonable(field_value)
        return out
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value


def encode(message: Message) -> str:
    """Serialise a message to compact JSON text. Raises ProtocolError if it is too large."""
    data = json.dumps(to_jsonable(message), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if len(data.encode()) > MAX_MESSAGE_BYTES:
        raise ProtocolError(
            f"{message.type}: encoded size exceeds {MAX_MESSAGE_BYTES} bytes",
            ErrorCode.MESSAGE_TOO_LARGE,
        )
    return data


def decode_signaling(data: str | bytes) -> SignalingMessage:
    """Parse one signaling message (relay websocket)."""
    return typing.cast(SignalingMessage, _decode(data, SIGNALING_TYPES))


def decode_guidance(data: str | bytes) -> GuidanceMessage:
    """Parse one guidance message (WebRTC data channel)."""
    return typing.cast(GuidanceMessage, _decode(data, GUIDANCE_TYPES))


def decode_login_request(data: str | bytes) -> LoginRequest:
    """Parse the body of ``POST /api/login`` with the same rules as a message."""
    return _build(LoginRequest, _load_object(data), "login", 0)


def _decode(data: str | bytes, registry: dict[str, type[Message]]) -> Message:
    raw = _load_object(data)
    tag = raw.get("type")
    if not isinstance(tag, str):
        raise ProtocolError("missing or non-string 'type'")
    cls = registry.get(tag)
    if cls is None:
        raise ProtocolError("unknown message type")
    return _build(cls, raw, cls.type, 0)


def _load_object(data: str | bytes) -> dict[str, Any]:
    size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message exceeds {MAX_MESSAGE_BYTES} bytes", ErrorCode.MESSAGE_TOO_LARGE)
    try:
        raw = json.loads(data, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ProtocolError(f"not valid JSON ({type(exc).__name__})") from None
    if not isinstance(raw, dict):
        raise ProtocolError("a message must be a JSON object")
    return raw


def _text(value: str, where: str) -> str:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ProtocolError(f"{where}: not valid Unicode text (a lone surrogate)") from None
    return value


def _reject_constant(name: str) -> Any:
    raise ProtocolError(f"{name} is not allowed in JSON messages")


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _build(cls: type[_T], raw: dict[str, Any], path: str, depth: int) -> _T:
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        where = f"{path}.{f.name}"
        if f.name not in raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ProtocolError(f"{where}: required field missing")
            continue
        kwargs[f.name] = _convert(raw[f.name], hints[f.name], where, depth + 1)
    try:
        return cls(**kwargs)
    except ProtocolError:
        raise
    except (TypeError, ValueError) as exc:
        raise ProtocolError(f"{path}: invalid ({type(exc).__name__})") from None


def _convert(value: Any, tp: Any, where: str, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise ProtocolError(f"{where}: nested too deeply")
    origin = get_origin(tp)
    if tp is Any:
        return _check_json(value, where, depth)
    if origin is Literal:
        if isinstance(value, str | int) and not isinstance(value, bool) and value in get_args(tp):
            return value
        raise ProtocolError(f"{where}: must be one of {list(get_args(tp))}")
    if origin is Union or origin is types.UnionType:
        args = get_args(tp)
        if value is None:
            if type(None) in args:
                return None
            raise ProtocolError(f"{where}: must not be null")
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(value, inner, where, depth)
    if origin is tuple:
        if not isinstance(value, list):
            raise ProtocolError(f"{where}: must be an array")
        args = get_args(tp)
        if len(args) != 2 or args[1] is not Ellipsis:
            raise ProtocolError(f"{where}: unsupported tuple type")
        return tuple(_convert(v, args[0], f"{where}[]", depth + 1) for v in value)
    if origin is dict:
        if not isinstance(value, dict):
            raise ProtocolError(f"{where}: must be an object")
        _, value_type = get_args(tp)
        return {
            _text(k, f"{where}.*"): _convert(v, value_type, f"{where}.*", depth + 1) for k, v in value.items()
        }
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            try:
                return tp(value)
            except ValueError:
                raise ProtocolError(f"{where}: unknown value") from None
        if dataclasses.is_dataclass(tp):
            if not isinstance(value, dict):
                raise ProtocolError(f"{where}: must be an object")
            return _build(tp, value, where, depth)
        if tp is bool:
            if isinstance(value, bool):
                return value
            raise ProtocolError(f"{where}: must be true or false")
        if tp is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            raise ProtocolError(f"{where}: must be an integer")
        if tp is float:
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                return float(value)
            raise ProtocolError(f"{where}: must be a finite number")
        if tp is str:
            if isinstance(value, str):
                return _text(value, where)
            raise ProtocolError(f"{where}: must be a string")
    raise ProtocolError(f"{where}: unsupported field type")  # a bug in messages.py


def _check_json(value: Any, where: str, depth: int) -> Any:
    """Accept plain JSON values only (json.loads output is already plain)."""
    if depth > _MAX_DEPTH:
        raise ProtocolError(f"{where}: nested too deeply")
    if isinstance(value, dict):
        return {_text(k, where): _check_json(v, where, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_check_json(v, where, depth + 1) for v in value]
    if isinstance(value, str):
        return _text(value, where)
    if isinstance(value, float) and not math.isfinite(value):
        raise ProtocolError(f"{where}: must be a finite number")
    return value
