"""The trimmed ICU data library, built for real from PySide6's and used by PySide6's own Qt.

Each run is a child Python with ``LD_PRELOAD`` naming a data library: the
dynamic loader then satisfies ``libicuuc``'s need for ``libicudata.so.NN`` by
SONAME with the preloaded one (the child checks ``/proc/self/maps`` to say
which one it got). The child exercises every Qt service that reads ICU data
(collation, time-zone names, non-Unicode converters, case mapping) and prints
the results as JSON; the trimmed run must match the run on the original
library for Japanese and English. A third library, trimmed further on purpose
(no Japanese collation, zone names or EUC-JP), shows that the comparisons do
notice missing data.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from installer.icu_data import keep_for_agent, parse
from installer.icu_library import (
    IcuLibraryError,
    TrimResult,
    inspect_library,
    parse_readelf,
    read_data_blob,
    trim_icu_data_library,
)
from tests.unit.test_icu_data import pyside_icu_data

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="PySide6 ships ICU's data library on Linux only"
)

ROOT = Path(__file__).resolve().parents[2]

Probe = dict[str, Any]

KANJI = ["東京", "桜", "大阪"]
KANA = ["さくら", "サクラ", "あい", "アイ", "がぎぐげご", "かきくけこ", "ｶﾀｶﾅ", "ー", "ぁ", "あ"]
WORDS_JA = [*KANJI, *KANA]
WORDS_EN = ["Zebra", "zebra", "éclair", "eclair", "file10", "file2", "co-op", "coop", "Apple", "apple"]
ZONES = ["Asia/Tokyo", "America/New_York", "Europe/London", "UTC"]
CASE_SAMPLES = ["istanbul", "Straße", "ǆemal", "ﬁle", "ıi", "ñandú", "ａｂｃ"]
JAPANESE_TEXT = "日本語のテキスト、カタカナとｶﾀｶﾅ"
SHIFT_JIS_TEXT = JAPANESE_TEXT + "①"  # a Windows (cp932) extension
ENCODED = {
    "Shift_JIS": SHIFT_JIS_TEXT.encode("cp932"),
    "windows-31j": SHIFT_JIS_TEXT.encode("cp932"),
    "EUC-JP": JAPANESE_TEXT.encode("euc_jp"),
    "ISO-2022-JP": "日本語のテキスト、カタカナ".encode("iso2022_jp"),
}


def probe_qt() -> Probe:
    """Run in the child: every ICU-backed Qt Core service, results as plain JSON values."""
    from PySide6.QtCore import (
        QBuffer,
        QByteArray,
        QCollator,
        QCoreApplication,
        QIODevice,
        QLocale,
        QStringDecoder,
        QStringEncoder,
        QTimeZone,
        QXmlStreamReader,
    )

    _app = QCoreApplication([])  # the agent has an application too; nothing below needs its event loop
    out: Probe = {}

    def collate(locale: str, words: list[str], *, numeric: bool = False) -> list[str]:
        collator = QCollator(QLocale(locale))
        collator.setNumericMode(numeric)
        return sorted(words, key=functools.cmp_to_key(collator.compare))

    for locale in ("ja_JP", "ja"):
        out[f"collate {locale}"] = collate(locale, WORDS_JA)
    for locale in ("en_US", "en"):
        out[f"collate {locale}"] = collate(locale, WORDS_EN)
        out[f"collate numeric {locale}"] = collate(locale, WORDS_EN, numeric=True)
    # Dropped tailorings: ICU falls back to root; whatever order comes out, Qt must not abort.
    for locale in ("th", "zh", "ko", "de"):
        out[f"collate {locale}"] = collate(locale, WORDS_JA + WORDS_EN)

    names: dict[str, str] = {}
    kinds = [QTimeZone.NameType.LongName, QTimeZone.NameType.ShortName, QTimeZone.NameType.DefaultName]
    times = [QTimeZone.TimeType.StandardTime, QTimeZone.TimeType.DaylightTime, QTimeZone.TimeType.GenericTime]
    for zone_id in ZONES:
        zone = QTimeZone(zone_id.encode())
        for locale in ("ja", "ja_JP", "en", "en_US", "fr"):
            for time_type in times:
                for kind in kinds:
                    key = f"{zone_id} {locale} {time_type.name} {kind.name}"
                    names[key] = zone.displayName(time_type, kind, QLocale(locale))
    out["zone names"] = names

    for locale in ("tr", "ja", "en", "az", "lt"):
        out[f"upper {locale}"] = [QLocale(locale).toUpper(s) for s in CASE_SAMPLES]
        out[f"lower {locale}"] = [QLocale(locale).toLower(s.upper()) for s in CASE_SAMPLES]

    def xml_decode(encoding: str, data: bytes) -> list[str]:
        # PySide6 has no QStringDecoder.decode(); QXmlStreamReader decodes through
        # QStringDecoder(<declared encoding>) itself.
        document = b'<?xml version="1.0" encoding="' + encoding.encode() + b'"?><t>' + data + b"</t>"
        buffer = QBuffer()
        buffer.setData(QByteArray(document))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        reader = QXmlStreamReader(buffer)
        reader.readNextStartElement()
        return [reader.readElementText(), reader.errorString()]

    for encoding, data in [*ENCODED.items(), ("GB18030", "中文".encode("gb18030")), ("ISO-2022-JP-2", b"")]:
        decoder = QStringDecoder(encoding)
        out[f"decoder {encoding}"] = [decoder.isValid(), decoder.name() if decoder.isValid() else None]
        out[f"encoder {encoding}"] = QStringEncoder(encoding).isValid()
        out[f"decode {encoding}"] = xml_decode(encoding, data)
    out["codecs"] = QStringDecoder.availableCodecs()

    with open("/proc/self/maps", encoding="utf-8") as maps:
        out["icu data mapped"] = sorted({line.split()[-1] for line in maps if "libicudata" in line})
    return out


@dataclass(frozen=True)
class Libraries:
    original: Path
    trimmed: TrimResult
    crippled: TrimResult


CRIPPLED_DROPS = {"coll/ja.res", "zone/ja.res", "euc-jp-2007.cnv"}


def _crippled_keep(name: str) -> bool:
    return keep_for_agent(name) and name.split("/", 1)[1] not in CRIPPLED_DROPS


@pytest.fixture(scope="module")
def libraries(tmp_path_factory: pytest.TempPathFactory) -> Libraries:
    tmp = tmp_path_factory.mktemp("icu")
    original = pyside_icu_data()
    trimmed = trim_icu_data_library(original, tmp / "trimmed" / original.name, tmp / "work-trimmed")
    crippled = trim_icu_data_library(
        original, tmp / "crippled" / original.name, tmp / "work-crippled", keep=_crippled_keep
    )
    return Libraries(original, trimmed, crippled)


def _run_probe(preload: Path | None) -> Probe:
    env = {k: v for k, v in os.environ.items() if k not in {"ICU_DATA", "LC_ALL", "LC_MESSAGES", "LANGUAGE"}}
    # ICU_DATA would let ICU find dropped items as files and hide a gap. The same default locale for
    # every run: ICU falls back to it for a locale it has no data for.
    env.update(QT_QPA_PLATFORM="offscreen", LANG="C.UTF-8", PYTHONPATH=str(ROOT))
    env.pop("LD_PRELOAD", None)
    if preload is not None:
        env["LD_PRELOAD"] = str(preload)
    code = f"import json, sys\nfrom {__name__} import probe_qt\njson.dump(probe_qt(), sys.stdout)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"Qt child with {preload} exited {done.returncode}:\n{done.stderr[-3000:]}"
    result: Probe = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def runs(libraries: Libraries) -> dict[str, Probe]:
    targets = {"original": None, "trimmed": libraries.trimmed.dest, "crippled": libraries.crippled.dest}
    with ThreadPoolExecutor(len(targets)) as pool:  # three Qt children at once: the test stays fast
        futures = {name: pool.submit(_run_probe, path) for name, path in targets.items()}
        return {name: future.result() for name, future in futures.items()}


def test_trimmed_library_is_a_small_twin_of_the_original(libraries: Libraries) -> None:
    result = libraries.trimmed
    original = inspect_library(libraries.original)
    written = inspect_library(result.dest)
    assert (written.soname, written.symbol, written.machine) == (
        original.soname,
        original.symbol,
        original.machine,
    )
    assert written.soname == libraries.original.name
    assert written.size == result.package_after < 3_000_000
    assert result.library_after < result.library_before // 10
    assert result.entries_after < 50 < 3000 < result.entries_before
    package = parse(read_data_blob(written))
    assert all(keep_for_agent(name) for name in package.names)
    assert package.header == parse(read_data_blob(original)).header
    assert result.seconds < 20
    assert "ICU data items" in result.summary()
    # No code, no libc: nothing to resolve when it loads.
    needed = subprocess.run(
        ["readelf", "-W", "-d", str(result.dest)], capture_output=True, text=True, check=True
    )
    assert "(NEEDED)" not in needed.stdout


def test_each_run_used_the_library_it_was_given(libraries: Libraries, runs: dict[str, Probe]) -> None:
    assert runs["original"]["icu data mapped"] == [str(libraries.original.resolve())]
    assert runs["trimmed"]["icu data mapped"] == [str(libraries.trimmed.dest.resolve())]
    assert runs["crippled"]["icu data mapped"] == [str(libraries.crippled.dest.resolve())]


def test_japanese_and_english_collation_unchanged(runs: dict[str, Probe]) -> None:
    original, trimmed = runs["original"], runs["trimmed"]
    for key in ("collate ja_JP", "collate ja", "collate en_US", "collate en", "collate numeric en_US"):
        assert trimmed[key] == original[key], key
    # The orders are ICU's, not Python's: Japanese by reading, kanji after kana; numbers numeric.
    assert original["collate ja_JP"] != sorted(WORDS_JA)
    assert original["collate ja_JP"].index("桜") < original["collate ja_JP"].index("東京")
    assert original["collate numeric en_US"].index("file2") < original["collate numeric en_US"].index(
        "file10"
    )
    assert original["collate en_US"][:2] == ["apple", "Apple"]


def test_time_zone_names_unchanged_for_japanese_and_english(runs: dict[str, Probe]) -> None:
    original, trimmed = runs["original"]["zone names"], runs["trimmed"]["zone names"]
    ours = [key for key in original if key.split()[1] in {"ja", "ja_JP", "en", "en_US"}]
    assert len(ours) == 4 * 4 * 3 * 3
    assert {key: trimmed[key] for key in ours} == {key: original[key] for key in ours}
    assert original["Asia/Tokyo ja StandardTime LongName"] == "日本標準時"
    assert original["Asia/Tokyo en StandardTime LongName"] == "Japan Standard Time"
    assert original["America/New_York ja_JP DaylightTime LongName"] == "アメリカ東部夏時間"
    # French is dropped: names fall back (to the default locale, then root) but still come back.
    assert all(isinstance(trimmed[key], str) and trimmed[key] for key in original if " fr " in key)


def test_case_mapping_unchanged(runs: dict[str, Probe]) -> None:
    original, trimmed = runs["original"], runs["trimmed"]
    for locale in ("tr", "ja", "en", "az", "lt"):
        assert trimmed[f"upper {locale}"] == original[f"upper {locale}"]
        assert trimmed[f"lower {locale}"] == original[f"lower {locale}"]
    assert trimmed["upper tr"][0] == "İSTANBUL"
    assert trimmed["upper en"][:2] == ["ISTANBUL", "STRASSE"]


def test_japanese_converters_unchanged(runs: dict[str, Probe]) -> None:
    original, trimmed = runs["original"], runs["trimmed"]
    for encoding, data in ENCODED.items():
        for kind in ("decoder", "encoder", "decode"):
            assert trimmed[f"{kind} {encoding}"] == original[f"{kind} {encoding}"], (kind, encoding)
        # An independent check: Python's own codecs decode the same bytes to the same text.
        codec = {
            "Shift_JIS": "cp932",
            "windows-31j": "cp932",
            "EUC-JP": "euc_jp",
            "ISO-2022-JP": "iso2022_jp",
        }
        assert trimmed[f"decode {encoding}"] == [data.decode(codec[encoding]), ""]
    assert trimmed["decoder windows-31j"] == [True, "Shift_JIS"]
    # The list Qt offers shrinks to what the data still holds, and keeps the Japanese ones.
    assert set(trimmed["codecs"]) < set(original["codecs"])
    assert {"Shift_JIS", "EUC-JP", "ISO-2022-JP"} <= set(trimmed["codecs"])


def test_dropped_services_degrade_without_crashing(runs: dict[str, Probe]) -> None:
    original, trimmed = runs["original"], runs["trimmed"]
    for locale in ("th", "zh", "ko", "de"):
        assert sorted(trimmed[f"collate {locale}"]) == sorted(original[f"collate {locale}"])
    assert original["decoder GB18030"] == [True, "GB18030"]
    assert trimmed["decoder GB18030"] == [False, None]
    assert trimmed["decode GB18030"][0] == ""
    assert "unsupported" in trimmed["decode GB18030"][1]


def test_the_comparisons_notice_missing_data(runs: dict[str, Probe]) -> None:
    original, crippled = runs["original"], runs["crippled"]
    assert crippled["collate ja_JP"] != original["collate ja_JP"]
    key = "Asia/Tokyo ja StandardTime LongName"
    assert crippled["zone names"][key] != original["zone names"][key]
    assert crippled["decoder EUC-JP"] != original["decoder EUC-JP"]
    assert crippled["decoder Shift_JIS"] == original["decoder Shift_JIS"]


def test_readelf_mapping_uses_the_load_segment_not_a_fixed_offset() -> None:
    dyn_syms = (
        "Symbol table '.dynsym' contains 2 entries:\n"
        "   Num:    Value          Size Type    Bind   Vis      Ndx Name\n"
        "     0: 0000000000000000     0 NOTYPE  LOCAL  DEFAULT  UND \n"
        "     1: 0000000000203040 0x1e8bb80 OBJECT  GLOBAL DEFAULT    7 icudt74_dat\n"
    )
    headers = (
        "  Class:                             ELF64\n"
        "  Machine:                           AArch64\n"
        "  LOAD           0x000000 0x0000000000000000 0x0000000000000000 0x001000 0x001000 R   0x10000\n"
        "  LOAD           0x003000 0x0000000000203000 0x0000000000203000 0x1e8cb80 0x1e8cb80 R   0x10000\n"
        " 0x000000000000000e (SONAME)             Library soname: [libicudata.so.74]\n"
    )
    library = parse_readelf(Path("libicudata.so.74"), dyn_syms, headers)
    assert (library.symbol, library.size, library.file_offset) == ("icudt74_dat", 0x1E8BB80, 0x3040)
    assert (library.soname, library.machine) == ("libicudata.so.74", "ELF64, AArch64")
    with pytest.raises(IcuLibraryError, match=r"lies in no LOAD segment"):
        parse_readelf(Path("x"), dyn_syms, headers.replace("0x1e8cb80 0x1e8cb80", "0x000100 0x000100"))
    with pytest.raises(IcuLibraryError, match=r"found: none"):
        parse_readelf(Path("x"), dyn_syms.replace("icudt74_dat", "something_else"), headers)


def test_errors_say_what_is_wrong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, work = tmp_path / "out" / "libicudata.so.73", tmp_path / "work"
    with pytest.raises(IcuLibraryError, match=r"no such file; library: .*nothing\.so"):
        trim_icu_data_library(tmp_path / "nothing.so", out, work)
    not_elf = tmp_path / "libnotelf.so"
    not_elf.write_bytes(b"\x7fELF not really")
    with pytest.raises(
        IcuLibraryError, match=r"readelf failed with exit status \d+; library: .*; command: .*readelf"
    ):
        trim_icu_data_library(not_elf, out, work)
    with pytest.raises(IcuLibraryError, match=r"found: none"):
        trim_icu_data_library(Path(sys.executable).resolve(), out, work)

    original = pyside_icu_data()
    tools = tmp_path / "bin"
    tools.mkdir()
    monkeypatch.setenv("PATH", str(tools))
    with pytest.raises(IcuLibraryError, match=r"readelf not found.*apt-get install binutils"):
        trim_icu_data_library(original, out, work)
    readelf = shutil.which("readelf", path=os.defpath)
    assert readelf is not None
    (tools / "readelf").symlink_to(readelf)
    with pytest.raises(IcuLibraryError, match=r"gcc not found.*apt-get install gcc"):
        trim_icu_data_library(original, out, work)
    assert not out.exists()
