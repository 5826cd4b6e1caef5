"""What self-removal deletes, the checks that keep it from deleting anything else, and the backend base.

Exception tree (the whole of it)::

    UninstallError(Exception)          root of everything this package raises
    +-- UnsupportedPlatformError       no backend for this OS (raised by the factory)
    +-- UnsafeTargetError              a path failed a safety check; ``path`` and
                                       ``reason`` say which and why; nothing was deleted

Defence in depth: the packaged agent only ever deletes three things, and
:func:`plan_removal` refuses to plan anything else:

- the one-file executable the customer downloaded (a regular file, not inside the
  unpack directory, i.e. not a one-folder build);
- PyInstaller's unpack directory (``sys._MEIPASS``): named ``_MEI...``, directly in a
  temporary directory, holding PyInstaller's ``base_library.zip``;
- the agent's private data directory (:mod:`agent.uninstall.packaged`): named
  ``madoguchi-agent-...``, directly in a temporary directory, holding our marker file,
  and on POSIX owned by us and closed to others;

plus, on Windows, the helper's own script, note and marker (``madoguchi-agent-removal-<pid>.*``
directly in the temporary directory). No target may be a symlink, a filesystem root,
the home directory or a temporary directory itself.
"""

from __future__ import annotations

import abc
import dataclasses
import logging
import os
import re
import stat
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

__all__ = [
    "DATA_DIR_PREFIX",
    "DATA_MARKER",
    "HELPER_PREFIX",
    "Method",
    "RemovalOutcome",
    "RemovalPlan",
    "Remover",
    "UninstallError",
    "UnsafeTargetError",
    "UnsupportedPlatformError",
    "check_data_dir",
    "check_executable",
    "check_helper_file",
    "check_unpack_dir",
    "plan_removal",
]

logger = logging.getLogger(__name__)

DATA_DIR_PREFIX = "madoguchi-agent-"
"""Name prefix of the private data directory (the rest is the user name, or random)."""
DATA_MARKER = ".madoguchi-agent-data"
"""File written into the data directory when it is created: proof that it is ours."""
HELPER_PREFIX = "madoguchi-agent-removal-"
"""Name prefix of the Windows helper's script and note in the temporary directory."""
UNPACK_MARKER = "base_library.zip"
"""PyInstaller extracts this into every unpack directory."""

_UNPACK_NAME = re.compile(r"_MEI\w+\Z")

Method = Literal["in-process", "helper", "at-reboot", "none"]


class UninstallError(Exception):
    """Root of the self-removal errors."""


class UnsupportedPlatformError(UninstallError):
    """No self-removal backend for this OS."""

    def __init__(self, platform: str) -> None:
        super().__init__(f"self-removal is not supported on {platform!r}")
        self.platform = platform


class UnsafeTargetError(UninstallError):
    """A path failed a safety check, so nothing was deleted."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"refusing to delete {path}: {reason}")
        self.path = path
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class RemovalPlan:
    """Everything the packaged agent deletes; only :func:`plan_removal` should build one."""

    executable: Path
    unpack_dir: Path
    data_dir: Path | None
    temp_root: Path
    """The temporary directory the unpack and data directories live in."""

    @property
    def targets(self) -> tuple[Path, ...]:
        """In deletion order: the executable last on POSIX would be safer, but the
        backends order deletions themselves; this is the list to show a person."""
        found = (self.executable, self.unpack_dir, self.data_dir)
        return tuple(p for p in found if p is not None)


@dataclasses.dataclass(frozen=True)
class RemovalOutcome:
    """What happened. ``remaining`` is what the customer must delete by hand."""

    method: Method
    removed: tuple[Path, ...] = ()
    remaining: tuple[Path, ...] = ()
    deferred: tuple[Path, ...] = ()
    """Handed to a helper or to the next reboot: gone later, not yet."""
    error: str | None = None

    @property
    def complete(self) -> bool:
        return not self.remaining


class Remover(abc.ABC):
    """One OS's way of deleting the running agent's files (the process is still alive)."""

    @abc.abstractmethod
    def remove(self, plan: RemovalPlan) -> RemovalOutcome:
        """Delete (or arrange to delete) every target of ``plan``; never raises for I/O errors."""


# --- safety checks (pure apart from stat calls; the unit tests drive them on temp dirs) -----------


def _same(a: Path, b: Path) -> bool:
    return os.path.normcase(os.path.normpath(a)) == os.path.normcase(os.path.normpath(b))


def _inside(child: Path, parent: Path) -> bool:
    child_s = os.path.normcase(os.path.normpath(child))
    parent_s = os.path.normcase(os.path.normpath(parent))
    return child_s.startswith(parent_s.rstrip("\\/") + os.sep) or _same(child, parent)


def _refuse_broad(path: Path, protected: Iterable[Path]) -> None:
    if not path.is_absolute():
        raise UnsafeTargetError(path, "not an absolute path")
    if path.parent == path or len(path.parts) < 3:
        raise UnsafeTargetError(path, "too close to the filesystem root")
    for p in protected:
        if _same(path, p) or _inside(p, path):
            raise UnsafeTargetError(path, f"it is or contains the protected directory {p}")


def _lstat(path: Path) -> os.stat_result:
    try:
        return path.lstat()
    except OSError as exc:
        raise UnsafeTargetError(path, f"cannot examine it ({exc.strerror or exc})") from exc


def _not_a_link(path: Path, st: os.stat_result) -> None:
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeTargetError(path, "it is a symbolic link")
    # Windows junctions are reparse points that are not symlinks for lstat.
    attributes = getattr(st, "st_file_attributes", 0)
    if attributes & getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0x400):
        raise UnsafeTargetError(path, "it is a reparse point (junction or link)")


def _owned_and_private(path: Path, st: os.stat_result, uid: int | None) -> None:
    # On Windows %TEMP% is per user and PyInstaller gives its directory a
    # user-only ACL; POSIX ownership bits mean nothing there.
    if sys.platform != "win32":
        if st.st_uid != (os.getuid() if uid is None else uid):
            raise UnsafeTargetError(path, "it belongs to another user")
        if st.st_mode & 0o022:
            raise UnsafeTargetError(path, "others may write to it")


def _directly_in(path: Path, temp_roots: Sequence[Path]) -> None:
    if not any(_same(path.parent, root) for root in temp_roots):
        roots = ", ".join(str(r) for r in temp_roots)
        raise UnsafeTargetError(path, f"it is not directly in a temporary directory ({roots})")


def check_executable(path: Path, *, unpack_dir: Path, protected: Iterable[Path]) -> None:
    _refuse_broad(path, protected)
    st = _lstat(path)
    _not_a_link(path, st)
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeTargetError(path, "it is not a regular file")
    if _inside(path, unpack_dir):
        raise UnsafeTargetError(path, "it lives in the unpack directory (a one-folder build)")


def check_unpack_dir(
    path: Path, *, temp_roots: Sequence[Path], protected: Iterable[Path], uid: int | None = None
) -> None:
    _refuse_broad(path, protected)
    if not _UNPACK_NAME.match(path.name):
        raise UnsafeTargetError(path, "its name is not PyInstaller's _MEI...")
    _directly_in(path, temp_roots)
    st = _lstat(path)
    _not_a_link(path, st)
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeTargetError(path, "it is not a directory")
    _owned_and_private(path, st, uid)
    if not (path / UNPACK_MARKER).is_file():
        raise UnsafeTargetError(path, f"it has no {UNPACK_MARKER}, so it is not PyInstaller's")


def check_data_dir(
    path: Path, *, temp_roots: Sequence[Path], protected: Iterable[Path], uid: int | None = None
) -> None:
    _refuse_broad(path, protected)
    if not path.name.startswith(DATA_DIR_PREFIX) or path.name.startswith(HELPER_PREFIX):
        raise UnsafeTargetError(path, f"its name does not start with {DATA_DIR_PREFIX}")
    _directly_in(path, temp_roots)
    st = _lstat(path)
    _not_a_link(path, st)
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeTargetError(path, "it is not a directory")
    _owned_and_private(path, st, uid)
    if not (path / DATA_MARKER).is_file():
        raise UnsafeTargetError(path, f"it has no {DATA_MARKER}, so it is not ours")


def check_helper_file(path: Path, *, temp_roots: Sequence[Path], protected: Iterable[Path]) -> None:
    """The Windows helper's script, note or start marker (they may not exist yet)."""
    _refuse_broad(path, protected)
    if not path.name.startswith(HELPER_PREFIX) or path.suffix.lower() not in (".cmd", ".txt", ".started"):
        raise UnsafeTargetError(path, f"its name is not {HELPER_PREFIX}<pid>.cmd/.txt/.started")
    _directly_in(path, temp_roots)
    if os.path.lexists(path):
        st = _lstat(path)
        _not_a_link(path, st)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeTargetError(path, "it is not a regular file")


def plan_removal(
    executable: Path,
    unpack_dir: Path,
    data_dir: Path | None,
    *,
    temp_roots: Sequence[Path],
    home: Path | None = None,
    uid: int | None = None,
) -> RemovalPlan:
    """Check every target; raise :class:`UnsafeTargetError` on the first that fails.

    ``temp_roots`` are the temporary directories the unpack and data directories
    may live in (the one the bootloader used; the caller resolves symlinks such
    as macOS's ``/var -> /private/var`` first). ``home`` is protected as a whole.
    ``uid`` is the owner the directories must have (default: this process's user).
    """
    if not temp_roots:
        raise UninstallError("no temporary directory to check the targets against")
    protected = [*temp_roots, *([home] if home is not None else [])]
    check_unpack_dir(unpack_dir, temp_roots=temp_roots, protected=protected, uid=uid)
    check_executable(executable, unpack_dir=unpack_dir, protected=protected)
    if data_dir is not None:
        check_data_dir(data_dir, temp_roots=temp_roots, protected=protected, uid=uid)
        if _inside(executable, data_dir):
            raise UnsafeTargetError(executable, "it lives in the data directory")
    plan = RemovalPlan(
        executable=executable, unpack_dir=unpack_dir, data_dir=data_dir, temp_root=temp_roots[0]
    )
    logger.info("self-removal planned: %s", ", ".join(str(t) for t in plan.targets))
    return plan
