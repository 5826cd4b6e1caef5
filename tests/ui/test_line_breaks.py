"""Japanese lines break between phrases, never inside a word (issue 18, item 9).

The real Qt line breaker (QTextLayout, as QLabel uses it) lays out the text at a
narrow width; every line must end where BudouX says a phrase ends. Without the
marks, Qt breaks inside words - the test checks that too, so it can fail.
"""

from __future__ import annotations

import os

import budoux
import pytest
from PySide6.QtGui import QTextLayout, QTextOption
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from agent.ui.theme import font
from agent.ui.widgets import label
from client_core.line_breaks import WORD_JOINER, ZERO_WIDTH_SPACE, phrase_breaks, plain

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SENTENCES = [
    "個人的な書類やメールなど、オペレーターに見られたくないものは、共有を始める前に閉じておいてください。",
    "画面を共有しているあいだにパスワードを入力した場合は、念のため、いますぐパスワードを変更してください。",
    "佐藤 花子が、お客さまの画面の表示をお願いしています。",
]


def wrapped_lines(text: str, width: int) -> list[str]:
    layout = QTextLayout(text, font(20))
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WordWrap)
    layout.setTextOption(option)
    layout.beginLayout()
    lines = []
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        lines.append(plain(text[line.textStart() : line.textStart() + line.textLength()]).strip())
    layout.endLayout()
    return lines


def phrase_ends(text: str) -> set[int]:
    ends, at = set(), 0
    for phrase in budoux.load_default_japanese_parser().parse(text):
        at += len(phrase)
        ends.add(at)
    return ends


def line_ends(lines: list[str]) -> list[int]:
    ends, at = [], 0
    for line in lines[:-1]:
        at += len(line)
        ends.append(at)
    return ends


@pytest.mark.parametrize("width", [180, 260, 340])
def test_lines_break_only_between_phrases(qapp: QApplication, width: int) -> None:
    del qapp
    mid_word = 0
    for sentence in SENTENCES:
        marked = wrapped_lines(phrase_breaks(sentence), width)
        assert "".join(marked).replace(" ", "") == sentence.replace(" ", "")
        assert len(marked) > 1
        ends = phrase_ends(sentence.replace(" ", ""))
        assert set(line_ends([m.replace(" ", "") for m in marked])) <= ends, marked
        unmarked = wrapped_lines(sentence, width)
        mid_word += len(set(line_ends([u.replace(" ", "") for u in unmarked])) - ends)
    assert mid_word > 0, "Qt alone breaks inside words: the check above must be able to fail"


def test_text_without_japanese_is_unchanged() -> None:
    assert phrase_breaks("Please close personal documents.") == "Please close personal documents."
    assert plain(phrase_breaks(SENTENCES[0])) == SENTENCES[0]
    assert ZERO_WIDTH_SPACE in phrase_breaks(SENTENCES[0])
    assert WORD_JOINER in phrase_breaks(SENTENCES[0])


def test_agent_labels_use_it_and_report_the_plain_text(qtbot: QtBot) -> None:
    widget = label("sample")
    qtbot.addWidget(widget)
    widget.setText(SENTENCES[0])
    assert widget.text() == SENTENCES[0]
    assert ZERO_WIDTH_SPACE in QLabel.text(widget)  # what Qt lays out


def test_a_broken_budoux_install_leaves_the_text_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    # A package missing one of BudouX's data files (the first packaged build did) must
    # cost only the phrase breaks, never the window that sets the text.
    import client_core.line_breaks as line_breaks

    def missing_file() -> None:
        raise FileNotFoundError("budoux/skip_nodes.json")

    monkeypatch.setattr(budoux, "load_default_japanese_parser", missing_file)
    line_breaks._parser.cache_clear()
    try:
        assert phrase_breaks(SENTENCES[0]) == SENTENCES[0]
    finally:
        monkeypatch.undo()
        line_breaks._parser.cache_clear()
    assert phrase_breaks(SENTENCES[0]) != SENTENCES[0]  # the real one again: the test can fail
