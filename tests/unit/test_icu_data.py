"""ICU common data packages: PySide6's real data parsed, rebuilt byte for byte and trimmed for the agent;
small hand-made packages for the layout and for every kind of malformed input."""

from __future__ import annotations

import importlib.util
import re
import struct
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from installer.icu_data import (
    AGENT_KEEP,
    ALIGNMENT,
    MAGIC,
    DataPackage,
    Entry,
    IcuDataError,
    keep_for_agent,
    parse,
    serialize,
    trim,
)
from installer.icu_library import inspect_library, read_data_blob

linux_only = pytest.mark.skipif(
    sys.platform != "linux", reason="PySide6 ships ICU's data library on Linux only"
)


def pyside_icu_data() -> Path:
    spec = importlib.util.find_spec("PySide6")
    assert spec is not None
    assert spec.submodule_search_locations is not None
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(package_dir.glob("Qt/lib/libicudata.so.*"))
    assert len(found) == 1, f"expected one libicudata.so.NN in {package_dir}/Qt/lib, found {found}"
    return found[0]


@pytest.fixture(scope="module")
def real_blob() -> bytes:
    return read_data_blob(inspect_library(pyside_icu_data()))


@pytest.fixture(scope="module")
def real(real_blob: bytes) -> DataPackage:
    return parse(real_blob)


def _item_path(name: str) -> str:
    return name.split("/", 1)[1]


def _toc(blob: bytes) -> tuple[int, list[tuple[int, int]]]:
    """(headerSize, [(nameOffset, dataOffset)]) of a little-endian package, read independently."""
    (header_size,) = struct.unpack_from("<H", blob, 0)
    (count,) = struct.unpack_from("<I", blob, header_size)
    return header_size, [struct.unpack_from("<II", blob, header_size + 4 + 8 * i) for i in range(count)]


# --- the real data ----------------------------------------------------------------------------


@linux_only
def test_real_package_parses_into_sorted_aligned_items(real: DataPackage, real_blob: bytes) -> None:
    names = real.names
    assert len(names) > 1000
    assert names == sorted(names, key=lambda n: n.encode("ascii"))
    prefix = names[0].split("/", 1)[0]
    assert re.fullmatch(r"icudt\d+l", prefix)
    assert all(n.startswith(prefix + "/") for n in names)
    for expected in (
        "coll/ja.res",
        "coll/ucadata.icu",
        "brkitr/cjdict.dict",
        "translit/root.res",
        "cnvalias.icu",
    ):
        assert f"{prefix}/{expected}" in names
    assert all(len(e.data) % ALIGNMENT == 0 and e.data[2:4] == MAGIC for e in real.entries)
    assert sum(len(e.data) for e in real.entries) + len(real.header) < len(real_blob)  # plus the TOC
    assert real.header[12:16] == b"CmnD"
    assert not real.big_endian


@linux_only
def test_real_package_round_trips_byte_for_byte(real: DataPackage, real_blob: bytes) -> None:
    assert serialize(real) == real_blob
    assert parse(serialize(real)) == real


@linux_only
def test_trim_keeps_exactly_the_agent_items(real: DataPackage, real_blob: bytes) -> None:
    trimmed = parse(trim(real_blob, keep_for_agent))
    kept = {_item_path(n) for n in trimmed.names}
    # Every item the policy names exists in this ICU (a rename would silently drop it), and only those.
    assert kept == set(AGENT_KEEP)
    for needed in (
        "root.res",
        "pool.res",
        "ja.res",
        "en.res",
        "coll/root.res",
        "coll/ja.res",
        "coll/ucadata.icu",
        "zone/ja.res",
        "zone/en.res",
        "zone/pool.res",
        "zoneinfo64.res",
        "metaZones.res",
        "timezoneTypes.res",
        "likelySubtags.res",
        "cnvalias.icu",
        "ibm-943_P15A-2003.cnv",
        "euc-jp-2007.cnv",
    ):
        assert needed in kept, needed
    for dropped in (
        "brkitr/cjdict.dict",
        "brkitr/thaidict.dict",
        "translit/root.res",
        "coll/zh.res",
        "coll/ko.res",
        "zone/fr.res",
        "de.res",
        "lang/ja.res",
        "curr/pool.res",
        "unit/pool.res",
        "rbnf/root.res",
        "unames.icu",
        "gb18030.cnv",
        "ibm-1390_P110-2003.cnv",
    ):
        assert dropped not in kept, dropped


@linux_only
def test_trimmed_package_is_small_valid_and_unchanged_per_item(real: DataPackage, real_blob: bytes) -> None:
    blob = trim(real_blob, keep_for_agent)
    assert len(blob) < 3_000_000 < len(real_blob) // 10
    trimmed = parse(blob)
    assert trimmed.header == real.header
    original = {e.name: e.data for e in real.entries}
    assert all(original[e.name] == e.data for e in trimmed.entries)
    # Read the new TOC independently: names sorted, every item on a 16-byte boundary of the package.
    header_size, pairs = _toc(blob)
    assert len(pairs) == len(trimmed.entries)
    assert all((header_size + data_offset) % ALIGNMENT == 0 for _, data_offset in pairs)
    raw_names = [blob[header_size + n : blob.index(b"\0", header_size + n)] for n, _ in pairs]
    assert raw_names == sorted(raw_names) == [e.name.encode() for e in trimmed.entries]


def test_keep_policy_ignores_the_icu_version_in_names() -> None:
    assert keep_for_agent("icudt73l/coll/ja.res")
    assert keep_for_agent("icudt74l/coll/ja.res")
    assert keep_for_agent("coll/ja.res")
    assert not keep_for_agent("icudt73l/coll/zh.res")
    assert not keep_for_agent("icudt73l/brkitr/cjdict.dict")
    assert not keep_for_agent("other/coll/ja.res")
    assert all(why for why in AGENT_KEEP.values())


# --- hand-made packages -----------------------------------------------------------------------


def _header(
    *, big_endian: bool = False, data_format: bytes = b"CmnD", charset: int = 0, version: int = 1
) -> bytes:
    order = ">" if big_endian else "<"
    header = struct.pack(f"{order}H", 32) + MAGIC
    header += struct.pack(f"{order}HH", 20, 0) + bytes([int(big_endian), charset, 2, 0])
    header += data_format + bytes([version, 0, 0, 0, 73, 1, 0, 0])
    return header + b"\0" * (32 - len(header))


def _item(tag: bytes, size: int = 32) -> bytes:
    return (struct.pack("<H", 16) + MAGIC + tag).ljust(size, b"\0")


SMALL = DataPackage(
    _header(),
    (
        Entry("icudt73l/a.res", _item(b"a", 24)),
        Entry("icudt73l/coll/b.res", _item(b"b", 48)),
        Entry("icudt73l/z.cnv", _item(b"z")),
    ),
)


def test_serialize_lays_out_toc_names_and_aligned_items() -> None:
    blob = serialize(SMALL)
    header_size, pairs = _toc(blob)
    assert header_size == 32
    assert blob[:32] == SMALL.header
    toc_end = 4 + 3 * 8
    # Names right after the TOC, then 0xaa up to the first 16-byte boundary.
    assert [n for n, _ in pairs] == [toc_end, toc_end + 15, toc_end + 15 + 20]
    names_end = toc_end + 15 + 20 + 15
    assert blob[32 + toc_end : 32 + names_end] == b"icudt73l/a.res\0icudt73l/coll/b.res\0icudt73l/z.cnv\0"
    first = pairs[0][1]
    assert (32 + first) % 16 == 0
    assert set(blob[32 + names_end : 32 + first]) == {0xAA}
    # a.res is 24 bytes: padded to 32 with 0xaa; the others are already multiples of 16.
    assert [d for _, d in pairs] == [first, first + 32, first + 32 + 48]
    assert blob[32 + first + 24 : 32 + first + 32] == b"\xaa" * 8
    assert len(blob) == 32 + first + 32 + 48 + 32
    reparsed = parse(blob)
    assert reparsed.names == SMALL.names
    assert reparsed.entries[0].data == SMALL.entries[0].data + b"\xaa" * 8
    assert reparsed.entries[1:] == SMALL.entries[1:]
    assert serialize(reparsed) == blob


def test_big_endian_package_round_trips() -> None:
    package = DataPackage(_header(big_endian=True), SMALL.entries[1:])
    blob = serialize(package)
    assert struct.unpack_from(">I", blob, 32)[0] == 2
    assert parse(blob) == package
    assert parse(blob).big_endian


def test_trim_with_a_policy_and_an_empty_package() -> None:
    blob = serialize(SMALL)
    assert parse(trim(blob, lambda name: name.endswith(".res"))).names == SMALL.names[:2]
    empty = parse(trim(blob, lambda name: False))
    assert empty.entries == ()
    assert empty.header == SMALL.header


def _put(blob: bytes, offset: int, value: bytes) -> bytes:
    return blob[:offset] + value + blob[offset + len(value) :]


def _set_toc(blob: bytes, index: int, *, name: int | None = None, data: int | None = None) -> bytes:
    base = 32 + 4 + 8 * index
    if name is not None:
        blob = _put(blob, base, struct.pack("<I", name))
    if data is not None:
        blob = _put(blob, base + 4, struct.pack("<I", data))
    return blob


def _swap_names(blob: bytes) -> bytes:
    _, pairs = _toc(blob)
    return _set_toc(_set_toc(blob, 0, name=pairs[1][0]), 1, name=pairs[0][0])


def _unterminated_last_name(blob: bytes) -> bytes:
    _, pairs = _toc(blob)
    nul = blob.index(b"\0", 32 + pairs[2][0])
    return _put(blob, nul, b"x")


def _first_item_without_magic(blob: bytes) -> bytes:
    _, pairs = _toc(blob)
    return _put(blob, 32 + pairs[0][1] + 2, b"\0\0")


MALFORMED: list[tuple[str, Callable[[bytes], bytes], str]] = [
    ("too short", lambda b: b[:10], r"10 bytes is too short for an ICU data header"),
    (
        "bad magic",
        lambda b: _put(b, 2, b"\x7fE"),
        r"bad magic bytes 0x7f 0x45 at offset 2 .*not an ICU data file",
    ),
    ("resource bundle", lambda b: _put(b, 12, b"ResB"), r"data format b'ResB' is not b'CmnD'"),
    ("format 2", lambda b: _put(b, 16, b"\x02"), r"CmnD format version 2 is not supported"),
    ("EBCDIC", lambda b: _put(b, 9, b"\x01"), r"charset family 1 is not ASCII.*EBCDIC"),
    ("endianness", lambda b: _put(b, 8, b"\x07"), r"isBigEndian is 7"),
    ("header size", lambda b: _put(b, 0, struct.pack("<H", 0xFFF0)), r"headerSize 65520 is outside"),
    ("no count", lambda b: b[:32], r"truncated TOC: no item count"),
    ("truncated TOC", lambda b: b[: 32 + 4 + 8 * 2], r"truncated TOC: 3 entries need 28 bytes, only 20"),
    ("huge count", lambda b: _put(b, 32, struct.pack("<I", 1 << 28)), r"truncated TOC: 268435456 entries"),
    (
        "data past end",
        lambda b: _set_toc(b, 2, data=1 << 20),
        r"TOC entry 2: data offset 1048576 is out of range",
    ),
    (
        "data in TOC",
        lambda b: _set_toc(b, 0, data=8),
        r"TOC entry 0: data offset 8 is out of range: .* 28\.\.",
    ),
    ("data order", lambda b: _set_toc(b, 2, data=_toc(b)[1][0][1]), r"TOC entry 2: .* in TOC order"),
    ("name in TOC", lambda b: _set_toc(b, 1, name=4), r"TOC entry 1: name offset 4 is outside the name area"),
    ("unsorted", _swap_names, r"names are not sorted: 'icudt73l/a.res' comes after 'icudt73l/coll/b.res'"),
    ("no NUL", _unterminated_last_name, r"TOC entry 2: .* no terminating NUL"),
    (
        "item header",
        _first_item_without_magic,
        r"item does not start with an ICU data header.*'icudt73l/a.res'",
    ),
]


@pytest.mark.parametrize(("mutate", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_packages_are_refused_saying_why(mutate: Callable[[bytes], bytes], message: str) -> None:
    blob = mutate(serialize(SMALL))
    with pytest.raises(IcuDataError, match=message):
        parse(blob)


def test_serialize_refuses_entries_that_do_not_form_a_package() -> None:
    a, b, _ = SMALL.entries
    with pytest.raises(IcuDataError, match=r"sorted by name.*'icudt73l/a.res'"):
        serialize(DataPackage(SMALL.header, (b, a)))
    with pytest.raises(IcuDataError, match=r"without duplicates"):
        serialize(DataPackage(SMALL.header, (a, a)))
    with pytest.raises(IcuDataError, match=r"non-empty ASCII"):
        serialize(DataPackage(SMALL.header, (Entry("icudt73l/ä.res", a.data),)))
    with pytest.raises(IcuDataError, match=r"no ICU data header|does not start with an ICU data header"):
        serialize(DataPackage(SMALL.header, (Entry("icudt73l/a.res", b"plain bytes"),)))
    with pytest.raises(IcuDataError, match=r"header is 40 bytes but its headerSize says 32"):
        serialize(DataPackage(SMALL.header + bytes(8), (a,)))
    with pytest.raises(IcuDataError, match=r"not b'CmnD'"):
        serialize(DataPackage(_header(data_format=b"ResB"), (a,)))
