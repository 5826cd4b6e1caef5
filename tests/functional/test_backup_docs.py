"""The operations guide's single-node backup, run as written against a relay that is serving.

The shell block under "One node (SQLite)" in docs/operations.md is run by bash with only
its two directories changed (each by an exact string): while the relay writes, it must
produce the three files, each passing SQLite's integrity check and holding what the
relay had written (an operator, the audit rows of a registration).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import sqlite3
from pathlib import Path

import aiohttp

import protocol as p
from relay.server import running_relay
from relay.testing import SignalingClient, fast_config

DOC = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")


def _backup_script() -> str:
    section = DOC.split("**One node (SQLite).**", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert match is not None, "no shell block after 'One node (SQLite)'"
    return match.group(1)


async def test_the_documented_sqlite_backup_copies_a_serving_relay(tmp_path: Path) -> None:
    assert shutil.which("sqlite3") is not None, "sqlite3 is missing (apt-get install sqlite3)"
    data, backup = tmp_path / "data", tmp_path / "backup"
    backup.mkdir()
    script = _backup_script()
    for old, new in (("/var/lib/madoguchi/8765", str(data)), ("/backup/madoguchi", str(backup))):
        assert old in script, old
        script = script.replace(old, str(new))
    async with running_relay(fast_config(data)) as relay, aiohttp.ClientSession() as http:
        relay.add_operator("hanako", "correct horse battery", "佐藤 花子", "ACME")
        agent = await SignalingClient.agent(http, relay)
        assert isinstance(await agent.register(), p.Registered)
        # The relay keeps serving (same event loop) while the backup runs.
        shell = await asyncio.create_subprocess_exec(
            "bash", "-euc", script, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await shell.communicate()
        await agent.close()
    assert shell.returncode == 0, err.decode()
    assert out.decode().strip() == "ok"  # the integrity check the guide runs
    copies = {path.name.split("-", 1)[0]: path for path in backup.iterdir()}
    assert set(copies) == {"accounts", "audit", "settings"}
    for path in copies.values():
        with contextlib.closing(sqlite3.connect(path)) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with contextlib.closing(sqlite3.connect(copies["accounts"])) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert any(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)
    with contextlib.closing(sqlite3.connect(copies["audit"])) as db:
        events = {event for (event,) in db.execute("SELECT event FROM audit")}
    assert "code_issued" in events
