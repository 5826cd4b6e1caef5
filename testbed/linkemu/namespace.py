"""A network namespace holding one emulated link, created and removed by itself.

Inside the namespace everything talks over its own loopback, and every packet on it
crosses the link once:

* ``iptables -A OUTPUT -o lo -j NFQUEUE`` hands each packet to the userspace
  emulator (:mod:`testbed.linkemu.nfqueue`), which delays, loses or drops it;
* the loopback's ingress is redirected (``tc ... u32 ... mirred``) to an ``ifb``
  device whose root qdisc is a TBF: the rate and the bottleneck buffer.

Limits, because it is one shared loopback: the round trip is twice the one-way
delay; the rate and buffer are shared by both directions; loss and outages hit
every packet, the relay's TCP signaling included. The loopback's MTU is set to
1500 so packets have a real link's size. Needs root (``ip``, ``tc``, ``iptables``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from types import TracebackType
from typing import Self

from testbed.linkemu.profiles import LinkProfile

__all__ = ["LinkNamespace", "available"]

_TOOLS = ("ip", "tc", "iptables")


def available() -> str | None:
    """None if this machine can build the link, else why not."""
    geteuid = getattr(os, "geteuid", None)  # POSIX only
    if geteuid is None:
        return "network namespaces need Linux"
    if geteuid() != 0:
        return "building the link needs root"
    missing = [t for t in _TOOLS if shutil.which(t) is None]
    return f"missing tools: {', '.join(missing)}" if missing else None


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=10)


class LinkNamespace:
    """``with LinkNamespace(profile) as ns:`` then run programs with ``ns.exec_prefix + [...]``."""

    def __init__(self, profile: LinkProfile, *, seed: int = 0, queue: int = 15) -> None:
        self.profile = profile
        self.seed = seed
        self.queue = queue
        self.name = f"mdg-link-{uuid.uuid4().hex[:8]}"
        self.counters: dict[str, int] = {}
        self._emulator: subprocess.Popen[str] | None = None

    @property
    def exec_prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    @property
    def emulated(self) -> bool:
        p = self.profile
        return bool(p.delay or p.loss or p.outages)

    def __enter__(self) -> Self:
        _run("ip", "netns", "add", self.name)
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def _build(self) -> None:
        p, n = self.profile, self.name
        _run("ip", "-n", n, "link", "set", "lo", "mtu", "1500", "up")
        if p.rate_bps is not None:
            limit = p.limit_bytes or 0
            _run("ip", "-n", n, "link", "add", "ifb0", "type", "ifb")
            _run("ip", "-n", n, "link", "set", "ifb0", "up")
            _run("ip", "netns", "exec", n, "tc", "qdisc", "add", "dev", "lo", "handle", "ffff:", "ingress")
            _run(
                *self.exec_prefix,
                *("tc", "filter", "add", "dev", "lo", "parent", "ffff:", "protocol", "all", "u32"),
                *("match", "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev", "ifb0"),
            )
            # burst: a few full packets, so the rate holds even over short intervals.
            _run(
                *self.exec_prefix,
                *("tc", "qdisc", "add", "dev", "ifb0", "root", "tbf", "rate", str(p.rate_bps)),
                *("burst", "6000", "limit", str(max(limit, 6000))),
            )
        if self.emulated:
            cmd = [
                *self.exec_prefix,
                sys.executable,
                "-m",
                "testbed.linkemu.nfqueue",
                *("--queue", str(self.queue), "--delay", str(p.delay), "--loss", str(p.loss)),
                *("--seed", str(self.seed)),
            ]
            for o in p.outages:
                cmd += ["--outage", f"{o.start}:{o.duration}"]
            self._emulator = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
            assert self._emulator.stdout is not None
            if self._emulator.stdout.readline().strip() != "ready":
                raise RuntimeError("the link emulator did not start")
            _run(
                *self.exec_prefix,
                *("iptables", "-A", "OUTPUT", "-o", "lo", "-j", "NFQUEUE", "--queue-num", str(self.queue)),
            )

    def close(self) -> None:
        """Stop the emulator (its counters land in ``counters``) and remove the namespace."""
        if self._emulator is not None:
            self._emulator.terminate()
            try:
                out, _ = self._emulator.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                self._emulator.kill()
                out, _ = self._emulator.communicate()
            lines = out.strip().splitlines()
            if lines:
                self.counters = json.loads(lines[-1])
            self._emulator = None
        subprocess.run(["ip", "netns", "del", self.name], check=False, capture_output=True, timeout=10)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
