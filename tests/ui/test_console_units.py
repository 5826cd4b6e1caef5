"""The console's pure parts and its texts: pointer geometry and rate, typed shortcuts,
friendly messages in both languages, run-time language switch, HiDPI rendering."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF
from pytestqt.qtbot import QtBot

from client_core.i18n import switch_language
from client_core.loop_thread import LoopThread
from operator_console.peer import ConnectionStats
from operator_console.ui.info_panel import format_value
from operator_console.ui.key_guide import PALETTE, ShortcutError, parse_shortcut
from operator_console.ui.main_window import I18N_DIR, I18N_DOMAIN, ConsoleWindow, format_stats
from operator_console.ui.messages import end_text, login_error_text, refusal_text
from operator_console.ui.pointer import PointerThrottle, Rect, ViewMode, normalise, picture_rect
from operator_console.ui.session_tab import SessionTab
from operator_console.ui.settings import ConsoleSettings, settings_at
from protocol import KEY_NAMES, POINTER_FADE_S, POINTER_IDLE_S, EndReason, ErrorCode, KeyGuide

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


# --- pointer geometry --------------------------------------------------------------------


def test_fit_letterboxes_a_wide_picture_top_and_bottom() -> None:
    rect = picture_rect(ViewMode.FIT, (800, 600), (1920, 1080))
    assert rect == Rect(0.0, 75.0, 800.0, 450.0)
    assert normalise(rect, 400, 10) is None  # top bar
    assert normalise(rect, 400, 590) is None  # bottom bar
    assert normalise(rect, 0, 75) == (0.0, 0.0)
    assert normalise(rect, 200, 75 + 337.5) == (0.25, 0.75)


def test_fit_pillarboxes_a_tall_picture_left_and_right() -> None:
    rect = picture_rect(ViewMode.FIT, (800, 600), (600, 900))
    assert rect == Rect(200.0, 0.0, 400.0, 600.0)
    assert normalise(rect, 100, 300) is None
    assert normalise(rect, 700, 300) is None
    assert normalise(rect, 400, 300) == (0.5, 0.5)


def test_actual_size_is_device_pixels_and_scrolls() -> None:
    # 1920x1080 picture at 100% on a HiDPI screen (ratio 2): 960x540 logical pixels.
    centred = picture_rect(ViewMode.ACTUAL, (1000, 600), (1920, 1080), device_pixel_ratio=2.0)
    assert centred == Rect(20.0, 30.0, 960.0, 540.0)
    scrolled = picture_rect(ViewMode.ACTUAL, (600, 400), (1920, 1080), scroll=(300, 200))
    assert scrolled == Rect(-300.0, -200.0, 1920.0, 1080.0)
    x, y = normalise(scrolled, 660, 340) or (None, None)
    assert (x, y) == (960 / 1920, 540 / 1080)
    assert normalise(centred, 10, 300) is None  # beside a small picture


def test_empty_picture_never_maps() -> None:
    assert normalise(picture_rect(ViewMode.FIT, (800, 600), (0, 0)), 1, 1) is None


def test_throttle_limits_rate_and_sends_the_last_position() -> None:
    throttle = PointerThrottle(max_rate_hz=30)
    assert throttle.move(0.1, 0.1, now=0.0) == (0.1, 0.1)
    assert throttle.move(0.2, 0.2, now=0.01) is None  # too soon: pending
    assert throttle.move(0.3, 0.3, now=0.02) is None  # replaces the pending one
    due = throttle.due_in(0.02)
    assert due == pytest.approx(1 / 30 - 0.02)
    assert throttle.flush(0.025) is None
    assert throttle.flush(0.04) == (0.3, 0.3)
    assert throttle.due_in(0.04) is None


def test_throttle_sends_only_changes() -> None:
    throttle = PointerThrottle()
    assert throttle.move(0.5, 0.5, now=0.0) == (0.5, 0.5)
    assert throttle.move(0.5, 0.5, now=1.0) is None
    assert throttle.move(0.6, 0.5, now=1.01) == (0.6, 0.5)
    assert throttle.move(0.5, 0.5, now=1.02) is None  # pending...
    assert throttle.move(0.6, 0.5, now=1.03) is None  # ...and back where it was: nothing to send
    assert throttle.due_in(1.03) is None
    throttle.reset()
    assert throttle.move(0.6, 0.5, now=2.0) == (0.6, 0.5)  # after a hide, the same place is news


def test_the_resting_pointer_fades_with_the_customers() -> None:
    """The console shows where the customer's circle rests only while the customer sees it."""
    throttle = PointerThrottle()
    assert throttle.resting(0.0) is None
    throttle.move(0.4, 0.6, now=10.0)
    assert throttle.resting(10.0 + POINTER_IDLE_S - 0.01) == (0.4, 0.6, 1.0)
    fading = throttle.resting(10.0 + POINTER_IDLE_S + POINTER_FADE_S / 2)
    assert fading is not None
    assert fading[2] == pytest.approx(0.5)
    assert throttle.resting(10.0 + POINTER_IDLE_S + POINTER_FADE_S) is None  # gone, as on the agent
    assert throttle.fades_in(10.0) == pytest.approx(POINTER_IDLE_S + POINTER_FADE_S)
    throttle.reset()
    assert throttle.resting(10.5) is None  # hidden: nothing rests anywhere


def test_the_view_stops_drawing_the_resting_ring(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import numpy as np

    from operator_console.ui.video_view import VideoView
    from testbed.qt_input import mouse

    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])  # the view's and the throttle's clock
    view = VideoView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    view.set_frame(np.zeros((300, 400, 3), np.uint8))
    mouse(view.viewport(), "move", QPointF(200, 150))

    def ring_pixels() -> int:
        image = view.viewport().grab().toImage()
        return sum(
            1
            for x in range(170, 231)
            for y in range(120, 181)
            if image.pixelColor(x, y).red() > 150 and image.pixelColor(x, y).blue() < 100
        )

    assert view.underMouse() is False  # offscreen: the operator's own cursor is "elsewhere"
    assert ring_pixels() > 20  # the customer's circle rests there: shown
    clock[0] += POINTER_IDLE_S + POINTER_FADE_S + 0.01
    view.viewport().repaint()
    assert ring_pixels() == 0  # the customer's circle has faded: so has ours


# --- keyboard guide ---------------------------------------------------------------------


def test_typed_shortcuts() -> None:
    assert parse_shortcut("ctrl+shift+esc") == [("Ctrl", "Shift", "Esc")]
    assert parse_shortcut("Shift + CTRL + escape") == [("Ctrl", "Shift", "Esc")]
    assert parse_shortcut("win+r, enter") == [("Win", "R"), ("Enter",)]
    assert parse_shortcut("alt+f4") == [("Alt", "F4")]
    with pytest.raises(ShortcutError) as unknown:
        parse_shortcut("ctrl+banana")
    assert unknown.value.key == "banana"
    with pytest.raises(ShortcutError):
        parse_shortcut("ctrl+alt+shift+win+x")
    with pytest.raises(ShortcutError):
        parse_shortcut(" , ")


def test_palette_combinations_are_valid_guidance() -> None:
    for combo in PALETTE:
        assert all(key in KEY_NAMES for key in combo)
        KeyGuide(keys=(combo,))  # would raise if the protocol refused it
    for wanted in [
        ("Ctrl", "C"),
        ("Ctrl", "V"),
        ("Ctrl", "Z"),
        ("Win", "R"),
        ("Alt", "Tab"),
        ("Alt", "F4"),
        ("F5",),
        ("Enter",),
        ("Tab",),
        ("Esc",),
    ]:
        assert wanted in PALETTE


# --- texts ----------------------------------------------------------------------------------


@pytest.fixture
def japanese(qapp: object) -> Iterator[None]:
    assert switch_language(I18N_DIR, I18N_DOMAIN, "ja")
    try:
        yield
    finally:
        switch_language(I18N_DIR, I18N_DOMAIN, "en")


def _has_japanese(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text)


def test_every_error_code_and_end_reason_has_a_friendly_text_in_both_languages(
    qapp: object, japanese: None
) -> None:
    switch_language(I18N_DIR, I18N_DOMAIN, "en")
    english = {code: refusal_text(code) for code in ErrorCode}
    endings = {(reason, by): end_text(reason, by) for reason in EndReason for by in ("agent", "operator")}
    switch_language(I18N_DIR, I18N_DOMAIN, "ja")
    for code in (
        ErrorCode.UNKNOWN_CODE,
        ErrorCode.EXPIRED_CODE,
        ErrorCode.CODE_ALREADY_USED,
        ErrorCode.RATE_LIMITED,
        ErrorCode.LOCKED_OUT,
        ErrorCode.BUSY,
        ErrorCode.OPERATOR_SESSION_LIMIT,
        ErrorCode.UNAVAILABLE,
    ):
        assert f"({code.value})" not in english[code]  # a sentence of its own, not the generic fallback
        assert _has_japanese(refusal_text(code)), code
    for key, text in endings.items():
        assert _has_japanese(end_text(*key)), key
        assert text != end_text(*key)
    assert end_text(EndReason.NORMAL, "agent") == "お客さまがセッションを終了しました。"
    assert end_text(EndReason.DENIED, "agent") == "お客さまが画面共有を拒否されました。"
    # An unanswered request is not a refusal, whoever's clock ran out first.
    for by in ("agent", "relay"):
        assert "拒否" not in end_text(EndReason.ALLOW_TIMEOUT, by)
    for kind in (
        "wrong_credentials",
        "locked",
        "rate_limited",
        "unavailable",
        "unreachable",
        "certificate",
        "version",
        "error",
    ):
        assert _has_japanese(login_error_text(kind)), kind
    assert refusal_text(ErrorCode.LOCKED_OUT, 600).endswith("10分後に再度お試しください。")


def test_retry_after_is_added_in_minutes_or_seconds(qapp: object) -> None:
    assert refusal_text(ErrorCode.BUSY, 60).endswith("Try again in 60 s.")
    assert refusal_text(ErrorCode.LOCKED_OUT, 900).endswith("Try again in 15 min.")
    assert "Try again" not in refusal_text(ErrorCode.UNKNOWN_CODE)


def test_stats_line() -> None:
    stats = ConnectionStats(
        fps=29.97,
        bitrate_kbps=2345.6,
        rtt_ms=3.4,
        frames_received=100,
        frames_dropped=2,
        bytes_received=1,
        packets_lost=0,
    )
    assert format_stats(stats) == "30.0 fps  |  2,346 kbit/s  |  round trip 3 ms  |  dropped 2"
    assert format_stats(None) == ""


def test_the_pointer_toggle_reads_at_a_glance(qtbot: QtBot) -> None:
    """On and off differ in words and in colour, not only in a sunken border."""
    from PySide6.QtGui import QColor

    from operator_console.ui.bridge import SessionBridge

    loop = LoopThread("console-net")
    try:
        tab = SessionTab(SessionBridge(loop, "http://127.0.0.1:9"))
        qtbot.addWidget(tab)
        tab.pages.setCurrentWidget(tab.live_page)
        tab.resize(1000, 600)
        tab.show()
        button = tab.pointer_button

        def fill() -> QColor:
            image = button.grab().toImage()
            return image.pixelColor(4, image.height() // 2)

        assert button.text() == "Pointer: on"
        on = fill()
        tab.set_pointing(False)
        assert button.text() == "Pointer: off"
        assert tab.view.pointing is False
        off = fill()
        assert abs(on.blue() - on.red()) > 100  # filled blue
        assert abs(off.blue() - off.red()) < 40  # plain
        button.click()
        assert button.text() == "Pointer: on"
        assert tab.view.pointing is True
    finally:
        loop.stop()


def test_sysinfo_values_are_readable(qapp: object) -> None:
    assert format_value("physical_memory_bytes", 8 * 1024**3) == ("8.0 GB", [])
    assert format_value("disk_free_bytes", 512 * 1024**2) == ("512 MB", [])
    assert format_value("cpu_clock_mhz", 2596) == ("2.60 GHz", [])
    assert format_value("router_present", True) == ("Yes", [])
    summary, lines = format_value(
        "applications", {"total": 2, "items": [{"name": "Edge", "version": "120"}, {"name": "Word"}]}
    )
    assert summary == "2 items"
    assert lines == ["Edge  120", "Word"]
    assert format_value("mac_addresses", [{"interface": "eth0", "mac": "02:00:00:00:00:01"}]) == (
        "eth0  02:00:00:00:00:01",
        [],
    )


def test_language_switches_at_run_time(qtbot: QtBot, tmp_path: Path) -> None:
    from operator_console.ui.bridge import SessionBridge

    loop = LoopThread("console-net")
    try:
        window = ConsoleWindow(
            loop, ConsoleSettings(settings_at(tmp_path / "c.ini")), relay_url="http://127.0.0.1:9", token="t"
        )
        qtbot.addWidget(window)
        tab: SessionTab = window.add_session(SessionBridge(loop, "http://127.0.0.1:9"))
        assert window.windowTitle() == "Madoguchi operator console"
        try:
            window.action("lang_ja").trigger()
            assert window.windowTitle() == "窓口 オペレーターコンソール"
            assert tab.code_page.connect_button.text() == "接続"
            assert tab.end_button.text() == "セッションを終了"
            assert tab.side.tabText(0) == "キーボード表示"
            # Key names as printed on a Japanese keyboard; the chosen list survives the switch.
            assert tab.key_guide.palette_buttons[("HankakuZenkaku",)].text() == "半角/全角"
            tab.key_guide.add_combo(("HankakuZenkaku",))
            assert tab.key_guide.combos() == [("HankakuZenkaku",)]
            assert tab.key_guide.chosen.item(0).text() == "半角/全角"
            # Two acts, two different words (not 削除 / 消去).
            assert tab.key_guide.clear_button.text() == "お客さまの画面から消す"
            assert tab.key_guide._remove_button.text() == "リストから外す"
            assert tab.pointer_button.text() == "ポインター：オン"
            assert tab.key_guide.send_button.text() == "送信"
            assert tab.info_panel.copy_button.text() == "テキストとしてコピー"
            assert window.action("fit").text() == "ウィンドウに合わせる"
        finally:
            window.action("lang_en").trigger()
        assert tab.code_page.connect_button.text() == "Connect"
        window.close()
    finally:
        loop.stop()


_HIDPI_PROBE = textwrap.dedent(
    """
    import numpy as np
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication
    from operator_console.ui.pointer import ViewMode
    from operator_console.ui.video_view import VideoView

    app = QApplication([])
    view = VideoView()
    view.set_pointing(False)
    view.resize(200, 100)
    view.show()
    yy, xx = np.mgrid[0:120, 0:240]
    picture = np.zeros((120, 240, 3), np.uint8)
    picture[...] = (((xx + yy) % 2) * 255)[..., None]  # 1-pixel checkerboard: any resampling blurs it
    view.set_frame(picture)
    view.set_mode(ViewMode.ACTUAL)
    app.processEvents()
    pixmap = view.viewport().grab()
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_RGB888)
    dpr = view.viewport().devicePixelRatioF()
    area = view.picture_area()
    x, y = round(area.x * dpr), round(area.y * dpr)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    shown = rows[:, : 3 * image.width()].reshape(image.height(), image.width(), 3)[y : y + 120, x : x + 240]
    print(dpr, area.width, area.height, int(np.abs(shown.astype(int) - picture).max()))
    """
)


def test_hidpi_100_percent_is_one_picture_pixel_per_device_pixel() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR="2")
    result = subprocess.run(
        [sys.executable, "-c", _HIDPI_PROBE], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    dpr, width, height, worst = result.stdout.split()
    assert float(dpr) == 2.0
    assert (float(width), float(height)) == (120.0, 60.0)  # logical size: half the picture's pixels
    assert int(worst) == 0  # crisp: every device pixel is exactly the picture's pixel


def _ts_messages(path: Path) -> dict[tuple[str, str], str | None]:
    import xml.etree.ElementTree as ET

    found: dict[tuple[str, str], str | None] = {}
    for context in ET.parse(path).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            translation = message.find("translation")
            unfinished = translation is None or translation.get("type") in (
                "unfinished",
                "vanished",
                "obsolete",
            )
            text = None if unfinished or translation is None else translation.text
            found[(name, message.findtext("source") or "")] = text
    return found


def test_every_ui_string_has_a_japanese_translation(tmp_path: Path) -> None:
    """``pyside6-lupdate`` over the UI sources finds no string missing from console_ja.ts."""
    lupdate = Path(sys.executable).with_name("pyside6-lupdate")
    sources = sorted(str(p) for p in (I18N_DIR.parent).glob("*.py"))
    fresh = tmp_path / "fresh.ts"
    subprocess.run([str(lupdate), *sources, "-ts", str(fresh)], check=True, capture_output=True, timeout=60)
    wanted = set(_ts_messages(fresh))
    shipped = _ts_messages(I18N_DIR / f"{I18N_DOMAIN}_ja.ts")
    assert len(wanted) > 100
    assert wanted - set(shipped) == set()
    untranslated = [key for key in wanted if not shipped[key]]
    assert untranslated == []


def test_frequent_actions_have_their_documented_shortcuts(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtGui import QKeySequence

    documented = {
        "new_tab": "Ctrl+T",
        "close_tab": "Ctrl+W",
        "enter_code": "Ctrl+L",
        "issue_code": "Ctrl+G",
        "end_session": "Ctrl+E",
        "fit": "Ctrl+0",
        "actual": "Ctrl+1",
        "pointer": "Ctrl+P",
        "key_guide": "Ctrl+K",
        "send_keys": "Ctrl+Return",
        "clear_keys": "Ctrl+Shift+K",
        "info": "Ctrl+I",
        "copy_info": "Ctrl+Shift+C",
        "side_panel": "F9",
        "next_tab": "Ctrl+Tab",
        "previous_tab": "Ctrl+Shift+Tab",
        "quit": "Ctrl+Q",
    }
    loop = LoopThread("console-net")
    try:
        window = ConsoleWindow(
            loop, ConsoleSettings(settings_at(tmp_path / "c.ini")), relay_url="http://127.0.0.1:9", token="t"
        )
        qtbot.addWidget(window)
        for name, keys in documented.items():
            assert window.action(name).shortcut() == QKeySequence(keys), name
        shortcuts = [window.action(name).shortcut().toString() for name in documented]
        assert len(set(shortcuts)) == len(shortcuts)  # no two actions fight over a key
        window.close()
    finally:
        loop.stop()


def test_both_programs_show_the_same_figures_in_japanese(qapp: object) -> None:
    """The UI walk's pairs (25.3 vs 23.5 GB, 2.60 GHz vs 2596 MHz, 無効 vs なし) now agree."""
    from PySide6.QtCore import QCoreApplication, QTranslator

    from agent.ui.language import DOMAIN as AGENT_DOMAIN
    from agent.ui.language import I18N_DIR as AGENT_I18N
    from agent.ui.sysinfo_items import item_label, item_value
    from client_core.i18n import ensure_compiled
    from operator_console.ui.info_panel import item_label as console_label

    translators = []
    for folder, domain in ((AGENT_I18N, AGENT_DOMAIN), (I18N_DIR, I18N_DOMAIN)):
        qm = ensure_compiled(folder / f"{domain}_ja.ts")
        assert qm is not None
        translator = QTranslator()
        assert translator.load(str(qm))
        QCoreApplication.installTranslator(translator)
        translators.append(translator)
    try:
        readings = {
            "physical_memory_bytes": 27_165_204_480,
            "disk_free_bytes": 82_600_000_000,
            "cpu_clock_mhz": 2596,
            "firewall": {"enabled": False, "provider": ""},
        }
        for key, value in readings.items():
            assert format_value(key, value)[0] == item_value(key, value), key
            assert console_label(key) == item_label(key), key
        assert format_value("firewall", readings["firewall"])[0] == "無効"
        assert format_value("disk_free_bytes", readings["disk_free_bytes"])[0] == "76.9 GB"
    finally:
        for translator in translators:
            QCoreApplication.removeTranslator(translator)


def test_the_pointer_has_one_colour_on_both_sides() -> None:
    from PySide6.QtGui import QColor

    from agent.ui.theme import POINTER
    from operator_console.ui.video_view import POINTER_COLOUR

    assert QColor(POINTER) == POINTER_COLOUR


def test_customer_information_values_keep_half_the_side_panel(qtbot: QtBot) -> None:
    """Long item names (ネットワークアダプターのアドレス（MAC）) used to push the values out of a
    390 px side panel; the names now take at most half and elide, with the full name as tooltip."""
    from operator_console.ui.info_panel import SysInfoPanel
    from protocol import SysInfoReport

    switch_language(I18N_DIR, I18N_DOMAIN, "ja")
    try:
        panel = SysInfoPanel()
        qtbot.addWidget(panel)
        panel.resize(390, 600)
        panel.show()
        report = SysInfoReport(
            scope="detailed",
            data={"os": "Windows 11 Pro", "ie_version": "11.0", "mac_addresses": ["00:11:22:33:44:55"]},
            unavailable={"default_mail_client_version": "no default set"},
        )
        panel.set_report(report)
        qtbot.wait(20)
        viewport = panel.tree.viewport().width()
        assert panel.tree.columnWidth(0) <= viewport // 2
        assert panel.tree.columnWidth(1) >= viewport // 2 - 1
        first = panel.tree.topLevelItem(0)
        assert first is not None
        assert first.toolTip(0) == first.text(0)
    finally:
        switch_language(I18N_DIR, I18N_DOMAIN, "en")
