"""Is this the packaged one-file agent? Where may it write? (Everything it writes must be deletable.)

Only the one-file agent built by ``installer/`` removes itself: the build bakes
``SELF_REMOVAL = True`` into its settings, PyInstaller marks the process
``sys.frozen``, and a one-file build unpacks into a fresh ``_MEI...`` directory
under the temporary directory (a one-folder build's ``_MEIPASS`` is next to the
executable and is never treated as removable). A source checkout, the console
and a one-folder build never delete anything.

One private directory per user collects whatever the agent and the libraries
under it write, so that removal is one ``rmtree``:

- ``TMPDIR``/``TEMP``/``TMP`` point into it (Qt's lock file and local socket
  for the single-instance guard, ``QDir.tempPath()``, Python's ``tempfile``,
  child processes such as the system-information commands);
- on Linux and macOS ``XDG_CACHE_HOME`` points into it (fontconfig's cache,
  Mesa's shader cache, Qt's caches). ``XDG_CONFIG_HOME`` and ``XDG_DATA_HOME``
  are left alone on purpose: the system-information collector reads the
  customer's default browser and mail client from them, and nothing in the
  agent writes there (the packaged test proves it by comparing ``$HOME``);
- the log goes there when the program has no console.

Its name is fixed per user (``madoguchi-agent-<user>``) so that a second start
finds the first one's single-instance lock; if that name is taken by something
that is not ours (another owner, a symlink, open to others), a random
``madoguchi-agent-XXXXXXXX`` is used instead.
"""

from __future__ import annotations

import dataclasses
import getpass
import logging
import os
import re
import stat
import sys
import tempfile
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from .base import DATA_DIR_PREFIX, DATA_MARKER

__all__ = [
    "PackagedRun",
    "detect_packaged",
    "private_data_dir",
    "redirect_environment",
    "temp_roots",
]

logger = logging.getLogger(__name__)

_MARKER_TEXT = "Private files of the Madoguchi screen-sharing agent; deleted when it closes.\n"


@dataclasses.dataclass(frozen=True)
class PackagedRun:
    """The running one-file agent: what it consists of and where it may write."""

    executable: Path
    unpack_dir: Path
    temp_roots: tuple[Path, ...]
    """Temporary directories the bootloader may have unpacked into, resolved."""
    data_dir: Path | None = None

    def with_data_dir(self, data_dir: Path) -> PackagedRun:
        return dataclasses.replace(self, data_dir=data_dir)


def temp_roots(environ: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """Every temporary directory the bootloader or Python may have chosen, resolved, without duplicates.

    Windows' ``GetTempPath`` reads ``TMP`` before ``TEMP``; Python reads
    ``TMPDIR``, ``TEMP``, ``TMP``; the values may be 8.3 short names or symlinks
    (macOS ``/var`` -> ``/private/var``), hence ``resolve``.
    """
    env = os.environ if environ is None else environ
    found: list[Path] = []
    candidates = [env.get(name) for name in ("TMPDIR", "TMP", "TEMP")]
    candidates.append(tempfile.gettempdir() if environ is None else None)
    for candidate in candidates:
        if not candidate:
            continue
        try:
            path = Path(candidate).resolve()
        except OSError:
            continue
        if path.is_dir() and path not in found:
            found.append(path)
    return tuple(found)


def detect_packaged(
    *,
    self_removing: bool,
    frozen: bool | None = None,
    meipass: str | None = None,
    executable: str | None = None,
    roots: tuple[Path, ...] | None = None,
) -> PackagedRun | None:
    """The packaged one-file agent, or ``None`` (source checkout, one-folder build, console).

    The keyword arguments default to this process (``sys.frozen``,
    ``sys._MEIPASS``, ``sys.executable``, :func:`temp_roots`); tests pass their own.
    """
    if not self_removing:
        return None
    is_frozen = bool(getattr(sys, "frozen", False)) if frozen is None else frozen
    unpack = getattr(sys, "_MEIPASS", None) if meipass is None else meipass
    if not is_frozen or not unpack:
        return None
    exe = Path(sys.executable if executable is None else executable).resolve()
    unpack_dir = Path(unpack).resolve()
    # One-folder builds keep _MEIPASS beside (or under) the executable: never ours to delete.
    if unpack_dir == exe.parent or exe.parent in unpack_dir.parents or unpack_dir in exe.parents:
        logger.info("one-folder build (%s): no self-removal", unpack_dir)
        return None
    if not re.match(r"_MEI\w+\Z", unpack_dir.name):
        logger.info("unpack directory %s is not PyInstaller's: no self-removal", unpack_dir)
        return None
    found_roots = temp_roots() if roots is None else roots
    # The bootloader's choice comes first: the data directory goes beside it.
    ordered = (unpack_dir.parent, *(r for r in found_roots if r != unpack_dir.parent))
    return PackagedRun(executable=exe, unpack_dir=unpack_dir, temp_roots=ordered)


def _user_slug() -> str:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "user"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:40] or "user"


def _usable(path: Path) -> bool:
    """An existing directory that we made: ours, private, not a link, marked."""
    try:
        st = path.lstat()
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode):
        return False
    if sys.platform != "win32" and (st.st_uid != os.getuid() or st.st_mode & 0o077):
        return False
    return (path / DATA_MARKER).is_file()


def private_data_dir(temp_root: Path, *, name: str | None = None) -> Path:
    """Create (or reuse) the per-user private directory in ``temp_root``; mode 0700, marked."""
    path = temp_root / f"{DATA_DIR_PREFIX}{name or _user_slug()}"
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        if not _usable(path):
            # Someone else's, or a trap: never write into (or later delete) it.
            logger.warning("%s exists and is not ours; using a random directory", path)
            path = Path(tempfile.mkdtemp(prefix=DATA_DIR_PREFIX, dir=temp_root))
    else:
        (path / DATA_MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
    if not (path / DATA_MARKER).is_file():
        (path / DATA_MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
    return path


def redirect_environment(
    data_dir: Path, environ: MutableMapping[str, str] | None = None, *, platform: str | None = None
) -> dict[str, str]:
    """Point temporary files and caches into ``data_dir``; returns the variables set."""
    env = os.environ if environ is None else environ
    plat = platform or sys.platform
    tmp = data_dir / "tmp"
    tmp.mkdir(mode=0o700, exist_ok=True)
    changes = {"TMPDIR": str(tmp), "TEMP": str(tmp), "TMP": str(tmp)}
    if not plat.startswith("win32"):
        cache = data_dir / "cache"
        cache.mkdir(mode=0o700, exist_ok=True)
        changes["XDG_CACHE_HOME"] = str(cache)
    env.update(changes)
    if environ is None:
        # tempfile caches its choice on first use; forget it so it sees the new TMPDIR.
        tempfile.tempdir = None
    logger.info("private data directory %s", data_dir)
    return changes
