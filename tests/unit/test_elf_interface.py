"""Reading a library's interface: readelf's text in, a LibraryInterface out.

The fixtures are readelf 2.40 output, trimmed to a few symbols for numpy's
OpenBLAS (``OPENBLAS_*``) and whole for the small versioned library that
tests/functional/test_stub_library.py builds (``REAL_*``); tests/unit/test_stub_library.py
makes its stubs from the same interfaces.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from installer.elf_interface import (
    DynamicSymbol,
    LibraryInterface,
    StubError,
    export_differences,
    parse_dyn_syms,
    parse_library,
    parse_versions,
)

# --- fixtures: readelf -W -h / -d / -S / --dyn-syms / -V ------------------------------------------

OPENBLAS_HEADER = """\
ELF Header:
  Class:                             ELF64
  Data:                              2's complement, little endian
  Type:                              DYN (Shared object file)
  Machine:                           Advanced Micro Devices X86-64
"""

OPENBLAS_DYNAMIC = """\
Dynamic section at offset 0x17c6000 contains 30 entries:
  Tag        Type                         Name/Value
 0x000000000000000f (RPATH)              Library rpath: [$ORIGIN]
 0x0000000000000001 (NEEDED)             Shared library: [libm.so.6]
 0x0000000000000001 (NEEDED)             Shared library: [libpthread.so.0]
 0x0000000000000001 (NEEDED)             Shared library: [libgfortran-040039e1-0352e75f.so.5.0.0]
 0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]
 0x0000000000000001 (NEEDED)             Shared library: [ld-linux-x86-64.so.2]
 0x000000000000000e (SONAME)             Library soname: [libscipy_openblas64_-32a4b2a6.so]
 0x0000000000000007 (RELA)               0x990e0
 0x0000000000000008 (RELASZ)             181464 (bytes)
 0x0000000000000009 (RELAENT)            24 (bytes)
 0x000000006ffffff9 (RELACOUNT)          6691
 0x0000000000000017 (JMPREL)             0xc55b8
 0x0000000000000002 (PLTRELSZ)           47208 (bytes)
 0x0000000000000003 (PLTGOT)             0x15dcc68
 0x0000000000000014 (PLTREL)             RELA
 0x0000000000000006 (SYMTAB)             0x15ed000
 0x000000000000000b (SYMENT)             24 (bytes)
 0x0000000000000005 (STRTAB)             0x171c000
 0x000000000000000a (STRSZ)              239146 (bytes)
 0x000000006ffffef5 (GNU_HASH)           0x48d80
 0x0000000000000019 (INIT_ARRAY)         0x15d1878
 0x000000000000001b (INIT_ARRAYSZ)       16 (bytes)
 0x000000000000001a (FINI_ARRAY)         0x15d1868
 0x000000000000001c (FINI_ARRAYSZ)       16 (bytes)
 0x000000000000000c (INIT)               0x15c1b3c
 0x000000000000000d (FINI)               0x15c1b58
 0x000000006ffffff0 (VERSYM)             0x43308
 0x000000006ffffffe (VERNEED)            0x48c6c
 0x000000006fffffff (VERNEEDNUM)         5
 0x0000000000000000 (NULL)               0x0
"""

OPENBLAS_SECTIONS = """\
There are 30 section headers, starting at offset 0x16d1230:

Section Headers:
  [Nr] Name              Type            Address          Off    Size   ES Flg Lk Inf Al
  [ 0]                   NULL            0000000000000000 000000 000000 00      0   0  0
  [ 1] .gnu.version      VERSYM          0000000000043308 043308 005962 02   A 27   0  2
  [ 2] .gnu.version_r    VERNEED         0000000000048c6c 048c6c 000110 00   A 29   5  4
  [ 3] .gnu.hash         GNU_HASH        0000000000048d80 048d80 015da8 00   A 27   0  8
  [ 4] .rela.dyn         RELA            00000000000990e0 0990e0 02c4d8 18   A 27   0  8
  [ 5] .rela.plt         RELA            00000000000c55b8 0c55b8 00b868 18  AI 27  21  8
  [ 6] .rodata           PROGBITS        00000000000d0e80 0d0e80 020968 00 AMS  0   0 128
  [ 7] .eh_frame_hdr     PROGBITS        00000000000f17e8 0f17e8 016d8c 00   A  0   0  4
  [ 8] .eh_frame         PROGBITS        0000000000108578 108578 180264 00   A  0   0  8
  [ 9] .text             PROGBITS        0000000000289800 288800 133833c 00  AX  0   0 512
  [10] .init             PROGBITS        00000000015c1b3c 15c0b3c 00001a 00  AX  0   0  4
  [11] .fini             PROGBITS        00000000015c1b58 15c0b58 000009 00  AX  0   0  4
  [12] .plt              PROGBITS        00000000015c1b70 15c0b70 007b00 00  AX  0   0 16
  [13] .tbss             NOBITS          00000000015c9670 15c8670 023000 00 WAT  0   0 16
  [14] .data.rel.ro      PROGBITS        00000000015ca670 15c8670 0071f8 00  WA  0   0 16
  [15] .fini_array       FINI_ARRAY      00000000015d1868 15cf868 000010 00  WA  0   0  8
  [16] .init_array       INIT_ARRAY      00000000015d1878 15cf878 000010 00  WA  0   0  8
  [17] .got              PROGBITS        00000000015d1a58 15cfa58 000068 00  WA  0   0  8
  [18] .relro_padding    NOBITS          00000000015d1ac0 15cfac0 000540 00  WA  0   0  1
  [19] .data             PROGBITS        00000000015d2ac0 15cfac0 00a1a4 00  WA  0   0 32
  [20] .tm_clone_table   PROGBITS        00000000015dcc68 15d9c68 000000 00  WA  0   0  8
  [21] .got.plt          PROGBITS        00000000015dcc68 15d9c68 003d90 00  WA  0   0  8
  [22] .bss              NOBITS          00000000015e0a00 15dd9f8 007440 00  WA  0   0 128
  [23] .comment          PROGBITS        0000000000000000 15dd9f8 00012d 01  MS  0   0  1
  [24] .symtab           SYMTAB          0000000000000000 15ddb28 08c3e8 18     26 12495  8
  [25] .shstrtab         STRTAB          0000000000000000 1669f10 000111 00      0   0  1
  [26] .strtab           STRTAB          0000000000000000 166a021 06720f 00      0   0  1
  [27] .dynsym           DYNSYM          00000000015ed000 16d2000 043098 18   A 29   1  8
  [28] .dynamic          DYNAMIC         00000000016e1000 17c6000 0001f0 10  WA 29   0  8
  [29] .dynstr           STRTAB          000000000171c000 1801000 03a62a 00   A  0   0  8
Key to Flags:
"""

OPENBLAS_DYN_SYMS = """\
Symbol table '.dynsym' contains 11441 entries:
   Num:    Value          Size Type    Bind   Vis      Ndx Name
     0: 0000000000000000     0 NOTYPE  LOCAL  DEFAULT  UND
     1: 0000000000000000     0 NOTYPE  WEAK   DEFAULT  UND __gmon_start__
     4: 0000000000000000     0 FUNC    WEAK   DEFAULT  UND __cxa_finalize@GLIBC_2.2.5 (2)
     5: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND strcmp@GLIBC_2.2.5 (2)
    13: 0000000000000000     0 OBJECT  GLOBAL DEFAULT  UND stderr@GLIBC_2.2.5 (2)
   222: 00000000015d2ad0   520 OBJECT  GLOBAL PROTECTED   19 blas_quick_divide_table
  2451: 00000000015c1b3c     0 FUNC    GLOBAL DEFAULT   10 _init
  3212: 00000000015d7968  6512 OBJECT  GLOBAL PROTECTED   19 gotoblas_HASWELL
  3420: 000000000028a740    75 FUNC    GLOBAL PROTECTED    9 scipy_cblas_sdot64_
  3731: 00000000015c1b58     0 FUNC    GLOBAL DEFAULT   11 _fini
  4462: 00000000015e29fc     4 OBJECT  GLOBAL PROTECTED   22 blas_cpu_number
  6047: 00000000002a27a0   959 FUNC    GLOBAL PROTECTED    9 scipy_cblas_dgemm64_
  9385: 00000000005f78d0    28 FUNC    WEAK   PROTECTED    9 scipy_xerbla_64_
 10812: 00000000002a6a10   551 FUNC    GLOBAL PROTECTED    9 scipy_dgesv_64_
 10972: 00000000015e29f0     8 OBJECT  GLOBAL PROTECTED   22 gotoblas
"""

OPENBLAS_VERSIONS = """\
Version symbols section '.gnu.version' contains 11441 entries:
 Addr: 0x0000000000043308  Offset: 0x00043308  Link: 27 (.dynsym)
  000:   0 (*local*)       1 (*global*)      1 (*global*)      1 (*global*)
  004:   2 (GLIBC_2.2.5)   2 (GLIBC_2.2.5)   2 (GLIBC_2.2.5)   2 (GLIBC_2.2.5)
  00c:   2 (GLIBC_2.2.5)   2 (GLIBC_2.2.5)   2 (GLIBC_2.2.5)   2 (GLIBC_2.2.5)
  010:   4 (GLIBC_2.3)     5 (GLIBC_2.2.5)   5 (GLIBC_2.2.5)   6 (GLIBC_2.7)
  0dc:   1 (*global*)      1 (*global*)      1 (*global*)      1 (*global*)
  990:   1 (*global*)      1 (*global*)      1 (*global*)      1 (*global*)
  c8c:   1 (*global*)      1 (*global*)      1 (*global*)      1 (*global*)
  d5c:   1 (*global*)      1 (*global*)      1 (*global*)      1 (*global*)
  e90:   1 (*global*)      1 (*global*)      1 (*global*)      1 (*global*)
  116c:   1 (*global*)      1 (*global*)      1 (*global*)      1 (*global*)
  179c:   1 (*global*)      1 (*global*)      1 (*global*)      1 (*global*)
  24a8:   1 (*global*)      1 (*global*)      1 (*global*)      1 (*global*)
  2a3c:   1 (*global*)      1 (*global*)      1 (*global*)      1 (*global*)
  2adc:   1 (*global*)      1 (*global*)      1 (*global*)      1 (*global*)

Version needs section '.gnu.version_r' contains 5 entries:
 Addr: 0x0000000000048c6c  Offset: 0x00048c6c  Link: 29 (.dynstr)
  000000: Version: 1  File: libm.so.6  Cnt: 1
  0x0050:   Name: GLIBC_2.2.5  Flags: none  Version: 3
  0x0010: Version: 1  File: libpthread.so.0  Cnt: 3
  0x0060:   Name: GLIBC_2.2.5  Flags: none  Version: 5
  0x0070:   Name: GLIBC_2.3.2  Flags: none  Version: 10
  0x0080:   Name: GLIBC_2.3.4  Flags: none  Version: 9
  0x0020: Version: 1  File: libgfortran-040039e1-0352e75f.so.5.0.0  Cnt: 1
  0x0090:   Name: GFORTRAN_8  Flags: none  Version: 12
  0x0030: Version: 1  File: libc.so.6  Cnt: 6
  0x00a0:   Name: GLIBC_2.2.5  Flags: none  Version: 2
  0x00b0:   Name: GLIBC_2.3.2  Flags: none  Version: 13
  0x00c0:   Name: GLIBC_2.3.4  Flags: none  Version: 7
  0x00d0:   Name: GLIBC_2.6  Flags: none  Version: 8
  0x00e0:   Name: GLIBC_2.7  Flags: none  Version: 6
  0x00f0:   Name: GLIBC_2.14  Flags: none  Version: 11
  0x0040: Version: 1  File: ld-linux-x86-64.so.2  Cnt: 1
  0x0100:   Name: GLIBC_2.3  Flags: none  Version: 4
"""

REAL_HEADER = """\
ELF Header:
  Class:                             ELF64
  Data:                              2's complement, little endian
  Type:                              DYN (Shared object file)
  Machine:                           Advanced Micro Devices X86-64
"""

REAL_DYNAMIC = """\
Dynamic section at offset 0x2e38 contains 21 entries:
  Tag        Type                         Name/Value
 0x000000000000000e (SONAME)             Library soname: [libreal.so.3]
 0x000000000000000c (INIT)               0x1000
 0x000000000000000d (FINI)               0x112c
 0x0000000000000019 (INIT_ARRAY)         0x3e28
 0x000000000000001b (INIT_ARRAYSZ)       8 (bytes)
 0x000000000000001a (FINI_ARRAY)         0x3e30
 0x000000000000001c (FINI_ARRAYSZ)       8 (bytes)
 0x000000006ffffef5 (GNU_HASH)           0x298
 0x0000000000000005 (STRTAB)             0x4e0
 0x0000000000000006 (SYMTAB)             0x300
 0x000000000000000a (STRSZ)              243 (bytes)
 0x000000000000000b (SYMENT)             24 (bytes)
 0x0000000000000003 (PLTGOT)             0x3fe8
 0x0000000000000007 (RELA)               0x660
 0x0000000000000008 (RELASZ)             168 (bytes)
 0x0000000000000009 (RELAENT)            24 (bytes)
 0x000000006ffffffc (VERDEF)             0x600
 0x000000006ffffffd (VERDEFNUM)          3
 0x000000006ffffff0 (VERSYM)             0x5d4
 0x000000006ffffff9 (RELACOUNT)          3
 0x0000000000000000 (NULL)               0x0
"""

REAL_SECTIONS = """\
There are 28 section headers, starting at offset 0x3748:

Section Headers:
  [Nr] Name              Type            Address          Off    Size   ES Flg Lk Inf Al
  [ 0]                   NULL            0000000000000000 000000 000000 00      0   0  0
  [ 1] .note.gnu.build-id NOTE            0000000000000270 000270 000024 00   A  0   0  4
  [ 2] .gnu.hash         GNU_HASH        0000000000000298 000298 000068 00   A  3   0  8
  [ 3] .dynsym           DYNSYM          0000000000000300 000300 0001e0 18   A  4   1  8
  [ 4] .dynstr           STRTAB          00000000000004e0 0004e0 0000f3 00   A  0   0  1
  [ 5] .gnu.version      VERSYM          00000000000005d4 0005d4 000028 02   A  3   0  2
  [ 6] .gnu.version_d    VERDEF          0000000000000600 000600 00005c 00   A  4   3  8
  [ 7] .rela.dyn         RELA            0000000000000660 000660 0000a8 18   A  3   0  8
  [ 8] .init             PROGBITS        0000000000001000 001000 000017 00  AX  0   0  4
  [ 9] .plt              PROGBITS        0000000000001020 001020 000010 10  AX  0   0 16
  [10] .plt.got          PROGBITS        0000000000001030 001030 000008 08  AX  0   0  8
  [11] .text             PROGBITS        0000000000001040 001040 0000eb 00  AX  0   0 16
  [12] .fini             PROGBITS        000000000000112c 00112c 000009 00  AX  0   0  4
  [13] .rodata           PROGBITS        0000000000002000 002000 000005 01 AMS  0   0  1
  [14] .eh_frame_hdr     PROGBITS        0000000000002008 002008 00005c 00   A  0   0  4
  [15] .eh_frame         PROGBITS        0000000000002068 002068 0000fc 00   A  0   0  8
  [16] .tdata            PROGBITS        0000000000003e18 002e18 00000c 00 WAT  0   0  8
  [17] .init_array       INIT_ARRAY      0000000000003e28 002e28 000008 08  WA  0   0  8
  [18] .fini_array       FINI_ARRAY      0000000000003e30 002e30 000008 08  WA  0   0  8
  [19] .dynamic          DYNAMIC         0000000000003e38 002e38 000190 10  WA  4   0  8
  [20] .got              PROGBITS        0000000000003fc8 002fc8 000020 08  WA  0   0  8
  [21] .got.plt          PROGBITS        0000000000003fe8 002fe8 000018 08  WA  0   0  8
  [22] .data             PROGBITS        0000000000004000 003000 000058 00  WA  0   0 64
  [23] .bss              NOBITS          0000000000004058 003058 000010 00  WA  0   0  8
  [24] .comment          PROGBITS        0000000000000000 003058 000027 01  MS  0   0  1
  [25] .symtab           SYMTAB          0000000000000000 003080 0003d8 18     26  22  8
  [26] .strtab           STRTAB          0000000000000000 003458 0001fe 00      0   0  1
  [27] .shstrtab         STRTAB          0000000000000000 003656 0000ee 00      0   0  1
"""

REAL_DYN_SYMS = """\
Symbol table '.dynsym' contains 20 entries:
   Num:    Value          Size Type    Bind   Vis      Ndx Name
     0: 0000000000000000     0 NOTYPE  LOCAL  DEFAULT  UND
     1: 0000000000000000     0 NOTYPE  WEAK   DEFAULT  UND __cxa_finalize
     2: 0000000000000000     0 NOTYPE  WEAK   DEFAULT  UND _ITM_registerTMCloneTable
     3: 0000000000000000     0 NOTYPE  WEAK   DEFAULT  UND _ITM_deregisterTMCloneTable
     4: 0000000000000000     0 NOTYPE  WEAK   DEFAULT  UND __gmon_start__
     5: 000000000000111b     8 IFUNC   GLOBAL DEFAULT   11 indirect@@V1
     6: 0000000000001106     6 FUNC    GLOBAL DEFAULT   11 versioned_old
     7: 000000000000110c     6 FUNC    GLOBAL DEFAULT   11 versioned_new
     8: 0000000000001123     8 FUNC    GLOBAL DEFAULT   11 version_text@@V1
     9: 0000000000000000     0 OBJECT  GLOBAL DEFAULT  ABS V1
    10: 000000000000110c     6 FUNC    GLOBAL DEFAULT   11 versioned@@V2
    11: 0000000000004040    24 OBJECT  GLOBAL DEFAULT   22 table@@V1
    12: 0000000000000000    12 TLS     GLOBAL DEFAULT   16 per_thread@@V1
    13: 0000000000001106     6 FUNC    GLOBAL DEFAULT   11 versioned@V1
    14: 0000000000001115     6 FUNC    GLOBAL PROTECTED   11 protected_function@@V1
    15: 0000000000004060     8 OBJECT  GLOBAL DEFAULT   23 counter@@V1
    16: 0000000000001100     6 FUNC    GLOBAL DEFAULT   11 answer@@V1
    17: 0000000000001112     3 FUNC    WEAK   DEFAULT   11 weak_function@@V1
    18: 00000000000010f9     0 NOTYPE  GLOBAL DEFAULT   11 untyped_label@@V1
    19: 0000000000000000     0 OBJECT  GLOBAL DEFAULT  ABS V2
"""

REAL_VERSIONS = """\
Version symbols section '.gnu.version' contains 20 entries:
 Addr: 0x00000000000005d4  Offset: 0x000005d4  Link: 3 (.dynsym)
  000:   0 (*local*)       1 (*global*)      1 (*global*)      1 (*global*)
  004:   1 (*global*)      2 (V1)            1 (*global*)      1 (*global*)
  008:   2 (V1)            2 (V1)            3 (V2)            2 (V1)
  00c:   2 (V1)            2h(V1)            2 (V1)            2 (V1)
  010:   2 (V1)            2 (V1)            2 (V1)            3 (V2)

Version definition section '.gnu.version_d' contains 3 entries:
 Addr: 0x0000000000000600  Offset: 0x00000600  Link: 4 (.dynstr)
  000000: Rev: 1  Flags: BASE  Index: 1  Cnt: 1  Name: libreal.so.3
  0x001c: Rev: 1  Flags: none  Index: 2  Cnt: 1  Name: V1
  0x0038: Rev: 1  Flags: none  Index: 3  Cnt: 2  Name: V2
  0x0054: Parent 1: V1
"""


def openblas_interface() -> LibraryInterface:
    return parse_library(
        OPENBLAS_HEADER, OPENBLAS_DYNAMIC, OPENBLAS_SECTIONS, OPENBLAS_DYN_SYMS, OPENBLAS_VERSIONS
    )


def real_interface() -> LibraryInterface:
    return parse_library(REAL_HEADER, REAL_DYNAMIC, REAL_SECTIONS, REAL_DYN_SYMS, REAL_VERSIONS)


def _exports(interface: LibraryInterface) -> dict[str, DynamicSymbol]:
    return {s.versioned_name: s for s in interface.exports}


OPENBLAS_NAME = "libscipy_openblas64_-32a4b2a6.so"

# --- parsing ----------------------------------------------------------------------------------------


def test_openblas_interface() -> None:
    lib = openblas_interface()
    assert lib.soname == OPENBLAS_NAME
    assert lib.needed == (
        "libm.so.6",
        "libpthread.so.0",
        "libgfortran-040039e1-0352e75f.so.5.0.0",
        "libc.so.6",
        "ld-linux-x86-64.so.2",
    )
    assert (lib.elf_class, lib.machine) == ("ELF64", "Advanced Micro Devices X86-64")
    assert lib.versions == ()
    assert len(lib.symbols) == 15
    exports = _exports(lib)
    assert sorted(exports) == [
        "_fini",
        "_init",
        "blas_cpu_number",
        "blas_quick_divide_table",
        "gotoblas",
        "gotoblas_HASWELL",
        "scipy_cblas_dgemm64_",
        "scipy_cblas_sdot64_",
        "scipy_dgesv_64_",
        "scipy_xerbla_64_",
    ]
    assert exports["gotoblas_HASWELL"] == DynamicSymbol(
        "gotoblas_HASWELL", "OBJECT", 6512, "GLOBAL", "PROTECTED", "19", 0x15D7968
    )
    assert exports["scipy_xerbla_64_"].binding == "WEAK"
    assert exports["_init"].visibility == "DEFAULT"
    assert all(s.version is None for s in exports.values())
    assert {i: lib.section_alignments[i] for i in (0, 9, 19, 22)} == {0: 0, 9: 512, 19: 32, 22: 128}


def test_undefined_symbols_are_not_exported_and_lose_their_version_decoration() -> None:
    strcmp = next(s for s in openblas_interface().symbols if s.name == "strcmp")
    assert (strcmp.defined, strcmp.exported, strcmp.version) == (False, False, "GLIBC_2.2.5")


def test_versioned_library_interface() -> None:
    lib = real_interface()
    assert lib.soname == "libreal.so.3"
    assert lib.needed == ()
    assert [(v.name, v.parents) for v in lib.versions] == [("V1", ()), ("V2", ("V1",))]
    exports = _exports(lib)
    assert sorted(exports) == [
        "V1@@V1",
        "V2@@V2",
        "answer@@V1",
        "counter@@V1",
        "indirect@@V1",
        "per_thread@@V1",
        "protected_function@@V1",
        "table@@V1",
        "untyped_label@@V1",
        "version_text@@V1",
        "versioned@@V2",
        "versioned@V1",
        "versioned_new",
        "versioned_old",
        "weak_function@@V1",
    ]
    assert exports["versioned@V1"].default_version is False
    assert exports["versioned@@V2"].default_version is True
    assert [exports[n].kind for n in ("indirect@@V1", "per_thread@@V1", "untyped_label@@V1")] == [
        "IFUNC",
        "TLS",
        "NOTYPE",
    ]
    assert exports["V1@@V1"].section == "ABS"


def test_versions_read_the_hidden_flag_by_symbol_number() -> None:
    per_symbol, _ = parse_versions(REAL_VERSIONS)
    assert per_symbol[13] == ("V1", True)
    assert per_symbol[10] == ("V2", False)
    assert 6 not in per_symbol  # *global*: unversioned
    # Rows are numbered: an excerpt keeps its symbols' numbers.
    per_symbol, definitions = parse_versions(OPENBLAS_VERSIONS)
    assert per_symbol[0x13] == ("GLIBC_2.7", False)
    assert 0xDE not in per_symbol
    assert definitions == ()


def test_symbol_lines_of_other_targets_and_sizes_in_hex() -> None:
    text = """\
Symbol table '.dynsym' contains 4 entries:
   Num:    Value          Size Type    Bind   Vis      Ndx Name
     0: 0000000000000000     0 NOTYPE  LOCAL  DEFAULT  UND
     1: 0000000000000710    20 FUNC    GLOBAL DEFAULT [VARIANT_PCS]    12 vector_function
     2: 0000000000011000 0x186a0 OBJECT  GLOBAL DEFAULT   21 big_table
     3: 0000000000000800     8 FUNC    GLOBAL DEFAULT [<localentry>: 8]    12 ppc_function

Symbol table '.symtab' contains 1 entry:
   this table is not read
"""
    symbols = parse_dyn_syms(text)
    assert [(s.name, s.kind, s.size, s.visibility, s.section) for s in symbols[1:]] == [
        ("vector_function", "FUNC", 20, "DEFAULT", "12"),
        ("big_table", "OBJECT", 100_000, "DEFAULT", "21"),
        ("ppc_function", "FUNC", 8, "DEFAULT", "12"),
    ]


def test_a_symbol_line_that_does_not_parse_is_an_error() -> None:
    text = "Symbol table '.dynsym' contains 2 entries:\n   Num:    Value\n     1: what is this\n"
    with pytest.raises(StubError, match="unexpected line"):
        parse_dyn_syms(text)


def test_export_differences() -> None:
    expected = real_interface().symbols

    def changed(symbol: DynamicSymbol) -> DynamicSymbol:
        if symbol.versioned_name == "table@@V1":
            return replace(symbol, size=16)
        if symbol.versioned_name == "versioned@V1":
            return replace(symbol, default_version=True)
        return symbol

    # A missing export, and a missing version symbol (the linker's business).
    actual = [changed(symbol) for symbol in expected if symbol.name not in ("answer", "V1")]
    edata = DynamicSymbol("_edata", "NOTYPE", 0, "GLOBAL", "DEFAULT", "ABS", 0x4068)
    assert export_differences([*expected, edata], actual) == [
        "answer@@V1 is missing",
        "table@@V1 has 16 bytes instead of 24",
        "versioned@V1 is missing",
    ]
    assert export_differences(expected, expected) == []


def test_stub_error_carries_the_details() -> None:
    error = StubError("gcc failed", command=["gcc", "-o", "x.so"], returncode=1, output="one\ntwo\n")
    assert (error.message, error.command, error.returncode) == ("gcc failed", ("gcc", "-o", "x.so"), 1)
    assert str(
        error
    ) == "gcc failed\n  command: gcc -o x.so (exit status 1)\n  output (last lines):\ntwo".replace(
        "two", "one\ntwo"
    )
