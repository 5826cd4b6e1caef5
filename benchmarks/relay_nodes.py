"""``madoguchi bench relay``: relay nodes under load, as separate processes, over the real protocol.

``madoguchi bench relay [--quick] [--nodes N] [--store URL|redis] [--database URL] [--json PATH]``

Starts everything itself: ``--nodes`` relay processes (``madoguchi relay --config
node-K.toml --port 0``, each with the operator ``bench`` made by ``madoguchi admin``),
redis-server on a free port when ``--store redis`` is given without a URL, and the load
generator (``benchmarks.relay_generator``) in a process of its own, which speaks the
protocol over raw aiohttp websockets (customers: ``register``; operators: login,
``auth``, ``claim``). See :mod:`benchmarks.relay_generator` for the phases. Figures:

- **connect cycles**: every node's RSS after each 1,000 of ``--cycles`` (20,000)
  connect/register/bye/close cycles; "flat after 10,000 cycles" is the slope of the
  RSS over the second half (least squares, bytes per cycle). The first 10,000 fill
  what the relay keeps on purpose, bounded by the 4-digit code space and the hour
  (every code used once and remembered, the code pool's minute buckets, SQLite's page
  cache); single readings move by a few hundred KiB either way, hence the slope;
- **held sockets**: customers waiting with their codes, up to ``--sockets`` in all
  (spread over the nodes); register latency p50/p99 at 1,000, 5,000 and 10,000
  sockets (client side, one registration at a time, the Nth socket), RSS per 1,000
  sockets;
- **claims**: ``--claims`` pairings by ``--claimers`` operator sockets, an operator
  always on another node than its customer when there are several, each pairing
  verified on both sides (same session id), claims per second.

The nodes' limits are opened up (``BENCH_CONFIG``, written to every node's TOML and
recorded in the JSON): every socket comes from 127.0.0.1, so the per-address caps
(connections, registrations, codes waiting per address) would stop the benchmark long
before the relay's cost does; the code lifetime and hello deadline are long enough for
the ramp. Nothing else is changed: heartbeats, the audit trail (SQLite, or
``--database``), the code draw run as in production. Every process raises its soft
``RLIMIT_NOFILE`` to the hard limit (``ulimit -Hn``; 10,000 sockets need a little over
10,000 descriptors in the relay and as many in the generator), and the JSON records
the limits each process got.

Several nodes need a shared store (``--store``): with the embedded in-memory store a
code registered on one node is unknown to the others.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.machine import machine_info
from benchmarks.relay_generator import BENCH_OPERATOR, Spec
from benchmarks.relay_side import raise_fd_limit
from protocol import AGENT_CODE_DIGITS

__all__ = ["BENCH_CONFIG", "TARGETS", "bench", "check_targets", "configure", "run"]

_ROOT = Path(__file__).resolve().parents[1]

CODE_SPACE = 10**AGENT_CODE_DIGITS
SHARED_SOCKETS = 9 * CODE_SPACE // 10
"""Default customers waiting in all with several nodes."""

BENCH_CONFIG: dict[str, Any] = {
    "host": "127.0.0.1",
    # The ramp to 10,000 waiting customers takes a while; none may expire meanwhile.
    "code_ttl_s": 3600.0,
    "limits": {
        # Every socket comes from 127.0.0.1: no per-address caps, no cap on the total
        # beyond the descriptor limit (the relay lowers it to fit ``ulimit -n``).
        "max_connections_per_ip": 0,
        "max_connections": 0,
        "max_live_codes_per_ip": CODE_SPACE,
        "registrations_per_ip": 10**9,
        # The rate-limit counter of one address keeps a timestamp per registration in
        # its window; with one address doing thousands a second, the default 60 s window
        # would hold hundreds of thousands of them (a cost no real address causes).
        "registrations_window_s": 1.0,
        # Capacity: the whole 4-digit code space, every socket a session if it likes.
        "max_live_codes": CODE_SPACE,
        "max_sessions": CODE_SPACE,
        "max_sessions_per_operator": CODE_SPACE,
        "hello_timeout_s": 600.0,
    },
}

# (name, path into the report, limit, "max" or "min")
TARGETS: tuple[tuple[str, tuple[str, ...], float, str], ...] = (
    ("agent sockets held on one node", ("summary", "max_sockets_per_node"), 10_000, "min"),
    ("register p99 ms at 5,000 sockets", ("summary", "register_p99_ms_at_5000"), 100.0, "max"),
    # 50 bytes a cycle: 0.5 MB per 10,000 cycles, under 1 % of the relay's RSS. A slope,
    # not two readings: single RSS readings move by a few hundred KiB either way.
    (
        "RSS growth after 10,000 connect cycles, bytes per cycle",
        ("summary", "cycles_bytes_per_cycle"),
        50.0,
        "max",
    ),
    ("claims per second, pairing verified", ("summary", "claims_per_second"), 200.0, "min"),
)


@dataclasses.dataclass(frozen=True)
class Settings:
    nodes: int = 1
    sockets: int = 10_000
    samples: int = 200
    cycles: int = 20_000
    cycle_step: int = 1_000
    cycle_clients: int = 20
    claims: int = 2_000
    claimers: int = 30
    warmup: int = 200
    settle_s: float = 1.0

    @classmethod
    def quick(cls) -> Settings:
        return cls(
            sockets=200,
            samples=20,
            cycles=200,
            cycle_step=100,
            cycle_clients=4,
            claims=50,
            claimers=4,
            warmup=20,
            settle_s=0.3,
        )

    def checkpoints(self) -> tuple[int, ...]:
        return tuple(sorted({c for c in (1_000, 5_000, 10_000) if c < self.sockets} | {self.sockets}))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _toml_value(value: Any) -> str:
    return json.dumps(value)  # strings, numbers and booleans are written alike in TOML


def node_toml(config: dict[str, Any], data_dir: Path) -> str:
    lines = [f"data_dir = {_toml_value(str(data_dir))}"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in config.items() if not isinstance(v, dict)]
    for table, values in config.items():
        if isinstance(values, dict):
            lines.append(f"\n[{table}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def _madoguchi(*args: str) -> list[str]:
    return [sys.executable, "-m", "madoguchi", *args]


def _nofile(pid: int) -> list[int] | None:
    """The soft and hard open-file limits process ``pid`` runs with."""
    try:
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return [int(soft), int(hard)]
    except (OSError, ValueError):
        pass
    return None


@contextlib.contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    """Debian's redis-server on a free port, configured as the guide says: its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("--store redis needs redis-server (apt-get install redis-server)")
    port = _free_port()
    # As docs/operations.md deploys it: AOF, fsync every second, never evict.
    args = [
        *(binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""),
        *("--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction"),
    ]
    child = subprocess.Popen([*args, "--dir", str(tmp)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or child.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        child.terminate()
        child.wait(10)


@dataclasses.dataclass
class _Node:
    child: subprocess.Popen[str]
    url: str


def _start_node(toml: Path) -> _Node:
    child = subprocess.Popen(
        _madoguchi("relay", "--config", str(toml), "--port", "0"),
        stdout=subprocess.PIPE,
        text=True,
        cwd=_ROOT,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    prefix = "madoguchi relay listening on "
    if not line.startswith(prefix):
        child.kill()
        child.wait()
        child.stdout.close()
        raise RuntimeError(f"relay node {toml.name} did not start (exit {child.poll()}): {line!r}")
    return _Node(child, line[len(prefix) :].strip())


def _stop_node(node: _Node) -> int | None:
    if node.child.poll() is None:
        node.child.send_signal(signal.SIGTERM)
        try:
            node.child.wait(30)
        except subprocess.TimeoutExpired:
            node.child.kill()
            node.child.wait()
    if node.child.stdout is not None:
        node.child.stdout.close()
    return node.child.returncode


def _add_operator(toml: Path, password: str) -> None:
    username, display_name, org = BENCH_OPERATOR
    done = subprocess.run(
        _madoguchi(
            *("admin", "--config", str(toml), "add-operator", username),
            *("--display-name", display_name, "--org", org, "--password-stdin"),
        ),
        input=f"{password}\n{password}\n",
        text=True,
        check=False,
        capture_output=True,
        cwd=_ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"madoguchi admin add-operator failed: {done.stderr.strip()}")


def _generate(spec: Spec) -> dict[str, Any]:
    """The load generator process: its figures, and the open-file limit it got."""
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.relay_generator"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=_ROOT,
    )
    out, _ = child.communicate(json.dumps(dataclasses.asdict(spec)))
    if child.returncode != 0:
        raise RuntimeError(f"the load generator failed (exit {child.returncode})")
    result: dict[str, Any] = json.loads(out)
    return result


def _summary(result: dict[str, Any], nodes: int) -> dict[str, Any]:
    held, cycles, claims = result["held_sockets"], result["connect_cycles"], result["claims"]
    at = {c["sockets"]: c["register"] for c in held["checkpoints"]}
    return {
        "nodes": nodes,
        "max_sockets_per_node": held["max_sockets_per_node"],
        "register_p50_ms": {str(k): v["p50_ms"] for k, v in at.items()},
        "register_p99_ms": {str(k): v["p99_ms"] for k, v in at.items()},
        "register_p99_ms_at_5000": at[5_000]["p99_ms"] if 5_000 in at else None,
        "kib_per_1000_sockets": held["kib_per_1000_sockets"],
        "cycles": cycles["cycles"],
        "cycles_flat_from": cycles["flat_from_cycle"],
        "cycles_rss_growth_kib": max(cycles["growth_kib"]),
        "cycles_rss_growth_percent": max(cycles["growth_percent"]),
        "cycles_bytes_per_cycle": max(
            (b for b in cycles["bytes_per_cycle_after"] if b is not None), default=None
        ),
        "claims_per_second": claims["per_second"] if claims["pairing_verified"] else None,
        "pairing_verified": claims["pairing_verified"],
    }


def check_targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, path, limit, kind in TARGETS:
        value: Any = report
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        met = None if value is None else (value <= limit if kind == "max" else value >= limit)
        out.append({"target": name, kind: limit, "measured": value, "met": met})
    return out


def bench(
    settings: Settings, *, store: str | None, database: str | None, command: str, say: Any = print
) -> dict[str, Any]:
    soft_limit = raise_fd_limit()  # inherited by the relays and the generator
    report: dict[str, Any] = {
        "benchmark": "relay_nodes",
        "version": 1,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": command,
        "machine": machine_info(),
        "settings": dataclasses.asdict(settings) | {"checkpoints": list(settings.checkpoints())},
        "relay_config": BENCH_CONFIG,
        "relay_config_why": "per-address caps and rate limits opened (every socket is 127.0.0.1); "
        "capacity set to the whole code space; code TTL and hello deadline long enough for the ramp",
    }
    password = secrets.token_urlsafe(12)
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="madoguchi-bench-relay-")))
        if store == "redis":
            say("relay_nodes: starting redis-server ...")
            store = stack.enter_context(redis_server(tmp))
        config = dict(BENCH_CONFIG)
        if store is not None:
            config["store"] = store
        if database is not None:
            config["database"] = database
        tomls = []
        for i in range(settings.nodes):
            data_dir = tmp / f"node-{i}"
            data_dir.mkdir()
            toml = tmp / f"node-{i}.toml"
            toml.write_text(node_toml(config, data_dir))
            tomls.append(toml)
            if i == 0 or database is None:  # one accounts database per node unless shared
                _add_operator(toml, password)
        say(f"relay_nodes: starting {settings.nodes} relay node(s) ...")
        nodes: list[_Node] = []
        try:
            for toml in tomls:
                nodes.append(_start_node(toml))
            spec = Spec(
                urls=tuple(n.url for n in nodes),
                pids=tuple(n.child.pid for n in nodes),
                password=password,
                sockets=settings.sockets,
                checkpoints=settings.checkpoints(),
                samples=settings.samples,
                cycles=settings.cycles,
                cycle_step=settings.cycle_step,
                cycle_clients=settings.cycle_clients,
                claims=settings.claims,
                claimers=settings.claimers,
                warmup=settings.warmup,
                settle_s=settings.settle_s,
            )
            report["nofile_limits"] = {
                "bench": soft_limit,
                "relays": [_nofile(n.child.pid) for n in nodes],
            }
            result = _generate(spec)
            report["nofile_limits"]["generator"] = result.pop("nofile_soft_limit")
        finally:
            report["relay_exit_codes"] = [_stop_node(n) for n in nodes]
    report["store"] = "memory" if store is None else _redact(store)
    report["database"] = "sqlite" if database is None else _redact(database)
    report["results"] = result
    report["summary"] = _summary(result, settings.nodes)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    report["machine"]["load_average_at_end"] = [round(v, 2) for v in load] if load else None
    report["targets"] = check_targets(report)
    return report


def _redact(url: str) -> str:
    """A store or database URL without its password."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"


def render(report: dict[str, Any]) -> str:
    s = report["summary"]
    held = report["results"]["held_sockets"]
    claims = report["results"]["claims"]
    lines = [
        f"relay nodes: {s['nodes']} (store {report['store']}, database {report['database']})",
        "",
        "| sockets | register p50 ms | p99 ms | RSS KiB per node |",
        "| --- | --- | --- | --- |",
    ]
    for c in held["checkpoints"]:
        r = c["register"]
        lines.append(f"| {c['sockets']} | {r['p50_ms']} | {r['p99_ms']} | {c['rss_kib']} |")
    lines += [
        "",
        f"RSS per 1,000 sockets: {s['kib_per_1000_sockets']} KiB per node",
        f"RSS over connect cycles {s['cycles_flat_from']} to {s['cycles']}: "
        f"{s['cycles_rss_growth_kib']:+d} KiB ({s['cycles_rss_growth_percent']:+} %), "
        f"slope {s['cycles_bytes_per_cycle']} bytes per cycle",
        f"claims: {claims['verified']} of {claims['claims']} pairings verified "
        f"({claims['cross_node']} across nodes), {claims['per_second']} per second",
        "",
    ]
    for t in report["targets"]:
        sign = "<=" if "max" in t else ">="
        verdict = {True: "met", False: "NOT met", None: "not measured"}[t["met"]]
        lines.append(
            f"target {t['target']} {sign} {t.get('max', t.get('min')):g}: {t['measured']} ({verdict})"
        )
    m = report["machine"]
    lines.append(f"load average at start {m['load_average_at_start']}, at end {m['load_average_at_end']}")
    return "\n".join(lines)


def configure(parser: argparse.ArgumentParser) -> None:
    """The options of ``madoguchi bench relay``."""
    parser.add_argument("--quick", action="store_true", help="tiny counts, a few seconds (a smoke test)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write every figure as JSON")
    parser.add_argument("--nodes", type=int, default=1, help="relay processes (default 1; >1 needs --store)")
    parser.add_argument(
        "--store",
        metavar="URL",
        help='the nodes\' shared store, e.g. redis://host:6379/0; "redis" starts redis-server on a free port',
    )
    parser.add_argument(
        "--database", metavar="URL", help="accounts and audit, e.g. postgresql://... (default SQLite)"
    )
    parser.add_argument(
        "--sockets",
        type=int,
        help="customers waiting at the end of the ramp, in all (default 10000; 9000 with several nodes)",
    )
    parser.add_argument("--samples", type=int, help="timed registrations per checkpoint (default 200)")
    parser.add_argument(
        "--cycles", type=int, help="connect/disconnect cycles (default 20000: RSS flat over the second half)"
    )
    parser.add_argument("--claims", type=int, help="pairings claimed and verified (default 2000)")
    parser.add_argument("--claimers", type=int, help="operator sockets claiming at once (default 30)")


def run(args: argparse.Namespace) -> int:
    settings = Settings.quick() if args.quick else Settings()
    chosen = {
        "nodes": args.nodes,
        "sockets": args.sockets,
        "samples": args.samples,
        "cycles": args.cycles,
        "claims": args.claims,
        "claimers": args.claimers,
    }
    settings = dataclasses.replace(settings, **{k: v for k, v in chosen.items() if v is not None})
    settings = dataclasses.replace(settings, cycle_step=min(settings.cycle_step, settings.cycles))
    if settings.nodes > 1 and args.sockets is None and not args.quick:
        # The nodes share one code space: leave a tenth of it free, so the shared draw
        # (not a goal here: 10,000 on one node is) never has to find the very last codes.
        settings = dataclasses.replace(settings, sockets=SHARED_SOCKETS)
    problems = []
    if settings.nodes < 1:
        problems.append("--nodes must be at least 1")
    if settings.nodes > 1 and args.store is None:
        problems.append("several nodes share their live state through a store: give --store redis (or a URL)")
    if not 1 < settings.sockets <= CODE_SPACE:
        problems.append(f"--sockets must be between 2 and {CODE_SPACE} (every customer holds a code)")
    if not 1 <= settings.claims <= CODE_SPACE or settings.samples < 1 or settings.cycles < 1:
        problems.append("--claims, --samples and --cycles must be at least 1")
    limit = raise_fd_limit()
    per_node = -(-settings.sockets // settings.nodes) + settings.claimers + 256
    if limit is not None and limit < max(per_node, settings.sockets + 256):
        problems.append(
            f"the open-file limit is {limit}: {settings.sockets} sockets need about "
            f"{max(per_node, settings.sockets + 256)} (raise the hard limit: ulimit -Hn, or LimitNOFILE)"
        )
    if problems:
        for problem in problems:
            print(f"madoguchi bench relay: {problem}", file=sys.stderr)
        return 2

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    command = "madoguchi bench relay " + shlex.join(
        sys.argv[3:] if sys.argv[1:3] == ["bench", "relay"] else []
    )
    try:
        report = bench(settings, store=args.store, database=args.database, command=command.strip(), say=say)
    except RuntimeError as exc:
        print(f"madoguchi bench relay: {exc}", file=sys.stderr)
        return 1
    print(render(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0 if report["summary"]["pairing_verified"] else 1
