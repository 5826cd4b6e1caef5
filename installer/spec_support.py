"""What the two PyInstaller specs share: module excludes, Qt plugins kept, pruning, version resource.

Size is start-up time for a one-file program (everything is unpacked on every
start), so the agent takes only what it uses:

- Python modules it never imports: test frameworks, tkinter, pydoc, numpy's
  optional sub-packages, the relay and the console (``AGENT_EXCLUDES``);
- Qt plugins other than the platform plugin and input methods (no image format,
  icon engine, TLS backend, Wayland, EGL, network-information or GTK-theme
  plugins: the agent draws its own widgets and reaches the network through
  aiohttp), and Qt's own translations (the agent ships its own);
- any shared library that no kept extension module, plugin or the Python
  library needs (found by following their import tables with PyInstaller's
  ``get_imports``): libraries that only a dropped plugin pulled in go too;
- debug symbols (``strip``) on Linux, where the interpreter and its extension
  modules may carry them (Windows DLLs never do).

PyInstaller imports this module while it executes a spec; it needs only the
standard library and PyInstaller itself.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "AGENT_EXCLUDES",
    "COMMON_EXCLUDES",
    "CONSOLE_EXCLUDES",
    "elf_needed",
    "STRIP",
    "TocEntry",
    "keep_qt_plugin",
    "prune_binaries",
    "prune_datas",
    "load_segments_aligned",
    "strip_binaries",
    "version_info_text",
]

logger = logging.getLogger(__name__)

TocEntry = tuple[str, str, str]
"""PyInstaller's (destination name, source path, type code)."""

STRIP = False
"""PyInstaller's own ``strip`` stays off: it strips every binary blindly, and stripping
a library that ``auditwheel`` patched (numpy's OpenBLAS, for one) can leave its
segments misaligned, so it no longer loads. :func:`strip_binaries` checks each result."""

COMMON_EXCLUDES = [
    # Development and test tools.
    "pytest",
    "_pytest",
    "pytestqt",
    "hypothesis",
    "mypy",
    "ruff",
    "unittest",
    "doctest",
    "pdb",
    "pydoc",
    "pydoc_data",
    "lib2to3",
    "idlelib",
    "test",
    "setuptools",
    "pkg_resources",
    "pip",
    "distutils",
    "PyInstaller",
    # GUI toolkits and terminals we do not use.
    "tkinter",
    "_tkinter",
    "turtle",
    "turtledemo",
    "curses",
    "readline",
    # numpy's optional sub-packages (numpy imports them lazily, we never do).
    "numpy.f2py",
    "numpy.testing",
    "numpy.distutils",
    "numpy.random",
    "numpy.fft",
    "numpy.polynomial",
    "numpy.ma",
    "PIL",
    # The relay side, the test bed and the benchmarks never run inside the clients.
    "relay",
    "testbed",
    "benchmarks",
    "tests",
    "sqlite3",
    "prometheus_client",
    "http.server",
    "xmlrpc",
]

# aiohttp's server: the agent never serves; the console serves its co-browse view on the
# loopback (operator_console/cobrowse_viewer.py), so it keeps it.
AGENT_EXCLUDES = [*COMMON_EXCLUDES, "aiohttp.web", "operator_console", "tarfile"]
if not sys.platform.startswith("darwin"):
    # plistlib (macOS system information) is the only user of the XML parser.
    AGENT_EXCLUDES += ["xml", "pyexpat", "plistlib"]

CONSOLE_EXCLUDES = [*COMMON_EXCLUDES, "agent"]

_PLUGIN = re.compile(r"(?:^|[\\/])plugins[\\/](?P<kind>[^\\/]+)[\\/](?P<name>[^\\/]+)$")

_KEEP_PLUGINS: dict[str, dict[str, Callable[[str], bool]]] = {
    "agent": {
        "platforms": lambda name: bool(re.match(r"(lib)?q(xcb|windows|cocoa|offscreen)\b", name)),
        "platforminputcontexts": lambda name: True,
        "styles": lambda name: "windows" in name,
    },
    "console": {
        "platforms": lambda name: bool(re.match(r"(lib)?q(xcb|windows|cocoa|offscreen|wayland)\b", name)),
        "platforminputcontexts": lambda name: True,
        "styles": lambda name: True,
        "imageformats": lambda name: bool(re.match(r"(lib)?q(jpeg|ico|svg)\b", name)),
        "iconengines": lambda name: True,
        "wayland-shell-integration": lambda name: True,
        "wayland-decoration-client": lambda name: True,
        "xcbglintegrations": lambda name: True,
    },
}


def keep_qt_plugin(dest: str, target: str) -> bool | None:
    """``None`` when ``dest`` is not a Qt plugin, else whether ``target`` keeps it."""
    match = _PLUGIN.search(dest)
    if match is None or "Qt" not in dest:
        return None
    rule = _KEEP_PLUGINS[target].get(match["kind"])
    return rule is not None and rule(match["name"])


def _base(name: str) -> str:
    return os.path.basename(name).lower()


def _python_library(entry: TocEntry) -> bool:
    return bool(re.match(r"(lib)?python3(\.?\d+)?(\.so|\.dll|\b)", _base(entry[0])))


def _loaded_by_name(entry: TocEntry) -> bool:
    """Libraries loaded with ``ctypes`` at run time, which no import table names (mss on X11)."""
    return bool(re.match(r"lib(x11|xrandr|xfixes|xext)\.so", _base(entry[0])))


def prune_binaries(
    binaries: Sequence[TocEntry],
    target: str,
    *,
    imports_of: Callable[[str], Iterable[str]] | None = None,
) -> list[TocEntry]:
    """Drop unwanted Qt plugins, then every library nothing kept needs.

    ``imports_of(source_path)`` lists the names a binary links against (default:
    :func:`elf_needed` on Linux, PyInstaller's ``get_imports`` elsewhere). Extension
    modules, kept plugins and the Python library are the roots; symlink entries follow
    their target.
    """
    if imports_of is None:
        if _linux():
            # Direct dependencies only: PyInstaller's get_imports runs ldd, which lists the
            # closure *as installed*, so a library replaced in the bundle (installer/native_trim.py)
            # would still drag in everything the original needed.
            imports_of = elf_needed
        else:
            from PyInstaller.depend.bindepend import get_imports

            def imports_of(path: str) -> Iterable[str]:
                return [name for name, _ in get_imports(path)]

    kept_first: list[TocEntry] = []
    dropped_plugins = 0
    for entry in binaries:
        verdict = keep_qt_plugin(entry[0], target)
        if verdict is False:
            dropped_plugins += 1
            continue
        kept_first.append(entry)

    files = [e for e in kept_first if e[2] != "SYMLINK"]
    by_name: dict[str, list[TocEntry]] = {}
    for entry in files:
        by_name.setdefault(_base(entry[0]), []).append(entry)
    roots = [
        e
        for e in files
        if e[2] == "EXTENSION" or keep_qt_plugin(e[0], target) or _python_library(e) or _loaded_by_name(e)
    ]
    needed: set[str] = set()
    queue = list(roots)
    seen_paths: set[str] = set()
    while queue:
        entry = queue.pop()
        if entry[1] in seen_paths:
            continue
        seen_paths.add(entry[1])
        needed.add(entry[0])
        for name in imports_of(entry[1]):
            for dependency in by_name.get(_base(name), []):
                if dependency[1] not in seen_paths:
                    queue.append(dependency)

    result: list[TocEntry] = []
    pruned: list[str] = []
    for entry in kept_first:
        if entry[2] == "SYMLINK":
            target_dest = os.path.normpath(os.path.join(os.path.dirname(entry[0]), entry[1]))
            if target_dest in needed or target_dest.replace(os.sep, "/") in needed:
                result.append(entry)
            continue
        if entry[2] == "BINARY" and entry[0] not in needed:
            pruned.append(entry[0])
            continue
        result.append(entry)
    logger.info(
        "pruned %d Qt plugins and %d libraries nothing needs: %s",
        dropped_plugins,
        len(pruned),
        ", ".join(sorted(_base(p) for p in pruned)),
    )
    return result


def prune_datas(
    datas: Sequence[TocEntry], target: str, *, binaries: Sequence[TocEntry] | None = None
) -> list[TocEntry]:
    """Drop Qt's own translations (both programs ship their own) and type stubs.

    With ``binaries`` (the pruned list), also the symbolic links PyInstaller keeps among
    the data (``libQt6Gui.so.6 -> PySide6/Qt/lib/libQt6Gui.so.6``) whose target is no
    longer bundled: they would be unpacked as dangling links on every start.
    """
    bundled = {_dest(entry[0]) for entry in [*(binaries or ()), *datas]}
    result = []
    for entry in datas:
        dest = _dest(entry[0])
        if "/Qt/translations/" in dest:
            continue
        if dest.endswith((".pyi", "py.typed")):
            continue
        link_target = _dest(os.path.join(os.path.dirname(entry[0]), entry[1]))
        if binaries is not None and entry[2] == "SYMLINK" and link_target not in bundled:
            continue
        result.append(entry)
    return result


def _dest(name: str) -> str:
    return os.path.normpath(name).replace("\\", "/")


def _linux() -> bool:
    return sys.platform.startswith("linux")


def load_segments_aligned(path: str) -> bool:
    """True if every ``PT_LOAD`` segment of the ELF file at ``path`` maps at a legal offset.

    The dynamic loader refuses a library whose segment offset and address differ
    modulo the alignment ("ELF load command address/offset not page-aligned"):
    the damage ``strip`` can do to a library patched by ``patchelf``.
    """
    with open(path, "rb") as f:
        header = f.read(64)
        if len(header) < 64 or header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
            return False  # only 64-bit little-endian ELF is checked (and stripped)
        (phoff,) = struct.unpack_from("<Q", header, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", header, 0x36)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, _, _, p_align = struct.unpack_from("<IIQQQQQQ", table, i * phentsize)
        if p_type == 1 and p_align > 1 and (p_vaddr - p_offset) % p_align:
            return False
    return True


def elf_needed(path: str) -> list[str]:
    """The ``DT_NEEDED`` names of a 64-bit little-endian ELF file (its direct dependencies).

    Read from the dynamic segment, with the string table located through the load
    segments; an empty list for anything else (a non-ELF file, a static binary).
    """
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return []
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    loads: list[tuple[int, int, int]] = []
    dynamic: tuple[int, int] | None = None
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz, _, _ = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + i * phentsize
        )
        if p_type == 1:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == 2:
            dynamic = (p_offset, p_filesz)
    if dynamic is None:
        return []

    def file_offset(vaddr: int) -> int:
        for start, offset, size in loads:
            if start <= vaddr < start + size:
                return offset + vaddr - start
        raise ValueError(f"{path}: address {vaddr:#x} is in no load segment")

    needed: list[int] = []
    strtab = None
    for at in range(dynamic[0], dynamic[0] + dynamic[1] - 15, 16):
        tag, value = struct.unpack_from("<qQ", data, at)
        if tag == 0:
            break
        if tag == 1:
            needed.append(value)
        elif tag == 5:
            strtab = file_offset(value)
    if strtab is None:
        return []
    names = []
    for name_offset in needed:
        start = strtab + name_offset
        names.append(data[start : data.index(b"\0", start)].decode("utf-8", "replace"))
    return names


def strip_binaries(binaries: Sequence[TocEntry], work: str) -> list[TocEntry]:
    """Linux: replace each binary by a stripped copy, unless the copy would not load.

    Debug symbols and symbol tables are dead weight in the bundle (a self-built
    interpreter's libpython alone drops from 23 to 6 MB). Every stripped copy
    is checked with :func:`load_segments_aligned`; a damaged one is dropped and
    the original kept. Without ``strip`` nothing changes.
    """
    tool = shutil.which("strip") if _linux() else None
    if tool is None:
        return list(binaries)
    out_dir = os.path.join(work, "stripped")
    os.makedirs(out_dir, exist_ok=True)
    result: list[TocEntry] = []
    saved = 0
    kept_original: list[str] = []
    for dest, src, kind in binaries:
        if kind == "SYMLINK":
            result.append((dest, src, kind))
            continue
        real = os.path.realpath(src)
        copy = os.path.join(out_dir, dest.replace("/", "__").replace("\\", "__"))
        done = subprocess.run([tool, "-o", copy, real], capture_output=True, check=False)
        if done.returncode != 0 or not os.path.isfile(copy) or not load_segments_aligned(copy):
            kept_original.append(os.path.basename(dest))
            result.append((dest, src, kind))
            continue
        saved += os.path.getsize(real) - os.path.getsize(copy)
        result.append((dest, copy, kind))
    logger.info(
        "stripped binaries: %.1f MB less; kept as they were: %s",
        saved / 1e6,
        ", ".join(kept_original) or "none",
    )
    return result


def version_info_text(
    version: str, *, description: str, internal_name: str, filename: str, company: str = "Madoguchi"
) -> str:
    """PyInstaller's version-resource file (a Python expression) for ``version`` like ``0.1.0``."""
    numbers = [int(n) for n in re.findall(r"\d+", version)[:4]]
    numbers += [0] * (4 - len(numbers))
    nums = tuple(numbers)
    dotted = ".".join(str(n) for n in nums)
    strings = [
        ("CompanyName", company),
        ("FileDescription", description),
        ("FileVersion", dotted),
        ("InternalName", internal_name),
        ("LegalCopyright", f"(c) {company}"),
        ("OriginalFilename", filename),
        ("ProductName", "Madoguchi"),
        ("ProductVersion", version),
    ]
    structs = ",\n".join(f"          StringStruct({k!r}, {v!r})" for k, v in strings)
    return (
        "# Generated by installer/build.py (UTF-8).\n"
        "VSVersionInfo(\n"
        f"  ffi=FixedFileInfo(filevers={nums!r}, prodvers={nums!r}, mask=0x3f, flags=0x0,\n"
        "                    OS=0x40004, fileType=0x1, subtype=0x0, date=(0, 0)),\n"
        "  kids=[\n"
        "    StringFileInfo([\n"
        # 0x0409 U.S. English, code page 1200 (Unicode): Explorer shows these everywhere.
        "      StringTable('040904B0', [\n"
        f"{structs}\n"
        "      ])\n"
        "    ]),\n"
        "    VarFileInfo([VarStruct('Translation', [0x0409, 1200])])\n"
        "  ]\n"
        ")\n"
    )
