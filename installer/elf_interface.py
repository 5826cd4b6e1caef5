"""A shared library's ELF interface, as ``readelf`` shows it: what other objects can see of it.

That is its SONAME, the libraries it needs (``DT_NEEDED``), its class and machine,
its section alignments, every ``.dynsym`` entry (type, size, binding, visibility,
section, address, and symbol version with its default or hidden flag) and the
version nodes it defines with their parents: a :class:`LibraryInterface`.
:mod:`installer.stub_library` makes a stand-in library from it, and
:func:`export_differences` checks that the stand-in exports what the real one does.

The text of ``readelf -W`` (binutils, there wherever gcc is) is read rather than
the ELF file itself, which would take a parser of our own or a dependency. The
pure part (the ``parse_*`` functions, :func:`parse_library`) turns that text into
a :class:`LibraryInterface`; the I/O part (:func:`read_library`) runs readelf
through :func:`run_tool`, which :mod:`installer.stub_library` uses for gcc too.
The tools run with ``LC_ALL=C``: readelf translates its headings, and the parsers
know the English ones.

Only :class:`StubError` is raised, the one exception this module shares with
:mod:`installer.stub_library` (it is named for what reading the interface is
for): when a tool is missing or fails (it then carries the command, its exit
status and its output), when readelf prints a symbol table line that does not
parse (rather than let an export go missing silently) or when there is no library
at the path given.

This module uses only the standard library: PyInstaller specs may import it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "FUNCTION_KINDS",
    "OBJECT_KINDS",
    "DynamicSymbol",
    "LibraryInterface",
    "StubError",
    "VersionDefinition",
    "export_differences",
    "linker_made",
    "parse_dyn_syms",
    "parse_header",
    "parse_library",
    "parse_needed",
    "parse_section_alignments",
    "parse_soname",
    "parse_versions",
    "read_library",
    "run_tool",
]

_LINKER_DEFINED = frozenset({"_edata", "_end", "__bss_start"})
"""Layout markers older linkers export from every library (newer ones do not): no one
links against them, so the stub neither defines them nor is checked for them."""

FUNCTION_KINDS = frozenset({"FUNC", "IFUNC"})
"""readelf's types of functions."""
OBJECT_KINDS = frozenset({"OBJECT", "COMMON"})
"""readelf's types of data objects (thread-local data, ``TLS``, is a type of its own)."""
_EXPORTED_BINDINGS = frozenset({"GLOBAL", "WEAK", "UNIQUE"})
_EXPORTED_VISIBILITIES = frozenset({"DEFAULT", "PROTECTED"})


class StubError(RuntimeError):
    """A library's interface could not be read or its stub could not be made: a tool is missing
    or failed, its output is not understood, or the library cannot be stubbed.

    ``command``, ``returncode`` and ``output`` describe the failed tool run when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        command: Sequence[str] = (),
        returncode: int | None = None,
        output: str = "",
    ) -> None:
        details = message
        if command:
            details += f"\n  command: {' '.join(command)} (exit status {returncode})"
        if output:
            tail = "\n".join(output.strip().splitlines()[-20:])
            details += f"\n  output (last lines):\n{tail}"
        super().__init__(details)
        self.message = message
        self.command = tuple(command)
        self.returncode = returncode
        self.output = output


# --- the interface, from readelf's text ------------------------------------------------------


@dataclass(frozen=True)
class DynamicSymbol:
    """One entry of ``.dynsym`` as ``readelf -W --dyn-syms`` and ``readelf -W -V`` show it.

    ``kind`` is readelf's type (``FUNC``, ``OBJECT``, ``TLS``, ``IFUNC``, ``NOTYPE``...),
    ``section`` its ``Ndx`` column (``UND``, ``ABS``, ``COM`` or a section number).
    ``version`` is ``None`` for an unversioned symbol; ``default_version`` is False only
    for a non-default (``name@VERSION``, "hidden") version.
    """

    name: str
    kind: str
    size: int
    binding: str
    visibility: str
    section: str
    value: int
    version: str | None = None
    default_version: bool = True

    @property
    def defined(self) -> bool:
        return self.section != "UND"

    @property
    def exported(self) -> bool:
        """Defined here and visible to other objects."""
        return (
            self.defined
            and bool(self.name)
            and self.binding in _EXPORTED_BINDINGS
            and self.visibility in _EXPORTED_VISIBILITIES
        )

    @property
    def versioned_name(self) -> str:
        """``name``, ``name@@VERSION`` or ``name@VERSION``, as the tools spell it."""
        if self.version is None:
            return self.name
        return f"{self.name}{'@@' if self.default_version else '@'}{self.version}"


@dataclass(frozen=True)
class VersionDefinition:
    """A version node the library defines (``.gnu.version_d``), with the nodes it inherits."""

    name: str
    parents: tuple[str, ...] = ()


@dataclass(frozen=True)
class LibraryInterface:
    """What other objects can see of a shared library: SONAME, exports, version nodes."""

    soname: str | None
    symbols: tuple[DynamicSymbol, ...]
    versions: tuple[VersionDefinition, ...]
    section_alignments: Mapping[int, int] = field(default_factory=dict)
    elf_class: str = ""
    """``ELF64`` or ``ELF32``."""
    machine: str = ""
    """As ``readelf -h`` names it: ``Advanced Micro Devices X86-64``, ``AArch64``..."""
    needed: tuple[str, ...] = ()
    """The libraries it links against."""

    @property
    def exports(self) -> tuple[DynamicSymbol, ...]:
        return tuple(s for s in self.symbols if s.exported)


_DYNSYM = re.compile(
    r"^\s*(?P<num>\d+):\s+(?P<value>[0-9a-fA-F]+)\s+(?P<size>0x[0-9a-fA-F]+|\d+)\s+"
    r"(?P<kind>\S+)\s+(?P<binding>\S+)\s+(?P<visibility>\S+)"
    # Some targets print extra st_other bits after the visibility: "[VARIANT_PCS]", "[<localentry>: 8]".
    r"(?:\s+\[[^\]]*\])*"
    r"\s+(?P<section>\S+)(?:\s(?P<name>.*))?$"
)
_VERSYM_LINE = re.compile(r"^\s*(?P<first>[0-9a-fA-F]+):(?P<entries>(?:\s+[0-9a-fA-F]+h?\s*\([^)]*\))+)\s*$")
_VERSYM_ENTRY = re.compile(r"(?P<index>[0-9a-fA-F]+)(?P<hidden>h?)\s*\((?P<name>[^)]*)\)")
_VERDEF = re.compile(
    r"Flags:\s*(?P<flags>.+?)\s+Index:\s*(?P<index>\d+)\s+Cnt:\s*\d+\s+Name:\s*(?P<name>\S+)"
)
_VERDEF_PARENT = re.compile(r"^\s*0x[0-9a-fA-F]+:\s+Parent\s+\d+:\s*(?P<name>\S+)")
_NEEDED = re.compile(r"\(NEEDED\)\s+Shared library:\s*\[(?P<name>[^\]]*)\]")
_SONAME = re.compile(r"\(SONAME\)\s+Library soname:\s*\[(?P<name>[^\]]*)\]")
_SECTION = re.compile(r"^\s*\[\s*(?P<index>\d+)\]\s")
_HEADER_FIELD = re.compile(r"^\s*(?P<key>Class|Machine):\s*(?P<value>.*?)\s*$", re.MULTILINE)


def parse_header(header: str) -> tuple[str, str]:
    """The class (``ELF64``) and machine in ``readelf -W -h`` output (empty when absent)."""
    found = {m["key"]: m["value"] for m in _HEADER_FIELD.finditer(header)}
    return found.get("Class", ""), found.get("Machine", "")


def parse_soname(dynamic: str) -> str | None:
    """The SONAME in ``readelf -W -d`` output, or None when the library has none."""
    match = _SONAME.search(dynamic)
    return match["name"] if match else None


def parse_needed(dynamic: str) -> tuple[str, ...]:
    """The libraries ``readelf -W -d`` says this one links against (``DT_NEEDED``), in order."""
    return tuple(m["name"] for m in _NEEDED.finditer(dynamic))


def parse_section_alignments(sections: str) -> dict[int, int]:
    """Section number -> alignment, from ``readelf -W -S`` (the ``Al`` column is the last)."""
    result: dict[int, int] = {}
    for line in sections.splitlines():
        match = _SECTION.match(line)
        if match is None:
            continue
        last = line.split()[-1]
        if last.isdigit():
            result[int(match["index"])] = int(last)
    return result


def parse_versions(versions: str) -> tuple[dict[int, tuple[str, bool]], tuple[VersionDefinition, ...]]:
    """From ``readelf -W -V``: symbol number -> (version, hidden), and the defined version nodes.

    Symbol numbers whose entry is ``*local*`` or ``*global*`` (no version) are left out.
    The base definition (the library's own name, flag ``BASE``) is not a version node.
    """
    per_symbol: dict[int, tuple[str, bool]] = {}
    definitions: list[tuple[str, list[str]]] = []
    part = ""
    for line in versions.splitlines():
        if line.startswith("Version symbols section"):
            part = "versym"
            continue
        if line.startswith("Version definition section"):
            part = "verdef"
            continue
        if line.startswith("Version needs section"):
            part = "verneed"
            continue
        if part == "versym":
            match = _VERSYM_LINE.match(line)
            if match is None:
                continue
            # Each row starts with the (hexadecimal) number of its first symbol.
            first = int(match["first"], 16)
            for offset, entry in enumerate(_VERSYM_ENTRY.finditer(match["entries"])):
                if int(entry["index"], 16) > 1:
                    per_symbol[first + offset] = (entry["name"].strip(), entry["hidden"] == "h")
        elif part == "verdef":
            parent = _VERDEF_PARENT.match(line)
            if parent is not None and definitions:
                definitions[-1][1].append(parent["name"])
                continue
            match = _VERDEF.search(line)
            if match is not None and "BASE" not in match["flags"]:
                definitions.append((match["name"], []))
    return per_symbol, tuple(VersionDefinition(name, tuple(parents)) for name, parents in definitions)


def _parse_size(text: str) -> int:
    # readelf switches to hexadecimal for sizes of 100000 and more.
    return int(text, 16) if text.startswith("0x") else int(text)


def _strip_version(name: str, version: str | None) -> str:
    """``name`` without the ``@VERSION``/``@@VERSION``/`` (N)`` decoration newer readelf adds."""
    name = re.sub(r" \(\d+\)$", "", name)
    if version is not None:
        for suffix in (f"@@{version}", f"@{version}"):
            if name.endswith(suffix):
                return name[: -len(suffix)]
    return name


def parse_dyn_syms(
    dyn_syms: str, versions: Mapping[int, tuple[str, bool]] | None = None
) -> tuple[DynamicSymbol, ...]:
    """Every ``.dynsym`` entry in ``readelf -W --dyn-syms`` output, with its version if known.

    ``versions`` is the first result of :func:`parse_versions`. Lines that are not
    symbol entries (headers, blank lines) are skipped; a symbol table line that
    does not parse is an error rather than a silently missing export.
    """
    versions = versions or {}
    symbols: list[DynamicSymbol] = []
    in_table = False
    for line in dyn_syms.splitlines():
        if line.startswith("Symbol table"):
            in_table = ".dynsym" in line
            continue
        if not in_table or not line.strip() or line.lstrip().startswith("Num:"):
            continue
        match = _DYNSYM.match(line)
        if match is None:
            raise StubError(f"unexpected line in readelf's symbol table: {line!r}")
        number = int(match["num"])
        version, hidden = versions.get(number, (None, False))
        symbols.append(
            DynamicSymbol(
                name=_strip_version((match["name"] or "").strip(), version),
                kind=match["kind"],
                size=_parse_size(match["size"]),
                binding=match["binding"],
                visibility=match["visibility"],
                section=match["section"],
                value=int(match["value"], 16),
                version=version,
                default_version=not hidden,
            )
        )
    return tuple(symbols)


def parse_library(header: str, dynamic: str, sections: str, dyn_syms: str, versions: str) -> LibraryInterface:
    """Everything :func:`installer.stub_library.stub_sources` needs, from ``readelf -W`` with -h, -d, -S,
    --dyn-syms and -V."""
    per_symbol, definitions = parse_versions(versions)
    elf_class, machine = parse_header(header)
    return LibraryInterface(
        elf_class=elf_class,
        machine=machine,
        soname=parse_soname(dynamic),
        needed=parse_needed(dynamic),
        symbols=parse_dyn_syms(dyn_syms, per_symbol),
        versions=definitions,
        section_alignments=parse_section_alignments(sections),
    )


def linker_made(symbol: DynamicSymbol) -> bool:
    """Whether the linker made the export ``symbol`` by itself: a layout marker (``_edata``,
    ``_end``, ``__bss_start``), or the absolute symbol old linkers export per version node,
    named like it. A stub need not define these, nor be checked for them."""
    return symbol.name in _LINKER_DEFINED or (
        symbol.section == "ABS" and symbol.version is not None and symbol.name == symbol.version
    )


def export_differences(expected: Iterable[DynamicSymbol], actual: Iterable[DynamicSymbol]) -> list[str]:
    """How the exports ``actual`` fall short of ``expected``: each missing symbol (by name and
    version, ``name@@V`` spelling) and each data object of another size (a program's copy
    relocation copies exactly the size it was linked against)."""
    have = {(s.name, s.version, s.default_version): s for s in actual if s.exported}
    problems = []
    for symbol in expected:
        if not symbol.exported or linker_made(symbol):
            continue
        found = have.get((symbol.name, symbol.version, symbol.default_version))
        if found is None:
            problems.append(f"{symbol.versioned_name} is missing")
        elif symbol.kind in OBJECT_KINDS and found.size != symbol.size:
            problems.append(f"{symbol.versioned_name} has {found.size} bytes instead of {symbol.size}")
    return sorted(problems)


# --- running the tools ---------------------------------------------------------------------------


_INSTALL_HINT = {"readelf": "binutils", "gcc": "gcc"}


def run_tool(tool: str, *args: str) -> str:
    """The standard output of ``tool`` (``readelf`` or ``gcc``) run with ``args`` in the C locale."""
    path = shutil.which(tool)
    if path is None:
        raise StubError(f"{tool} not found: install it (Debian/Ubuntu package {_INSTALL_HINT[tool]!r})")
    command = [path, *args]
    # readelf's headings are translated; the parser knows the English ones.
    env = {**os.environ, "LC_ALL": "C"}
    done = subprocess.run(command, capture_output=True, text=True, errors="replace", env=env, check=False)
    if done.returncode != 0:
        raise StubError(f"{tool} failed", command=command, returncode=done.returncode, output=done.stderr)
    return done.stdout


def read_library(path: Path) -> LibraryInterface:
    """The interface of the shared library at ``path`` (runs ``readelf`` five times)."""
    if not path.is_file():
        raise StubError(f"no such library: {path}")
    target = str(path)
    return parse_library(
        header=run_tool("readelf", "-W", "-h", target),
        dynamic=run_tool("readelf", "-W", "-d", target),
        sections=run_tool("readelf", "-W", "-S", target),
        dyn_syms=run_tool("readelf", "-W", "--dyn-syms", target),
        versions=run_tool("readelf", "-W", "-V", target),
    )
