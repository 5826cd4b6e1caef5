"""The operations guide's systemd unit: systemd accepts it, and its ExecStart starts a relay.

docs/deploy/madoguchi-relay@.service is checked by ``systemd-analyze verify`` (every
directive known, the hardening options well-formed) with only the program's path
changed to this checkout's, and its command line, with the instance name (the port)
and the directories filled in as systemd would, starts a real relay that answers
/healthz, logs an operator in (password hashing included) and stops cleanly on
SIGTERM, all under the kernel's refusal of writable+executable memory
(``PR_SET_MDWE``, as ``MemoryDenyWriteExecute=yes``). This machine has no systemd as
PID 1, so the rest of the sandbox is not exercised here.
"""

from __future__ import annotations

import json
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


# prctl(PR_SET_MDWE = 65, PR_MDWE_REFUSE_EXEC_GAIN = 1), then exec the command.
_MDWE_EXEC = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:
    sys.exit(f"prctl(PR_SET_MDWE) failed: errno {ctypes.get_errno()}")
os.execv(sys.argv[1], sys.argv[1:])
"""


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
    subprocess.run(
        [
            *(_program(), "admin", "--data-dir", str(tmp_path / "state"), "add-operator", "hanako"),
            *("--display-name", "佐藤 花子", "--org", "ACME", "--password-stdin"),
        ],
        input="correct horse battery\ncorrect horse battery\n",
        text=True,
        check=True,
        capture_output=True,
    )
    # As the unit's MemoryDenyWriteExecute=yes: the kernel refuses writable+executable
    # memory (PR_SET_MDWE, what systemd uses where the kernel has it), inherited by exec.
    wrapper = [sys.executable, "-c", _MDWE_EXEC]
    wx = "import mmap; mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)"
    refused = subprocess.run(
        [*wrapper, sys.executable, "-c", wx], capture_output=True, text=True, check=False
    )
    assert "PermissionError" in refused.stderr, refused.stderr  # the wrapper really enforces it
    relay = subprocess.Popen([*wrapper, *shlex.split(command)], stdout=subprocess.PIPE, text=True)
    try:
        assert relay.stdout is not None
        assert relay.stdout.readline().strip() == f"madoguchi relay listening on http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
            assert reply.status == 200
        login = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/login",
            data=json.dumps({"username": "hanako", "password": "correct horse battery"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(login, timeout=10) as reply:  # password hashing under MDWE
            assert "token" in json.loads(reply.read())
    finally:
        relay.send_signal(signal.SIGTERM)
        assert relay.wait(30) == 0
        if relay.stdout is not None:
            relay.stdout.close()
