"""``madoguchi admin`` and ``madoguchi relay`` as an administrator uses them."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from madoguchi.cli import main
from relay.accounts import Accounts
from relay.audit import AuditLog
from relay.effects import Audit

PASSWORD = "correct horse battery"


def admin(
    data_dir: Path, *args: str, stdin: str = "", capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        code = main(["admin", "--data-dir", str(data_dir), *args])
    finally:
        sys.stdin = old
    out, err = capsys.readouterr()
    return code, out, err


def test_operator_lifecycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = admin(
        tmp_path,
        "add-operator", "hanako", "--display-name", "佐藤 花子", "--org", "ACME", "--password-stdin",
        stdin=PASSWORD + "\n",
        capsys=capsys,
    )  # fmt: skip
    assert code == 0
    assert "hanako" in out
    assert Accounts(tmp_path / "accounts.sqlite3").check_password("hanako", PASSWORD) is not None
    code, _, err = admin(
        tmp_path,
        "add-operator", "hanako", "--display-name", "x", "--org", "y", "--password-stdin",
        stdin=PASSWORD + "\n",
        capsys=capsys,
    )  # fmt: skip
    assert code == 1
    assert "already exists" in err
    code, _, err = admin(
        tmp_path,
        "add-operator", "taro", "--display-name", "x", "--org", "y", "--password-stdin",
        stdin="short\n",
        capsys=capsys,
    )  # fmt: skip
    assert code == 1
    assert "at least 8" in err
    code, out, _ = admin(tmp_path, "list-operators", capsys=capsys)
    assert out == "hanako\t佐藤 花子\tACME\tactive\n"
    assert admin(tmp_path, "disable-operator", "hanako", capsys=capsys)[0] == 0
    assert admin(tmp_path, "list-operators", capsys=capsys)[1].endswith("disabled\n")
    assert admin(tmp_path, "disable-operator", "nobody", capsys=capsys)[0] == 1
    assert admin(tmp_path, "enable-operator", "hanako", capsys=capsys)[0] == 0
    code, out, _ = admin(tmp_path, "audit", capsys=capsys)
    events = [json.loads(line)["event"] for line in out.splitlines()]
    assert events == ["operator_added", "operator_disabled", "operator_enabled"]
    assert PASSWORD not in out


def test_audit_since(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = AuditLog(tmp_path / "audit.sqlite3")
    log.write(Audit("claim_failed", operator="a"), time.mktime((2024, 1, 1, 0, 0, 0, 0, 0, -1)))
    log.write(Audit("lockout", operator="a"), time.mktime((2024, 6, 1, 0, 0, 0, 0, 0, -1)))
    log.close()
    code, out, _ = admin(tmp_path, "audit", "--since", "2024-03-01", capsys=capsys)
    assert code == 0
    assert [json.loads(line)["event"] for line in out.splitlines()] == ["lockout"]
    code, out, _ = admin(tmp_path, "audit", "--event", "claim_failed", capsys=capsys)
    assert [json.loads(line)["event"] for line in out.splitlines()] == ["claim_failed"]
    code, _, err = admin(tmp_path, "audit", "--since", "yesterday", capsys=capsys)
    assert code == 2
    assert "ISO" in err


def test_relay_command_serves_healthz_and_metrics(tmp_path: Path) -> None:
    config = tmp_path / "relay.toml"
    config.write_text(f'port = 0\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    env = {**os.environ, "MADOGUCHI_RELAY_MAX_SESSIONS": "3"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "madoguchi", "relay", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("madoguchi relay listening on http://127.0.0.1:"), line
        url = line.rsplit(" ", 1)[1].strip()
        with urllib.request.urlopen(f"{url}/healthz", timeout=5) as r:
            assert json.load(r) == {"status": "ok"}
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as r:
            text = r.read().decode()
        for name in (
            "madoguchi_codes_pending",
            "madoguchi_sessions_active",
            "madoguchi_claims_failed_total",
            "madoguchi_registrations_refused_total",
        ):
            assert name in text
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert (tmp_path / "data" / "audit.sqlite3").exists()


def test_relay_command_rejects_bad_config(tmp_path: Path) -> None:
    bad = tmp_path / "relay.toml"
    bad.write_text("[limits]\nmax_sesions = 3\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "madoguchi", "relay", "--config", str(bad)],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "max_sesions" in result.stderr


def test_location_option_after_the_action(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``admin add-operator --data-dir X`` works like ``admin --data-dir X add-operator``."""
    old = sys.stdin
    sys.stdin = io.StringIO(PASSWORD + "\n")
    try:
        code = main(
            ["admin", "add-operator", "hanako", "--data-dir", str(tmp_path),
             "--display-name", "佐藤 花子", "--org", "ACME", "--password-stdin"]
        )  # fmt: skip
    finally:
        sys.stdin = old
    assert code == 0, capsys.readouterr().err
    assert Accounts(tmp_path / "accounts.sqlite3").check_password("hanako", PASSWORD) is not None
    capsys.readouterr()
    # Before the action still works, and a value given there is not reset by the action.
    assert main(["admin", "--data-dir", str(tmp_path), "list-operators"]) == 0
    assert capsys.readouterr().out.startswith("hanako\t")
    assert main(["admin", "list-operators", "--data-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("hanako\t")


def test_add_admin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = admin(
        tmp_path, "add-admin", "boss", "--password-stdin", stdin=PASSWORD + "\n", capsys=capsys
    )
    assert code == 0
    assert "/admin" in out
    account = Accounts(tmp_path / "accounts.sqlite3").check_password("boss", PASSWORD)
    assert account is not None
    assert account.role == "admin"
    assert admin(tmp_path, "list-operators", capsys=capsys)[1] == "boss\tboss\tadmin\tactive\tadmin\n"
    code, out, _ = admin(tmp_path, "audit", capsys=capsys)
    [row] = [json.loads(line) for line in out.splitlines()]
    assert (row["event"], row["detail"]) == ("admin_added", {"admin": "boss"})
