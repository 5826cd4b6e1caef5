"""decode_* never raise anything but ProtocolError, whatever the input."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import protocol as p
from protocol.messages import GUIDANCE_TYPES, SIGNALING_TYPES

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    [
        "code",
        "sdp",
        "x",
        "y",
        "keys",
        "caption",
        "operator",
        "ice_servers",
        "urls",
        "data",
        "unavailable",
        "protocol_version",
        "token",
        "allowed",
        "reason",
        "by",
        "monitors",
        "scope",
        "action",
        "timeout_s",
    ]
)
type_names = st.sampled_from([*sorted(SIGNALING_TYPES | GUIDANCE_TYPES), "", "click", "exec"])


@st.composite
def message_like(draw: st.DrawFn) -> dict[str, Any]:
    obj: dict[str, Any] = draw(st.dictionaries(field_names, json_values, max_size=6))
    obj["type"] = draw(type_names)
    return obj


def _decode_both(data: str | bytes) -> None:
    for decode in (p.decode_signaling, p.decode_guidance):
        with contextlib.suppress(p.ProtocolError):
            decode(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message_like())
def test_structured_garbage(obj: dict[str, Any]) -> None:
    _decode_both(json.dumps(obj))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_raw_garbage(data: str | bytes) -> None:
    _decode_both(data)


def test_deep_nesting() -> None:
    _decode_both(
        '{"type":"sysinfo","scope":"normal","unavailable":{},"data":' + "[" * 5000 + "]" * 5000 + "}"
    )
    _decode_both("[" * 100_000)


lone_surrogates = st.integers(0xD800, 0xDFFF).map(chr)
any_text = st.text(alphabet=st.characters() | lone_surrogates, max_size=20)
json_with_surrogates = st.recursive(
    st.none() | st.booleans() | st.integers() | any_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(any_text | field_names, children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(field_names, json_with_surrogates, max_size=6), type_names)
def test_whatever_decodes_can_be_encoded_again(obj: dict[str, Any], type_name: str) -> None:
    """Lone surrogates (as JSON escapes) never make it into a message: the relay re-encodes
    every message it forwards, and SQLite and hashlib need valid UTF-8 too."""
    obj["type"] = type_name
    for decode in (p.decode_signaling, p.decode_guidance):
        try:
            message = decode(json.dumps(obj))
        except p.ProtocolError:
            continue
        with contextlib.suppress(p.ProtocolError):  # too large is fine; UnicodeEncodeError is not
            p.encode(message)
