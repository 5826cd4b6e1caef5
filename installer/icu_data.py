"""ICU common data packages ("CmnD"): parse, rebuild and trim to what the agent's Qt uses.

Qt Core on Linux links ICU, whose data library (``libicudataNN.so``) is one
exported array holding a *common data package*: every locale's resource
bundles, collation tailorings, break dictionaries, converters... 32 MB for
ICU 73. This module reads such a package into named entries, keeps the ones
:func:`keep_for_agent` names and writes a new, valid package. It does no I/O:
:mod:`installer.icu_library` gets the bytes out of a library and puts the
result into a new one.

Package layout (``udatamem``/``ucmndata`` in ICU)::

    MappedData   uint16 headerSize, magic 0xda 0x27
    UDataInfo    uint16 size, uint16 reserved, uint8 isBigEndian, uint8 charsetFamily,
                 uint8 sizeofUChar, uint8 reserved, char dataFormat[4] = "CmnD",
                 uint8 formatVersion[4], uint8 dataVersion[4]
    ...          (copyright text), padded to headerSize
    TOC          uint32 count, count x {uint32 nameOffset, uint32 dataOffset}
                 (offsets from the TOC's start), then the NUL-terminated names,
                 then each item (itself an ICU data file with its own header)

ICU finds an item by binary search over the names, so they must stay sorted
in byte order, and it takes an item's length from the next item's offset.
Items start on 16-byte boundaries; the gaps are filled with 0xaa as ICU's own
packaging tool does, so that rebuilding an untouched package gives back the
same bytes.

:class:`IcuDataError` is the only exception: malformed input, or entries
that cannot form a package.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "AGENT_KEEP",
    "ALIGNMENT",
    "DataPackage",
    "Entry",
    "IcuDataError",
    "MAGIC",
    "keep_for_agent",
    "parse",
    "serialize",
    "trim",
    "trim_package",
]

MAGIC = b"\xda\x27"
COMMON_DATA_FORMAT = b"CmnD"
ALIGNMENT = 16
"""Items start on this boundary: ICU reads their tables in place, and its own packaging tool aligns to 16."""
PADDING = b"\xaa"
"""ICU's ``pkgdata`` fills alignment gaps with 0xaa; doing the same makes a round trip byte-identical."""

_INFO_OFFSET = 4
_MIN_HEADER = _INFO_OFFSET + 20
"""The mapped-data prefix plus a UDataInfo up to and including dataVersion."""
_TOC_ENTRY = 8


class IcuDataError(ValueError):
    """A package that cannot be read, or entries that cannot be written as one.

    ``entry`` names the TOC entry at fault when there is one.
    """

    def __init__(self, message: str, *, entry: str | None = None) -> None:
        super().__init__(message if entry is None else f"{message} (entry {entry!r})")
        self.entry = entry


@dataclass(frozen=True)
class Entry:
    """One item: its full TOC name (``icudt73l/coll/ja.res``) and its bytes, alignment padding included."""

    name: str
    data: bytes


@dataclass(frozen=True)
class DataPackage:
    """A parsed package: the header exactly as it was, and the entries in TOC order."""

    header: bytes
    entries: tuple[Entry, ...]

    @property
    def big_endian(self) -> bool:
        return self.header[_INFO_OFFSET + 4] == 1

    @property
    def names(self) -> list[str]:
        return [entry.name for entry in self.entries]


def _check_header(blob: bytes) -> tuple[int, str]:
    """Validate the mapped-data header and UDataInfo; return (headerSize, struct byte order)."""
    if len(blob) < _MIN_HEADER:
        raise IcuDataError(f"{len(blob)} bytes is too short for an ICU data header (at least {_MIN_HEADER})")
    if blob[2:4] != MAGIC:
        raise IcuDataError(
            f"bad magic bytes 0x{blob[2]:02x} 0x{blob[3]:02x} at offset 2 "
            "(expected 0xda 0x27): not an ICU data file"
        )
    # headerSize is written in the data's own byte order, which UDataInfo records.
    big_endian = blob[_INFO_OFFSET + 4]
    if big_endian not in (0, 1):
        raise IcuDataError(f"UDataInfo.isBigEndian is {big_endian}, expected 0 or 1")
    order = ">" if big_endian else "<"
    header_size, _ = struct.unpack_from(f"{order}HH", blob, 0)
    (info_size,) = struct.unpack_from(f"{order}H", blob, _INFO_OFFSET)
    if not _MIN_HEADER <= header_size <= len(blob):
        raise IcuDataError(
            f"headerSize {header_size} is outside {_MIN_HEADER}..{len(blob)} (the blob's size)"
        )
    if info_size < _MIN_HEADER - _INFO_OFFSET or _INFO_OFFSET + info_size > header_size:
        raise IcuDataError(f"UDataInfo.size {info_size} does not fit a {header_size}-byte header")
    charset = blob[_INFO_OFFSET + 5]
    if charset != 0:
        # Entry names would be EBCDIC, and their sort order differs from ASCII's.
        raise IcuDataError(f"charset family {charset} is not ASCII (0); EBCDIC packages are not supported")
    data_format = blob[_INFO_OFFSET + 8 : _INFO_OFFSET + 12]
    if data_format != COMMON_DATA_FORMAT:
        raise IcuDataError(
            f"data format {data_format!r} is not {COMMON_DATA_FORMAT!r}: not a common data package"
        )
    format_major = blob[_INFO_OFFSET + 12]
    if format_major != 1:
        raise IcuDataError(f"CmnD format version {format_major} is not supported (only 1, ICU's offset TOC)")
    return header_size, order


def parse(blob: bytes) -> DataPackage:
    """Read a common data package; raise :class:`IcuDataError` saying what is wrong if it is not one."""
    header_size, order = _check_header(blob)
    toc = memoryview(blob)[header_size:]
    if len(toc) < 4:
        raise IcuDataError(f"truncated TOC: no item count after the {header_size}-byte header")
    (count,) = struct.unpack_from(f"{order}I", toc, 0)
    toc_end = 4 + count * _TOC_ENTRY
    if toc_end > len(toc):
        raise IcuDataError(
            f"truncated TOC: {count} entries need {toc_end} bytes, only {len(toc)} follow the header"
        )
    pairs = [struct.unpack_from(f"{order}II", toc, 4 + i * _TOC_ENTRY) for i in range(count)]

    # Items follow the TOC in TOC order: ICU takes each one's length from the next one's offset.
    previous_offset = toc_end - 1
    for index, (_, data_offset) in enumerate(pairs):
        if not previous_offset < data_offset < len(toc):
            raise IcuDataError(
                f"TOC entry {index}: data offset {data_offset} is out of range: items must lie in "
                f"{toc_end}..{len(toc)} in TOC order (the previous one starts at {previous_offset})"
            )
        previous_offset = data_offset

    # Names lie between the TOC and the first item, as ICU's packaging tool and serialize() put them.
    names_end = pairs[0][1] if pairs else len(toc)
    names: list[str] = []
    previous = b""
    for index, (name_offset, _) in enumerate(pairs):
        end = blob.find(b"\0", header_size + name_offset, header_size + names_end) - header_size
        if not toc_end <= name_offset < names_end or end < 0:
            raise IcuDataError(
                f"TOC entry {index}: name offset {name_offset} is outside the name area "
                f"{toc_end}..{names_end} or its name has no terminating NUL there"
            )
        raw = bytes(toc[name_offset:end])
        if not raw or not raw.isascii():
            raise IcuDataError(f"TOC entry {index}: name {raw!r} is empty or not ASCII")
        name = raw.decode("ascii")
        if raw <= previous:
            # ICU binary-searches the names: one out of place hides others.
            raise IcuDataError(
                f"names are not sorted: {name!r} comes after {previous.decode()!r}", entry=name
            )
        names.append(name)
        previous = raw

    entries: list[Entry] = []
    for index, (name, (_, data_offset)) in enumerate(zip(names, pairs, strict=True)):
        end = pairs[index + 1][1] if index + 1 < count else len(toc)
        data = bytes(toc[data_offset:end])
        if data[2:4] != MAGIC:
            raise IcuDataError("item does not start with an ICU data header (magic 0xda 0x27)", entry=name)
        entries.append(Entry(name, data))
    return DataPackage(header=bytes(blob[:header_size]), entries=tuple(entries))


def _padding(position: int) -> bytes:
    return PADDING * (-position % ALIGNMENT)


def serialize(package: DataPackage) -> bytes:
    """Write ``package`` as a common data package: same header, a fresh TOC, items 16-byte aligned."""
    header_size, order = _check_header(package.header)
    if header_size != len(package.header):
        raise IcuDataError(f"header is {len(package.header)} bytes but its headerSize says {header_size}")
    raw_names: list[bytes] = []
    for entry in package.entries:
        if not entry.name.isascii() or "\0" in entry.name or not entry.name:
            raise IcuDataError("names must be non-empty ASCII without NUL", entry=entry.name)
        raw = entry.name.encode("ascii")
        if raw_names and raw <= raw_names[-1]:
            raise IcuDataError(
                f"entries must be sorted by name, without duplicates (after {raw_names[-1]!r})",
                entry=entry.name,
            )
        if entry.data[2:4] != MAGIC:
            raise IcuDataError(
                "item does not start with an ICU data header (magic 0xda 0x27)", entry=entry.name
            )
        raw_names.append(raw)

    toc_end = 4 + len(raw_names) * _TOC_ENTRY
    name_offsets: list[int] = []
    names = bytearray()
    for raw in raw_names:
        name_offsets.append(toc_end + len(names))
        names += raw + b"\0"
    # Alignment counts from the package's start: the symbol is 16-byte aligned in the library.
    body = bytearray(names + _padding(header_size + toc_end + len(names)))
    data_offsets: list[int] = []
    for entry in package.entries:
        data_offsets.append(toc_end + len(body))
        body += entry.data
        body += _padding(header_size + toc_end + len(body))

    toc = bytearray(struct.pack(f"{order}I", len(raw_names)))
    for name_offset, data_offset in zip(name_offsets, data_offsets, strict=True):
        toc += struct.pack(f"{order}II", name_offset, data_offset)
    return package.header + bytes(toc) + bytes(body)


def trim_package(package: DataPackage, keep: Callable[[str], bool]) -> DataPackage:
    """The package with only the entries whose full name ``keep`` accepts."""
    return DataPackage(package.header, tuple(entry for entry in package.entries if keep(entry.name)))


def trim(blob: bytes, keep: Callable[[str], bool]) -> bytes:
    """Parse ``blob``, keep the entries ``keep`` accepts and write the smaller package."""
    return serialize(trim_package(parse(blob), keep))


# --- what the agent keeps ---------------------------------------------------------------------
#
# Qt Core calls ICU for four things only (its imports from libicuuc/libicui18n):
# QCollator (ucol_open, ucol_strcoll, ucol_getSortKey), QTimeZone::displayName
# (ucal_open, ucal_getTimeZoneDisplayName, ucal_getCanonicalTimeZoneID),
# QStringConverter for encodings other than UTF-8/16/32 and Latin-1 (ucnv_*),
# and QLocale::toUpper/toLower (u_strToUpper/u_strToLower, whose case data is
# compiled into libicuuc: they need nothing from here, Turkish dotted I included).
# The list below is what ICU opens for those calls for Japanese and English
# (traced with strace on a data-less library and the items as files), plus the
# bundles the resource-bundle fallback chain needs. A locale not kept falls
# back the way ICU always does: to the default locale, then to root.

_AGENT_LOCALES = ("ja", "ja_JP", "en", "en_US", "en_US_POSIX")
"""The UI languages, the regional bundles ICU tries first for them, and en_US_POSIX (ICU's name for "C")."""

_TREES: dict[str, tuple[str, tuple[str, ...]]] = {
    "": (
        "main tree: number symbols and calendar data read by ucal_open and the zone-name formatter",
        ("root", "pool", "res_index", *_AGENT_LOCALES),
    ),
    "coll/": (
        "collation tailorings for QCollator (ucol_open); ja.res holds the kana/kanji order",
        ("root", "res_index", "ja", "en", "en_US", "en_US_POSIX"),
    ),
    "zone/": (
        "time-zone and metazone names for QTimeZone::displayName",
        ("root", "pool", "res_index", "ja", "en"),
    ),
}
"""Locale trees kept, with their bundles: root is every chain's end, pool.res holds the keys and
strings the tree's locale bundles share (they cannot be read without it), res_index.res lists the
tree's locales."""

_SHARED = {
    "coll/ucadata.icu": "the root collation (DUCET) every collator, tailored or not, is built on",
    "zoneinfo64.res": "the zone rules ucal_open builds its TimeZone from",
    "timezoneTypes.res": "zone aliases and canonical IDs (ucal_getCanonicalTimeZoneID)",
    "metaZones.res": "zone -> metazone (Asia/Tokyo -> Japan): zone/*.res names metazones",
    "supplementalData.res": "calendar preferences and week data ucal_open reads for the locale's region",
    "likelySubtags.res": "the region when a locale has none (ja -> JP), for that lookup",
    "keyTypeData.res": "locale keywords (@calendar=, -u-ca-) checked while a calendar opens",
    "numberingSystems.res": "digits of the localized GMT format ('GMT-5') used for zones without a name",
    "cnvalias.icu": "converter names and aliases (Shift_JIS, windows-31j, EUC-JP, ISO-2022-JP, ...)",
    "ibm-943_P15A-2003.cnv": "Shift_JIS/windows-31j, and the JIS X 0208 table ISO-2022-JP opens",
    "euc-jp-2007.cnv": "EUC-JP",
}
# Dropped, among others: break iterators and their CJK/Thai/Khmer/Lao/Burmese dictionaries (Qt
# segments text itself), transliteration, units, currencies, language/region display names, rbnf,
# unames.icu, the StringPrep/IDNA/normalization files (Qt has its own), every other locale and every
# other converter. ISO-2022-JP-1/-2 would need jisx-212, ibm-5478, ksc_5601 and ISO-8859-7 too: not kept.
# supplementalData and likelySubtags (0.5 MB) are the largest items kept for what they change least: Qt's
# results were the same without them in our checks, but ucal_open reads them for every QTimeZone name,
# and ICU's behaviour on a failed read there is a fallback nobody tests. res_index.res still lists every
# locale of its tree: only enumerations (uloc_getAvailable, ucol_getAvailable, which Qt does not call)
# would name locales whose data is gone, and opening one falls back like any missing locale.

AGENT_KEEP: Mapping[str, str] = MappingProxyType(
    {
        **{f"{tree}{bundle}.res": why for tree, (why, bundles) in _TREES.items() for bundle in bundles},
        **_SHARED,
    }
)
"""Item paths (without the ``icudtNNl/`` package prefix) the agent keeps, each with the reason."""


def _item_path(name: str) -> str:
    """``icudt73l/coll/ja.res`` -> ``coll/ja.res``: the policy does not depend on the ICU version."""
    first, sep, rest = name.partition("/")
    return rest if sep and re.fullmatch(r"icudt\d+[lbe]", first) else name


def keep_for_agent(name: str) -> bool:
    """Whether the packaged agent keeps the package entry ``name`` (see :data:`AGENT_KEEP`)."""
    return _item_path(name) in AGENT_KEEP
