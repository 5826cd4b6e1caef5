"""The co-browse channel's decoding (operator_console.cobrowse): batches, states, limits."""

from __future__ import annotations

import gzip
import json
import zlib

from operator_console.cobrowse import (
    MAX_BATCH_BYTES,
    CobrowseBatch,
    CobrowseReceiver,
    CobrowseState,
    CobrowseView,
)

META = {"type": 4, "data": {"href": "https://bank.example/account.html", "width": 800, "height": 600}}
SNAPSHOT = {"type": 2, "data": {"node": {"type": 0, "childNodes": []}}}


def _messages(events: list[dict[str, object]], chunk: int = 16 * 1024) -> list[bytes]:
    """As web/static/js/cobrowse.js sends a batch: gzip, split, byte 0 = more follows."""
    stream = gzip.compress(json.dumps({"t": 1, "events": events}).encode())
    parts = [stream[i : i + chunk] for i in range(0, len(stream), chunk)]
    return [bytes([1 if i < len(parts) - 1 else 0]) + part for i, part in enumerate(parts)]


def test_a_batch_split_over_several_messages_is_reassembled() -> None:
    big = {"type": 3, "data": {"text": "x" * 100_000 + "".join(str(i) for i in range(20_000))}}
    receiver = CobrowseReceiver()
    messages = _messages([META, SNAPSHOT, big], chunk=1000)
    assert len(messages) > 3
    out = [item for m in messages for item in receiver.feed(m)]
    assert len(out) == 1
    batch = out[0]
    assert isinstance(batch, CobrowseBatch)
    assert batch.events == [META, SNAPSHOT, big]
    assert receiver.rejected == 0


def test_states_are_checked() -> None:
    receiver = CobrowseReceiver()
    assert receiver.feed('{"type": "cobrowse_state", "paused": true, "reason": "keyboard"}') == [
        CobrowseState(True, "keyboard")
    ]
    assert receiver.feed('{"type": "cobrowse_state", "paused": false, "reason": null}') == [
        CobrowseState(False, None)
    ]
    for bad in (
        '{"type": "cobrowse_state", "paused": true, "reason": "other"}',
        '{"type": "cobrowse_state", "paused": false, "reason": "keyboard"}',
        '{"type": "pointer"}',
        "not json",
        '{"type": "cobrowse_state", "paused": true, "reason": "keyboard", "x": "' + "a" * 600 + '"}',
    ):
        assert receiver.feed(bad) == []
    assert receiver.rejected == 5


def test_malformed_and_oversized_batches_are_dropped_and_the_next_one_is_read() -> None:
    receiver = CobrowseReceiver()
    assert receiver.feed(b"\x07junk") == []  # not a continuation flag
    assert receiver.feed(b"\x00not gzip") == []
    bomb = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    zeros = bomb.compress(b"0" * (MAX_BATCH_BYTES + 1024)) + bomb.flush()  # a gzip bomb, ~33 KB
    assert receiver.feed(b"\x00" + zeros) == []
    assert receiver.rejected == 3
    (batch,) = [item for m in _messages([META]) for item in receiver.feed(m)]
    assert isinstance(batch, CobrowseBatch)


def test_the_view_follows_pages_and_pauses() -> None:
    view = CobrowseView(url="http://127.0.0.1:1/s/")
    assert view.state == "waiting"
    view = view.with_state(CobrowseState(False, None))
    assert view.state == "sharing"
    assert view.page == ""
    view = view.with_batch(CobrowseBatch([META, SNAPSHOT], 10))
    assert (view.state, view.page) == ("sharing", "https://bank.example/account.html")
    view = view.with_state(CobrowseState(True, "keyboard"))
    assert (view.state, view.page) == ("keyboard", "https://bank.example/account.html")
    view = view.with_state(CobrowseState(True, "not_shared"))
    assert (view.state, view.page) == ("not_shared", "")  # a never-shared page's address is not kept
    assert view.url == "http://127.0.0.1:1/s/"
