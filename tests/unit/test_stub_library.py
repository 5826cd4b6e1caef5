"""The stub generator's pure part: a library's interface in, C source and version script out.

The interfaces are those tests/unit/test_elf_interface.py reads from its readelf fixtures:
numpy's OpenBLAS, trimmed to a few symbols, and the small versioned library that
tests/functional/test_stub_library.py builds.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from installer.elf_interface import DynamicSymbol, LibraryInterface, StubError
from installer.stub_library import OPENBLAS_BENIGN, Benign, stub_sources
from tests.unit.test_elf_interface import OPENBLAS_NAME, openblas_interface, real_interface

# --- generating ---------------------------------------------------------------------------------------


def _blob(source: str) -> dict[int, str]:
    """Offset -> name in the generated name table."""
    match = re.search(r"madoguchi_stub_names\[\] =\n(.*?);\n", source, re.DOTALL)
    assert match is not None
    names, offset = {}, 0
    for name in re.findall(r'"(.*?)\\000"', match[1]):
        names[offset] = name
        offset += len(name) + 1
    return names


def _assembly_traps(source: str) -> dict[str, int]:
    """Label -> the name offset its trap passes."""
    found = re.findall(r'"(\S+):\\n"\n"\\tmovl \$(\d+), %edi\\n"\n"\\tjmp madoguchi_stub_trap\\n"', source)
    return {label: int(offset) for label, offset in found}


def test_openblas_stub_sources() -> None:
    sources = stub_sources(openblas_interface(), OPENBLAS_BENIGN, library=OPENBLAS_NAME)
    c = sources.c_source
    assert sources.version_script is None
    assert sources.assembly_traps
    assert (sources.functions, sources.objects, sources.thread_locals) == (6, 4, 0)
    assert sorted(sources.benign) == ["_fini", "_init", "scipy_cblas_sdot64_"]
    assert sources.provided == ()

    # Every trap passes the offset of its own name.
    traps = _assembly_traps(c)
    assert sorted(traps) == ["scipy_cblas_dgemm64_", "scipy_dgesv_64_", "scipy_xerbla_64_"]
    names = _blob(c)
    assert {label: names[offset] for label, offset in traps.items()} == {label: label for label in traps}
    assert '".protected scipy_cblas_dgemm64_\\n"' in c
    assert '".weak scipy_xerbla_64_\\n"\n".protected scipy_xerbla_64_\\n"' in c
    assert '"madoguchi-agent: "' in c
    assert (
        f'" of {OPENBLAS_NAME} was called, but this build leaves that library out '
        '(it is not used by this program); please report this\\n"'
    ) in c

    # Objects: zero-filled, same size, aligned as their address and section allow.
    objects = re.findall(
        r'visibility\("protected"\), aligned\((\d+)\)\)\) unsigned char \w+\[(\d+)\] __asm__\("(\w+)"\);', c
    )
    assert sorted(objects) == sorted(
        [
            ("16", "520", "blas_quick_divide_table"),  # at ...2ad0 in .data (32)
            ("8", "6512", "gotoblas_HASWELL"),  # at ...7968
            ("4", "4", "blas_cpu_number"),  # at ...29fc
            ("16", "8", "gotoblas"),  # at ...29f0 in .bss (128)
        ]
    )
    sdot = (
        '__attribute__((visibility("protected"))) float madoguchi_stub_3(int64_t n, const float *x, '
        'int64_t incx, const float *y, int64_t incy) __asm__("scipy_cblas_sdot64_");'
    )
    assert sdot in c
    assert 'void madoguchi_stub_1(void) __asm__("_init");' in c
    assert '__attribute__((visibility("default"))) void madoguchi_stub_1(void) {}' in c


REAL_VERSION_SCRIPT = """\
V1 {
  global:
    "indirect";
    "version_text";
    "table";
    "per_thread";
    "protected_function";
    "counter";
    "answer";
    "weak_function";
    "untyped_label";
  local:
    madoguchi_stub_*;
};
V2 {
  global:
    "versioned";
} V1;
"""


def test_versioned_stub_sources() -> None:
    benign = {"version_text": Benign.text('stub "quoted"', "the test asks")}
    sources = stub_sources(real_interface(), benign, library="libreal.so.3")
    c = sources.c_source
    assert sources.version_script == REAL_VERSION_SCRIPT
    assert sources.provided == ("V1@@V1", "V2@@V2")  # the linker makes those
    assert (sources.functions, sources.objects, sources.thread_locals) == (10, 2, 1)

    # The hidden version is a helper symbol bound to it; its trap still names the real symbol.
    symver = re.search(r'__asm__\("\.symver (madoguchi_stub_alias_\d+), versioned@V1"\);', c)
    assert symver is not None
    traps = _assembly_traps(c)
    assert _blob(c)[traps[symver[1]]] == "versioned"
    assert traps[symver[1]] == traps["versioned"]  # one name, stored once
    assert {"versioned_old", "versioned_new", "indirect", "untyped_label"} <= set(traps)
    assert '".weak weak_function\\n"' in c

    default = '__attribute__((visibility("default")'
    assert f'{default}, aligned(64))) unsigned char madoguchi_stub_6[24] __asm__("table");' in c
    assert (
        '__attribute__((visibility("default"), aligned(8))) __thread unsigned char madoguchi_stub_7[12] '
        '__asm__("per_thread");'
    ) in c
    # counter is at ...4060 but in a .bss aligned to 8 only.
    assert f'{default}, aligned(8))) unsigned char madoguchi_stub_10[8] __asm__("counter");' in c
    assert 'return "stub \\"quoted\\"";' in c


def test_c_traps_elsewhere_than_x86_64() -> None:
    aarch64 = replace(real_interface(), machine="AArch64")
    sources = stub_sources(aarch64, {}, library="libreal.so.3")
    c = sources.c_source
    assert not sources.assembly_traps
    assert "movl" not in c
    assert (
        'MADOGUCHI_TRAP(madoguchi_stub_11, "answer", "answer", __attribute__((visibility("default"))))' in c
    )
    assert re.search(r'MADOGUCHI_TRAP\(\w+, "madoguchi_stub_alias_8", "versioned", ', c)
    weak = '__attribute__((visibility("default"), weak))'
    assert f'MADOGUCHI_TRAP(madoguchi_stub_12, "weak_function", "weak_function", {weak})' in c
    assert sources.version_script == REAL_VERSION_SCRIPT


def test_benign_helpers() -> None:
    assert Benign.nothing("why") == Benign("void", "void", "", "why")
    assert Benign.integer(1, "why") == Benign("int", "void", "return 1;", "why")
    assert Benign.integer(-1, "why", c_type="long") == Benign("long", "void", "return -1;", "why")
    assert Benign.text("madoguchi stub: no BLAS", "why").body == 'return "madoguchi stub: no BLAS";'
    c = stub_sources(
        openblas_interface(), {"scipy_dgesv_64_": Benign.integer(0, "a */ comment")}, library="x"
    ).c_source
    assert "/* scipy_dgesv_64_: a * / comment */" in c
    assert re.search(r"int madoguchi_stub_\d+\(void\) \{\n    return 0;\n\}", c)


def _with(interface: LibraryInterface, *extra: DynamicSymbol) -> LibraryInterface:
    return replace(interface, symbols=(*interface.symbols, *extra))


@pytest.mark.parametrize(
    ("interface", "benign", "message"),
    [
        (openblas_interface(), {"nope": Benign.nothing("")}, "does not export as a function: nope"),
        (openblas_interface(), {"gotoblas": Benign.nothing("")}, "does not export as a function: gotoblas"),
        (
            _with(openblas_interface(), DynamicSymbol("abort", "FUNC", 8, "GLOBAL", "DEFAULT", "9", 0x1000)),
            {},
            "exports abort, which the stub needs for itself",
        ),
        (
            _with(
                real_interface(), DynamicSymbol("late", "FUNC", 8, "GLOBAL", "DEFAULT", "11", 0x1000, "V9")
            ),
            {},
            "versions it does not define: V9",
        ),
        (
            _with(
                openblas_interface(), DynamicSymbol('odd"name', "FUNC", 8, "GLOBAL", "DEFAULT", "9", 0x1000)
            ),
            {},
            "names the stub cannot reproduce",
        ),
    ],
)
def test_what_cannot_be_stubbed_is_refused(
    interface: LibraryInterface, benign: dict[str, Benign], message: str
) -> None:
    with pytest.raises(StubError, match=re.escape(message)):
        stub_sources(interface, benign, library="lib")
