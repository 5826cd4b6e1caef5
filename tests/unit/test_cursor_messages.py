"""The cursor messages on the wire and the console's cursor state (sans-IO)."""

from __future__ import annotations

import base64
import json
import zlib

import pytest

import protocol as p
from operator_console.cursor import CursorState, RemoteCursor, ShapePicture


def _visible(cursor: RemoteCursor) -> bool:
    # A call, not an attribute: mypy would otherwise narrow the field across apply().
    return cursor.state.visible


def _shape_json(**fields: object) -> str:
    base: dict[str, object] = {"type": "cursor_shape", "id": 1, "width": 2, "height": 2}
    base.update(fields)
    return json.dumps(base)


def _packed(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data)).decode()


def _shape_of(cursor: RemoteCursor) -> ShapePicture | None:
    return cursor.state.shape


def test_shape_round_trip_keeps_the_pixels() -> None:
    pixels = bytes(range(64))
    shape = p.CursorShape.from_pixels(id=9, width=4, height=4, pixels=pixels, hot_x=3, hot_y=2, scale=2.0)
    decoded = p.decode_guidance(p.encode(shape))
    assert isinstance(decoded, p.CursorShape)
    assert p.cursor_pixels(decoded) == pixels
    assert (decoded.hot_x, decoded.hot_y, decoded.scale) == (3, 2, 2.0)


@pytest.mark.parametrize(
    ("fields", "detail"),
    [
        ({"rgba": _packed(bytes(15))}, "exactly 16 bytes"),
        ({"rgba": _packed(bytes(17))}, "exactly 16 bytes"),
        ({"rgba": "not base64!"}, "not base64 of zlib"),
        ({"rgba": base64.b64encode(b"plain, not zlib").decode()}, "not base64 of zlib"),
        ({"rgba": _packed(bytes(16)), "hot_x": 2}, "hotspot"),
        ({"rgba": _packed(bytes(16)), "width": 65}, "width"),
        ({"rgba": _packed(bytes(16)), "scale": 0.5}, "scale"),
        ({"rgba": _packed(bytes(16)), "id": 0}, "id"),
    ],
)
def test_bad_shapes_are_refused_with_a_reason(fields: dict[str, object], detail: str) -> None:
    with pytest.raises(p.ProtocolError) as caught:
        p.decode_guidance(_shape_json(**fields))
    assert detail in caught.value.detail


def test_a_zip_bomb_is_not_inflated() -> None:
    # 10 MB of zeros compress to ~10 KB: inflation stops one byte past the 16 expected.
    bomb = base64.b64encode(zlib.compress(bytes(10_000_000), 9)).decode()
    assert len(bomb) < 32 * 1024
    with pytest.raises(p.ProtocolError, match="exactly 16 bytes"):
        p.decode_guidance(_shape_json(rgba=bomb))


def test_a_largest_shape_fits_in_a_message_even_if_incompressible() -> None:
    noise = bytes((i * 7919 + (i >> 3) * 104729) % 251 for i in range(64 * 64 * 4))
    shape = p.CursorShape.from_pixels(id=1, width=64, height=64, pixels=noise)
    assert len(p.encode(shape)) < p.MAX_MESSAGE_BYTES


@pytest.mark.parametrize("bad", ['{"x": 1.5}', '{"x": -0.1}', '{"visible": 1}', '{"shape": -1}'])
def test_bad_positions_are_refused(bad: str) -> None:
    raw = {"type": "cursor", **json.loads(bad)}
    with pytest.raises(p.ProtocolError):
        p.decode_guidance(json.dumps(raw))


def _shape(id_: int = 1) -> p.CursorShape:
    return p.CursorShape.from_pixels(
        id=id_, width=1, height=2, pixels=bytes([1, 2, 3, 4, 5, 6, 7, 8]), hot_y=1
    )


def test_console_state_follows_moves_and_shapes() -> None:
    seen: list[CursorState] = []
    cursor = RemoteCursor(on_change=seen.append)
    assert not _visible(cursor)
    cursor.apply(p.Cursor(x=0.5, y=0.25))
    assert _visible(cursor)
    assert (cursor.state.x, cursor.state.y) == (0.5, 0.25)
    assert _shape_of(cursor) is None  # no picture yet: the view draws an arrow
    cursor.apply(_shape(4))
    cursor.apply(p.Cursor(x=0.5, y=0.25, shape=4))
    shape = cursor.state.shape
    assert shape is not None
    assert (shape.width, shape.height, shape.hot_y, shape.rgba) == (1, 2, 1, bytes([1, 2, 3, 4, 5, 6, 7, 8]))
    assert cursor.moves_received == 2
    assert cursor.shapes_received == 1
    assert [s.version for s in seen] == [1, 2]


def test_console_hides_the_cursor_while_paused_and_until_the_next_move() -> None:
    cursor = RemoteCursor()
    cursor.apply(p.Cursor(x=0.1, y=0.1))
    cursor.apply(p.SharingState(paused=True))
    assert not _visible(cursor)
    cursor.apply(p.SharingState(paused=False))
    assert not _visible(cursor)  # the old position is stale
    cursor.apply(p.Cursor(x=0.2, y=0.1))
    assert _visible(cursor)


def test_console_hides_the_cursor_outside_the_shared_area() -> None:
    cursor = RemoteCursor()
    cursor.apply(p.Cursor(x=0.1, y=0.1))
    cursor.apply(p.Cursor(visible=False))
    assert not _visible(cursor)
    cursor.apply(p.Monitors(monitors=(p.MonitorInfo(index=0, x=0, y=0, width=9, height=9),), active=1))
    cursor.apply(p.Cursor(x=0.3, y=0.3, monitor=0))
    assert not _visible(cursor)  # names another area than the shared one
    cursor.apply(p.Cursor(x=0.3, y=0.3, monitor=1))
    assert _visible(cursor)
    cursor.reset()
    assert not _visible(cursor)
