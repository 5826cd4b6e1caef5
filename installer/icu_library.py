"""ICU's data library on disk: read its data package out, write a trimmed replacement.

``libicudataNN.so`` holds no code: one exported object, ``icudtNN_dat``,
which ``libicuuc`` links against by name. A replacement therefore only needs
the same SONAME (the dynamic loader matches libraries by it) and the same
symbol, holding a package that :mod:`installer.icu_data` trimmed. It is
assembled from a generated ``.s`` file (``.incbin`` of the package) and
linked with ``gcc -shared -nostdlib``: no libc, no start files.

The library is read with ``readelf`` (binutils): the symbol gives a virtual
address and size, and the LOAD program header containing it gives the file
offset; nothing assumes the usual 0x1000.

:class:`IcuLibraryError` is the only exception; it carries the command that
failed, its output and a hint (which package provides a missing tool).
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from installer.icu_data import IcuDataError, keep_for_agent, parse, serialize, trim_package

__all__ = [
    "DataLibrary",
    "IcuLibraryError",
    "TrimResult",
    "inspect_library",
    "parse_readelf",
    "read_data_blob",
    "trim_icu_data_library",
    "write_data_library",
]

logger = logging.getLogger(__name__)

_TOOLS = {"readelf": "binutils", "gcc": "gcc"}
"""Debian packages providing the tools used here, for the error hint."""


class IcuLibraryError(Exception):
    """Reading or writing an ICU data library failed.

    ``path`` is the library concerned, ``command`` and ``output`` the tool run
    that failed (if one did), ``hint`` what to do about it.
    """

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        command: Sequence[str] = (),
        output: str = "",
        hint: str = "",
    ) -> None:
        parts = [message]
        if path is not None:
            parts.append(f"library: {path}")
        if command:
            parts.append(f"command: {' '.join(command)}")
        if output:
            parts.append(f"output: {output.strip()}")
        if hint:
            parts.append(f"hint: {hint}")
        super().__init__("; ".join(parts))
        self.path = path
        self.command = tuple(command)
        self.output = output
        self.hint = hint


@dataclass(frozen=True)
class DataLibrary:
    """Where a data library keeps its package: exported ``symbol`` of ``size`` bytes at ``file_offset``."""

    path: Path
    soname: str
    symbol: str
    file_offset: int
    size: int
    machine: str


@dataclass(frozen=True)
class TrimResult:
    """Before/after figures for the build log."""

    source: Path
    dest: Path
    soname: str
    symbol: str
    entries_before: int
    entries_after: int
    package_before: int
    package_after: int
    library_before: int
    library_after: int
    seconds: float

    def summary(self) -> str:
        return (
            f"{self.soname}: {self.entries_before} -> {self.entries_after} ICU data items, "
            f"package {self.package_before / 1e6:.2f} -> {self.package_after / 1e6:.2f} MB, "
            f"library {self.library_before / 1e6:.2f} -> {self.library_after / 1e6:.2f} MB "
            f"in {self.seconds:.2f} s"
        )


def _run(tool: str, args: Sequence[str], *, path: Path | None = None) -> str:
    executable = shutil.which(tool)
    if executable is None:
        raise IcuLibraryError(
            f"{tool} not found on PATH",
            path=path,
            hint=f"install the Debian/Ubuntu package {_TOOLS[tool]} (apt-get install {_TOOLS[tool]})",
        )
    command = [executable, *args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    except subprocess.TimeoutExpired as exc:
        raise IcuLibraryError(
            f"{tool} did not finish in {exc.timeout} s", path=path, command=command
        ) from exc
    if done.returncode != 0:
        raise IcuLibraryError(
            f"{tool} failed with exit status {done.returncode}",
            path=path,
            command=command,
            output=done.stderr or done.stdout,
        )
    return done.stdout


def _readelf_int(text: str) -> int:
    # readelf prints symbol sizes in decimal unless they are large, then as 0x...
    return int(text, 16) if text.lower().startswith("0x") else int(text, 10)


_DYNSYM = re.compile(
    r"^\s*\d+:\s+(?P<value>[0-9a-fA-F]+)\s+(?P<size>\S+)\s+(?P<type>\w+)\s+(?P<bind>\w+)\s+\w+\s+"
    r"(?P<ndx>\w+)\s+(?P<name>icudt\d+_dat)(?:@\S*)?\s*$",
    re.MULTILINE,
)
_LOAD = re.compile(
    r"^\s*LOAD\s+(?P<offset>0x[0-9a-fA-F]+)\s+(?P<vaddr>0x[0-9a-fA-F]+)\s+0x[0-9a-fA-F]+\s+"
    r"(?P<filesz>0x[0-9a-fA-F]+)\s+(?P<memsz>0x[0-9a-fA-F]+)",
    re.MULTILINE,
)
_SONAME = re.compile(r"\(SONAME\)\s+Library soname: \[(?P<soname>[^\]]+)\]")
_MACHINE = re.compile(r"^\s*(?P<key>Class|Data|Machine):\s+(?P<value>.+?)\s*$", re.MULTILINE)


def parse_readelf(path: Path, dyn_syms: str, headers: str) -> DataLibrary:
    """Locate the data object from ``readelf -W --dyn-syms`` and ``readelf -W -h -l -d`` output."""
    symbols = [match for match in _DYNSYM.finditer(dyn_syms) if match["ndx"] != "UND"]
    if len(symbols) != 1 or symbols[0]["type"] != "OBJECT" or symbols[0]["bind"] != "GLOBAL":
        found = ", ".join(f"{m['name']} {m['type']} {m['bind']}" for m in symbols) or "none"
        raise IcuLibraryError(
            f"expected exactly one defined GLOBAL OBJECT symbol icudtNN_dat, found: {found}", path=path
        )
    symbol = symbols[0]
    vaddr, size = int(symbol["value"], 16), _readelf_int(symbol["size"])

    # The symbol's value is a virtual address; the LOAD segment holding it says where its bytes are.
    file_offset: int | None = None
    for load in _LOAD.finditer(headers):
        seg_vaddr, seg_filesz = int(load["vaddr"], 16), int(load["filesz"], 16)
        if seg_vaddr <= vaddr and vaddr + size <= seg_vaddr + seg_filesz:
            file_offset = int(load["offset"], 16) + vaddr - seg_vaddr
            break
    if file_offset is None:
        raise IcuLibraryError(
            f"{symbol['name']} at 0x{vaddr:x} (+0x{size:x}) lies in no LOAD segment's file bytes", path=path
        )
    soname = _SONAME.search(headers)
    if soname is None:
        raise IcuLibraryError("the library has no SONAME", path=path)
    machine = ", ".join(m["value"] for m in _MACHINE.finditer(headers))
    return DataLibrary(path, soname["soname"], symbol["name"], file_offset, size, machine)


def inspect_library(path: Path) -> DataLibrary:
    """Find the ``icudtNN_dat`` object in the library at ``path`` and the file bytes behind it."""
    if not path.is_file():
        raise IcuLibraryError("no such file", path=path)
    library = parse_readelf(
        path,
        _run("readelf", ["-W", "--dyn-syms", str(path)], path=path),
        _run("readelf", ["-W", "-h", "-l", "-d", str(path)], path=path),
    )
    if library.file_offset + library.size > path.stat().st_size:
        raise IcuLibraryError(f"{library.symbol} runs past the end of the file", path=path)
    return library


def read_data_blob(library: DataLibrary) -> bytes:
    """The package bytes the library exports."""
    with library.path.open("rb") as f:
        f.seek(library.file_offset)
        blob = f.read(library.size)
    if len(blob) != library.size:
        raise IcuLibraryError(f"short read: {len(blob)} of {library.size} bytes", path=library.path)
    return blob


def _assembly(symbol: str, blob_path: Path) -> str:
    incbin = str(blob_path.resolve())
    if any(c in incbin for c in '"\\\n'):
        # Not worth escaping: the work directory is ours to choose.
        raise IcuLibraryError(f"the work path {incbin!r} cannot be quoted for the assembler")
    return "\n".join(
        [
            "/* Generated by installer/icu_library.py: ICU's common data, trimmed. */",
            "\t.section .rodata",
            f"\t.globl {symbol}",
            f"\t.type {symbol}, @object",
            # ICU reads its tables in place; items are aligned relative to this start.
            "\t.balign 16",
            f"{symbol}:",
            f'\t.incbin "{incbin}"',
            f"\t.size {symbol}, . - {symbol}",
            # Without this note the linker would mark the stack executable for whoever loads us.
            '\t.section .note.GNU-stack,"",@progbits',
            "",
        ]
    )


def write_data_library(blob: bytes, dest: Path, *, soname: str, symbol: str, work: Path) -> None:
    """Link a shared library named ``soname`` that exports ``blob`` as the object ``symbol``."""
    if not re.fullmatch(r"icudt\d+_dat", symbol):
        raise IcuLibraryError(f"{symbol!r} is not an ICU data symbol name (icudtNN_dat)")
    if not re.fullmatch(r"[A-Za-z0-9_.+-]+", soname):
        raise IcuLibraryError(f"{soname!r} is not a plain library file name")
    work.mkdir(parents=True, exist_ok=True)
    blob_path = work / f"{symbol}.bin"
    source = work / f"{symbol}.s"
    blob_path.write_bytes(blob)
    source.write_text(_assembly(symbol, blob_path), encoding="ascii")
    dest.parent.mkdir(parents=True, exist_ok=True)
    _run(
        "gcc",
        [
            *("-shared", "-nostdlib", "-s"),
            f"-Wl,-soname,{soname}",
            *("-Wl,-z,noexecstack", "-Wl,--hash-style=both"),
            *("-o", str(dest), str(source)),
        ],
        path=dest,
    )


def trim_icu_data_library(
    src: Path, dest: Path, work: Path, keep: Callable[[str], bool] = keep_for_agent
) -> TrimResult:
    """Write to ``dest`` a copy of the ICU data library ``src`` holding only the items ``keep`` accepts.

    The result is read back and checked: same SONAME, symbol and machine, and
    exactly the trimmed package's bytes.
    """
    started = time.monotonic()
    if dest.resolve() == src.resolve():
        raise IcuLibraryError("the trimmed library would overwrite its source", path=src)
    source = inspect_library(src)
    try:
        package = parse(read_data_blob(source))
        trimmed = trim_package(package, keep)
        blob = serialize(trimmed)
    except IcuDataError as exc:
        raise IcuLibraryError(f"bad ICU data package in {source.symbol}: {exc}", path=src) from exc
    write_data_library(blob, dest, soname=source.soname, symbol=source.symbol, work=work)

    written = inspect_library(dest)
    same = (written.soname, written.symbol, written.machine) == (source.soname, source.symbol, source.machine)
    if not same or read_data_blob(written) != blob:
        raise IcuLibraryError(
            f"the written library does not match: {written} for {source}",
            path=dest,
            hint="check the gcc target",
        )
    result = TrimResult(
        source=src,
        dest=dest,
        soname=source.soname,
        symbol=source.symbol,
        entries_before=len(package.entries),
        entries_after=len(trimmed.entries),
        package_before=source.size,
        package_after=len(blob),
        library_before=src.stat().st_size,
        library_after=dest.stat().st_size,
        seconds=time.monotonic() - started,
    )
    logger.info("%s", result.summary())
    return result
