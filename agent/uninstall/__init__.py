"""Self-removal of the packaged agent (R6, R25): per-OS backends behind :func:`create_remover`.

Modules: :mod:`~agent.uninstall.base` (the plan, its safety checks, the errors,
the backend base), :mod:`~agent.uninstall.posix` (Linux, macOS: delete in
process), :mod:`~agent.uninstall.windows` (a detached helper after exit,
``MoveFileExW`` at reboot as the fallback), :mod:`~agent.uninstall.factory`,
:mod:`~agent.uninstall.packaged` (is this the one-file build; its private data
directory), :mod:`~agent.uninstall.hook` (the agent UI's exit hook) and
:mod:`~agent.uninstall.report` (the Qt dialog for what is left).
docs/packaging.md describes the whole.

Importing this package does not import Qt or any backend.
"""

from .base import (
    RemovalOutcome,
    RemovalPlan,
    Remover,
    UninstallError,
    UnsafeTargetError,
    UnsupportedPlatformError,
    plan_removal,
)
from .factory import create_remover
from .packaged import PackagedRun, detect_packaged, private_data_dir, redirect_environment

__all__ = [
    "PackagedRun",
    "RemovalOutcome",
    "RemovalPlan",
    "Remover",
    "UninstallError",
    "UnsafeTargetError",
    "UnsupportedPlatformError",
    "create_remover",
    "detect_packaged",
    "plan_removal",
    "private_data_dir",
    "redirect_environment",
]
