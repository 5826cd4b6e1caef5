"""The operator sees that the customer chose not to share PC information (issue 18, item 4)."""

from __future__ import annotations

import os

from pytestqt.qtbot import QtBot

from operator_console.ui.info_panel import SysInfoPanel
from protocol import SysInfoReport

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def test_declined_report_is_said_in_the_panel(qtbot: QtBot) -> None:
    panel = SysInfoPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_report(SysInfoReport(scope="detailed", data={}, unavailable={}, declined=True))
    assert panel.placeholder.isVisible()
    assert panel.placeholder.text() == "The customer chose not to share PC information."
    assert not panel.tree.isVisible()
    assert not panel.copy_button.isEnabled()
    panel.set_report(SysInfoReport(scope="normal", data={"os": "Windows"}, unavailable={}))
    assert panel.tree.isVisible()
    assert panel.tree.topLevelItemCount() == 1
    panel.set_report(None)
    assert panel.placeholder.text() == "The customer's system information appears here once it arrives."
