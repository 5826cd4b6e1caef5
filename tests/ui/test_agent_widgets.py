"""The agent UI's parts on their own: keyboard picture, screen mapping, timers, translations, guard.

Pure geometry is checked with plain values; pictures are rendered into QImages
and their pixels read back; widgets run offscreen with fake clocks.
"""

from __future__ import annotations

import argparse
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from agent import build_config
from agent.cli import configure, resolve_relay_url
from agent.ui.code import CodePage, format_remaining
from agent.ui.keyboard import COMBO_COLOURS, KEY_FILL, combo_text, guide_geometry, key_rect, paint_key_guide
from agent.ui.keyboard_layout import ANSI, JIS, KeyboardLayout, layout_for
from agent.ui.language import I18N_DIR, apply_language
from agent.ui.request import RequestPage
from agent.ui.screens import LogicalPoint, ScreenArea, map_pointer, match_screens, screens_showing
from agent.ui.sharing_bar import format_elapsed
from agent.ui.single_instance import SingleInstance, already_running_box
from agent.ui.summary import SessionSummary, SummaryPage
from agent.ui.sysinfo_items import item_value, report_items
from madoguchi.cli import SUBCOMMANDS
from protocol import KEY_NAMES, EndReason, MonitorInfo, OperatorIdentity, SysInfoReport

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

OPERATOR = OperatorIdentity(display_name="佐藤 花子", organisation="Madoguchi Securities")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def english(qapp: QApplication) -> Iterator[None]:
    del qapp
    apply_language("en")
    yield
    apply_language("en")


# --- keyboard layouts and picture ---------------------------------------------------------


@pytest.mark.parametrize("layout", [JIS, ANSI], ids=["jis", "ansi"])
def test_layout_keys_are_protocol_names_and_do_not_overlap(layout: KeyboardLayout) -> None:
    assert layout.names <= KEY_NAMES
    rects = [(k.label, r) for k in layout.keys for r in k.rects()]
    for i, (name_a, (ax, ay, aw, ah)) in enumerate(rects):
        for name_b, (bx, by, bw, bh) in rects[i + 1 :]:
            overlap_w = min(ax + aw, bx + bw) - max(ax, bx)
            overlap_h = min(ay + ah, by + bh) - max(ay, by)
            assert overlap_w <= 1e-9 or overlap_h <= 1e-9, f"{name_a!r} overlaps {name_b!r}"
    # Every row of the main block is exactly 15 units wide, like a real keyboard.
    for row_y in (1.5, 2.5, 3.5, 4.5, 5.5):
        right = max(x + w for k in layout.keys for x, y, w, _ in k.rects() if y == row_y and x < 15)
        assert right == 15.0, f"row {row_y} ends at {right}"


def test_layouts_cover_every_key_the_operator_can_name() -> None:
    # Keys absent from a layout are still written in the chips above the picture.
    assert KEY_NAMES - JIS.names == {"NumLock", "Cmd", "`", "=", "'"}
    assert KEY_NAMES - ANSI.names == {
        "NumLock",
        "Cmd",
        "@",
        ":",
        "^",
        "Henkan",
        "Muhenkan",
        "KanaRoma",
        "HankakuZenkaku",
    }
    assert layout_for("ja") is JIS
    assert layout_for("en") is ANSI
    assert JIS.keys_named("Cmd") == JIS.keys_named("Win")
    assert len(JIS.keys_named("Shift")) == 2


def _render(layout: KeyboardLayout, combos: list[list[str]], caption: str = "") -> tuple[QImage, QRect]:
    width = 900
    geometry = guide_geometry(width, layout, caption)
    image = QImage(width, geometry.height, QImage.Format.Format_ARGB32)
    image.fill(QColor("#000000"))
    painter = QPainter(image)
    paint_key_guide(
        painter, geometry, layout=layout, combos=combos, caption=caption, names={"Space": "Space"}
    )
    painter.end()
    return image, geometry.keyboard.toRect()


def _key_colour(image: QImage, layout: KeyboardLayout, name: str) -> str:
    geometry = guide_geometry(image.width(), layout, "")
    rect = key_rect(layout.keys_named(name)[0], geometry.keyboard, layout)
    # Near the top-left corner, inside the cap, away from the centred label.
    colour = image.pixelColor(round(rect.x() + rect.width() * 0.22), round(rect.y() + rect.height() * 0.22))
    return str(colour.name()).upper()


def test_key_guide_lights_exactly_the_requested_keys(qapp: QApplication) -> None:
    del qapp
    image, _ = _render(JIS, [["Ctrl", "C"], ["Win", "R"]])
    first, second = COMBO_COLOURS[0].upper(), COMBO_COLOURS[1].upper()
    assert _key_colour(image, JIS, "C") == first
    assert _key_colour(image, JIS, "Ctrl") == first
    assert _key_colour(image, JIS, "R") == second
    assert _key_colour(image, JIS, "Win") == second
    for unlit in ("V", "X", "Alt", "Enter", "F5", "Esc"):
        assert _key_colour(image, JIS, unlit) == KEY_FILL.upper(), unlit


def test_key_guide_enter_and_function_keys(qapp: QApplication) -> None:
    del qapp
    image, _ = _render(ANSI, [["F5"], ["Enter"], ["Alt", "Tab"]])
    assert _key_colour(image, ANSI, "F5") == COMBO_COLOURS[0].upper()
    assert _key_colour(image, ANSI, "Enter") == COMBO_COLOURS[1].upper()
    assert _key_colour(image, ANSI, "Tab") == COMBO_COLOURS[2].upper()
    assert _key_colour(image, ANSI, "F6") == KEY_FILL.upper()


def test_combo_text_uses_the_printed_labels() -> None:
    names = {"Space": "スペース"}
    assert combo_text(["Ctrl", "C"], JIS, names) == "Ctrl + C"
    assert combo_text(["Win", "R"], JIS, names) == "Win + R"
    assert combo_text(["HankakuZenkaku"], JIS, names) == "半角/全角"
    assert combo_text(["Shift", "Space"], JIS, names) == "Shift + スペース"
    assert combo_text(["Up"], ANSI, names) == "↑"


def test_caption_makes_room_above_the_keyboard(qapp: QApplication) -> None:
    del qapp
    plain = guide_geometry(900, JIS, "")
    captioned = guide_geometry(900, JIS, "「コピー」はこの2つのキーを同時に押します")
    assert captioned.keyboard.top() > plain.keyboard.top()
    assert captioned.height > plain.height
    assert captioned.caption.height() > 0


# --- screen mapping -------------------------------------------------------------------------

DUAL = [
    MonitorInfo(index=0, x=0, y=0, width=1280, height=720, primary=True),
    MonitorInfo(index=1, x=1280, y=0, width=800, height=600),
]


def test_mapping_at_scale_one() -> None:
    screens = [ScreenArea(0, 0, 1280, 720), ScreenArea(1280, 0, 800, 600)]
    assert map_pointer(0.5, 0.5, 1, DUAL, screens) == LogicalPoint(1, 1680.0, 300.0)
    assert map_pointer(0.0, 0.0, 0, DUAL, screens) == LogicalPoint(0, 0.0, 0.0)


def test_mapping_at_scale_two_keeps_qt_screen_origins() -> None:
    # What Qt reports on X11 with QT_SCALE_FACTOR=2: origins native, sizes halved.
    screens = [ScreenArea(0, 0, 640, 360, 2.0), ScreenArea(1280, 0, 400, 300, 2.0)]
    assert match_screens(DUAL, screens) == {0: 0, 1: 1}
    assert map_pointer(0.5, 0.5, 1, DUAL, screens) == LogicalPoint(1, 1480.0, 150.0)
    assert map_pointer(0.25, 0.5, 0, DUAL, screens) == LogicalPoint(0, 160.0, 180.0)


def test_mapping_with_scaled_origins_and_mixed_ratios() -> None:
    # Windows per-monitor DPI: a 150 % laptop panel left of a 100 % monitor; Qt order differs.
    monitors = [
        MonitorInfo(index=0, x=1920, y=0, width=1920, height=1080, primary=True),
        MonitorInfo(index=1, x=0, y=0, width=1920, height=1080),
    ]
    screens = [ScreenArea(0, 0, 1280, 720, 1.5), ScreenArea(1920, 0, 1920, 1080, 1.0)]
    assert match_screens(monitors, screens) == {0: 1, 1: 0}
    assert map_pointer(0.5, 0.5, 1, monitors, screens) == LogicalPoint(0, 640.0, 360.0)
    assert map_pointer(0.5, 0.5, 0, monitors, screens) == LogicalPoint(1, 2880.0, 540.0)


def test_mapping_of_the_whole_desktop_and_of_unknown_monitors() -> None:
    screens = [ScreenArea(0, 0, 1280, 720), ScreenArea(1280, 0, 800, 600)]
    # Index 2 is the whole desktop (2080 x 720): x 0.75 -> 1560 physical, on the second monitor.
    point = map_pointer(0.75, 0.25, 2, DUAL, screens)
    assert point == LogicalPoint(1, 1560.0, 180.0)
    assert map_pointer(0.5, 0.5, 3, DUAL, screens) is None
    assert map_pointer(0.5, 0.5, 1, DUAL, screens[:1]) is None
    assert screens_showing(2, DUAL, screens) == [0, 1]
    assert screens_showing(1, DUAL, screens) == [1]


# --- timers and texts ---------------------------------------------------------------------------


def test_time_formats() -> None:
    assert format_elapsed(0) == "0:00"
    assert format_elapsed(754.9) == "12:34"
    assert format_elapsed(3725) == "1:02:05"
    assert format_remaining(599.2) == (10, 0)
    assert format_remaining(0.0) == (0, 0)
    assert format_remaining(61) == (1, 1)


def test_request_declines_when_the_countdown_runs_out(qtbot: QtBot, english: None) -> None:
    clock = Clock()
    page = RequestPage(clock=clock)
    qtbot.addWidget(page)
    page.ask(OPERATOR, 60.0)
    assert page.countdown.text() == "If you do not answer, the request is declined in 60 s."
    clock.now += 59.2
    qtbot.waitUntil(lambda: "in 1 s" in page.countdown.text(), timeout=2000)
    with qtbot.waitSignal(page.decided, timeout=2000) as blocker:
        clock.now += 1.0
    assert blocker.args == [False]
    assert not page.allow_button.isEnabled()


def test_allow_by_keyboard(qtbot: QtBot, english: None) -> None:
    page = RequestPage()
    qtbot.addWidget(page)
    page.show()
    page.ask(OPERATOR, 60.0)
    qtbot.waitUntil(page.allow_button.hasFocus, timeout=2000)
    with qtbot.waitSignal(page.decided, timeout=2000) as blocker:
        QTest.keyClick(page.allow_button, Qt.Key.Key_Return)
    assert blocker.args == [True]


def test_code_page_counts_down(qtbot: QtBot, english: None) -> None:
    clock = Clock()
    page = CodePage(clock=clock)
    qtbot.addWidget(page)
    page.set_code("4817", 600.0)
    assert page.expiry.text() == "This number is valid for 10 min 00 s."
    assert page.digits.accessibleName() == "Your number: 4 8 1 7"
    clock.now += 75.5
    qtbot.waitUntil(lambda: "8 min 45 s" in page.expiry.text(), timeout=2000)
    page.set_reconnecting(1)
    assert page.state == "reconnecting"
    assert page.code == "4817"
    assert not page.new_code_button.isEnabled()


def test_summary_lists_the_system_information_sent(qtbot: QtBot, english: None) -> None:
    page = SummaryPage()
    qtbot.addWidget(page)
    report = SysInfoReport(
        scope="normal",
        data={
            "os": "Windows",
            "os_version": "11 23H2",
            "default_browser": None,
            "default_browser_version": None,
        },
        unavailable={"default_browser": "no default set", "default_browser_version": "no default set"},
    )
    page.show_summary(
        SessionSummary(
            shared=True,
            operator=OPERATOR,
            shared_seconds=125.4,
            reason=EndReason.NORMAL,
            by="operator",
            areas=(DUAL[0],),
            monitor_count=1,
            system_information=report,
        )
    )
    assert page.heading.text() == "Screen sharing has ended"
    rows = page.sysinfo_rows()
    assert rows == [
        ("Operating system", "Windows"),
        ("Version", "11 23H2"),
        ("Web browser", "not available"),
        ("Web browser version", "not available"),
    ]
    details = [value for _, value in page.detail_rows()]
    assert details == [
        "佐藤 花子 (Madoguchi Securities)",
        "Your screen (1280 × 720)",
        "2 min 5 s",
        "The operator ended the session.",
    ]


def test_system_information_values_read_well() -> None:
    assert item_value("physical_memory_bytes", 8 * 1024**3) == "8.0 GB"  # GB as Windows counts it
    assert item_value("cpu_clock_mhz", 2596) == "2.60 GHz"
    assert item_value("router_present", True) == "yes"
    assert item_value("applications", {"total": 231, "items": []}) == "231 programs"
    assert item_value("firewall", {"enabled": True, "provider": "Windows Defender Firewall"}) == (
        "on (Windows Defender Firewall)"
    )
    assert item_value("mac_addresses", [{"interface": "eth0", "mac": "02:fc:00:00:00:01"}]) == (
        "eth0 02:fc:00:00:00:01"
    )
    report = SysInfoReport(scope="normal", data={"os": "Windows"}, unavailable={})
    assert report_items(report) == [("Operating system", "Windows")]


# --- translations ------------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{[a-z_]+(?::[^}]*)?\}")


def test_every_string_has_a_japanese_translation_with_the_same_placeholders() -> None:
    tree = ET.parse(I18N_DIR / "agent_ja.ts")
    messages = list(tree.iter("message"))
    assert len(messages) > 100
    for message in messages:
        source = message.findtext("source") or ""
        translation = message.find("translation")
        assert translation is not None
        assert translation.get("type") not in ("unfinished", "obsolete", "vanished"), source
        text = translation.text or ""
        assert text.strip(), source
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(source)), source


def test_translations_are_current_with_the_sources(tmp_path: Path) -> None:
    """Every tr() string in agent/ui is in the .ts file (run pyside6-lupdate when this fails)."""
    sources = re.compile(
        r"""(?:self\.tr\(|(?:translate|QT_TRANSLATE_NOOP)\(\s*"\w+",)\s*((?:"(?:[^"\\]|\\.)*"\s*)+)"""
    )
    known = {m.findtext("source") for m in ET.parse(I18N_DIR / "agent_ja.ts").iter("message")}
    missing = []
    for path in sorted(Path(I18N_DIR).parent.glob("*.py")):
        for match in sources.finditer(path.read_text(encoding="utf-8")):
            parts = re.findall(r'"((?:[^"\\]|\\.)*)"', match.group(1))
            text = "".join(parts).encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
            if text not in known:
                missing.append((path.name, text))
    assert missing == []


def test_japanese_is_shown_after_switching(qtbot: QtBot, english: None) -> None:
    page = RequestPage()
    qtbot.addWidget(page)
    page.ask(OPERATOR, 60.0)
    assert page.allow_button.text() == "Allow"
    apply_language("ja")
    qtbot.waitUntil(lambda: page.allow_button.text() == "許可する", timeout=2000)
    assert page.who.text() == "Madoguchi Securitiesの佐藤 花子が、お客さまの画面の表示をお願いしています。"
    assert already_running_box().text() == "画面共有プログラムはすでに起動しています。"
    apply_language("en")
    qtbot.waitUntil(lambda: page.allow_button.text() == "Allow", timeout=2000)
    assert already_running_box().text() == "The screen sharing program is already running."


# --- single instance and command line ------------------------------------------------------------


def test_second_instance_hands_over_to_the_first(qtbot: QtBot, tmp_path: Path) -> None:
    key = f"madoguchi-agent-test-{os.getpid()}"
    first = SingleInstance(key, tmp_path)
    second = SingleInstance(key, tmp_path)
    try:
        assert first.acquire()
        assert not second.acquire()
        with qtbot.waitSignal(first.activated, timeout=3000):
            assert second.notify_running()
        first.release()
        assert second.acquire()
    finally:
        first.release()
        second.release()


def test_relay_url_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MADOGUCHI_RELAY_URL", raising=False)
    assert resolve_relay_url() == build_config.RELAY_URL
    monkeypatch.setenv("MADOGUCHI_RELAY_URL", "https://relay.example.jp/")
    assert resolve_relay_url() == "https://relay.example.jp"
    assert resolve_relay_url("http://10.0.0.5:8765") == "http://10.0.0.5:8765"


def test_agent_subcommand_is_registered() -> None:
    assert SUBCOMMANDS["agent"][0] == "agent.cli"
    parser = argparse.ArgumentParser()
    configure(parser)
    args = parser.parse_args(["--relay", "http://r:1", "--lang", "ja"])
    assert (args.relay, args.lang) == ("http://r:1", "ja")
    with pytest.raises(SystemExit):
        parser.parse_args(["--lang", "fr"])
