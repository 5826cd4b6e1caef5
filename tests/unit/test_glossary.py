"""The glossary (docs/glossary.md) is what both programs say: a drifting term fails here.

Reads the machine-readable table between the ``glossary:start``/``glossary:end``
markers and the programs' Qt translation files, which hold every ``tr()`` string
(the lupdate tests in tests/ui keep them complete), and the admin web's word list
(relay/admin_i18n.py).
"""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from client_core.units import format_bytes, format_clock_mhz

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = ROOT / "docs" / "glossary.md"
TS_FILES = {
    "agent": ROOT / "agent" / "ui" / "i18n" / "agent_ja.ts",
    "console": ROOT / "operator_console" / "ui" / "i18n" / "console_ja.ts",
}
UI_SOURCES = {"agent": ROOT / "agent" / "ui", "console": ROOT / "operator_console" / "ui"}


@dataclass(frozen=True)
class Term:
    concept: str
    ja: str
    en: str
    programs: tuple[str, ...]
    forbidden_ja: tuple[str, ...]
    forbidden_en: tuple[str, ...]


def _split(cell: str, sep: str) -> tuple[str, ...]:
    cell = cell.strip()
    return () if cell in ("", "—") else tuple(part.strip() for part in cell.split(sep) if part.strip())


def read_glossary(text: str) -> list[Term]:
    block = text.split("<!-- glossary:start -->", 1)[1].split("<!-- glossary:end -->", 1)[0]
    rows = [line for line in block.strip().splitlines() if line.startswith("|")]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    assert header[:6] == ["concept", "ja", "en", "programs", "forbidden ja", "forbidden en"]
    terms = []
    for line in rows[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        terms.append(
            Term(
                concept=cells[0],
                ja=cells[1],
                en=cells[2],
                programs=_split(cells[3], ","),
                forbidden_ja=_split(cells[4], " / "),
                forbidden_en=_split(cells[5], " / "),
            )
        )
    return terms


@dataclass(frozen=True)
class Strings:
    sources: list[str]
    translations: list[str]


def read_ts(path: Path) -> Strings:
    root = ET.parse(path).getroot()
    sources, translations = [], []
    for message in root.iter("message"):
        translation = message.find("translation")
        if translation is not None and translation.get("type") in ("obsolete", "vanished"):
            continue
        source = message.find("source")
        sources.append(source.text or "" if source is not None else "")
        translations.append(translation.text or "" if translation is not None else "")
    return Strings(sources, translations)


def read_admin_web() -> Strings:
    """The admin web's words (relay/admin_i18n.py): English as the source, Japanese as its translation."""
    from relay.admin_i18n import MESSAGES

    return Strings([en for _, en in MESSAGES.values()], [ja for ja, _ in MESSAGES.values()])


TERMS = read_glossary(GLOSSARY.read_text(encoding="utf-8"))
STRINGS = {program: read_ts(path) for program, path in TS_FILES.items()} | {"admin web": read_admin_web()}


def test_the_table_is_read() -> None:
    concepts = {t.concept for t in TERMS}
    assert {"customer_number", "screen", "allow", "stop_sharing", "keyboard_guide"} <= concepts
    assert all(t.ja and t.en and t.programs for t in TERMS)
    assert sum(t.en == "—" for t in TERMS) <= 1  # only "customer": the agent says "you"
    assert all(p in STRINGS for t in TERMS for p in t.programs)
    assert any("admin web" in t.programs for t in TERMS)


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.concept)
def test_each_program_uses_the_term(term: Term) -> None:
    for program in term.programs:
        strings = STRINGS[program]
        assert any(term.ja in t for t in strings.translations), f"{program} never says {term.ja}"
        if term.en != "—":
            assert any(term.en.lower() in s.lower() for s in strings.sources), (
                f"{program} never says {term.en}"
            )


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.concept)
def test_no_program_uses_a_forbidden_variant(term: Term) -> None:
    for program in term.programs:
        strings = STRINGS[program]
        for variant in term.forbidden_ja:
            bad = [t for t in strings.translations if variant in t]
            assert not bad, f"{program} says {variant} instead of {term.ja}: {bad}"
        for variant in term.forbidden_en:
            pattern = re.compile(rf"\b{re.escape(variant)}\b", re.IGNORECASE)
            bad = [s for s in strings.sources if pattern.search(s)]
            assert not bad, f"{program} says {variant!r} instead of {term.en!r}: {bad}"


def test_forbidden_variants_are_caught() -> None:
    """The check can fail: the words the UI walk found would be caught."""
    term = next(t for t in TERMS if t.concept == "customer_number")
    assert any(v in "お客さまの接続番号" for v in term.forbidden_ja)
    screen = next(t for t in TERMS if t.concept == "screen")
    assert any(v in "モニター 1" for v in screen.forbidden_ja)


def _labels(path: Path, context: str) -> dict[str, str]:
    """``{"os": "Operating system", ...}`` from a module's label table (parsed, not imported)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(target, ast.Name) and target.id == "_LABELS" and isinstance(node, ast.AnnAssign):
            assert isinstance(node.value, ast.Dict)
            labels = {}
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                assert isinstance(key, ast.Constant)
                texts = [
                    n.value
                    for n in ast.walk(value)
                    if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value != context
                ]
                labels[str(key.value)] = texts[-1]
            return labels
    raise AssertionError(f"no _LABELS in {path}")


def _translation(program: str, source: str) -> str:
    strings = STRINGS[program]
    return strings.translations[strings.sources.index(source)]


def test_system_information_items_have_the_same_names_on_both_sides() -> None:
    agent = _labels(ROOT / "agent" / "ui" / "sysinfo_items.py", "SystemInformation")
    console = _labels(ROOT / "operator_console" / "ui" / "info_panel.py", "SysInfo")
    assert set(console) == set(agent)
    for key in agent:
        assert console[key] == agent[key], key
        assert _translation("console", console[key]) == _translation("agent", agent[key]), key


_UNIT = re.compile(r"\b(?:GB|MB|MHz|GHz)\b")


def _unit_strings(path: Path) -> list[str]:
    """String constants naming a unit, docstrings and comments aside."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and _UNIT.search(node.value)
    ]


def test_units_are_formatted_in_one_place() -> None:
    offenders = [
        hit for folder in UI_SOURCES.values() for path in folder.rglob("*.py") for hit in _unit_strings(path)
    ]
    assert offenders == []


def test_the_unit_convention() -> None:
    """GB as Windows counts it (1024³), clock in GHz: the figures in the UI walk now agree."""
    assert format_bytes(27_165_204_480) == "25.3 GB"  # 25.3 GiB: what Windows shows
    assert format_bytes(82_600_000_000) == "76.9 GB"  # Explorer's free space, not "82.6"
    assert format_bytes(512 * 1024**2) == "512 MB"
    assert format_clock_mhz(2596) == "2.60 GHz"
