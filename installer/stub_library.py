"""Stand-in shared libraries: the SONAME and exports of a real library, none of its weight.

numpy's wheel carries OpenBLAS (25 MB, and libgfortran and libquadmath only for
it), although the agent never calls BLAS or LAPACK. numpy's extension modules
link against it, so it cannot simply be left out: the dynamic loader would
refuse to import numpy. A stub takes its place. It has the same SONAME (the
loader matches a ``DT_NEEDED`` entry against it) and exports every symbol the
real library exports, with the same symbol versions, binding and visibility:

- each function, if ever called, writes one line naming itself and the library
  to stderr and aborts, so an unexpected use is loud and attributable rather
  than silently wrong;
- each data object is zero-filled storage of the same size, at least as aligned
  as the original (the alignment is inferred: the largest power of two that
  divides both the symbol's address and its section's alignment);
- the few functions a program calls on innocent paths get a working
  :class:`Benign` stand-in instead (a constant, nothing, or a small correct
  implementation).

Which functions need a stand-in is found by experiment: run the program's
typical work against a stub without any and see which trap fires. For numpy 2.4
that is only ``scipy_cblas_sdot64_``: ``import numpy`` checks its BLAS with a
float32 dot product (see :data:`OPENBLAS_BENIGN`); uint8 and integer work,
integer ``np.dot`` included, never reaches BLAS, and numpy asks OpenBLAS
nothing about its configuration or threads.

The library's interface, read with ``readelf``, is a
:class:`~installer.elf_interface.LibraryInterface` (:mod:`installer.elf_interface`).
The pure part here turns it into C source and a linker version script
(:func:`stub_sources`); the I/O part (:func:`write_stub_library`) reads the real
library, runs ``gcc`` (about 1 s for OpenBLAS's 11,000 exports) and checks that the
result exports what the real library does
(:func:`~installer.elf_interface.export_differences`).

Only :class:`StubError` (defined in :mod:`installer.elf_interface`, which raises it
too) is raised; it carries the command, its exit status and its output when a tool
failed.

This module uses only the standard library: PyInstaller specs may import it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from installer.elf_interface import (
    FUNCTION_KINDS,
    OBJECT_KINDS,
    DynamicSymbol,
    LibraryInterface,
    StubError,
    VersionDefinition,
    export_differences,
    linker_made,
    read_library,
    run_tool,
)

__all__ = [
    "OPENBLAS_BENIGN",
    "Benign",
    "StubError",
    "StubResult",
    "StubSources",
    "stub_sources",
    "write_stub_library",
]

logger = logging.getLogger(__name__)

PROGRAM = "madoguchi-agent"
"""Who speaks in the trap's message, unless :func:`write_stub_library` is told otherwise."""

_INTERNAL_PREFIX = "madoguchi_stub_"
"""Every symbol the generated source defines for itself starts with this: none is exported."""

_REPORTER_NEEDS = frozenset({"writev", "abort"})
"""The C library functions the trap calls: a library that exports them cannot be stubbed
this way, as the stub's own definitions would take the trap's place."""

_MAX_ALIGNMENT = 4096
"""Cap on an inferred alignment (for a symbol at offset 0 of a section, say): objects are
in ``.bss``, so over-alignment costs address space, never file size."""


# --- generating the stub --------------------------------------------------------------------


@dataclass(frozen=True)
class Benign:
    """A harmless, working stand-in for a function that is called on innocent paths.

    The C definition is ``returns name(parameters) { body }``; ``reason`` says who calls
    it and why this answer is right (it becomes a comment in the generated source).
    The helpers make stand-ins that ignore their arguments: they are defined without
    parameters, which the SysV calling conventions allow (the caller owns the argument
    registers and the stack), so they suit functions whose arguments need no answer.
    """

    returns: str
    parameters: str
    body: str
    reason: str

    @classmethod
    def nothing(cls, reason: str) -> Benign:
        """A ``void`` function that does nothing (a setter whose setting has no effect here)."""
        return cls("void", "void", "", reason)

    @classmethod
    def integer(cls, value: int, reason: str, c_type: str = "int") -> Benign:
        """A function returning the constant ``value``."""
        return cls(c_type, "void", f"return {value};", reason)

    @classmethod
    def text(cls, value: str, reason: str) -> Benign:
        """A function returning a constant C string (``const char *``)."""
        return cls("const char *", "void", f"return {_c_string(value)};", reason)


_LOADER_HOOKS = {
    name: Benign.nothing(
        f"the dynamic loader runs {name} when it loads or unloads the library (DT_{name[1:].upper()}); "
        "the stub has nothing to set up or tear down"
    )
    for name in ("_init", "_fini")
}
"""Older toolchains export ``_init`` and ``_fini`` from every library. Newer C runtime
objects make them hidden, so the stub is linked without them (``-nostartfiles``) and
defines its own, empty ones when the real library exports them."""

OPENBLAS_BENIGN: Mapping[str, Benign] = {
    "scipy_cblas_sdot64_": Benign(
        returns="float",
        parameters="int64_t n, const float *x, int64_t incx, const float *y, int64_t incy",
        body="""
double sum = 0.0;
if (n <= 0) return 0.0f;
if (incx < 0) x -= (n - 1) * incx;
if (incy < 0) y -= (n - 1) * incy;
for (int64_t i = 0; i < n; i++) sum += (double)x[i * incx] * y[i * incy];
return (float)sum;
""",
        reason=(
            "numpy's import checks its BLAS with ones(2, float32).dot(ones(2, float32)) == 2 "
            "(_sanity_check in numpy/__init__.py) and refuses to import otherwise. So a real "
            "implementation, not a constant: a plain loop (negative increments as in BLAS; "
            "64-bit integers as in OpenBLAS's 64_ interface), so any float32 vector dot product "
            "stays right, only slower. It accumulates in double: a float sum drifts on long "
            "vectors, where OpenBLAS's unrolled kernels stay within a rounding or two."
        ),
    ),
}
"""Stand-ins for numpy's OpenBLAS (``libscipy_openblas64_``): what numpy calls on paths the
agent takes, found by running numpy against a stub where everything traps."""


@dataclass(frozen=True)
class StubSources:
    """The generated C file and linker version script (None when the library has no versions)."""

    c_source: str
    version_script: str | None
    functions: int
    benign: tuple[str, ...]
    objects: int
    thread_locals: int
    provided: tuple[str, ...]
    """Exports left out as the linker's own (``_edata``, ``_end``, ``__bss_start``)."""
    assembly_traps: bool


_C_ESCAPES = {
    **{code: f"\\{code:03o}" for code in [*range(0x20), 0x7F]},
    ord("\n"): "\\n",
    ord("\t"): "\\t",
    ord('"'): '\\"',
    ord("\\"): "\\\\",
    ord("?"): "\\?",  # "??x" would be a trigraph with -std=c89
}
"""Octal escapes always have three digits, so a following digit cannot extend them."""


def _c_string(text: str) -> str:
    """``text`` (UTF-8 beyond ASCII) as a C string literal."""
    if text.isascii():
        return '"' + text.translate(_C_ESCAPES) + '"'
    return (
        '"' + "".join(chr(b).translate(_C_ESCAPES) if b < 0x80 else f"\\{b:03o}" for b in text.encode()) + '"'
    )


def _alignment(symbol: DynamicSymbol, section_alignments: Mapping[int, int]) -> int:
    """The largest alignment the original can have had: a power of two dividing its address
    (offset, for thread-local data) that its section's alignment allows."""
    limit = _MAX_ALIGNMENT
    if symbol.section.isdigit():
        limit = min(limit, max(1, section_alignments.get(int(symbol.section), _MAX_ALIGNMENT)))
    if symbol.value:
        limit = min(limit, symbol.value & -symbol.value)
    return 1 << (limit.bit_length() - 1)


def _attributes(symbol: DynamicSymbol, *extra: str) -> str:
    parts = [f'visibility("{symbol.visibility.lower()}")']
    if symbol.binding == "WEAK":
        parts.append("weak")
    parts.extend(extra)
    return f"__attribute__(({', '.join(parts)}))"


_X86_64 = ("ELF64", "Advanced Micro Devices X86-64")
"""``readelf -h``'s class and machine of the one target whose traps are written in assembly."""

_PRELUDE = """\
/* Generated by installer/stub_library.py from {library}: a stand-in that exports its
   symbols and aborts when one of its functions is called. Do not edit. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/uio.h>

__attribute__((noreturn, noinline, cold)) static void madoguchi_stub_called(const char *name) {{
    static const char before[] = {before};
    static const char after[] = {after};
    struct iovec line[3] = {{
        {{(void *)before, sizeof before - 1}},
        {{(void *)name, 0}},
        {{(void *)after, sizeof after - 1}},
    }};
    while (name[line[1].iov_len]) line[1].iov_len++;
    /* One writev: the line arrives whole even when threads or processes share stderr. */
    (void)writev(2, line, 3);
    abort();
}}
"""

_ASSEMBLY_TRAPS = """
/* The names of the trapped functions, each ended by a NUL; a trap passes the offset of its
   own name (a table of pointers would need one dynamic relocation per symbol). */
static const char madoguchi_stub_names[] =
{names};

__attribute__((visibility("hidden"), used, noreturn, noinline, cold))
void madoguchi_stub_trap(unsigned int offset) {{
    madoguchi_stub_called(madoguchi_stub_names + offset);
}}

/* Two instructions per export, in assembly because gcc spends most of a millisecond on
   each C function: 11,000 C traps took 8 s to compile, these 0.2 s. The jump (not a
   call) leaves the stack as the caller made it, aligned as a function entry expects. */
__asm__(
{assembly});
"""

_C_TRAP = """
/* One tiny C function per export; its assembler name is the real symbol's. */
#define MADOGUCHI_TRAP(id, label, name, attributes) \\
    attributes void id(void) __asm__(label); \\
    attributes void id(void) { madoguchi_stub_called(name); }
"""


def _asm_name(name: str) -> str:
    """``name`` as the GNU assembler accepts it: quoted unless it is a plain identifier."""
    if re.fullmatch(r"[A-Za-z_.$][A-Za-z0-9_.$]*", name):
        return name
    return f'"{name}"'


def _assembly_trap(label: str, symbol: DynamicSymbol, offset: int) -> list[str]:
    name = _asm_name(label)
    lines = [f"{'.weak' if symbol.binding == 'WEAK' else '.globl'} {name}"]
    if symbol.visibility == "PROTECTED":
        lines.append(f".protected {name}")
    return [
        *lines,
        f".type {name}, @function",
        f"{name}:",
        f"\tmovl ${offset}, %edi",
        "\tjmp madoguchi_stub_trap",
        f".size {name}, .-{name}",
    ]


def _check(interface: LibraryInterface, benign: Mapping[str, Benign], library: str) -> None:
    exports = interface.exports
    names = {s.name for s in exports}
    clashes = sorted(n for n in names if n in _REPORTER_NEEDS or n.startswith(_INTERNAL_PREFIX))
    if clashes:
        raise StubError(f"{library} exports {', '.join(clashes)}, which the stub needs for itself")
    # Such names could not be spelled safely in the assembly or the version script.
    odd = sorted(repr(n) for n in names if not n.isprintable() or '"' in n or "\\" in n)
    if odd:
        raise StubError(f"{library} exports names the stub cannot reproduce: {', '.join(odd)}")
    functions = {s.name for s in exports if s.kind in FUNCTION_KINDS}
    unknown = sorted(set(benign) - functions)
    if unknown:
        raise StubError(
            f"benign stand-ins for what {library} does not export as a function: {', '.join(unknown)}"
        )
    known_versions = {v.name for v in interface.versions}
    strays = sorted({s.version for s in exports if s.version is not None} - known_versions)
    if strays:
        raise StubError(f"{library}: symbols carry versions it does not define: {', '.join(strays)}")


def _version_script(versions: Sequence[VersionDefinition], default_names: Mapping[str, Sequence[str]]) -> str:
    nodes = []
    for index, version in enumerate(versions):
        # Quoted: a name is matched literally, never as a glob pattern.
        body = "".join(f'    "{name}";\n' for name in default_names.get(version.name, ()))
        scope = f"  global:\n{body}" if body else ""
        if index == 0:
            # The .symver helpers must not be exported under their own names as well.
            scope += f"  local:\n    {_INTERNAL_PREFIX}*;\n"
        parents = " " + ", ".join(version.parents) if version.parents else ""
        nodes.append(f"{version.name} {{\n{scope}}}{parents};\n")
    return "".join(nodes)


def stub_sources(
    interface: LibraryInterface,
    benign: Mapping[str, Benign],
    *,
    library: str,
    program: str = PROGRAM,
    assembly_traps: bool | None = None,
) -> StubSources:
    """The C source and version script of a stub for ``interface``.

    ``library`` is the name the trap's message gives (the real file's name);
    ``benign`` maps function names to their stand-ins, each of which must be an
    exported function of the library. ``assembly_traps`` (default: on x86-64 only)
    writes the traps in assembly, else they are one C function each (slower to
    compile, same result).
    """
    _check(interface, benign, library)
    stand_ins = {**_LOADER_HOOKS, **benign}
    if assembly_traps is None:
        assembly_traps = (interface.elf_class, interface.machine) == _X86_64
    before = f"{program}: "
    after = (
        f" of {library} was called, but this build leaves that library out"
        " (it is not used by this program); please report this\n"
    )
    head = [
        _PRELUDE.format(
            library=library.replace("*/", "* /"), before=_c_string(before), after=_c_string(after)
        )
    ]
    if not assembly_traps:
        head.append(_C_TRAP)
    definitions: list[str] = []
    assembly: list[str] = []
    name_offsets: dict[str, int] = {}
    names_size = 0
    default_names: dict[str, list[str]] = {}
    provided: list[str] = []
    used_benign: list[str] = []
    counts = {"functions": 0, "objects": 0, "thread_locals": 0}
    for number, symbol in enumerate(interface.exports):
        if linker_made(symbol):
            provided.append(symbol.versioned_name)
            continue
        # A definition gets a private C identifier and takes the symbol's name as its
        # assembler name, so no export can collide with a C keyword, a declaration in the
        # C library's headers or another version of itself.
        ident = f"{_INTERNAL_PREFIX}{number}"
        label = symbol.name
        if symbol.version is not None and not symbol.default_version:
            # A non-default version (name@VERSION) is a symbol of its own, tied to the
            # version by .symver; the version script keeps the helper's name unexported.
            label = f"{_INTERNAL_PREFIX}alias_{number}"
            definitions.append(
                f"__asm__({_c_string(f'.symver {_asm_name(label)}, {symbol.versioned_name}')});"
            )
        elif symbol.version is not None:
            default_names.setdefault(symbol.version, []).append(symbol.name)
        c_label = _c_string(label)
        if symbol.kind in FUNCTION_KINDS and symbol.name in stand_ins:
            stand_in = stand_ins[symbol.name]
            signature = f"{_attributes(symbol)} {stand_in.returns} {ident}({stand_in.parameters})"
            definitions.append(f"\n/* {symbol.name}: {stand_in.reason.replace('*/', '* /')} */")
            definitions.append(f"{signature} __asm__({c_label});")
            body = "".join(f"    {line}\n" for line in stand_in.body.strip().splitlines())
            definitions.append(f"{signature} {{\n{body}}}" if body else f"{signature} {{}}")
            used_benign.append(symbol.name)
            counts["functions"] += 1
        elif symbol.kind in OBJECT_KINDS or symbol.kind == "TLS":
            aligned = f"aligned({_alignment(symbol, interface.section_alignments)})"
            storage = "__thread " if symbol.kind == "TLS" else ""
            declaration = f"{storage}unsigned char {ident}[{symbol.size}]"
            definitions.append(f"{_attributes(symbol, aligned)} {declaration} __asm__({c_label});")
            counts["thread_locals" if symbol.kind == "TLS" else "objects"] += 1
        else:
            # Functions, and what readelf cannot classify (NOTYPE: usually an assembler
            # label in code): calling it must report, so it becomes a trap.
            if assembly_traps:
                if symbol.name not in name_offsets:
                    name_offsets[symbol.name] = names_size
                    names_size += len(symbol.name.encode()) + 1
                assembly.extend(_assembly_trap(label, symbol, name_offsets[symbol.name]))
            else:
                c_name = _c_string(symbol.name)
                definitions.append(f"MADOGUCHI_TRAP({ident}, {c_label}, {c_name}, {_attributes(symbol)})")
            counts["functions"] += 1
    if assembly_traps:
        names = "\n".join(_c_string(n + "\0") for n in name_offsets) or '""'
        lines = [".pushsection .text", *assembly, ".popsection"]
        head.append(
            _ASSEMBLY_TRAPS.format(names=names, assembly="\n".join(_c_string(f"{line}\n") for line in lines))
        )
    return StubSources(
        c_source="\n".join([*head, *definitions]) + "\n",
        version_script=_version_script(interface.versions, default_names) if interface.versions else None,
        functions=counts["functions"],
        benign=tuple(used_benign),
        objects=counts["objects"],
        thread_locals=counts["thread_locals"],
        provided=tuple(provided),
        assembly_traps=assembly_traps,
    )


# --- running gcc -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StubResult:
    """What :func:`write_stub_library` made, for the build log."""

    real: Path
    stub: Path
    soname: str | None
    real_size: int
    stub_size: int
    functions: int
    benign: tuple[str, ...]
    objects: int
    thread_locals: int
    versions: int
    no_longer_needed: tuple[str, ...]
    """Libraries the real one links against and the stub does not (candidates to leave out too)."""
    assembly_traps: bool
    seconds: float

    def summary(self) -> str:
        size = f"{self.stub_size / 1e3:.0f} kB instead of {self.real_size / 1e6:.1f} MB"
        return (
            f"{self.real.name} -> stub of {size}: {self.functions} functions "
            f"({len(self.benign)} benign: {', '.join(self.benign) or 'none'}; traps in "
            f"{'assembly' if self.assembly_traps else 'C'}), {self.objects} data objects, "
            f"{self.thread_locals} thread-local, {self.versions} version nodes; no longer needed: "
            f"{', '.join(self.no_longer_needed) or 'nothing'}; made in {self.seconds:.1f} s"
        )


def write_stub_library(
    real: Path,
    dest: Path,
    work: Path,
    benign: Mapping[str, Benign],
    *,
    program: str = PROGRAM,
    assembly_traps: bool | None = None,
) -> StubResult:
    """Build the stub of the library ``real`` at ``dest``; ``work`` receives the generated sources.

    The result is checked: it must carry the real SONAME and export every symbol
    (and version) the real library exports, or :class:`StubError` is raised.
    """
    started = time.monotonic()
    interface = read_library(real)
    sources = stub_sources(
        interface, benign, library=real.name, program=program, assembly_traps=assembly_traps
    )
    work.mkdir(parents=True, exist_ok=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    c_file = work / f"{real.name}.stub.c"
    c_file.write_text(sources.c_source, encoding="utf-8")
    command = [
        *("-shared", "-fPIC", "-O1", "-fvisibility=hidden", "-s"),
        # The C runtime's start files bring hidden _init/_fini (the stub may need to export
        # its own) and constructor support the stub does not use.
        "-nostartfiles",
        # Unwind tables would be most of the stub; nothing ever unwinds through a trap.
        *("-fno-asynchronous-unwind-tables", "-fno-unwind-tables"),
        "-Wl,--no-undefined",
    ]
    if interface.soname is not None:
        command.append(f"-Wl,-soname,{interface.soname}")
    if sources.version_script is not None:
        script = work / f"{real.name}.stub.map"
        script.write_text(sources.version_script, encoding="utf-8")
        command.append(f"-Wl,--version-script={script}")
    run_tool("gcc", *command, "-o", str(dest), str(c_file))

    made = read_library(dest)
    if made.soname != interface.soname:
        raise StubError(f"the stub's SONAME is {made.soname!r}, not {interface.soname!r}")
    differences = export_differences(interface.symbols, made.symbols)
    if differences:
        raise StubError(
            f"the stub of {real.name} differs in {len(differences)} exports: {'; '.join(differences[:20])}"
        )
    result = StubResult(
        real=real,
        stub=dest,
        soname=interface.soname,
        real_size=real.stat().st_size,
        stub_size=dest.stat().st_size,
        functions=sources.functions,
        benign=sources.benign,
        objects=sources.objects,
        thread_locals=sources.thread_locals,
        versions=len(interface.versions),
        no_longer_needed=tuple(n for n in interface.needed if n not in made.needed),
        assembly_traps=sources.assembly_traps,
        seconds=time.monotonic() - started,
    )
    logger.info("%s", result.summary())
    return result
