"""The Windows backend's pure parts (helper script, its environment and note) and its fallback, on any OS.

Starting the helper and MoveFileExW need Windows: the packaged Windows test
(tests/functional/test_packaged_windows.py) runs them for real in CI.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from agent.uninstall import plan_removal
from agent.uninstall.base import RemovalPlan
from agent.uninstall.windows import (
    WindowsRemover,
    helper_environment,
    helper_script,
    note_text,
    prepare_helper,
)
from tests.unit.uninstall_layout import Layout, make_layout


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return make_layout(tmp_path)


@pytest.fixture
def plan(layout: Layout) -> RemovalPlan:
    return plan_removal(
        layout.executable, layout.unpack_dir, layout.data_dir, temp_roots=[layout.temp_root], home=layout.home
    )


def test_script_is_ascii_with_crlf_and_names_no_path() -> None:
    script = helper_script()
    script.encode("ascii")
    assert script.endswith("\r\n")
    assert "\n" not in script.replace("\r\n", "")
    assert not re.search(r"[A-Za-z]:\\|/tmp|\\Users", script)


def test_every_variable_the_script_reads_is_provided(plan: RemovalPlan) -> None:
    files = prepare_helper(plan, 4242)
    env = helper_environment(plan, files, (4242, 4241), base={"PATH": "x", "MADOGUCHI_RM_STALE": "y"})
    used = set(re.findall(r"%(MADOGUCHI_RM_\w+)%", helper_script()))
    used |= set(re.findall(r"defined (MADOGUCHI_RM_\w+)", helper_script()))
    assert used <= set(env)
    assert "MADOGUCHI_RM_STALE" not in env
    assert env["PATH"] == "x"
    assert env["MADOGUCHI_RM_EXE"] == str(plan.executable)
    assert env["MADOGUCHI_RM_UNPACK"] == str(plan.unpack_dir)
    assert env["MADOGUCHI_RM_DATA"] == str(plan.data_dir)
    assert env["MADOGUCHI_RM_PIDS"] == "4242 4241"
    assert env["MADOGUCHI_RM_SCRIPT"] == str(files.script)


def test_paths_never_appear_inside_a_parenthesised_block() -> None:
    # A ")" in a folder name such as "Downloads (1)" would end a block early.
    depth = 0
    for line in helper_script().splitlines():
        if depth:
            assert "%MADOGUCHI_RM_" not in line or "PIDS" in line, line
        depth += line.count("(") - line.count(")") if not line.startswith("(goto)") else 0
        assert depth >= 0


def test_every_goto_and_call_has_its_label() -> None:
    script = helper_script()
    labels = set(re.findall(r"^:(\w+)", script, re.MULTILINE))
    targets = set(re.findall(r"(?:goto|call :)\s*:?(\w+)", script, re.IGNORECASE))
    assert targets <= labels


def test_the_script_deletes_every_target_and_itself_and_opens_the_note_on_failure() -> None:
    script = helper_script()
    assert 'del /f /q "%MADOGUCHI_RM_EXE%"' in script
    assert 'rd /s /q "%MADOGUCHI_RM_UNPACK%"' in script
    assert 'rd /s /q "%MADOGUCHI_RM_DATA%"' in script
    assert '(goto) 2>nul & del /f /q "%MADOGUCHI_RM_SCRIPT%"' in script
    failed = script[script.index(":failed") : script.index(":done")]
    assert 'notepad.exe "%MADOGUCHI_RM_NOTE%"' in failed
    done = script[script.index(":done") :]
    assert 'del /f /q "%MADOGUCHI_RM_NOTE%"' in done


def test_helper_files_live_beside_the_unpack_directory(plan: RemovalPlan, layout: Layout) -> None:
    files = prepare_helper(plan, 77)
    assert files.script == layout.temp_root / "madoguchi-agent-removal-77.cmd"
    assert files.note.parent == files.marker.parent == layout.temp_root
    assert files.script.read_bytes() == helper_script().encode("ascii")
    note = files.note.read_bytes()
    assert note.startswith(b"\xef\xbb\xbf")
    text = note.decode("utf-8-sig")
    for target in plan.targets:
        assert text.count(str(target)) == 2  # once in Japanese, once in English
    assert "削除" in text
    assert "delete them" in text
    assert text == note_text(plan, files.note)


@pytest.mark.skipif(sys.platform == "win32", reason="on Windows the helper starts for real")
def test_without_a_helper_the_fallback_reports_what_is_left(plan: RemovalPlan, layout: Layout) -> None:
    # No cmd.exe here: the helper cannot start and MoveFileExW does not exist, the
    # exact situation of a Windows PC whose policy blocks both for a normal user.
    outcome = WindowsRemover(pids=(1, 2), handshake_s=0.5).remove(plan)
    assert outcome.method == "none"
    assert outcome.remaining == (layout.executable, layout.unpack_dir)
    assert outcome.error is not None
    assert "helper" in outcome.error
    # What could go at once did go: the data directory and the helper's own files.
    assert not layout.data_dir.exists()
    assert not list(layout.temp_root.glob("madoguchi-agent-removal-*"))
