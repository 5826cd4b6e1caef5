"""Linux and macOS: a running program may unlink its own files, so the agent deletes them itself.

The kernel keeps an unlinked executable and its mapped libraries alive until the
process exits, so deleting them while running is safe for code already loaded.
Two things are not loaded yet and must not be needed afterwards: PyInstaller
reads pure-Python modules from the executable on every import, and extension
modules from the unpack directory. So this runs as the agent's very last act
(after the window closed and the network stopped), everything the report needs
is imported before, and the launcher ends the process with ``os._exit``.

The one-file bootloader (the parent process) also removes the unpack directory
once we exit; doing it here as well means nothing is left if the parent is
killed first, and the parent then simply finds nothing to delete.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

from .base import Method, RemovalOutcome, RemovalPlan, Remover

__all__ = ["PosixRemover"]

logger = logging.getLogger(__name__)


def _remove_tree(path: Path, problems: list[str]) -> None:
    def on_exc(function: object, name: str, exc: BaseException) -> None:
        del function
        if not isinstance(exc, FileNotFoundError):
            problems.append(f"{name}: {exc}")

    # rmtree never follows symlinks inside the tree (it removes the link itself),
    # and on Linux it works on directory file descriptors, immune to swapped paths.
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=on_exc)
    else:
        shutil.rmtree(path, onerror=lambda f, n, info: on_exc(f, n, info[1]))


def _remove_file(path: Path, problems: list[str]) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        problems.append(f"{path}: {exc.strerror or exc}")


class PosixRemover(Remover):
    def remove(self, plan: RemovalPlan) -> RemovalOutcome:
        problems: list[str] = []
        if plan.data_dir is not None:
            _remove_tree(plan.data_dir, problems)
        _remove_tree(plan.unpack_dir, problems)
        _remove_file(plan.executable, problems)
        removed = tuple(t for t in plan.targets if not os.path.lexists(t))
        remaining = tuple(t for t in plan.targets if os.path.lexists(t))
        method: Method = "in-process"
        for problem in problems:
            logger.warning("self-removal: %s", problem)
        if remaining:
            logger.error("self-removal left %s", ", ".join(str(p) for p in remaining))
        else:
            logger.info("self-removal: removed %s", ", ".join(str(p) for p in removed))
        error = "; ".join(problems) or None
        return RemovalOutcome(method=method, removed=removed, remaining=remaining, error=error)
