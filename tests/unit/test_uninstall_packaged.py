"""Is this the self-removing one-file agent? Its data directory, its environment, the launcher from source."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from agent.uninstall.base import DATA_MARKER
from agent.uninstall.packaged import detect_packaged, private_data_dir, redirect_environment, temp_roots
from installer import agent_launcher
from installer.settings import SOURCE_SETTINGS, BuildSettings
from tests.unit.uninstall_layout import make_layout


def test_running_from_source_is_never_self_removing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # This very process: not frozen, so even a build that asks for self-removal gets none.
    assert detect_packaged(self_removing=True) is None
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert agent_launcher.prepare_packaged(BuildSettings(self_removal=True)) is None
    assert agent_launcher.prepare_packaged(SOURCE_SETTINGS) is None
    assert list(tmp_path.iterdir()) == []
    assert Path(agent_launcher.__file__).exists()


def test_one_file_build_is_detected(tmp_path: Path) -> None:
    layout = make_layout(tmp_path)
    run = detect_packaged(
        self_removing=True,
        frozen=True,
        meipass=str(layout.unpack_dir),
        executable=str(layout.executable),
        roots=(layout.temp_root,),
    )
    assert run is not None
    assert run.executable == layout.executable.resolve()
    assert run.unpack_dir == layout.unpack_dir.resolve()
    assert run.temp_roots[0] == layout.temp_root.resolve()
    assert run.data_dir is None


def test_other_builds_are_not_self_removing(tmp_path: Path) -> None:
    layout = make_layout(tmp_path)
    exe, unpack = str(layout.executable), str(layout.unpack_dir)
    # The console (or any build without the flag).
    assert detect_packaged(self_removing=False, frozen=True, meipass=unpack, executable=exe) is None
    # Not frozen.
    assert detect_packaged(self_removing=True, frozen=False, meipass=unpack, executable=exe) is None
    # One-folder: _MEIPASS is the executable's _internal directory.
    internal = layout.executable.parent / "_internal"
    internal.mkdir()
    assert detect_packaged(self_removing=True, frozen=True, meipass=str(internal), executable=exe) is None
    # One-folder, old layout: _MEIPASS is the executable's own directory.
    beside = str(layout.executable.parent)
    assert detect_packaged(self_removing=True, frozen=True, meipass=beside, executable=exe) is None
    # An unpack directory that is not PyInstaller's.
    other = layout.temp_root / "other"
    other.mkdir()
    assert detect_packaged(self_removing=True, frozen=True, meipass=str(other), executable=exe) is None


def test_private_data_directory_is_private_marked_and_reused(tmp_path: Path) -> None:
    first = private_data_dir(tmp_path, name="alice")
    assert first == tmp_path / "madoguchi-agent-alice"
    assert (first / DATA_MARKER).is_file()
    if sys.platform != "win32":
        assert stat.S_IMODE(first.stat().st_mode) & 0o077 == 0
    (first / "keep").write_text("x")
    assert private_data_dir(tmp_path, name="alice") == first
    assert (first / "keep").exists()


def test_a_name_taken_by_something_else_is_never_used(tmp_path: Path) -> None:
    foreign = tmp_path / "madoguchi-agent-bob"
    foreign.mkdir()
    (foreign / "their-file").write_text("not ours")
    chosen = private_data_dir(tmp_path, name="bob")
    assert chosen != foreign
    assert chosen.name.startswith("madoguchi-agent-")
    assert not (foreign / DATA_MARKER).exists()
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / "madoguchi-agent-eve").symlink_to(target, target_is_directory=True)
    chosen = private_data_dir(tmp_path, name="eve")
    assert chosen.parent == tmp_path
    assert not chosen.is_symlink()
    assert list(target.iterdir()) == []


def test_environment_points_temporary_files_and_caches_into_the_data_directory(tmp_path: Path) -> None:
    env: dict[str, str] = {"HOME": "/home/x", "XDG_CONFIG_HOME": "/home/x/.config"}
    changes = redirect_environment(tmp_path, env, platform="linux")
    assert env["TMPDIR"] == env["TEMP"] == env["TMP"] == str(tmp_path / "tmp")
    assert env["XDG_CACHE_HOME"] == str(tmp_path / "cache")
    # The customer's configuration stays readable (default browser and mail client).
    assert env["XDG_CONFIG_HOME"] == "/home/x/.config"
    assert set(changes) == {"TMPDIR", "TEMP", "TMP", "XDG_CACHE_HOME"}
    assert (tmp_path / "tmp").is_dir()
    assert (tmp_path / "cache").is_dir()
    windows_env: dict[str, str] = {}
    assert "XDG_CACHE_HOME" not in redirect_environment(tmp_path, windows_env, platform="win32")


def test_temp_roots_are_resolved_and_unique(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    roots = temp_roots({"TMPDIR": str(link), "TMP": str(real), "TEMP": os.fspath(tmp_path / "missing")})
    assert roots == (real.resolve(),)
