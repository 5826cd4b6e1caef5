"""Madoguchi's wire protocol: messages, codec, error codes and code rules (stdlib only)."""

from .codec import decode_guidance, decode_login_request, decode_signaling, encode, to_jsonable
from .codes import (
    AGENT_CODE_DIGITS,
    OPERATOR_CODE_DIGITS,
    CodeSpaceExhausted,
    are_typo_neighbours,
    draw_code,
    is_code,
    typo_neighbours,
)
from .errors import EndReason, ErrorCode, ProtocolError
from .keys import KEY_NAMES, MODIFIERS, normalise_key
from .messages import *  # noqa: F403  (re-exported through messages.__all__)
from .messages import __all__ as _messages_all

__all__ = [  # noqa: PLE0604
    "decode_guidance",
    "decode_login_request",
    "decode_signaling",
    "encode",
    "to_jsonable",
    "AGENT_CODE_DIGITS",
    "OPERATOR_CODE_DIGITS",
    "CodeSpaceExhausted",
    "are_typo_neighbours",
    "draw_code",
    "is_code",
    "typo_neighbours",
    "EndReason",
    "ErrorCode",
    "ProtocolError",
    "KEY_NAMES",
    "MODIFIERS",
    "normalise_key",
    *_messages_all,
]
