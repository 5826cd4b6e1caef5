"""The packaged operator console (one folder) starts and logs in to a real TLS relay through its baked CA."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from installer.measure import XDriver
from operator_console.cobrowse_viewer import SOURCE_FILES
from tests.functional.packaged_support import PASSWORD, build, tls_relay

pytestmark = [
    pytest.mark.display,
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux: the Windows run is in CI"),
]

LOGIN = "operator console"


@pytest.fixture(scope="session")
def console_program() -> Path:
    return build("console")


@pytest.mark.timeout(900)
def test_packaged_console_help(console_program: Path, tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(tmp_path)}
    command = [str(console_program), "--help"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "--relay URL" in done.stdout
    assert "--ca-file" in done.stdout


@pytest.mark.timeout(900)
def test_packaged_console_logs_in_over_tls_with_the_baked_ca(
    console_program: Path, xvfb: str, tmp_path: Path
) -> None:
    x = XDriver(xvfb)
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "DISPLAY": xvfb,
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
    }
    with tls_relay() as relay:
        relay.relay.add_operator("taro", PASSWORD, "山田 太郎", "Madoguchi Bank")
        log_file = tmp_path / "console.log"
        with log_file.open("wb") as log:
            process = subprocess.Popen(
                [
                    str(console_program),
                    "--relay",
                    relay.url,
                    "--lang",
                    "en",
                    "--settings",
                    str(tmp_path / "s.ini"),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            window = x.wait_window(LOGIN, 60)
            # The user name field has the focus; Tab to the password; Return logs in.
            x.type(window, "taro")
            x.key(window, "Tab")
            x.type(window, PASSWORD)
            x.key(window, "Return")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not relay.relay.audit_rows(event="login_succeeded"):
                time.sleep(0.3)
            rows = relay.relay.audit_rows(event="login_succeeded")
            assert process.poll() is None, log_file.read_text(errors="replace")
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
    assert [r.operator for r in rows] == ["taro"], log_file.read_text(errors="replace")


@pytest.mark.timeout(900)
def test_the_bundle_carries_the_co_browse_view(console_program: Path) -> None:
    """The co-browse view (web/viewer, the pinned @rrweb/replay) is in the package, where
    operator_console.cobrowse_viewer looks when frozen, byte for byte the sources."""
    packaged = console_program.parent / "_internal" / "operator_console" / "viewer"
    assert sorted(p.name for p in packaged.iterdir()) == sorted(SOURCE_FILES)
    for name, source in SOURCE_FILES.items():
        assert (packaged / name).read_bytes() == source.read_bytes(), name
