"""A real coturn for tests and the network lab: the plan (argv, sans-IO) and the process.

:class:`TurnPlan` says how a ``turnserver`` is to run and turns that into its command
line; :func:`running_turnserver` starts it (inside a network namespace if asked),
waits until its listeners are open and stops it on exit. The configuration is the
hardened one the deployment guide recommends (docs/operations.md): REST credentials
only (``use-auth-secret``), no TCP relay, no multicast peers, and ``denied-peer-ip``
for every private, loopback and link-local range, so that a TURN allocation can
never be used to reach the operator's or the customer's internal network. That is
also why the network lab gives its "public" side documentation addresses
(198.51.100.0/24, 203.0.113.0/24): coturn relays to those.

The only URIs aiortc reads are ``turn:HOST:PORT?transport=udp`` and
``turns:HOST:PORT?transport=tcp``; :meth:`TurnPlan.urls` gives both.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from testbed.certs import ServerCertificate
from testbed.processes import stop_process

__all__ = [
    "DENIED_PEER_RANGES",
    "RunningTurn",
    "TurnPlan",
    "ToolMissing",
    "require_tool",
    "running_turnserver",
]

logger = logging.getLogger(__name__)

DENIED_PEER_RANGES: tuple[str, ...] = (
    "0.0.0.0-0.255.255.255",
    "10.0.0.0-10.255.255.255",
    "100.64.0.0-100.127.255.255",
    "127.0.0.0-127.255.255.255",
    "169.254.0.0-169.254.255.255",
    "172.16.0.0-172.31.255.255",
    "192.0.0.0-192.0.0.255",
    "192.168.0.0-192.168.255.255",
    "198.18.0.0-198.19.255.255",
    "::1",
    "64:ff9b::-64:ff9b::ffff:ffff",
    "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
)
"""Peers coturn must never relay to: "this" network, RFC 1918, carrier-grade NAT,
loopback, link-local, IETF protocol assignments, benchmarking, NAT64, unique-local and
link-local IPv6. A TURN server that relays there is a server-side request forgery hole."""


class ToolMissing(RuntimeError):
    """A program the lab needs is not installed (scripts/apt-packages.txt lists them)."""


def require_tool(name: str) -> str:
    """The path of ``name``; :class:`ToolMissing` (a failure, never a skip) if it is absent."""
    path = shutil.which(name)
    if path is None:
        raise ToolMissing(f"{name} is not installed: run scripts/setup.sh as root (scripts/apt-packages.txt)")
    return path


@dataclasses.dataclass(frozen=True, kw_only=True)
class TurnPlan:
    """How one coturn runs. ``secret``: the REST secret shared with the relay (``turn_rest_secret``)."""

    listen_ip: str
    secret: str = dataclasses.field(repr=False)
    port: int = 3478
    tls_port: int | None = None
    certificate: ServerCertificate | None = None
    realm: str = "madoguchi.test"
    relay_ip: str | None = None
    min_port: int = 49152
    max_port: int = 65535
    denied_peers: Sequence[str] = DENIED_PEER_RANGES
    user_quota: int = 12
    total_quota: int = 1200

    def __post_init__(self) -> None:
        if self.tls_port is not None and self.certificate is None:
            raise ValueError("a TLS listener needs a certificate")

    def urls(self, host: str | None = None) -> tuple[str, ...]:
        """The ICE server URIs of this server: TURN/UDP, then TURN over TLS if it listens for TLS."""
        host = host or self.listen_ip
        urls = [f"turn:{host}:{self.port}?transport=udp"]
        if self.tls_port is not None:
            urls.append(f"turns:{host}:{self.tls_port}?transport=tcp")
        return tuple(urls)

    def listening(self) -> tuple[tuple[str, int], ...]:
        """The TCP listeners that show the server is up (``ss -ltn``)."""
        ports = [self.port] + ([self.tls_port] if self.tls_port is not None else [])
        return tuple((self.listen_ip, p) for p in ports)

    def argv(self, state_dir: Path) -> list[str]:
        """The ``turnserver`` command line; ``state_dir`` holds its pid file and user database."""
        args = [
            "turnserver",
            "--no-cli",
            "--no-dtls",
            "--no-tcp-relay",
            "--no-multicast-peers",
            "--no-software-attribute",
            "--fingerprint",
            "--use-auth-secret",
            f"--static-auth-secret={self.secret}",
            f"--realm={self.realm}",
            f"--listening-ip={self.listen_ip}",
            f"--listening-port={self.port}",
            f"--relay-ip={self.relay_ip or self.listen_ip}",
            f"--min-port={self.min_port}",
            f"--max-port={self.max_port}",
            f"--user-quota={self.user_quota}",
            f"--total-quota={self.total_quota}",
            f"--userdb={state_dir / 'turndb'}",
            f"--pidfile={state_dir / 'turnserver.pid'}",
            "--log-file=stdout",
            "--simple-log",
        ]
        if self.tls_port is not None and self.certificate is not None:
            args += [
                f"--tls-listening-port={self.tls_port}",
                f"--cert={self.certificate.cert}",
                f"--pkey={self.certificate.key}",
                "--no-tlsv1",
                "--no-tlsv1_1",
            ]
        else:
            args.append("--no-tls")
        args += [f"--denied-peer-ip={r}" for r in self.denied_peers]
        return args


@dataclasses.dataclass
class RunningTurn:
    plan: TurnPlan
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _file_argv(config_file: Path, state_dir: Path) -> list[str]:
    return [
        "turnserver",
        "-c",
        str(config_file),
        f"--userdb={state_dir / 'turndb'}",
        f"--pidfile={state_dir / 'turnserver.pid'}",
        "--log-file=stdout",
        "--simple-log",
    ]


def _netns_prefix(netns: str | None) -> list[str]:
    return ["ip", "netns", "exec", netns] if netns else []


def _listening(netns: str | None) -> set[tuple[str, int]]:
    out = subprocess.run(
        [*_netns_prefix(netns), "ss", "-Hltn"], capture_output=True, text=True, check=True
    ).stdout
    found: set[tuple[str, int]] = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 4:
            host, _, port = fields[3].rpartition(":")
            with contextlib.suppress(ValueError):
                found.add((host.strip("[]"), int(port)))
    return found


@contextlib.contextmanager
def running_turnserver(
    plan: TurnPlan,
    *,
    netns: str | None = None,
    timeout_s: float = 10.0,
    config_file: Path | None = None,
) -> Iterator[RunningTurn]:
    """Start coturn as ``plan`` says (inside ``netns`` if given); stop it on exit.

    With ``config_file`` coturn reads that file instead (``turnserver -c``; only its state
    files are set on the command line) and ``plan`` just says where it must listen.
    """
    require_tool("turnserver")
    require_tool("ss")
    with tempfile.TemporaryDirectory(prefix="madoguchi-turn-") as tmp:
        state = Path(tmp)
        log_path = state / "turnserver.log"
        with log_path.open("wb") as log:
            argv = plan.argv(state) if config_file is None else _file_argv(config_file, state)
            process = subprocess.Popen([*_netns_prefix(netns), *argv], stdout=log, stderr=subprocess.STDOUT)
        running = RunningTurn(plan, process, log_path)
        try:
            deadline = time.monotonic() + timeout_s
            wanted = set(plan.listening())
            while not wanted <= _listening(netns):
                if process.poll() is not None:
                    raise RuntimeError(f"turnserver exited ({process.returncode}):\n{running.log()[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"turnserver did not open {sorted(wanted)}:\n{running.log()[-2000:]}")
                time.sleep(0.05)
            logger.info("turnserver up on %s", plan.urls())
            yield running
        finally:
            stop_process(process)
