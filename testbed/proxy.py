"""A real HTTP CONNECT proxy for tests and the network lab: Debian's ``tinyproxy``.

:class:`ProxyPlan` is the sans-IO part (the configuration file's text);
:func:`running_tinyproxy` starts the proxy in the foreground (inside a network
namespace if asked), waits until it listens and stops it on exit. The proxy is
configured like a strict corporate one: Basic authentication required, ``CONNECT``
only to the listed ports, only the listed client network allowed, no ``Via`` header
leaking the client. Its log records every ``CONNECT`` (tests read it to prove the
connection went through the proxy).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from testbed.processes import stop_process
from testbed.turn import require_tool

__all__ = ["ProxyPlan", "RunningProxy", "running_tinyproxy"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProxyPlan:
    listen_ip: str
    port: int = 3128
    username: str = "lab"
    password: str = dataclasses.field(repr=False, default="")
    allow: tuple[str, ...] = ("127.0.0.1",)
    """Client addresses or networks the proxy serves (``Allow``)."""
    connect_ports: tuple[int, ...] = (443,)
    """The only ports ``CONNECT`` may reach (``ConnectPort``)."""

    def url(self, *, with_credentials: bool = True) -> str:
        auth = f"{self.username}:{self.password}@" if with_credentials and self.password else ""
        return f"http://{auth}{self.listen_ip}:{self.port}"

    def config(self, state: Path) -> str:
        lines = [
            f"Port {self.port}",
            f"Listen {self.listen_ip}",
            "Timeout 600",
            "MaxClients 50",
            f'LogFile "{state / "tinyproxy.log"}"',
            "LogLevel Connect",
            f'PidFile "{state / "tinyproxy.pid"}"',
            "DisableViaHeader Yes",
            *(f"Allow {a}" for a in self.allow),
            *(f"ConnectPort {p}" for p in self.connect_ports),
        ]
        if self.password:
            lines.append(f"BasicAuth {self.username} {self.password}")
        return "\n".join(lines) + "\n"


@dataclasses.dataclass
class RunningProxy:
    plan: ProxyPlan
    process: subprocess.Popen[bytes]
    log_path: Path
    output_path: Path

    def log(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text + self.output_path.read_text(errors="replace")

    def connects(self) -> list[str]:
        """The ``host:port`` of every CONNECT the proxy was asked for, in order."""
        found = []
        for line in self.log().splitlines():
            # CONNECT   Dec 06 02:19:27.225 [5136]: Request (file descriptor 5): CONNECT host:port HTTP/1.1
            if "]: Request (" not in line:
                continue
            request = line.split("): ", 1)[1].split()
            if len(request) >= 2 and request[0] == "CONNECT":
                found.append(request[1])
        return found


@contextlib.contextmanager
def running_tinyproxy(
    plan: ProxyPlan, *, netns: str | None = None, timeout_s: float = 10.0
) -> Iterator[RunningProxy]:
    """Start tinyproxy as ``plan`` says (inside ``netns`` if given); stop it on exit."""
    binary = require_tool("tinyproxy")
    require_tool("ss")
    with tempfile.TemporaryDirectory(prefix="madoguchi-proxy-") as tmp:
        state = Path(tmp)
        state.chmod(0o777)  # tinyproxy drops to "nobody" when started as root and logs here
        conf = state / "tinyproxy.conf"
        conf.write_text(plan.config(state))
        output = state / "output.log"
        prefix = ["ip", "netns", "exec", netns] if netns else []
        with output.open("wb") as out:
            process = subprocess.Popen([*prefix, binary, "-d", "-c", str(conf)], stdout=out, stderr=out)
        running = RunningProxy(plan, process, state / "tinyproxy.log", output)
        try:
            deadline = time.monotonic() + timeout_s
            while not _listens(plan, prefix):
                if process.poll() is not None:
                    raise RuntimeError(f"tinyproxy exited ({process.returncode}):\n{running.log()[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"tinyproxy did not listen:\n{running.log()[-2000:]}")
                time.sleep(0.05)
            logger.info("tinyproxy up on %s", plan.url(with_credentials=False))
            yield running
        finally:
            stop_process(process)


def _listens(plan: ProxyPlan, prefix: list[str]) -> bool:
    out = subprocess.run([*prefix, "ss", "-Hltn"], capture_output=True, text=True, check=True).stdout
    wanted = f"{plan.listen_ip}:{plan.port}"
    return any(len(f := line.split()) >= 4 and f[3] == wanted for line in out.splitlines())
