"""A throw-away PostgreSQL cluster for tests: ``initdb`` in a temp dir, ``pg_ctl`` on a free port.

Debian's ``postgresql`` package (scripts/apt-packages.txt) provides the programs in
``/usr/lib/postgresql/<version>/bin``. PostgreSQL refuses to run as root, so when the
tests run as root the cluster belongs to the ``postgres`` user (the temp dir is
chowned to it) and every program runs through ``runuser -u postgres``. The cluster
trusts local connections (it listens on 127.0.0.1 only and lives for one test
module) and runs with ``fsync=off``: it is thrown away at the end.

:meth:`RunningPostgres.stop` and :meth:`RunningPostgres.start` let a test take the
database away in the middle of a session and bring it back on the same port.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import logging
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .turn import ToolMissing

__all__ = ["RunningPostgres", "postgres_bin", "running_postgres"]

logger = logging.getLogger(__name__)

_USER = "postgres"
_SUPERUSER = "madoguchi"


def postgres_bin() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin``; ToolMissing (a failure, never a skip) if none."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise ToolMissing(
            "PostgreSQL is not installed: run scripts/setup.sh as root (scripts/apt-packages.txt)"
        )
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclasses.dataclass
class RunningPostgres:
    bin_dir: Path
    data_dir: Path
    port: int
    as_user: str | None
    """Run the programs as this user (through runuser); None: as ourselves."""

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", self.as_user, "--"] if self.as_user else []
        return subprocess.run(
            [*prefix, *argv], check=check, capture_output=True, text=True, timeout=60, cwd="/"
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        options += " -c synchronous_commit=off -c full_page_writes=off"
        result = self._run(
            str(self.bin_dir / "pg_ctl"),
            *("-D", str(self.data_dir / "data"), "-l", str(self.data_dir / "postgres.log")),
            *("-o", options, "-w", "-t", "30", "start"),
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {result.stderr}\n{self.log()[-2000:]}")
        logger.info("postgres: stopped -> running on port %d", self.port)

    def stop(self, mode: str = "fast", *, check: bool = True) -> None:
        """``fast`` ends the clients' connections; ``immediate`` is a crash."""
        pg_ctl = str(self.bin_dir / "pg_ctl")
        self._run(pg_ctl, "-D", str(self.data_dir / "data"), "-m", mode, "-w", "stop", check=check)
        logger.info("postgres: running -> stopped (%s)", mode)

    def create_database(self, name: str) -> str:
        """A new empty database; its DSN."""
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # a test's own name, never user input
        return self.dsn(name)

    def log(self) -> str:
        try:
            return (self.data_dir / "postgres.log").read_text(errors="replace")
        except OSError:
            return ""


@contextlib.contextmanager
def running_postgres() -> Iterator[RunningPostgres]:
    """A fresh cluster on a free port, stopped and removed on exit."""
    bin_dir = postgres_bin()
    as_user = _USER if getattr(os, "geteuid", lambda: -1)() == 0 else None  # Linux only
    if as_user and shutil.which("runuser") is None:
        raise ToolMissing("runuser is not installed (util-linux)")
    tmp = Path(tempfile.mkdtemp(prefix="madoguchi-pg-"))
    try:
        if as_user:
            subprocess.run(["chown", f"{as_user}:", str(tmp)], check=True, timeout=10)
        running = RunningPostgres(bin_dir, tmp, _free_port(), as_user)
        running._run(
            str(bin_dir / "initdb"),
            *("-D", str(tmp / "data"), "-U", _SUPERUSER, "--auth=trust", "-E", "UTF8"),
            *("--locale=C", "--no-sync"),
        )
        running.start()
        try:
            yield running
        finally:
            running.stop("immediate", check=False)  # a test may have stopped it already
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
