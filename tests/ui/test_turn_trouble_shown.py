"""A TURN server set up wrongly is said on screen, at the customer and at the operator.

A real coturn (testbed.turn) with a REST secret the relay does not have: the relay's
per-session credentials are refused. The real agent UI and the real console run a
session against a real relay; on loopback the picture still goes direct, but each side
shows what is wrong and what to do (tell the operator / tell the administrator).
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from client_core.loop_thread import LoopThread
from operator_console.ui.messages import turn_trouble_text
from operator_console.ui.session_tab import TabState
from relay.config import IceServerConfig
from testbed.turn import RunningTurn, TurnPlan, running_turnserver
from testbed.world import World, picture_display
from tests.ui.console_login import log_in_console
from tests.ui.test_agent_flow import AgentFactory, agree, click, make_agent, wait

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytestmark = [pytest.mark.display, pytest.mark.slow]

PASSWORD = "correct horse battery"
__all__ = ["make_agent"]  # the agent UI fixture, shared with test_agent_flow


def _free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def coturn() -> Iterator[RunningTurn]:
    plan = TurnPlan(
        listen_ip="127.0.0.1", secret=secrets.token_urlsafe(24), port=_free_port(socket.SOCK_DGRAM)
    )
    with running_turnserver(plan) as turn:
        yield turn


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with picture_display(320, 240) as name:
        yield name


@pytest.fixture
def world(coturn: RunningTurn, display: str) -> Iterator[World]:
    del display  # opened before the world, closed after it (the customer captures it)
    wrong = IceServerConfig(urls=coturn.plan.urls(), turn_rest_secret="not-the-turn-servers-secret")
    world = World(ice_servers=(wrong,))
    world.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
    yield world
    world.close()


def test_the_customer_is_asked_to_tell_the_operator(
    qtbot: QtBot, world: World, make_agent: AgentFactory
) -> None:
    agent = make_agent(world.url)
    operator = world.operator("hanako", PASSWORD)
    code = agree(qtbot, agent)
    world.call(operator.client.claim(code))
    request = agent.window.request
    wait(qtbot, lambda: agent.controller.phase == "asking" and request.allow_button.isEnabled())
    assert not request.connection_problem.isVisibleTo(request)
    click(request.allow_button)
    wait(qtbot, lambda: request.connection_problem.isVisibleTo(request))
    assert "could not be used" in request.connection_problem.text()
    assert "not on your computer" in request.connection_problem.text()
    assert "Please tell the operator" in request.connection_problem.text()


@pytest.fixture
def net() -> Iterator[LoopThread]:
    loop = LoopThread("console-net")
    yield loop
    loop.stop()


def test_the_operator_is_told_what_is_wrong_and_whom_to_tell(
    qtbot: QtBot, world: World, display: str, net: LoopThread, tmp_path: Path
) -> None:
    window = log_in_console(qtbot, net, world.url, tmp_path, PASSWORD)
    tab = window.current_tab()
    assert tab is not None
    customer = world.customer(display)
    QTest.keyClicks(tab.code_page.code, world.call(customer.wait_code()))
    QTest.keyClick(tab.code_page.code, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: tab.state is TabState.LIVE, timeout=15_000)
    qtbot.waitUntil(tab.turn_note.isVisible, timeout=5_000)
    assert tab.turn_note.text() == turn_trouble_text(frozenset({"credentials_refused"}))
    assert "Tell your administrator" in tab.turn_note.text()
    window.set_language("ja")
    assert "管理者" in tab.turn_note.text()
    assert "TURN" in tab.turn_note.text()
    window.set_language("en")
    window.close()
