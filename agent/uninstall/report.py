"""The dialog that tells the customer what the agent could not delete (never a silent failure).

Shown after the main window has closed, so it stands alone; Japanese and
English together, because the customer may have switched language during the
session and the text must be understood either way. The paths are selectable
so the customer (or the operator on the phone) can copy them.

Imported by the launcher at start-up: on Linux and macOS the dialog appears
after the executable and the unpack directory are gone, when no module can be
imported any more.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from .base import RemovalOutcome

__all__ = ["REPORT_OBJECT_NAME", "removal_message", "show_removal_report"]

logger = logging.getLogger(__name__)

REPORT_OBJECT_NAME = "selfRemovalReport"
TITLE = "画面共有サポート / Screen sharing support"


def removal_message(outcome: RemovalOutcome) -> tuple[str, str]:
    """(headline, body) for ``outcome``; the body lists every path on its own line."""

    def listing(paths: Sequence[Path]) -> str:
        return "\n".join(f"    {p}" for p in paths)

    if outcome.remaining:
        paths = listing(outcome.remaining)
        headline = "プログラムを自動で削除できませんでした。\nThe program could not delete itself."
        body = (
            "お手数ですが、次のファイルとフォルダーを削除してください:\n"
            f"{paths}\n\n"
            "Please delete these files and folders yourself:\n"
            f"{paths}"
        )
        if outcome.deferred:
            later = listing(outcome.deferred)
            body += (
                "\n\n次のものはパソコンの再起動時に削除されます:\n"
                f"{later}\n"
                "These will be deleted when the computer restarts:\n"
                f"{later}"
            )
        return headline, body
    later = listing(outcome.deferred)
    headline = (
        "プログラムの一部は、パソコンの再起動時に削除されます。\n"
        "Part of the program will be deleted when the computer restarts."
    )
    body = (
        f"{later}\n\n"
        "再起動まで、これらのファイルはそのまま残ります。\n"
        "Until then, these files stay on the computer."
    )
    return headline, body


def show_removal_report(outcome: RemovalOutcome) -> None:
    """Show the report and wait until the customer closes it (needs a QApplication)."""
    headline, body = removal_message(outcome)
    logger.warning(
        "removal report shown: %s; left: %s",
        headline.replace("\n", " / "),
        ", ".join(str(p) for p in outcome.remaining) or "nothing",
    )
    if QApplication.instance() is None:
        return
    box = QMessageBox()
    box.setObjectName(REPORT_OBJECT_NAME)
    box.setIcon(QMessageBox.Icon.Warning if outcome.remaining else QMessageBox.Icon.Information)
    box.setWindowTitle(TITLE)
    box.setText(headline)
    box.setInformativeText(body)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setAccessibleName(headline.replace("\n", " "))
    box.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
    box.exec()
