"""The operations guide's systemd unit: systemd accepts it, and its ExecStart starts a relay.

docs/deploy/madoguchi-relay@.service is checked by ``systemd-analyze verify`` (every
directive known, the hardening options well-formed) with only the program's path
changed to this checkout's, and its command line, with the instance name (the port)
and the directories filled in as systemd would, starts a real relay that answers
/healthz and stops cleanly on SIGTERM. (This machine has no systemd as PID 1, so the
sandbox itself is not exercised here.)
"""

from __future__ import annotations

import shlex
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

UNIT = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "madoguchi-relay@.service"
INSTALLED = "/opt/madoguchi/bin/madoguchi"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _program() -> str:
    program = Path(sys.executable).parent / "madoguchi"
    assert program.exists(), f"no {program}: the package's console script is not installed"
    return str(program)


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None, "systemd-analyze is missing (apt-get install systemd)"
    text = UNIT.read_text()
    assert INSTALLED in text
    unit = tmp_path / "madoguchi-relay@8765.service"
    unit.write_text(text.replace(INSTALLED, _program()))
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr
    for option in ("NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=", "LimitNOFILE="):
        assert f"\n{option}" in text, option


def test_the_units_command_line_runs_a_relay(tmp_path: Path) -> None:
    (line,) = [x for x in UNIT.read_text().splitlines() if x.startswith("ExecStart=")]
    port = _free_port()
    config = tmp_path / "relay.toml"
    config.write_text('host = "127.0.0.1"\n')
    command = (
        line.removeprefix("ExecStart=")
        .replace(INSTALLED, _program())
        .replace("/etc/madoguchi/relay.toml", str(config))
        .replace("/var/lib/madoguchi/%i", str(tmp_path / "state"))
        .replace("%i", str(port))
    )
    assert "%" not in command
    relay = subprocess.Popen(shlex.split(command), stdout=subprocess.PIPE, text=True)
    try:
        assert relay.stdout is not None
        assert relay.stdout.readline().strip() == f"madoguchi relay listening on http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
            assert reply.status == 200
        assert (tmp_path / "state" / "accounts.sqlite3").exists()
    finally:
        relay.send_signal(signal.SIGTERM)
        assert relay.wait(30) == 0
        if relay.stdout is not None:
            relay.stdout.close()
