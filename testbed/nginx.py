"""A real nginx in front of a relay, configured from the deployment guide's own file.

:func:`site_config` takes ``docs/deploy/nginx-relay.conf`` (what operations.md tells an
administrator to install) and changes only what a test must: the listen addresses,
the certificate paths and the relay's port. Each change must find its line, so the
guide cannot drift from what is tested. :func:`running_nginx` runs it in the
foreground with its own prefix, pid file and temp directories, and stops it on exit.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from testbed.certs import ServerCertificate
from testbed.processes import stop_process
from testbed.turn import require_tool

__all__ = ["GUIDE_CONFIG", "running_nginx", "site_config"]

logger = logging.getLogger(__name__)

GUIDE_CONFIG = Path(__file__).resolve().parents[1] / "docs" / "deploy" / "nginx-relay.conf"


def site_config(
    guide: str, *, https_port: int, http_port: int, relay_port: int, certificate: ServerCertificate
) -> str:
    """The guide's site configuration, bound to loopback test ports and a test certificate."""
    changes = [
        ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        (
            "ssl_certificate     /etc/letsencrypt/live/relay.example.com/fullchain.pem;",
            f"ssl_certificate     {certificate.cert};",
        ),
        (
            "ssl_certificate_key /etc/letsencrypt/live/relay.example.com/privkey.pem;",
            f"ssl_certificate_key {certificate.key};",
        ),
        ("http://127.0.0.1:8765;", f"http://127.0.0.1:{relay_port};"),
    ]
    text = guide
    for old, new in changes:
        if old not in text:
            raise ValueError(f"the deployment guide's nginx file no longer has {old!r}")
        text = text.replace(old, new)
    return text


@contextlib.contextmanager
def running_nginx(site: str, *, wait_for: tuple[int, ...], timeout_s: float = 10.0) -> Iterator[Path]:
    """Run nginx with ``site`` as its only site until the block ends; yields its directory (logs)."""
    binary = require_tool("nginx")
    with tempfile.TemporaryDirectory(prefix="madoguchi-nginx-") as tmp:
        root = Path(tmp)
        (root / "site.conf").write_text(site)
        temp = "\n".join(
            f"    {kind}_temp_path {root / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (root / "nginx.conf").write_text(
            f"""daemon off;
pid {root / "nginx.pid"};
error_log {root / "error.log"} info;
worker_processes 1;
events {{ worker_connections 256; }}
http {{
    access_log {root / "access.log"};
{temp}
    include {root / "site.conf"};
}}
"""
        )
        with (root / "output.log").open("wb") as out:
            process = subprocess.Popen(
                [binary, "-p", str(root), "-c", str(root / "nginx.conf")], stdout=out, stderr=out
            )
        try:
            deadline = time.monotonic() + timeout_s
            while not all(_open(port) for port in wait_for):
                if process.poll() is not None:
                    log = (root / "output.log").read_text(errors="replace")
                    raise RuntimeError(f"nginx exited ({process.returncode}):\n{log[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError("nginx did not listen")
                time.sleep(0.05)
            yield root
        finally:
            stop_process(process)


def _open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
