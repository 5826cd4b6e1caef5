"""Self-removal planning (defence in depth), the POSIX backend, the factory, the exit hook: real files."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from agent.uninstall import (
    RemovalOutcome,
    UninstallError,
    UnsafeTargetError,
    UnsupportedPlatformError,
    create_remover,
    plan_removal,
)
from agent.uninstall.base import DATA_MARKER
from agent.uninstall.hook import SelfRemoval
from agent.uninstall.posix import PosixRemover
from agent.uninstall.windows import WindowsRemover
from tests.unit.uninstall_layout import Layout, make_layout


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return make_layout(tmp_path)


def plan(layout: Layout, **changes: object) -> object:
    args: dict[str, object] = {
        "executable": layout.executable,
        "unpack_dir": layout.unpack_dir,
        "data_dir": layout.data_dir,
        "temp_roots": [layout.temp_root],
        "home": layout.home,
    }
    args.update(changes)
    return plan_removal(**args)  # type: ignore[arg-type]


def refused(layout: Layout, match: str, **changes: object) -> UnsafeTargetError:
    with pytest.raises(UnsafeTargetError, match=match) as info:
        plan(layout, **changes)
    return info.value


# --- planning --------------------------------------------------------------------------


def test_plan_lists_exactly_the_three_targets(layout: Layout) -> None:
    p = plan_removal(
        layout.executable, layout.unpack_dir, layout.data_dir, temp_roots=[layout.temp_root], home=layout.home
    )
    assert p.targets == (layout.executable, layout.unpack_dir, layout.data_dir)
    assert p.temp_root == layout.temp_root


def test_refuses_an_unpack_directory_not_named_like_pyinstallers(layout: Layout) -> None:
    other = layout.temp_root / "important"
    shutil.copytree(layout.unpack_dir, other)
    error = refused(layout, "_MEI", unpack_dir=other)
    assert error.path == other


def test_refuses_an_unpack_directory_outside_the_temporary_directory(layout: Layout) -> None:
    elsewhere = layout.home / "_MEI999"
    shutil.copytree(layout.unpack_dir, elsewhere)
    refused(layout, "not directly in a temporary directory", unpack_dir=elsewhere)


def test_refuses_an_unpack_directory_without_pyinstallers_files(layout: Layout) -> None:
    (layout.unpack_dir / "base_library.zip").unlink()
    refused(layout, "base_library.zip")


def test_refuses_a_symlink_in_place_of_the_unpack_directory(layout: Layout) -> None:
    target = layout.root / "precious"
    shutil.move(layout.unpack_dir, target)
    layout.unpack_dir.symlink_to(target, target_is_directory=True)
    refused(layout, "symbolic link")
    assert (target / "base_library.zip").exists()


def test_refuses_a_one_folder_build(layout: Layout) -> None:
    # One-folder: the executable sits inside the directory that _MEIPASS names.
    inside = layout.unpack_dir / "madoguchi-agent"
    inside.write_bytes(b"exe")
    refused(layout, "one-folder", executable=inside)


def test_refuses_an_executable_that_is_a_directory_or_a_link(layout: Layout) -> None:
    refused(layout, "regular file", executable=layout.home / "Downloads")
    link = layout.home / "agent-link"
    link.symlink_to(layout.executable)
    refused(layout, "symbolic link", executable=link)


def test_refuses_a_relative_path(layout: Layout) -> None:
    refused(layout, "absolute", executable=Path("madoguchi-agent"))


def test_refuses_a_data_directory_that_is_not_ours(layout: Layout) -> None:
    (layout.data_dir / DATA_MARKER).unlink()
    refused(layout, DATA_MARKER)


def test_refuses_a_data_directory_with_another_name(layout: Layout) -> None:
    other = layout.temp_root / "someone-else"
    shutil.copytree(layout.data_dir, other)
    refused(layout, "madoguchi-agent-", data_dir=other)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_refuses_a_data_directory_others_may_write_to_or_owned_by_someone_else(layout: Layout) -> None:
    if sys.platform != "win32":  # (the marker skips it there; this keeps mypy --platform win32 happy)
        layout.data_dir.chmod(0o777)
        refused(layout, "others may write")
        layout.data_dir.chmod(0o700)
        refused(layout, "another user", uid=os.getuid() + 1)


def test_refuses_anything_that_contains_the_home_or_temporary_directory(layout: Layout) -> None:
    # A data directory that (somehow) holds the home directory must never be deleted.
    error = refused(layout, "protected", home=layout.data_dir / "home")
    assert error.path == layout.data_dir
    with pytest.raises(UninstallError):
        plan(layout, temp_roots=[])


def test_refuses_the_filesystem_root() -> None:
    root = Path(os.path.abspath(os.sep))
    with pytest.raises(UnsafeTargetError, match="root"):
        plan_removal(root, root / "_MEI1", None, temp_roots=[root])


def test_nothing_is_deleted_when_a_check_fails(layout: Layout) -> None:
    before = layout.listing()
    (layout.unpack_dir / "base_library.zip").unlink()
    hook = SelfRemoval(layout.run, remover=PosixRemover(), home=layout.home, report=lambda o: None)
    hook()
    assert hook.outcome is not None
    assert hook.outcome.method == "none"
    assert set(hook.outcome.remaining) == {layout.executable, layout.unpack_dir, layout.data_dir}
    assert layout.listing() == before - {"tmp/_MEI123abc/base_library.zip"}


# --- the POSIX backend -----------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="a running Windows program cannot delete its files")
def test_posix_removal_deletes_the_three_targets_and_nothing_else(layout: Layout) -> None:
    keep = layout.home / "Downloads" / "letter.txt"
    keep.write_text("the customer's own file")
    outside = layout.root / "outside.txt"
    outside.write_text("x")
    # A link inside our directory pointing out of it: rmtree removes the link, not its target.
    (layout.data_dir / "link").symlink_to(outside)
    outcome = PosixRemover().remove(plan(layout))  # type: ignore[arg-type]
    assert outcome.complete
    assert outcome.method == "in-process"
    assert set(outcome.removed) == {layout.executable, layout.unpack_dir, layout.data_dir}
    assert layout.listing() == {"tmp", "home", "home/Downloads", "home/Downloads/letter.txt", "outside.txt"}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX backend")
def test_posix_removal_reports_what_it_could_not_delete(layout: Layout) -> None:
    p = plan(layout)
    # The file became a non-empty directory after planning: unlink fails for real.
    layout.executable.unlink()
    layout.executable.mkdir()
    (layout.executable / "inside").write_text("x")
    outcome = PosixRemover().remove(p)  # type: ignore[arg-type]
    assert not outcome.complete
    assert outcome.remaining == (layout.executable,)
    assert outcome.error is not None
    assert str(layout.executable) in outcome.error
    assert not layout.unpack_dir.exists()
    assert not layout.data_dir.exists()


# --- factory and hook --------------------------------------------------------------------


def test_factory_picks_the_backend_per_os() -> None:
    assert isinstance(create_remover(platform="linux"), PosixRemover)
    assert isinstance(create_remover(platform="darwin"), PosixRemover)
    assert isinstance(create_remover(platform="win32"), WindowsRemover)
    with pytest.raises(UnsupportedPlatformError) as info:
        create_remover(platform="freebsd14")
    assert info.value.platform == "freebsd14"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX backend")
def test_hook_removes_everything_once_and_stays_quiet_on_success(layout: Layout) -> None:
    reports: list[RemovalOutcome] = []
    before: list[str] = []
    hook = SelfRemoval(
        layout.run, report=reports.append, before=lambda: before.append("closed log"), home=layout.home
    )
    hook()
    hook()
    assert before == ["closed log"]
    assert hook.outcome is not None
    assert hook.outcome.complete
    assert reports == []
    assert layout.listing() == {"tmp", "home", "home/Downloads"}


def test_hook_reports_every_path_when_the_os_has_no_backend(layout: Layout) -> None:
    reports: list[RemovalOutcome] = []
    hook = SelfRemoval(layout.run, report=reports.append, home=layout.home, platform="plan9")
    hook()
    assert len(reports) == 1
    assert reports[0].remaining == (layout.executable, layout.unpack_dir, layout.data_dir)
    assert "plan9" in (reports[0].error or "")
    assert layout.executable.exists()
