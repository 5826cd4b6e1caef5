"""The build's pure parts: baked settings, pruning rules, stripping check, Windows resources, icon."""

from __future__ import annotations

import _ssl
import ast
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image

from agent.uninstall.base import RemovalOutcome
from agent.uninstall.report import removal_message
from installer import settings, spec_support
from installer.build import ROOT, VIEWER_DIR, copy_viewer, source_hash
from installer.icon import ICO_SIZES, write_icons
from operator_console import cobrowse_viewer


def _self_signed(tmp_path: Path) -> Path:
    cert = tmp_path / "ca.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test"),
            *("-keyout", str(tmp_path / "key.pem"), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert


# --- baked settings ----------------------------------------------------------------------


def test_rendered_settings_round_trip_as_plain_literals() -> None:
    baked = settings.BuildSettings(
        relay_url='https://relay.example.com"; import os; os.remove("x")  #',
        ca_bundled=True,
        self_removal=True,
        version="0.1.0",
        target="agent",
    )
    source = settings.render(baked)
    tree = ast.parse(source)
    # Only constant assignments: nothing from a URL can become code.
    assert all(isinstance(n, ast.Expr | ast.Assign) for n in tree.body)
    assert all(isinstance(n.value, ast.Constant) for n in tree.body if isinstance(n, ast.Assign))
    module = ModuleType(settings.MODULE_NAME)
    exec(compile(tree, "<baked>", "exec"), module.__dict__)
    assert settings._from_module(module) == baked


def test_source_checkout_has_no_baked_settings() -> None:
    assert settings.load() == settings.SOURCE_SETTINGS
    assert settings.SOURCE_SETTINGS.self_removal is False


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://relay.example.com", "https://relay.example.com"),
        ("https://relay.example.com:8443/", "https://relay.example.com:8443"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
    ],
)
def test_relay_url_is_validated(url: str, expected: str) -> None:
    assert settings.validate_relay_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["relay.example.com", "ftp://relay", "https://", "https://r/path", "https://r?x=1", "https://r:99999"],
)
def test_bad_relay_urls_are_refused(url: str) -> None:
    with pytest.raises(settings.SettingsError):
        settings.validate_relay_url(url)


def test_ca_file_must_hold_a_certificate(tmp_path: Path) -> None:
    cert = _self_signed(tmp_path)
    assert settings.validate_ca_file(cert).startswith(b"-----BEGIN CERTIFICATE-----")
    with pytest.raises(settings.SettingsError):
        settings.validate_ca_file(tmp_path / "key.pem")
    with pytest.raises(settings.SettingsError):
        settings.validate_ca_file(tmp_path / "missing.pem")


def test_source_hash_follows_the_baked_settings() -> None:
    a = source_hash("agent", relay_url="https://a.example")
    assert a == source_hash("agent", relay_url="https://a.example")
    assert a != source_hash("agent", relay_url="https://b.example")
    assert a != source_hash("agent", relay_url="https://a.example", ca_bytes=b"x")
    assert a != source_hash("console", relay_url="https://a.example")


# --- pruning -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dest", "target", "kept"),
    [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "agent", True),
        ("PySide6/Qt/plugins/platforms/qwindows.dll", "agent", True),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", "agent", False),
        ("PySide6/Qt/plugins/platforms/libqvnc.so", "agent", False),
        ("PySide6/Qt/plugins/imageformats/libqjpeg.so", "agent", False),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "agent", False),
        ("PySide6/Qt/plugins/tls/libqopensslbackend.so", "agent", False),
        ("PySide6\\Qt\\plugins\\styles\\qmodernwindowsstyle.dll", "agent", True),
        ("PySide6/Qt/plugins/imageformats/libqjpeg.so", "console", True),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", "console", True),
        ("PySide6/Qt/lib/libQt6Core.so.6", "agent", None),
    ],
)
def test_qt_plugins_kept_per_program(dest: str, target: str, kept: bool | None) -> None:
    assert spec_support.keep_qt_plugin(dest, target) is kept


def test_libraries_nothing_needs_are_pruned() -> None:
    graph = {
        "/src/ext.so": ["libneeded.so.1"],
        "/src/libneeded.so.1": ["libdeep.so.2"],
        "/src/libdeep.so.2": [],
        "/src/libqxcb.so": ["libQt6XcbQpa.so.6"],
        "/src/libQt6XcbQpa.so.6": [],
        "/src/libqgtk3.so": ["libcairo.so.2"],
        "/src/libcairo.so.2": [],
        "/src/libunused.so": [],
        "/src/libpython3.11.so.1.0": [],
    }
    toc = [
        ("pkg/ext.so", "/src/ext.so", "EXTENSION"),
        ("libneeded.so.1", "/src/libneeded.so.1", "BINARY"),
        ("libdeep.so.2", "/src/libdeep.so.2", "BINARY"),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/src/libqxcb.so", "BINARY"),
        ("PySide6/Qt/lib/libQt6XcbQpa.so.6", "/src/libQt6XcbQpa.so.6", "BINARY"),
        ("libQt6XcbQpa.so.6", "PySide6/Qt/lib/libQt6XcbQpa.so.6", "SYMLINK"),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "/src/libqgtk3.so", "BINARY"),
        ("libcairo.so.2", "/src/libcairo.so.2", "BINARY"),
        ("libcairo.so", "libcairo.so.2", "SYMLINK"),
        ("libunused.so", "/src/libunused.so", "BINARY"),
        ("libpython3.11.so.1.0", "/src/libpython3.11.so.1.0", "BINARY"),
    ]
    kept = {dest for dest, _, _ in spec_support.prune_binaries(toc, "agent", imports_of=lambda p: graph[p])}
    assert kept == {
        "pkg/ext.so",
        "libneeded.so.1",
        "libdeep.so.2",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/lib/libQt6XcbQpa.so.6",
        "libQt6XcbQpa.so.6",
        "libpython3.11.so.1.0",
    }


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ldd-based import tables")
def test_pruning_follows_real_import_tables() -> None:
    # A real extension module (_ssl) and real libraries: libssl stays, an unrelated library goes.
    ssl_ext = Path(_ssl.__file__)
    from PyInstaller.depend.bindepend import get_imports

    needed = {Path(path) for name, path in get_imports(str(ssl_ext)) if path and "libssl" in name}
    libssl = needed.pop()
    unrelated = next(p for p in Path("/usr/lib/x86_64-linux-gnu").glob("libXrender.so.1*") if p.is_file())
    toc = [
        ("lib-dynload/" + ssl_ext.name, str(ssl_ext), "EXTENSION"),
        (libssl.name, str(libssl), "BINARY"),
        (unrelated.name, str(unrelated), "BINARY"),
    ]
    kept = {dest for dest, _, _ in spec_support.prune_binaries(toc, "agent")}
    assert kept == {"lib-dynload/" + ssl_ext.name, libssl.name}


def test_qt_translations_and_stubs_are_not_bundled() -> None:
    datas = [
        ("PySide6/Qt/translations/qtbase_de.qm", "/x", "DATA"),
        ("PySide6/QtCore.pyi", "/x", "DATA"),
        ("agent/ui/i18n/agent_ja.qm", "/x", "DATA"),
    ]
    assert [d[0] for d in spec_support.prune_datas(datas, "agent")] == ["agent/ui/i18n/agent_ja.qm"]


def test_links_to_libraries_no_longer_bundled_are_dropped() -> None:
    binaries = [("PySide6/Qt/lib/libQt6Gui.so.6", "/src/libQt6Gui.so.6", "BINARY")]
    datas = [
        ("libQt6Gui.so.6", "PySide6/Qt/lib/libQt6Gui.so.6", "SYMLINK"),
        ("libQt6Svg.so.6", "PySide6/Qt/lib/libQt6Svg.so.6", "SYMLINK"),  # pruned library
        ("PySide6/Qt/lib/libalias.so", "libQt6Gui.so.6", "SYMLINK"),  # relative to its folder
        ("PySide6/Qt/lib/libup.so", "../../../libdata.so", "SYMLINK"),
        ("libdata.so", "/src/libdata.so", "DATA"),
    ]
    kept = [d[0] for d in spec_support.prune_datas(datas, "agent", binaries=binaries)]
    assert kept == ["libQt6Gui.so.6", "PySide6/Qt/lib/libalias.so", "PySide6/Qt/lib/libup.so", "libdata.so"]
    # Without the binaries nothing is judged.
    assert len(spec_support.prune_datas(datas, "agent")) == len(datas)


def test_agent_excludes_cover_what_it_never_imports() -> None:
    for name in (
        "tkinter",
        "unittest",
        "numpy.random",
        "relay",
        "operator_console",
        "testbed",
        "pytest",
        "PIL",
    ):
        assert name in spec_support.AGENT_EXCLUDES
    # The programs stand side by side (the import contracts): the console ships no agent code.
    for name in ("agent", "relay", "testbed", "benchmarks"):
        assert name in spec_support.CONSOLE_EXCLUDES
    assert "client_core" not in spec_support.AGENT_EXCLUDES + spec_support.CONSOLE_EXCLUDES
    # The agent never serves; the console serves its co-browse view (aiohttp.web) on the loopback.
    assert "aiohttp.web" in spec_support.AGENT_EXCLUDES
    assert "aiohttp.web" not in spec_support.CONSOLE_EXCLUDES


# --- the stripping check -----------------------------------------------------------------


def _elf_with_load(tmp_path: Path, offset: int, vaddr: int) -> Path:
    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", header, 0x20, 64)
    struct.pack_into("<HH", header, 0x36, 56, 1)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, offset, vaddr, vaddr, 16, 16, 0x1000)
    path = tmp_path / f"lib{offset:x}.so"
    path.write_bytes(bytes(header) + phdr)
    return path


def test_load_segment_check_spots_the_damage_strip_can_do(tmp_path: Path) -> None:
    assert spec_support.load_segments_aligned(str(_elf_with_load(tmp_path, 0x2000, 0x5000)))
    # strip moved the data but not the address: offset and address no longer agree modulo the page.
    assert not spec_support.load_segments_aligned(str(_elf_with_load(tmp_path, 0x1621098, 0x166B000)))
    (tmp_path / "text").write_bytes(b"not an ELF file at all, but long enough" * 3)
    assert not spec_support.load_segments_aligned(str(tmp_path / "text"))
    if sys.platform.startswith("linux"):
        assert spec_support.load_segments_aligned(_ssl.__file__)


# --- Windows resources, manifest and icon -----------------------------------------------


def test_version_resource_is_an_expression_with_the_version() -> None:
    text = spec_support.version_info_text(
        "1.2.3", description="Madoguchi screen sharing support", internal_name="a", filename="a.exe"
    )
    tree = ast.parse(text, mode="eval")
    assert isinstance(tree.body, ast.Call)
    assert isinstance(tree.body.func, ast.Name)
    assert tree.body.func.id == "VSVersionInfo"
    assert "filevers=(1, 2, 3, 0)" in text
    assert "StringStruct('FileDescription', 'Madoguchi screen sharing support')" in text


def test_manifest_runs_as_invoker_even_after_pyinstaller_processed_it() -> None:
    from PyInstaller.utils.win32 import winmanifest

    manifest = (ROOT / "installer" / "windows" / "agent.manifest").read_bytes()
    assert b'level="asInvoker"' in manifest
    final = winmanifest.create_application_manifest(manifest, False, False).decode()
    assert 'level="asInvoker"' in final
    assert "requireAdministrator" not in final
    assert "highestAvailable" not in final


def test_icon_has_every_windows_size(tmp_path: Path) -> None:
    ico, png = write_icons(tmp_path)
    with Image.open(ico) as image:
        assert {(s, s) for s in ICO_SIZES} <= set(image.info["sizes"])
    with Image.open(png) as image:
        assert image.size == (256, 256)
        centre, corner = image.getpixel((128, 128)), image.getpixel((0, 0))
    assert isinstance(centre, tuple)
    assert isinstance(corner, tuple)
    assert centre[3] == 255  # opaque drawing
    assert corner[3] == 0  # transparent rounded corner


def test_removal_message_lists_every_path_in_both_languages() -> None:
    left = (Path("/home/a/Downloads/madoguchi-agent"), Path("/tmp/_MEI1"))
    headline, body = removal_message(RemovalOutcome(method="none", remaining=left))
    assert "削除" in headline
    assert "could not delete" in headline
    for path in left:
        assert body.count(str(path)) == 2
    headline, body = removal_message(RemovalOutcome(method="at-reboot", deferred=left))
    assert "再起動" in headline
    assert "restarts" in headline
    assert str(left[0]) in body


def test_lrelease_is_available_for_the_build() -> None:
    assert shutil.which("pyside6-lrelease") or Path(sys.executable).with_name("pyside6-lrelease").exists()


def test_the_console_build_carries_the_co_browse_view(tmp_path: Path) -> None:
    """The view's files (web/viewer and the pinned @rrweb/replay) are copied for the console's
    package under the names it serves them by, and console.spec bundles them where
    operator_console.cobrowse_viewer looks when packaged (docs/cobrowse.md, "Packaging the view")."""
    copied = copy_viewer(tmp_path / VIEWER_DIR)
    assert sorted(p.name for p in copied) == sorted(cobrowse_viewer.SOURCE_FILES)
    for path in copied:
        assert path.read_bytes() == cobrowse_viewer.SOURCE_FILES[path.name].read_bytes()
    pinned = json.loads((ROOT / "web" / "package.json").read_text())["dependencies"]["@rrweb/replay"]
    replay_package = ROOT / "web" / "node_modules" / "@rrweb" / "replay" / "package.json"
    assert json.loads(replay_package.read_text())["version"] == pinned
    spec = (ROOT / "installer" / "console.spec").read_text()
    assert 'datas.append((str(GEN / "viewer"), "operator_console/viewer"))' in spec
    assert cobrowse_viewer.PACKAGED_DIR == ROOT / "operator_console" / "viewer"


def test_the_packaged_view_files_are_preferred(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cobrowse_viewer.viewer_files() == cobrowse_viewer.SOURCE_FILES  # the source tree
    for name in cobrowse_viewer.SOURCE_FILES:
        (tmp_path / name).write_text(name)
    monkeypatch.setattr(cobrowse_viewer, "PACKAGED_DIR", tmp_path)
    assert cobrowse_viewer.viewer_files() == {name: tmp_path / name for name in cobrowse_viewer.SOURCE_FILES}
