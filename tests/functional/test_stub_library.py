"""Stub libraries built with the real gcc and readelf, and loaded for real.

numpy's own OpenBLAS is replaced in a child process (``LD_PRELOAD`` puts the stub
in first; the dynamic loader then takes it for numpy's ``DT_NEEDED`` entry, which
names the same SONAME): everything the agent does with numpy must still work,
and BLAS work must end the process with one clear line. A small library built
here from C covers what OpenBLAS lacks: symbol versions (default and hidden),
weak, protected, thread-local, indirect and untyped symbols.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from installer.stub_library import OPENBLAS_BENIGN, Benign, StubResult, write_stub_library

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="ELF shared libraries and LD_PRELOAD: Linux")

# The library exercised beside OpenBLAS. tests/unit/test_elf_interface.py holds readelf's
# output for it (REAL_*), recorded from this source and version script.
REAL_SOURCE = r"""
#include <stdint.h>
int answer(void) { return 42; }
int versioned_old(void) { return 1; }
int versioned_new(void) { return 2; }
__asm__(".symver versioned_old, versioned@V1");
__asm__(".symver versioned_new, versioned@@V2");
__attribute__((weak)) int weak_function(int x) { return x; }
__attribute__((visibility("protected"))) int protected_function(void) { return 3; }
__attribute__((aligned(64))) unsigned char table[24] = {1, 2, 3};
long counter;
__thread int per_thread[3] = {5};
static int pick(void) { return 7; }
static int (*resolve_indirect(void))(void) { return pick; }
int indirect(void) __attribute__((ifunc("resolve_indirect")));
__asm__(".text\n.globl untyped_label\nuntyped_label:\n ret\n");
const char *version_text(void) { return "real"; }
"""
REAL_VERSION_SCRIPT = """\
V1 { global: answer; weak_function; protected_function; table; counter; per_thread; indirect;
     untyped_label; version_text; };
V2 { global: versioned; } V1;
"""
REAL_SONAME = "libreal.so.3"
REAL_BENIGN = {
    "version_text": Benign.text("stub", "the test asks"),
    "weak_function": Benign.integer(7, "the test asks"),
}

_TRAP_LINE = re.compile(
    r"^madoguchi-agent: (?P<symbol>\S+) of (?P<library>\S+) was called, but this build leaves that "
    r"library out \(it is not used by this program\); please report this$",
    re.MULTILINE,
)


def _readelf(*args: str) -> str:
    done = subprocess.run(
        ["readelf", "-W", *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LC_ALL": "C"},
    )
    return done.stdout


def _exports(path: Path) -> dict[str, tuple[str, str, str, int]]:
    """Decorated name (``name@@V``, as readelf prints it) -> (type, binding, visibility, size).

    Parsed here on its own, not with the module under test, so that a parsing mistake
    there cannot hide a missing export.
    """
    found = {}
    for line in _readelf("--dyn-syms", str(path)).splitlines():
        fields = line.split()
        if len(fields) < 8 or not fields[0].rstrip(":").isdigit() or fields[6] == "UND":
            continue
        if fields[4] in ("GLOBAL", "WEAK") and fields[5] in ("DEFAULT", "PROTECTED"):
            size = int(fields[2], 16) if fields[2].startswith("0x") else int(fields[2])
            found[fields[7]] = (fields[3], fields[4], fields[5], size)
    return found


def _dynamic(path: Path, tag: str) -> list[str]:
    return re.findall(rf"\({tag}\)\s+[^\[]*\[([^\]]*)\]", _readelf("-d", str(path)))


def _assert_same_exports(real: Path, stub: Path) -> None:
    expected, actual = _exports(real), _exports(stub)
    assert sorted(set(expected) - set(actual)) == []
    assert sorted(set(actual) - set(expected)) == []  # nothing of the stub's own leaks out
    for name, (kind, binding, visibility, size) in expected.items():
        assert actual[name][1:3] == (binding, visibility), name
        if kind == "OBJECT" or kind == "TLS":
            assert actual[name] == (kind, binding, visibility, size), name
    assert _dynamic(stub, "SONAME") == _dynamic(real, "SONAME")


# --- numpy's OpenBLAS ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def openblas() -> Path:
    import numpy

    libs = Path(numpy.__file__).resolve().parent.parent / "numpy.libs"
    found = sorted(libs.glob("libscipy_openblas*.so"))
    assert len(found) == 1, f"expected numpy's one OpenBLAS in {libs}, found {found}"
    return found[0]


@pytest.fixture(scope="module")
def openblas_stub(openblas: Path, tmp_path_factory: pytest.TempPathFactory) -> StubResult:
    where = tmp_path_factory.mktemp("openblas-stub")
    return write_stub_library(openblas, where / openblas.name, where / "work", OPENBLAS_BENIGN)


# Runs in a child: prints the numpy-related libraries it mapped, then the results of
# one kind of work as JSON; the same script runs with and without the stub.
_CHILD = r"""
import json, sys
import numpy as np

work = sys.argv[1]
mapped = sorted({line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line})
print(json.dumps({"mapped": mapped}), flush=True)

def typical():
    # What the agent does with numpy: grabbed BGRA frames, change detection, plane copies.
    frame = np.frombuffer(bytes(range(256)) * 256, dtype=np.uint8).reshape(128, 128, 4)
    other = frame.copy()
    other[70, 33, 2] ^= 0x10
    diff = frame != other
    words = frame.reshape(-1).view(np.uint64)
    small = frame[..., 0].astype(np.int32)[:16, :16]
    return [
        np.array_equal(frame, other), np.array_equal(frame, frame.copy()), bool(np.any(diff)),
        [a.tolist() for a in np.nonzero(diff)], int(np.argmax(diff)), int(np.count_nonzero(frame)),
        frame.sum(axis=0).tolist()[3], frame.sum(axis=(0, 1)).tolist(), int(frame[::16].sum()),
        int(frame.astype(np.int16).sum()), float(frame.astype(np.int32).mean()),
        np.dot(small, small.T).tolist()[5], (small @ small).sum().item(),
        int(np.dot(np.arange(100), np.arange(100))), int(words[:8].sum() % 1000003),
        np.ascontiguousarray(frame[:, :, 2::-1]).tobytes()[:12].hex(),
        frame[1::2, ::2, 0].tobytes()[:8].hex(),
        np.where(frame[..., 1] > 200, 1, 0).sum().item(),
        np.clip(frame.astype(np.int16) - 40, 0, 255).sum().item(),
        np.minimum(frame, other).sum().item(), np.bitwise_xor(frame, other).sum().item(),
        np.concatenate([frame, other]).shape, np.repeat(frame[:1], 3, axis=0).shape,
        np.flip(frame, 1)[0, 0].tolist(), np.unique(frame[..., 0]).size,
        np.sort(frame[5, :, 3])[:4].tolist(), np.histogram(frame, bins=4)[0].tolist(),
        np.zeros((8, 8), np.uint8).any().item(), np.full((3, 3), 9, np.uint8).sum().item(),
    ]

def float32_vectors():
    # numpy's only BLAS call that the stub answers: float32 vector dot products.
    x = (np.arange(1000, dtype=np.float32) % 7) / 3
    y = (np.arange(1000, dtype=np.float32) % 5) / 2
    products = (np.dot(x, y), np.dot(x[::-1], y), np.dot(x[:999:3], y[1::3]), x @ y, np.inner(x, y))
    return [float(v) for v in products]

def float_matrix_product():
    a = np.linspace(0.0, 1.0, 64 * 64).reshape(64, 64)
    return np.dot(a, a).sum().item()

def inverse():
    return np.linalg.inv(np.eye(3) * 2).tolist()

print(json.dumps({"result": globals()[work]()}, default=repr))
"""


def _child(work: str, stub: Path | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if stub is not None:
        env["LD_PRELOAD"] = " ".join(filter(None, [str(stub), env.get("LD_PRELOAD")]))
    return subprocess.run(
        [sys.executable, "-c", _CHILD, work], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def _lines(done: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_the_stub_exports_every_symbol_of_openblas(openblas: Path, openblas_stub: StubResult) -> None:
    _assert_same_exports(openblas, openblas_stub.stub)
    assert openblas_stub.functions > 10_000
    assert openblas_stub.objects > 0
    # libgfortran (and with it libquadmath) is needed by OpenBLAS only; the stub needs libc alone.
    assert _dynamic(openblas_stub.stub, "NEEDED") == ["libc.so.6"]
    assert any(name.startswith("libgfortran") for name in openblas_stub.no_longer_needed)
    assert openblas_stub.stub_size < openblas_stub.real_size / 10
    if platform.machine() == "x86_64":
        assert openblas_stub.assembly_traps  # 11,000 C traps would take gcc 8 s instead of 1


def _real_and_stubbed(work: str, openblas: Path, stub: Path) -> tuple[object, object]:
    real, stubbed = _child(work, None), _child(work, stub)
    assert real.returncode == 0, real.stderr
    assert stubbed.returncode == 0, stubbed.stderr
    assert _lines(real)[0] == {"mapped": [str(openblas)]}
    assert _lines(stubbed)[0] == {"mapped": [str(stub)]}  # and not the real one
    return _lines(real)[1]["result"], _lines(stubbed)[1]["result"]


def test_numpy_works_the_same_on_the_stub(openblas: Path, openblas_stub: StubResult) -> None:
    real, stubbed = _real_and_stubbed("typical", openblas, openblas_stub.stub)
    assert stubbed == real


def _exact_float32_dots() -> list[float]:
    """float32_vectors' products, summed exactly and rounded once to float32."""
    import numpy as np  # the test process's own numpy, with the real OpenBLAS

    x = [float(v) for v in (np.arange(1000, dtype=np.float32) % 7) / 3]
    y = [float(v) for v in (np.arange(1000, dtype=np.float32) % 5) / 2]

    def dot(a: list[float], b: list[float]) -> float:
        return float(np.float32(math.fsum(p * q for p, q in zip(a, b, strict=True))))

    return [dot(x, y), dot(x[::-1], y), dot(x[:999:3], y[1::3]), dot(x, y), dot(x, y)]


def test_float32_dot_products_on_the_stub_are_exact(openblas: Path, openblas_stub: StubResult) -> None:
    # The stub sums in double: its answer is the exact sum rounded to float32. OpenBLAS's
    # unrolled kernels sum in float32 in an order that depends on the CPU (CI's differs from
    # this machine's), so its answer is only within a few float32 roundings of it.
    real, stubbed = _real_and_stubbed("float32_vectors", openblas, openblas_stub.stub)
    exact = _exact_float32_dots()
    assert stubbed == exact
    assert real == pytest.approx(exact, rel=8 * 2.0**-24, abs=0)


@pytest.mark.parametrize(
    ("work", "symbol"),
    [("float_matrix_product", "scipy_cblas_dgemm64_"), ("inverse", None)],
)
def test_blas_work_on_the_stub_aborts_naming_the_symbol(
    work: str, symbol: str | None, openblas: Path, openblas_stub: StubResult
) -> None:
    done = _child(work, openblas_stub.stub)
    assert done.returncode == -signal.SIGABRT, done.stderr
    assert _lines(done) == [{"mapped": [str(openblas_stub.stub)]}]
    lines = list(_TRAP_LINE.finditer(done.stderr))
    assert len(lines) == 1, done.stderr
    assert lines[0]["library"] == openblas.name
    assert lines[0]["symbol"] in _exports(openblas)
    if symbol is not None:
        assert lines[0]["symbol"] == symbol
    else:
        assert lines[0]["symbol"].startswith("scipy_")  # whatever numpy.linalg calls first (dcopy today)


# --- a library with everything OpenBLAS lacks -------------------------------------------------


@pytest.fixture(scope="module")
def real_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("real")
    (where / "real.c").write_text(REAL_SOURCE)
    (where / "real.map").write_text(REAL_VERSION_SCRIPT)
    subprocess.run(
        [
            *("gcc", "-shared", "-fPIC", "-O1", f"-Wl,-soname,{REAL_SONAME}"),
            *(
                f"-Wl,--version-script={where / 'real.map'}",
                "-o",
                str(where / REAL_SONAME),
                str(where / "real.c"),
            ),
        ],
        check=True,
        capture_output=True,
    )
    return where / REAL_SONAME


_CTYPES_CHILD = r"""
import ctypes, json, sys

lib = ctypes.CDLL(sys.argv[1])
dlvsym = ctypes.CDLL(None).dlvsym
dlvsym.restype = ctypes.c_void_p
dlvsym.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
old, new = (dlvsym(lib._handle, b"versioned", v) for v in (b"V1", b"V2"))
lib.version_text.restype = ctypes.c_char_p
print(json.dumps({
    "version_text": lib.version_text().decode(),
    "weak_function": lib.weak_function(123),
    "table": list((ctypes.c_ubyte * 24).in_dll(lib, "table")),
    "versions": [old is not None, new is not None, old != new],
}), flush=True)
call = sys.argv[2]
if call == "versioned@V1":
    ctypes.CFUNCTYPE(ctypes.c_int)(old)()
else:
    getattr(lib, call)()
"""


@pytest.mark.parametrize("assembly_traps", [True, False], ids=["assembly", "C"])
@pytest.mark.parametrize("call", ["answer", "versioned@V1", "indirect", "untyped_label"])
def test_a_versioned_library_is_stubbed_completely(
    assembly_traps: bool, call: str, real_library: Path, tmp_path: Path
) -> None:
    if assembly_traps and platform.machine() != "x86_64":
        pytest.skip("assembly traps are written for x86-64 only")
    stub = tmp_path / REAL_SONAME
    result = write_stub_library(
        real_library, stub, tmp_path / "work", REAL_BENIGN, assembly_traps=assembly_traps
    )
    assert result.versions == 2
    assert result.thread_locals == 1
    assert sorted(result.benign) == ["version_text", "weak_function"]
    _assert_same_exports(real_library, stub)
    assert {"versioned@V1", "versioned@@V2", "versioned_old", "answer@@V1"} <= set(_exports(stub))

    done = subprocess.run(
        [sys.executable, "-c", _CTYPES_CHILD, str(stub), call],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == -signal.SIGABRT, done.stderr
    assert json.loads(done.stdout.splitlines()[0]) == {
        "version_text": "stub",
        "weak_function": 7,
        "table": [0] * 24,
        "versions": [True, True, True],
    }
    trap = _TRAP_LINE.search(done.stderr)
    assert trap is not None, done.stderr
    assert (trap["symbol"], trap["library"]) == (call.partition("@")[0], REAL_SONAME)
