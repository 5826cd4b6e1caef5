"""The agent UI's exit hook for the packaged agent: plan, remove, and tell the customer if anything is left.

``run_agent(..., exit_hooks=[SelfRemoval(...)])`` (agent/ui/app.py) calls it
once, after the window closed and the network stopped, before the process
exits. A failure is never silent: whatever is left (or will only go at the next
restart) is handed to ``report``, which the launcher wires to a dialog
(:mod:`agent.uninstall.report`) listing the exact paths.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from .base import RemovalOutcome, Remover, UninstallError, plan_removal
from .factory import create_remover
from .packaged import PackagedRun

__all__ = ["SelfRemoval"]

logger = logging.getLogger(__name__)

Report = Callable[[RemovalOutcome], None]


def _log_report(outcome: RemovalOutcome) -> None:
    logger.error("not removed: %s (%s)", ", ".join(map(str, outcome.remaining)), outcome.error)


class SelfRemoval:
    """Callable exit hook; :attr:`outcome` is set once it ran."""

    def __init__(
        self,
        run: PackagedRun,
        *,
        remover: Remover | None = None,
        report: Report = _log_report,
        before: Callable[[], None] | None = None,
        home: Path | None = None,
        platform: str | None = None,
    ) -> None:
        self.run = run
        self.report = report
        self.before = before
        self.home = home
        self.outcome: RemovalOutcome | None = None
        self._remover = remover
        self._remover_error: UninstallError | None = None
        if remover is None:
            try:
                # Now, not at exit: the backend module must be imported while the
                # executable still exists (PyInstaller reads modules from it).
                self._remover = create_remover(platform=platform)
            except UninstallError as exc:
                self._remover_error = exc

    def __call__(self) -> None:
        if self.outcome is not None:
            return
        if self.before is not None:
            self.before()
        outcome = self._remove()
        self.outcome = outcome
        if outcome.remaining or outcome.method == "at-reboot":
            self.report(outcome)

    def _remove(self) -> RemovalOutcome:
        run = self.run
        everything = tuple(p for p in (run.executable, run.unpack_dir, run.data_dir) if p is not None)
        if self._remover is None:
            error = str(self._remover_error or "no self-removal backend")
            return RemovalOutcome(method="none", remaining=everything, error=error)
        try:
            plan = plan_removal(
                run.executable,
                run.unpack_dir,
                run.data_dir,
                temp_roots=run.temp_roots,
                home=self.home if self.home is not None else Path.home(),
            )
        except UninstallError as exc:
            logger.error("self-removal refused: %s", exc)
            left = tuple(p for p in everything if os.path.lexists(p))
            return RemovalOutcome(method="none", remaining=left, error=str(exc))
        try:
            return self._remover.remove(plan)
        except Exception as exc:
            # A bug must not turn into silence: tell the customer what is left.
            logger.exception("self-removal failed")
            left = tuple(p for p in plan.targets if os.path.lexists(p))
            return RemovalOutcome(method="none", remaining=left, error=repr(exc))
