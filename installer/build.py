"""Build the packaged programs for this OS: ``python -m installer.build`` (``make dist``).

``dist/madoguchi-agent`` (``.exe`` on Windows) is one windowed file that removes
itself after use; ``dist/madoguchi-console/`` is a one-folder operator console.
``--relay-url`` bakes the relay the agent registers with (the customer types
nothing), ``--ca-file`` a private CA certificate for that relay.

Everything generated for a build (the baked settings module, compiled
translations, icon, version resources, a copy of the CA) goes into the work
directory; no source file is touched. :func:`build_cached` is what the tests
use: one build per source state, reused until a source file, a dependency
version or a baked setting changes.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from installer import ffmpeg_build, icon, icu_library, stub_library
from installer.native_trim import PLAN_NAME, Plan
from installer.settings import (
    CA_BUNDLE_NAME,
    MODULE_NAME,
    BuildSettings,
    render,
    validate_ca_file,
    validate_relay_url,
)
from installer.spec_support import version_info_text
from operator_console.cobrowse_viewer import SOURCE_FILES

__all__ = [
    "NATIVE_CACHE",
    "ROOT",
    "TARGETS",
    "BuildError",
    "Target",
    "artifact_path",
    "build",
    "build_cached",
    "prepare_native",
    "source_hash",
]

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
NATIVE_CACHE = ROOT / "build" / "native"
"""Downloads and the agent's FFmpeg build, shared by every build in this tree."""
Target = Literal["agent", "console"]
TARGETS: tuple[Target, ...] = ("agent", "console")

_SOURCES: dict[Target, tuple[str, ...]] = {
    "agent": ("agent", "madoguchi", "protocol", "installer"),
    "console": ("operator_console", "agent", "madoguchi", "protocol", "installer"),
}
_DEPENDENCIES = ("pyinstaller", "pyinstaller-hooks-contrib", "PySide6-Essentials", "aiortc", "av", "numpy")
_TRANSLATIONS: dict[Target, Path] = {
    "agent": ROOT / "agent" / "ui" / "i18n" / "agent_ja.ts",
    "console": ROOT / "operator_console" / "ui" / "i18n" / "console_ja.ts",
}


class BuildError(RuntimeError):
    """PyInstaller (or a preparation step) failed; the message ends with the log's tail."""


def artifact_path(target: Target, dist: Path) -> Path:
    exe = ".exe" if sys.platform == "win32" else ""
    if target == "agent":
        return dist / f"madoguchi-agent{exe}"
    return dist / "madoguchi-console" / f"madoguchi-console{exe}"


def _version() -> str:
    from client_core import __version__

    return __version__


def _lrelease() -> str:
    for name in ("pyside6-lrelease", "pyside6-lrelease.exe"):
        candidate = Path(sys.executable).with_name(name)
        if candidate.exists():
            return str(candidate)
    found = shutil.which("pyside6-lrelease") or shutil.which("lrelease")
    if found is None:
        raise BuildError("pyside6-lrelease not found (it comes with PySide6)")
    return found


def _compile_translation(ts_file: Path, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    qm_file = out_dir / ts_file.with_suffix(".qm").name
    command = [_lrelease(), "-silent", str(ts_file), "-qm", str(qm_file)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not qm_file.is_file():
        raise BuildError(f"lrelease failed on {ts_file}: {result.stderr.strip()}")
    return qm_file


def prepare_native(gen: Path, cache: Path = NATIVE_CACHE) -> Plan:
    """Make the agent's smaller native libraries (see :mod:`installer.native_trim`); write the plan."""
    plan = Plan()
    out = gen / "native"
    if not sys.platform.startswith("linux"):
        plan.kept["all"] = f"native libraries are only replaced on Linux (this is {sys.platform})"
    else:
        import av

        wheel_dir = Path(av.__file__).resolve().parent.parent / "av.libs"
        try:
            replaced = ffmpeg_build.build_agent_ffmpeg(wheel_dir, cache, out / "ffmpeg")
        except (ffmpeg_build.FFmpegBuildError, OSError, subprocess.SubprocessError) as exc:
            plan.kept["ffmpeg"] = f"PyAV's FFmpeg kept: {exc}"
        else:
            plan.replacements.update({name: str(path) for name, path in replaced.items()})
        _trim_icu(plan, out / "icu")
        _stub_blas(plan, out / "blas")
    for reason in plan.kept.values():
        logger.warning("%s", reason)
    (gen / PLAN_NAME).write_text(plan.to_json(), encoding="utf-8")
    return plan


def _trim_icu(plan: Plan, out: Path) -> None:
    """Qt's ICU data for ja/en/root only (installer/icu_data.py says what is kept and why)."""
    import PySide6

    found = sorted((Path(PySide6.__file__).resolve().parent / "Qt" / "lib").glob("libicudata.so.*"))
    if len(found) != 1:
        plan.kept["icu"] = f"Qt's ICU data kept: expected one libicudata.so.NN, found {len(found)}"
        return
    out.mkdir(parents=True, exist_ok=True)
    try:
        result = icu_library.trim_icu_data_library(found[0], out / found[0].name, out / "work")
    except icu_library.IcuLibraryError as exc:
        plan.kept["icu"] = f"Qt's ICU data kept: {exc}"
        return
    logger.info("%s", result.summary())
    plan.replacements[found[0].name] = str(result.dest)


def _stub_blas(plan: Plan, out: Path) -> None:
    """numpy's OpenBLAS as a stub: the agent's numpy work is integer only (installer/stub_library.py).

    Every BLAS entry point reports and aborts, except the one float32 dot product numpy's
    import-time self-check runs; tests/unit/test_agent_blas_free.py keeps the agent's code
    free of calls that would reach BLAS.
    """
    import numpy

    found = sorted(
        (Path(numpy.__file__).resolve().parent.parent / "numpy.libs").glob("libscipy_openblas*.so*")
    )
    if len(found) != 1:
        plan.kept["blas"] = f"numpy's BLAS kept: expected one libscipy_openblas, found {len(found)}"
        return
    try:
        result = stub_library.write_stub_library(
            found[0],
            out / found[0].name,
            out / "work",
            stub_library.OPENBLAS_BENIGN,
            program="madoguchi-agent",
        )
    except stub_library.StubError as exc:
        plan.kept["blas"] = f"numpy's BLAS kept: {exc}"
        return
    logger.info("%s", result.summary())
    plan.replacements[found[0].name] = str(result.stub)


VIEWER_DIR = "viewer"
"""The co-browse view's files in ``gen``; console.spec bundles them as operator_console/viewer."""


def copy_viewer(out: Path) -> list[Path]:
    """Copy the co-browse view (web/viewer and the pinned ``@rrweb/replay`` dist files) into ``out``.

    The console serves them from its own package (docs/cobrowse.md, "Packaging the view"):
    the installed ``@rrweb/replay`` must be the version web/package.json pins (``npm ci``
    in web/ installs it), or the build stops.
    """
    pinned = json.loads((ROOT / "web" / "package.json").read_text(encoding="utf-8"))["dependencies"]
    installed_file = ROOT / "web" / "node_modules" / "@rrweb" / "replay" / "package.json"
    if not installed_file.is_file():
        raise BuildError("@rrweb/replay is not installed: run `npm ci` in web/ (scripts/setup_web.sh)")
    installed = json.loads(installed_file.read_text(encoding="utf-8"))["version"]
    if installed != pinned["@rrweb/replay"]:
        raise BuildError(
            f"@rrweb/replay {installed} is installed, web/package.json pins {pinned['@rrweb/replay']}"
        )
    out.mkdir(parents=True, exist_ok=True)
    copied = []
    for name, source in SOURCE_FILES.items():
        copied.append(Path(shutil.copyfile(source, out / name)))
    return copied


def prepare(
    target: Target, gen: Path, *, relay_url: str | None, ca_file: Path | None, trim_native: bool = True
) -> BuildSettings:
    """Write everything the spec reads from ``MADOGUCHI_BUILD_GEN`` into ``gen``."""
    if gen.exists():
        shutil.rmtree(gen)
    gen.mkdir(parents=True)
    ca_bytes = validate_ca_file(ca_file) if ca_file is not None else None
    settings = BuildSettings(
        relay_url=validate_relay_url(relay_url) if relay_url else None,
        ca_bundled=ca_bytes is not None,
        self_removal=target == "agent",
        version=_version(),
        target=target,
    )
    (gen / f"{MODULE_NAME}.py").write_text(render(settings), encoding="utf-8")
    if ca_bytes is not None:
        (gen / CA_BUNDLE_NAME).write_bytes(ca_bytes)
    _compile_translation(_TRANSLATIONS[target], gen / "i18n")
    if target == "console":
        copy_viewer(gen / VIEWER_DIR)
    icon.write_icons(gen)
    for name, description in (
        ("agent", "Madoguchi screen sharing support"),
        ("console", "Madoguchi operator console"),
    ):
        text = version_info_text(
            settings.version,
            description=description,
            internal_name=f"madoguchi-{name}",
            filename=f"madoguchi-{name}.exe",
        )
        (gen / f"version_{name}.txt").write_text(text, encoding="utf-8")
    if target == "agent" and trim_native:
        prepare_native(gen)
    return settings


def build(
    target: Target,
    *,
    dist: Path,
    work: Path,
    relay_url: str | None = None,
    ca_file: Path | None = None,
    trim_native: bool = True,
) -> Path:
    """Build ``target`` into ``dist`` (PyInstaller's files in ``work``); return the program's path."""
    started = time.monotonic()
    gen = work / target / "gen"
    settings = prepare(target, gen, relay_url=relay_url, ca_file=ca_file, trim_native=trim_native)
    log_file = work / target / "pyinstaller.log"
    spec = ROOT / "installer" / f"{target}.spec"
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(dist),
        "--workpath",
        str(work / target / "pyinstaller"),
        str(spec),
    ]
    env = {**os.environ, "MADOGUCHI_BUILD_GEN": str(gen)}
    logger.info("building %s (relay %s)", target, settings.relay_url or "default")
    with log_file.open("w", encoding="utf-8") as log:
        result = subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    program = artifact_path(target, dist)
    if result.returncode != 0 or not program.exists():
        tail = log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
        raise BuildError(f"PyInstaller failed for {target} (exit {result.returncode}):\n" + "\n".join(tail))
    logger.info("built %s: %.1f MB in %.0f s", program, _size(program) / 1e6, time.monotonic() - started)
    return program


def _size(program: Path) -> int:
    if program.parent.name == "madoguchi-console":
        return sum(p.stat().st_size for p in program.parent.rglob("*") if p.is_file() and not p.is_symlink())
    return program.stat().st_size


def source_hash(target: Target, *, relay_url: str | None = None, ca_bytes: bytes | None = None) -> str:
    """A digest of everything a build of ``target`` depends on."""
    digest = hashlib.sha256()
    digest.update(f"{target}\0{relay_url}\0{sys.version}\0{sys.platform}\0".encode())
    digest.update(ca_bytes or b"")
    for name in _DEPENDENCIES:
        try:
            digest.update(f"{name}={importlib.metadata.version(name)}\0".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{name}=missing\0".encode())
    files = [ROOT / "pyproject.toml"]
    suffixes = (".py", ".spec", ".ts", ".manifest")
    for top in _SOURCES[target]:
        found = (ROOT / top).rglob("*")
        files += [p for p in found if p.is_file() and "__pycache__" not in p.parts and p.suffix in suffixes]
    if target == "console":  # the co-browse view it carries
        files += [p for p in SOURCE_FILES.values() if p.is_file()]
    for path in sorted(files):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    """One build at a time per cache (several engineers may run the tests in one tree)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a+") as handle:
        if sys.platform != "win32":
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def build_cached(
    target: Target,
    cache: Path,
    *,
    relay_url: str | None = None,
    ca_file: Path | None = None,
    keep: int = 2,
) -> Path:
    """Build once per :func:`source_hash` into ``cache/<target>-<hash>/``; reuse it afterwards."""
    ca_bytes = validate_ca_file(ca_file) if ca_file is not None else None
    key = f"{target}-{source_hash(target, relay_url=relay_url, ca_bytes=ca_bytes)}"
    out = cache / key
    with _exclusive(cache / f"{target}.lock"):
        done = out / "built"
        program = artifact_path(target, out / "dist")
        if done.is_file() and program.exists():
            logger.info("reusing %s", program)
            return program
        if out.exists():
            shutil.rmtree(out)
        program = build(target, dist=out / "dist", work=out / "work", relay_url=relay_url, ca_file=ca_file)
        shutil.rmtree(out / "work", ignore_errors=True)
        done.write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))
        # Old builds of this target: keep the newest few, they are large.
        old = sorted(
            (p for p in cache.glob(f"{target}-*") if p.is_dir() and p != out),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for stale in old[max(0, keep - 1) :]:
            shutil.rmtree(stale, ignore_errors=True)
        return program


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m installer.build", description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=[*TARGETS, "all"], default="all")
    parser.add_argument("--relay-url", metavar="URL", help="relay the agent registers with (baked in)")
    parser.add_argument("--ca-file", type=Path, metavar="PEM", help="private CA certificate of the relay")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller")
    parser.add_argument(
        "--keep-native",
        action="store_true",
        help="ship the agent with the native libraries exactly as the wheels have them (bigger)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    targets: tuple[Target, ...] = TARGETS if args.target == "all" else (args.target,)
    try:
        for target in targets:
            program = build(
                target,
                dist=args.dist,
                work=args.work,
                relay_url=args.relay_url,
                ca_file=args.ca_file,
                trim_native=not args.keep_native,
            )
            print(f"{target}: {program} ({_size(program) / 1e6:.1f} MB)")
    except (BuildError, ValueError) as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
