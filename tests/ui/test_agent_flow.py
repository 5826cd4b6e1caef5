"""The customer's agent UI against a real relay and a real operator (pytest-qt, offscreen Qt).

The agent under test is the real :class:`AgentController` + :class:`SessionBridge`
+ :class:`agent.session.AgentSession`, capturing the test Xvfb with mss; the
operator is :class:`operator_console.client.OperatorClient` on its own loop
thread (:mod:`testbed.world`). Buttons are clicked as a customer would.

"Nothing captured before Allow" is observed at the source: the track factory is
the only way to a screen grab, and the tests record every call to it.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QWidget
from pytestqt.qtbot import QtBot

from agent.track import ScreenTrack
from agent.ui.bridge import SessionBridge, screen_track
from agent.ui.controller import AgentController
from agent.ui.language import apply_language
from agent.ui.notice import NoticeKind
from agent.ui.theme import apply_theme
from client_core.i18n import Language
from operator_console.client import ClaimAccepted, CustomerMessage, Refused, ViewingStarted
from protocol import EndReason, KeyGuide, KeyGuideClosed, Monitors, SharingState, SysInfoReport
from testbed.operator import Operator
from testbed.redis import running_redis
from testbed.world import World

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytestmark = [pytest.mark.display, pytest.mark.slow]

PASSWORD = "correct horse battery"
NAME, ORGANISATION = "佐藤 花子", "Madoguchi Securities"
FAST = {"reconnect_delays_s": (0.2,), "reconnect_give_up_s": 1.5}


@dataclasses.dataclass
class Agent:
    controller: AgentController
    bridge: SessionBridge
    tracks: list[ScreenTrack]
    finished: list[bool]

    @property
    def window(self) -> Any:
        return self.controller.window


WorldFactory = Callable[..., World]
AgentFactory = Callable[..., Agent]


@pytest.fixture
def make_world() -> Iterator[WorldFactory]:
    worlds: list[World] = []

    def make(**relay_overrides: Any) -> World:
        world = World(**relay_overrides)
        world.add_operator("hanako", PASSWORD, NAME, ORGANISATION)
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        world.close()


@pytest.fixture
def world(make_world: WorldFactory) -> World:
    return make_world()


@pytest.fixture
def make_agent(qtbot: QtBot, xvfb: str) -> Iterator[AgentFactory]:
    del xvfb  # DISPLAY points at the test Xvfb: that is the screen the agent shares
    agents: list[Agent] = []

    def make(url: str, *, language: Language = "en", options: dict[str, Any] | None = None) -> Agent:
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        assert isinstance(app, QApplication)
        apply_theme(app)
        apply_language(language)
        tracks: list[ScreenTrack] = []

        def factory(area: int, count: int) -> ScreenTrack:
            track = screen_track(area, count)
            tracks.append(track)
            return track

        bridge = SessionBridge(url, locale=language, track_factory=factory, session_options=options or FAST)
        controller = AgentController(bridge, language)
        finished: list[bool] = []
        controller.finished.connect(lambda: finished.append(True))
        controller.start()
        agent = Agent(controller, bridge, tracks, finished)
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        agent.bridge.shutdown()
        agent.controller.finish()
    apply_language("en")


def click(button: QAbstractButton) -> None:
    """A real left click in the middle of the button, as the customer would."""
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def wait(qtbot: QtBot, predicate: Callable[[], object], timeout_s: float = 10.0) -> None:
    qtbot.waitUntil(lambda: bool(predicate()), timeout=round(timeout_s * 1000))


def agree(qtbot: QtBot, agent: Agent) -> str:
    """Wait for the terms, press Agree, return the number shown."""
    wait(qtbot, lambda: agent.window.consent.state == "ready")
    click(agent.window.consent.agree_button)
    wait(qtbot, lambda: agent.window.code.state == "waiting")
    code: str = agent.window.code.code
    assert len(code) == 4
    assert code.isdigit()
    return code


def ask(qtbot: QtBot, world: World, agent: Agent) -> Operator:
    """Up to the operator's request on screen."""
    operator = world.operator("hanako", PASSWORD)
    code = agree(qtbot, agent)
    operator.claim(code)
    wait(qtbot, lambda: agent.controller.phase == "asking")
    wait(qtbot, lambda: operator.saw(ClaimAccepted))
    return operator


def share(qtbot: QtBot, world: World, agent: Agent) -> Operator:
    operator = ask(qtbot, world, agent)
    click(agent.window.request.allow_button)
    wait(qtbot, lambda: operator.saw(ViewingStarted) and agent.controller.phase == "sharing")
    wait(qtbot, lambda: operator.frames >= 1)
    return operator


# --- consent and number ---------------------------------------------------------------


def test_nothing_is_registered_before_agree(qtbot: QtBot, world: World, make_agent: AgentFactory) -> None:
    agent = make_agent(world.url)
    wait(qtbot, lambda: agent.window.consent.state == "ready")
    assert "Screen sharing terms of use" in agent.window.consent.terms.toPlainText()
    assert agent.window.consent.reminder.text() != ""
    qtbot.wait(300)
    before = world.stats()
    assert (before.connections, before.codes_pending) == (0, 0)
    assert not agent.bridge.active

    code = agree(qtbot, agent)
    after = world.stats()
    assert after.codes_pending == 1
    assert "Please read this number to the operator." in agent.window.code.instruction.text()
    assert code in agent.window.code.digits.accessibleName().replace(" ", "")
    assert "valid for 9 min" in agent.window.code.expiry.text() or "10 min" in agent.window.code.expiry.text()
    assert agent.tracks == []


def test_terms_follow_the_language_switch(qtbot: QtBot, world: World, make_agent: AgentFactory) -> None:
    agent = make_agent(world.url, language="ja")
    consent = agent.window.consent
    wait(qtbot, lambda: consent.state == "ready")
    assert "画面共有サービス利用規約" in consent.terms.toPlainText()
    assert consent.heading.text() == "はじめる前に"
    assert consent.agree_button.text() == "同意する"
    assert agent.window.language_button.text() == "English"
    assert_accessible(agent.window)

    click(agent.window.language_button)
    wait(qtbot, lambda: "Screen sharing terms of use" in consent.terms.toPlainText())
    assert consent.heading.text() == "Before we start"
    assert consent.agree_button.text() == "Agree"
    assert agent.window.language_button.text() == "日本語"
    assert_accessible(agent.window)


def assert_accessible(window: QWidget) -> None:
    """Every button of every page has a name a screen reader can say."""
    buttons = window.findChildren(QAbstractButton)
    assert len(buttons) >= 10
    unnamed = [b.objectName() for b in buttons if not b.accessibleName().strip()]
    assert unnamed == []


def test_unloadable_terms_block_agree(qtbot: QtBot, world: World, make_agent: AgentFactory) -> None:
    world.stop_relay()
    agent = make_agent(world.url)
    consent = agent.window.consent
    wait(qtbot, lambda: consent.state == "failed")
    assert not consent.agree_button.isEnabled()
    assert consent.retry_button.isVisibleTo(consent)
    assert "could not be loaded" in consent.status.text()
    world.start_relay(port=int(world.url.rsplit(":", 1)[1]))
    click(consent.retry_button)
    wait(qtbot, lambda: consent.state == "ready")
    assert consent.agree_button.isEnabled()


def test_new_number_replaces_the_old_one(qtbot: QtBot, world: World, make_agent: AgentFactory) -> None:
    agent = make_agent(world.url)
    first = agree(qtbot, agent)
    click(agent.window.code.new_code_button)
    wait(qtbot, lambda: agent.window.code.state == "waiting" and agent.window.code.code != first)
    wait(qtbot, lambda: world.stats().codes_pending == 1)
    operator = world.operator("hanako", PASSWORD)
    operator.claim(first)
    wait(qtbot, lambda: operator.saw(Refused))
    assert agent.controller.phase == "code"


def test_busy_relay_says_when_to_try_again(
    qtbot: QtBot, make_world: WorldFactory, make_agent: AgentFactory
) -> None:
    world = make_world(max_sessions=0, busy_retry_after_s=180.0)
    agent = make_agent(world.url)
    wait(qtbot, lambda: agent.window.consent.state == "ready")
    click(agent.window.consent.agree_button)
    notice = agent.window.notice
    wait(qtbot, lambda: agent.controller.phase == "notice")
    assert notice.kind is NoticeKind.BUSY
    assert notice.heading.text() == "All lines are busy"
    assert "about 3 minutes" in notice.body.text()
    # Try again: still busy, still calm.
    click(notice.retry_button)
    wait(qtbot, lambda: agent.controller.phase == "code")
    wait(qtbot, lambda: agent.controller.phase == "notice")
    assert notice.kind is NoticeKind.BUSY
    assert world.stats().codes_pending == 0
    assert agent.tracks == []


def test_relay_without_its_store_says_try_again_later(
    qtbot: QtBot, make_world: WorldFactory, make_agent: AgentFactory
) -> None:
    """Several relay nodes whose Redis is down refuse new registrations (``unavailable``):
    the customer reads the same calm try-again page as when the lines are busy."""
    with running_redis() as redis_server:
        redis_server.kill()
        world = make_world(store=redis_server.url)
        agent = make_agent(world.url)
        wait(qtbot, lambda: agent.window.consent.state == "ready")
        click(agent.window.consent.agree_button)
        wait(qtbot, lambda: agent.controller.phase == "notice")
        assert agent.window.notice.kind is NoticeKind.BUSY
        assert agent.tracks == []


# --- the operator's request ---------------------------------------------------------------


def test_allow_shares_and_pause_sends_nothing_new(
    qtbot: QtBot, world: World, make_agent: AgentFactory
) -> None:
    agent = make_agent(world.url)
    operator = ask(qtbot, world, agent)
    request = agent.window.request
    assert request.who.text() == f"{NAME} of {ORGANISATION} would like to see your screen."
    assert "declined in" in request.countdown.text()
    qtbot.wait(500)
    # Asked, not yet allowed: nothing was captured, nothing reached the operator.
    assert agent.tracks == []
    assert operator.frames == 0

    click(request.allow_button)
    wait(qtbot, lambda: agent.controller.phase == "sharing")
    wait(qtbot, lambda: operator.frames >= 1)
    [track] = agent.tracks
    bar = agent.controller.bar
    assert bar.isVisible()
    # The name is kept on one line (a no-break space between family and given name).
    assert bar.title.text() == f"Sharing your screen with {NAME.replace(' ', chr(0xA0))}"
    assert agent.controller.border.visible
    assert not agent.window.isVisible()

    # The operator's guidance reaches the overlays over the data channel.
    wait(qtbot, operator.channel_open)
    operator.pointer(0.25, 0.5)
    wait(qtbot, lambda: agent.controller.pointer.position is not None)
    assert agent.controller.pointer.isVisible()
    operator.key_guide([["Ctrl", "C"]], "Copy")
    guide = agent.controller.key_guide
    wait(qtbot, lambda: guide.guide == KeyGuide(keys=(("Ctrl", "C"),), caption="Copy"))
    assert guide.isVisible()
    click(guide.close_button)  # the customer dismisses it
    assert guide.guide is None
    assert not guide.isVisible()
    # ... and the operator is told, so the console stops claiming the keys are shown.
    wait(qtbot, lambda: any(isinstance(e.message, KeyGuideClosed) for e in customer_messages(operator)))

    click(bar.pause_button)
    wait(qtbot, lambda: any(e.message == SharingState(paused=True) for e in customer_messages(operator)))
    assert track.paused
    assert bar.pause_button.text() == "Resume"
    assert bar.status.isVisibleTo(bar)
    qtbot.wait(500)  # frames already on the wire may still land
    frozen = operator.frames
    qtbot.wait(2200)  # longer than the 1.5 s keep-alive that an unpaused static screen sends
    assert operator.frames == frozen

    click(bar.pause_button)
    wait(qtbot, lambda: operator.frames > frozen, timeout_s=5)
    assert any(e.message == SharingState(paused=False) for e in customer_messages(operator))


def customer_messages(operator: Operator) -> list[CustomerMessage]:
    return [e for e in operator.events if isinstance(e, CustomerMessage)]


def test_stop_ends_both_sides_at_once(qtbot: QtBot, world: World, make_agent: AgentFactory) -> None:
    agent = make_agent(world.url)
    operator = share(qtbot, world, agent)
    [track] = agent.tracks
    wait(qtbot, lambda: any(isinstance(e.message, SysInfoReport) for e in customer_messages(operator)))
    started = time.monotonic()
    click(agent.controller.bar.stop_button)
    assert not agent.controller.bar.isVisible()
    assert not agent.controller.border.visible
    wait(qtbot, lambda: operator.ended is not None, timeout_s=2)
    assert time.monotonic() - started < 1.0
    assert operator.ended is not None
    assert operator.ended.reason is EndReason.NORMAL
    assert operator.ended.by == "agent"
    wait(qtbot, lambda: track.readyState == "ended", timeout_s=1)
    stopped = operator.frames
    qtbot.wait(600)
    assert operator.frames == stopped

    wait(qtbot, lambda: agent.controller.phase == "summary")
    summary = agent.window.summary
    assert summary.heading.text() == "Screen sharing has ended"
    values = [value for _, value in summary.detail_rows()]
    assert f"{NAME} ({ORGANISATION})" in values
    assert "You stopped sharing." in values
    assert summary.password.isVisibleTo(summary)
    assert "change it now" in summary.password.text()
    # What the system-information collector sent is listed, in words.
    assert summary.sysinfo_title.isVisibleTo(summary)
    assert summary.sysinfo_title.text() == "System information sent to the operator"
    labels = [name for name, _ in summary.sysinfo_rows()]
    assert "Operating system" in labels
    assert "Memory" in labels
    assert agent.window.isVisible()


def test_deny_shares_nothing(qtbot: QtBot, world: World, make_agent: AgentFactory) -> None:
    agent = make_agent(world.url)
    operator = ask(qtbot, world, agent)
    click(agent.window.request.deny_button)
    wait(qtbot, lambda: operator.ended is not None)
    assert operator.ended is not None
    assert operator.ended.reason is EndReason.DENIED
    wait(qtbot, lambda: agent.controller.phase == "summary")
    summary = agent.window.summary
    assert summary.heading.text() == "Your screen was not shared"
    assert summary.body.text() == "You declined the request."
    assert not summary.password.isVisibleTo(summary)
    assert not summary.sysinfo_title.isVisibleTo(summary)
    qtbot.wait(300)
    assert agent.tracks == []
    assert operator.frames == 0


def test_unanswered_request_is_declined(
    qtbot: QtBot, make_world: WorldFactory, make_agent: AgentFactory
) -> None:
    world = make_world(allow_timeout_s=2.0)
    agent = make_agent(world.url)
    operator = ask(qtbot, world, agent)
    wait(qtbot, lambda: agent.controller.phase == "summary", timeout_s=6)
    # The operator hears of it through the relay, a moment after the customer's screen changed.
    wait(qtbot, lambda: operator.ended is not None)
    assert operator.ended is not None
    # Not "denied": nobody declined, and the operator must not tell the customer they did.
    assert operator.ended.reason is EndReason.ALLOW_TIMEOUT
    assert agent.window.summary.body.text() == "The request was not answered in time, so it was declined."
    events = [row.event for row in world.relay.audit_rows()]
    assert "allow_timeout" in events
    assert "denied" not in events
    assert agent.tracks == []
    assert operator.frames == 0


# --- closing and failures -----------------------------------------------------------------------


def test_closing_the_window_while_asked_tells_the_operator(
    qtbot: QtBot, world: World, make_agent: AgentFactory
) -> None:
    agent = make_agent(world.url)
    operator = ask(qtbot, world, agent)
    agent.window.close()
    wait(qtbot, lambda: operator.ended is not None)
    assert operator.ended is not None
    assert operator.ended.by == "agent"
    wait(qtbot, lambda: agent.finished == [True])
    assert not agent.window.isVisible()
    assert agent.tracks == []


def test_closing_the_window_while_sharing_shows_the_summary(
    qtbot: QtBot, world: World, make_agent: AgentFactory
) -> None:
    agent = make_agent(world.url)
    operator = share(qtbot, world, agent)
    agent.window.close()
    wait(qtbot, lambda: operator.ended is not None, timeout_s=2)
    wait(qtbot, lambda: agent.controller.phase == "summary")
    assert agent.window.isVisible()
    assert agent.finished == []
    click(agent.window.summary.close_button)
    wait(qtbot, lambda: agent.finished == [True])


def test_relay_down_then_unreachable_then_retry(qtbot: QtBot, world: World, make_agent: AgentFactory) -> None:
    agent = make_agent(world.url)
    wait(qtbot, lambda: agent.window.consent.state == "ready")
    port = int(world.url.rsplit(":", 1)[1])
    world.stop_relay()
    click(agent.window.consent.agree_button)
    code_page = agent.window.code
    wait(qtbot, lambda: "Cannot reach the support centre" in code_page.status.text())
    wait(qtbot, lambda: agent.controller.phase == "notice", timeout_s=8)
    assert agent.window.notice.kind is NoticeKind.UNREACHABLE
    world.start_relay(port=port)
    click(agent.window.notice.retry_button)
    wait(qtbot, lambda: code_page.state == "waiting")


def test_relay_restart_gives_a_new_number_and_says_so(
    qtbot: QtBot, world: World, make_agent: AgentFactory
) -> None:
    agent = make_agent(world.url)
    agree(qtbot, agent)
    code_page = agent.window.code
    assert not code_page.changed.isVisibleTo(code_page)
    port = int(world.url.rsplit(":", 1)[1])
    world.stop_relay()  # a clean restart: the relay says goodbye to everyone first
    wait(qtbot, lambda: code_page.state == "connecting")
    wait(qtbot, lambda: "Cannot reach the support centre" in code_page.status.text())
    world.start_relay(port=port)
    wait(qtbot, lambda: code_page.state == "waiting" and code_page.changed.isVisibleTo(code_page))
    assert world.stats().codes_pending == 1
    assert code_page.changed.text() == "The number has changed. Please read the new number to the operator."


def test_relay_crash_gives_a_new_number_and_says_so(
    qtbot: QtBot, world: World, make_agent: AgentFactory
) -> None:
    proxy = world.link()
    agent = make_agent(proxy.url)
    first = agree(qtbot, agent)
    code_page = agent.window.code
    port = int(world.url.rsplit(":", 1)[1])
    # A crash: the agent's connection dies without a goodbye, the relay forgets everything.
    world.cut(proxy)
    wait(qtbot, lambda: code_page.state == "reconnecting" or code_page.code != first)
    world.stop_relay()
    world.start_relay(port=port)
    wait(qtbot, lambda: code_page.state == "waiting" and code_page.changed.isVisibleTo(code_page))
    assert world.stats().codes_pending == 1


def test_network_drop_while_sharing_recovers_without_a_new_number(
    qtbot: QtBot, world: World, make_agent: AgentFactory
) -> None:
    proxy = world.link()
    agent = make_agent(proxy.url)
    operator = share(qtbot, world, agent)
    bar = agent.controller.bar
    world.cut(proxy)
    wait(qtbot, lambda: "Reconnecting" in bar.status.text() and bar.status.isVisibleTo(bar))
    wait(qtbot, lambda: not bar.status.isVisibleTo(bar))
    assert agent.controller.phase == "sharing"
    assert operator.ended is None
    # Media never went through the relay: it kept flowing.
    before = operator.frames
    wait(qtbot, lambda: operator.frames > before, timeout_s=5)


def test_operator_vanishing_ends_the_session(
    qtbot: QtBot, make_world: WorldFactory, make_agent: AgentFactory
) -> None:
    world = make_world(resume_grace_s=1.0)
    proxy = world.link()
    agent = make_agent(world.url)
    operator = world.operator("hanako", PASSWORD, via=proxy)
    code = agree(qtbot, agent)
    operator.claim(code)
    wait(qtbot, lambda: agent.controller.phase == "asking")
    click(agent.window.request.allow_button)
    wait(qtbot, lambda: agent.controller.phase == "sharing")
    world.run_on_loop(proxy.down)
    # The operator does not come back within the resume grace: the session ends, and
    # until then the customer is told the operator's connection was lost.
    wait(qtbot, lambda: "operator's connection was lost" in agent.controller.bar.status.text())
    wait(qtbot, lambda: agent.controller.phase == "summary", timeout_s=5)
    summary = agent.window.summary
    values = [value for _, value in summary.detail_rows()]
    assert "The connection to the operator was lost." in values
    assert summary.password.isVisibleTo(summary)
    assert not agent.controller.bar.isVisible()


def test_monitor_choice_with_two_monitors(
    qtbot: QtBot,
    world: World,
    make_agent: AgentFactory,
    xvfb_dual: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISPLAY", xvfb_dual)
    agent = make_agent(world.url)
    assert len(agent.bridge.monitors) == 2
    operator = share(qtbot, world, agent)
    box = agent.controller.bar.monitor_box
    assert box.isVisibleTo(agent.controller.bar)
    assert [box.itemText(i) for i in range(box.count())] == ["Screen 1", "Screen 2", "All screens"]
    wait(qtbot, lambda: any(isinstance(e.message, Monitors) for e in customer_messages(operator)))
    box.setCurrentIndex(1)
    box.activated.emit(1)
    wait(qtbot, lambda: any(e.message == monitors_message(agent, 1) for e in customer_messages(operator)))

    def second_monitor_frame() -> bool:
        image = operator.client.sink.latest()
        return image is not None and image.shape[:2] == (600, 800)

    wait(qtbot, second_monitor_frame, timeout_s=6)
    click(agent.controller.bar.stop_button)
    wait(qtbot, lambda: agent.controller.phase == "summary")
    values = [value for _, value in agent.window.summary.detail_rows()]
    assert "Screen 1 (1280 × 720)\nScreen 2 (800 × 600)" in values


def monitors_message(agent: Agent, active: int) -> Monitors:
    return Monitors(monitors=tuple(agent.bridge.monitors), active=active)


# --- the PC information is the customer's choice (issue 18, item 4) ----------------------------


def sysinfo_messages(operator: Operator) -> list[SysInfoReport]:
    return [e.message for e in customer_messages(operator) if isinstance(e.message, SysInfoReport)]


def test_pc_information_is_shown_before_and_can_be_withheld(
    qtbot: QtBot, world: World, make_agent: AgentFactory
) -> None:
    agent = make_agent(world.url)
    operator = ask(qtbot, world, agent)
    request = agent.window.request
    # Before Allow the page says what would go along, ticked but in plain sight.
    assert request.sysinfo_check.isVisibleTo(request)
    assert request.sysinfo_check.isChecked()
    assert request.sysinfo_check.text() == "Also send information about this computer"
    assert request.sysinfo_items.text().startswith("22 items: Operating system, Version,")
    assert (
        "Network adapter addresses (MAC), IP addresses, Installed programs." in request.sysinfo_items.text()
    )

    # The actual values, on request: read here, nothing sent, nothing captured.
    click(request.sysinfo_show)
    preview = request.preview
    wait(qtbot, lambda: preview.state == "ready", timeout_s=20)
    assert preview.isVisible()
    names = [name for name, _ in preview.rows()]
    assert names[:2] == ["Operating system", "Version"]
    assert "Installed programs" in names
    assert "Nothing has been sent yet" in preview.status.text()
    click(preview.close_button)
    assert not preview.isVisible()
    assert agent.tracks == []
    assert operator.frames == 0

    # Untick: the screen is shared, the PC information is not; the operator is told.
    click(request.sysinfo_check)
    assert not request.send_system_info
    click(request.allow_button)
    wait(qtbot, lambda: agent.controller.phase == "sharing")
    wait(qtbot, lambda: operator.frames >= 1)
    wait(qtbot, lambda: sysinfo_messages(operator))
    qtbot.wait(300)
    assert sysinfo_messages(operator) == [
        SysInfoReport(scope="detailed", data={}, unavailable={}, declined=True)
    ]
    # The relay's audit trail records the choice with the Allow.
    [allowed] = world.relay.audit_rows("allowed")
    assert allowed.detail["system_info"] == "declined"

    click(agent.controller.bar.stop_button)
    wait(qtbot, lambda: agent.controller.phase == "summary")
    assert not agent.window.summary.sysinfo_title.isVisibleTo(agent.window.summary)


def test_pc_information_sent_when_ticked_is_audited_with_its_scope(
    qtbot: QtBot, world: World, make_agent: AgentFactory
) -> None:
    agent = make_agent(world.url)
    operator = share(qtbot, world, agent)
    wait(qtbot, lambda: sysinfo_messages(operator), timeout_s=20)
    [report] = sysinfo_messages(operator)
    assert not report.declined
    assert "os" in report.data
    [allowed] = world.relay.audit_rows("allowed")
    assert allowed.detail["system_info"] == "detailed"


# --- one wrong click does not cost a re-download (issue 18, item 2) ------------------------------


def quit_question(agent: Agent) -> Any:
    question = agent.controller.quit_question
    assert question is not None
    assert question.isVisible()
    return question


@pytest.mark.parametrize("where", ["terms_cancel", "code_close", "code_cancel"])
def test_a_self_removing_agent_asks_before_quitting(
    qtbot: QtBot, world: World, make_agent: AgentFactory, where: str
) -> None:
    agent = make_agent(world.url)
    agent.controller.removes_itself = True
    window = agent.window
    wait(qtbot, lambda: window.consent.state == "ready")
    if where != "terms_cancel":
        agree(qtbot, agent)

    def ask_to_quit() -> None:
        if where == "terms_cancel":
            click(window.consent.cancel_button)
        elif where == "code_close":
            window.close()  # the title bar's ×
        else:
            click(window.code.cancel_button)

    ask_to_quit()
    question = quit_question(agent)
    assert question.text() == "Close the screen sharing program?"
    assert "download it again" in question.informativeText()
    assert question.defaultButton() is question.stay_button
    click(question.stay_button)  # "Go back": nothing changed
    wait(qtbot, lambda: agent.controller.quit_question is None)
    assert agent.finished == []
    assert window.isVisible()
    if where != "terms_cancel":
        assert agent.controller.phase == "code"
        assert window.code.state == "waiting"

    ask_to_quit()
    click(quit_question(agent).quit_button)
    wait(qtbot, lambda: agent.finished == [True])


def test_an_agent_that_stays_installed_quits_without_asking(
    qtbot: QtBot, world: World, make_agent: AgentFactory
) -> None:
    agent = make_agent(world.url)
    wait(qtbot, lambda: agent.window.consent.state == "ready")
    click(agent.window.consent.cancel_button)
    assert agent.controller.quit_question is None
    wait(qtbot, lambda: agent.finished == [True])


def test_a_session_the_operator_lost_offers_to_start_again(
    qtbot: QtBot, make_world: WorldFactory, make_agent: AgentFactory
) -> None:
    world = make_world(resume_grace_s=1.0)
    proxy = world.link()
    agent = make_agent(world.url)
    agent.controller.removes_itself = True
    operator = world.operator("hanako", PASSWORD, via=proxy)
    code = agree(qtbot, agent)
    operator.claim(code)
    wait(qtbot, lambda: agent.controller.phase == "asking")
    click(agent.window.request.allow_button)
    wait(qtbot, lambda: agent.controller.phase == "sharing")
    world.run_on_loop(proxy.down)
    wait(qtbot, lambda: agent.controller.phase == "summary", timeout_s=5)
    summary = agent.window.summary
    assert summary.again_button.isVisibleTo(summary)
    assert summary.again_button.text() == "Start again"
    # Close asks first; Start again registers a new number.
    click(summary.close_button)
    click(quit_question(agent).stay_button)
    click(summary.again_button)
    wait(qtbot, lambda: agent.window.code.state == "waiting")
    assert agent.finished == []


def test_a_session_the_customer_stopped_offers_no_start_again(
    qtbot: QtBot, world: World, make_agent: AgentFactory
) -> None:
    agent = make_agent(world.url)
    share(qtbot, world, agent)
    click(agent.controller.bar.stop_button)
    wait(qtbot, lambda: agent.controller.phase == "summary")
    assert not agent.window.summary.again_button.isVisibleTo(agent.window.summary)
