"""Registration cost and memory per socket of the relay, with the previous code draw side by side.

``madoguchi bench-relay [--quick] [--json PATH]``, or ``python -m benchmarks.relay_load`` (``main(argv)``)

Two parts, one invocation:

1. **The code draw, sans-IO.** Two :class:`relay.registry.Registry` on a
   :class:`relay.store.MemoryStore`, driven in this process with a fake clock: an
   hour of churn (``--remembered`` customers who register and hang up, one a second),
   then ``--live`` codes held, then ``--samples`` timed registrations (each followed by
   one hang-up, so the live count stays put). ``baseline`` draws as the relay did
   before (:class:`PreviousDraw`: ``protocol.draw_code``, redrawn up to 8 times while
   it lands on a remembered code); ``madoguchi`` uses :mod:`relay.code_pool`. Both
   also count codes handed out again while they were still remembered.
2. **A real relay** in a child process (:mod:`benchmarks.relay_side`, so that its
   resident memory is its own), on 127.0.0.1, with its limits opened up (this
   measures cost, not limits). After a warm-up and the same churn history over real
   websockets: a crowd of ``--sockets`` idle sockets (authenticated operator consoles)
   comes and goes twice, for the RSS growth per idle socket, what is left once they
   are gone, and whether the second crowd reuses that (kept memory that is reused is
   not leaked); then ``--live`` customers wait with their codes (RSS per waiting
   customer) and registration latency is measured (client side: ``register`` sent to
   ``registered`` read, one customer at a time), then again with idle sockets added up
   to ``--sockets`` connected; then registrations per second with ``--churn-clients``
   customers registering and hanging up as fast as they can for ``--seconds``.
   The crowds run again on a second relay process started with
   ``PYTHONMALLOC=malloc`` (the allocator side by side, see :mod:`relay.memory`).

Timings include this process's own work (the client sockets) on the same cores; the
machine's load averages are recorded at the start and the end. Targets (issue 14):
p99 <= 50 ms at 1,000 live codes and <= 100 ms with 5,000 sockets, <= 16 KiB per idle
socket, RSS back near its baseline once the sockets are gone. Figures: docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime
import json
import logging
import os
import secrets
import shlex
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.machine import machine_info, process_cpu_seconds
from benchmarks.relay_side import raise_fd_limit
from benchmarks.stats import percentile
from protocol import (
    AGENT_CODE_DIGITS,
    PROTOCOL_VERSION,
    Auth,
    Authenticated,
    Bye,
    Ended,
    Message,
    Register,
    Registered,
    SignalingMessage,
    decode_signaling,
    draw_code,
    encode,
)
from relay.code_pool import CodeAllocator
from relay.config import load_config
from relay.effects import Send
from relay.registry import Registry
from relay.store import MemoryStore, Store, TokenRecord

__all__ = ["LoadSettings", "PreviousDraw", "bench", "main"]

logger = logging.getLogger(__name__)

_ROOT = Path(__file__).resolve().parents[1]

RELAY_OVERRIDES: dict[str, Any] = {
    # Cost, not limits: nothing here may refuse the benchmark's own customers.
    "code_ttl_s": 3600.0,
    "registrations_per_ip": 10**9,
    "max_live_codes_per_ip": 10**9,
    "max_live_codes": 10**AGENT_CODE_DIGITS,
    "max_sessions": 10**6,
    "hello_timeout_s": 3600.0,
    "operator_idle_timeout_s": 86400.0,
    # Every socket comes from 127.0.0.1: no cap per address, the total under the fd limit.
    "max_connections_per_ip": 0,
    "max_connections": 0,
}

TARGETS = (
    ("register p99 ms at live codes", ("relay", "register_at_live_codes", "p99_ms"), 50.0),
    ("register p99 ms with all sockets", ("relay", "register_with_sockets", "p99_ms"), 100.0),
    # The 16 KB is 16,000 bytes: 15.625 KiB.
    ("KiB per idle socket", ("relay", "memory", "kib_per_idle_socket"), 15.625),
    # pymalloc keeps the arenas a crowd used (docs/operations.md): a second crowd must reuse
    # them instead of growing the process again; giving memory back needs PYTHONMALLOC=malloc.
    (
        "RSS a second crowd adds, % of the first's growth",
        ("relay", "memory", "second_crowd_extra_percent"),
        10.0,
    ),
    (
        "RSS kept after the sockets went, % of growth, PYTHONMALLOC=malloc",
        ("relay", "memory_pythonmalloc_malloc", "kept_percent"),
        25.0,
    ),
)


@dataclasses.dataclass(frozen=True)
class LoadSettings:
    live: int = 1_000
    sockets: int = 5_000
    remembered: int = 3_000
    samples: int = 300
    churn_s: float = 10.0
    churn_clients: int = 20
    settle_s: float = 1.5
    """Wait before reading RSS: a few timer ticks (0.5 s), so closes and collections are done."""

    @classmethod
    def quick(cls) -> LoadSettings:
        return cls(
            live=50, sockets=200, remembered=100, samples=20, churn_s=0.5, churn_clients=4, settle_s=0.3
        )


# --- part 1: the draw, sans-IO ------------------------------------------------------


class PreviousDraw(CodeAllocator):
    """The relay's draw before issue 14, for the side-by-side baseline.

    ``protocol.draw_code`` over a copy of the store's live codes (64 random tries, then
    a walk through the whole space checking every code's 39 neighbours), redrawn up to
    8 times while the code is remembered as recently used. It kept no state of its own.
    """

    def __init__(self, store: Store) -> None:
        super().__init__(0.0)
        self._store = store

    def allocate(self, digits: int, now: float) -> str:
        live = self._store.live_codes()
        code = draw_code(digits, live)
        for _ in range(8):
            if self._store.retired_code(code, now) is None:
                break
            code = draw_code(digits, live)
        return code

    def take(self, code: str) -> None:
        pass

    def release(self, code: str, now: float) -> None:
        pass


class _NoOperators:
    def verify(self, token: str, now: float) -> TokenRecord | None:
        return None

    def active(self, username: str) -> bool:
        return False


def _sans_io(settings: LoadSettings, *, previous: bool) -> dict[str, Any]:
    config = load_config(env={}, data_dir=Path("/nonexistent"), **RELAY_OVERRIDES)
    store = MemoryStore()
    registry = Registry(config, store, _NoOperators())
    now = 1_000_000.0
    n = 0
    reused = 0

    def register(timed: bool) -> tuple[str, float]:
        nonlocal n, reused
        conn = f"a{n}"
        n += 1
        registry.opened(conn, "agent", "10.0.0.1", now)
        message = Register(protocol_version=PROTOCOL_VERSION, client_version="bench", consent_accepted=True)
        start = time.perf_counter()
        effects = registry.received(conn, message, now)
        elapsed = time.perf_counter() - start
        code = next(
            e.message.code for e in effects if isinstance(e, Send) and isinstance(e.message, Registered)
        )
        if store.retired_code(code, now) is not None:
            reused += 1
        return conn, elapsed

    if previous:  # the same history, drawn the old way
        registry.codes = PreviousDraw(store)
    for _ in range(settings.remembered):  # an hour of customers hanging up at once
        conn, _ = register(False)
        registry.received(conn, Bye(), now)
        now += 3600.0 / max(1, settings.remembered)
    history_reused = reused
    held = [register(False)[0] for _ in range(settings.live)]
    timings = []
    for _ in range(settings.samples):
        _, elapsed = register(True)
        timings.append(elapsed * 1000)
        registry.received(held.pop(0), Bye(), now)
        now += 1.0
    return {
        "live_codes": registry.stats().codes_pending,
        "remembered": settings.remembered,
        **_latency(timings),
        "reused_while_remembered": {"history": history_reused, "total": reused, "registrations": n},
    }


def draw_comparison(settings: LoadSettings, say: Callable[[str], None]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "baseline": "protocol.draw_code over a copy of the live codes, redrawn up to 8x on remembered codes",
        "madoguchi": "relay.code_pool: tiers kept incrementally, one random pick",
    }
    for name, previous in (("madoguchi", False), ("baseline", True)):
        say(f"relay_load: sans-IO draw, {name} ...")
        entry[name] = _sans_io(settings, previous=previous)
    base, new = entry["baseline"], entry["madoguchi"]
    entry["ratio_p99"] = round(base["p99_ms"] / new["p99_ms"], 1) if new["p99_ms"] else None
    return entry


# --- part 2: a real relay -------------------------------------------------------------


def _latency(ms: Sequence[float]) -> dict[str, Any]:
    def pick(q: float) -> float | None:
        value = percentile(ms, q)
        return None if value is None else round(value, 3)

    return {"samples": len(ms), "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": pick(1.0)}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


class _Client:
    """One bare signaling websocket (the benchmark's own: thin, no checks beyond the type)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def send(self, message: Message) -> None:
        await self.ws.send_str(encode(message))

    async def recv(self, timeout: float = 30.0) -> SignalingMessage:
        frame = await asyncio.wait_for(self.ws.receive(), timeout)
        if frame.type is not aiohttp.WSMsgType.TEXT:
            raise RuntimeError(f"the relay closed the socket ({frame.type.name} {frame.data})")
        return decode_signaling(frame.data)


class _Relay:
    """The child process and this side's one HTTP session to it."""

    def __init__(
        self,
        child: asyncio.subprocess.Process,
        url: str,
        http: aiohttp.ClientSession,
        password: str,
        settle: float,
    ) -> None:
        self.child = child
        self.url = url
        self.http = http
        self.password = password
        self.settle_s = settle

    @property
    def pid(self) -> int:
        return self.child.pid

    async def connect(self, role: str) -> _Client:
        url = self.url.replace("http", "ws", 1) + f"/ws/{role}"
        return _Client(await self.http.ws_connect(url, autoping=True, max_msg_size=0))

    async def register(self) -> tuple[_Client, float]:
        """A new customer registers; returns its socket and the latency in ms."""
        client = await self.connect("agent")
        message = Register(protocol_version=PROTOCOL_VERSION, client_version="bench", consent_accepted=True)
        start = time.perf_counter()
        await client.send(message)
        reply = await client.recv()
        elapsed = (time.perf_counter() - start) * 1000
        if not isinstance(reply, Registered):
            raise RuntimeError(f"registration refused: {reply!r}")
        return client, elapsed

    async def hang_up(self, client: _Client) -> None:
        await client.send(Bye())
        while not isinstance(await client.recv(), Ended):
            pass
        await client.ws.close()

    async def operator(self, token: str) -> _Client:
        client = await self.connect("operator")
        await client.send(Auth(protocol_version=PROTOCOL_VERSION, token=token))
        if not isinstance(await client.recv(), Authenticated):
            raise RuntimeError("operator login refused")
        return client

    async def token(self) -> str:
        login = {"username": "bench", "password": self.password}
        async with self.http.post(f"{self.url}/api/login", json=login) as response:
            body = await response.json()
            return str(body["token"])

    async def connections(self) -> int:
        async with self.http.get(f"{self.url}/metrics") as response:
            for line in (await response.text()).splitlines():
                if line.startswith("madoguchi_connections "):
                    return int(float(line.split()[1]))
        raise RuntimeError("no madoguchi_connections in /metrics")

    async def settled_rss(self, connections: int) -> int:
        """RSS once the relay has ``connections`` sockets and a few timer ticks went by."""
        deadline = time.monotonic() + 60
        while await self.connections() != connections:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the relay did not reach {connections} connections")
            await asyncio.sleep(0.1)
        await asyncio.sleep(self.settle_s)
        return rss_kib(self.pid)


@contextlib.asynccontextmanager
async def _relay_process(settle_s: float, env: dict[str, str] | None = None) -> AsyncIterator[_Relay]:
    password = secrets.token_urlsafe(12)
    child = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "benchmarks.relay_side", "--overrides", json.dumps(RELAY_OVERRIDES)),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=_ROOT,
        env={**os.environ, **(env or {})},
    )
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        child.stdin.write(password.encode() + b"\n")
        await child.stdin.drain()
        line = (await asyncio.wait_for(child.stdout.readline(), 60)).decode()
        if not line.startswith("ready "):
            raise RuntimeError(f"the relay did not start: {line!r}")
        connector = aiohttp.TCPConnector(limit=0)  # websockets hold their connection
        async with aiohttp.ClientSession(connector=connector) as http:
            yield _Relay(child, line.split()[1], http, password, settle_s)
    finally:
        child.stdin.close()  # the relay stops when its stdin closes
        try:
            await asyncio.wait_for(child.wait(), 15)
        except TimeoutError:
            child.kill()
            await child.wait()


async def _in_batches(count: int, make: Callable[[], Awaitable[Any]], batch: int = 100) -> list[Any]:
    made: list[Any] = []
    while len(made) < count:
        made += await asyncio.gather(*(make() for _ in range(min(batch, count - len(made)))))
    return made


async def _churn(
    relay: _Relay, clients: int, *, seconds: float | None = None, total: int | None = None
) -> dict[str, Any]:
    """Customers registering and hanging up as fast as they can, ``clients`` at a time."""
    done = 0
    latencies: list[float] = []
    deadline = time.monotonic() + seconds if seconds is not None else None

    def more() -> bool:
        if deadline is not None:
            return time.monotonic() < deadline
        return total is not None and done < total

    async def customer() -> None:
        nonlocal done
        while more():
            done += 1  # counted when started, so that ``total`` is not overshot
            client, elapsed = await relay.register()
            latencies.append(elapsed)
            await relay.hang_up(client)

    start = time.monotonic()
    await asyncio.gather(*(customer() for _ in range(clients)))
    wall = time.monotonic() - start
    return {
        "clients": clients,
        "seconds": round(wall, 2),
        "registrations": done,
        "per_second": round(done / wall, 1) if wall > 0 else None,
        "register_latency": _latency(latencies),
    }


async def _timed_registrations(relay: _Relay, samples: int) -> dict[str, Any]:
    """One customer at a time: register (timed), hang up; the live count does not move."""
    timings = []
    for _ in range(samples):
        client, elapsed = await relay.register()
        timings.append(elapsed)
        await relay.hang_up(client)
    return _latency(timings)


async def _crowd(relay: _Relay, token: str, count: int) -> tuple[int, int]:
    """``count`` idle operator sockets come and go: RSS with them, and after."""
    crowd = await _in_batches(count, lambda: relay.operator(token))
    peak = await relay.settled_rss(count)
    await asyncio.gather(*(client.ws.close() for client in crowd))
    return peak, await relay.settled_rss(0)


async def _prepare(relay: _Relay, settings: LoadSettings) -> str:
    """Warm-up and an hour of churn: the state a relay is in before the measurements."""
    token = await relay.token()
    await _churn(relay, 4, total=50)
    await _crowd(relay, token, 100)
    await _churn(relay, settings.churn_clients, total=settings.remembered)
    return token


async def _crowds(relay: _Relay, token: str, settings: LoadSettings) -> dict[str, Any]:
    """A crowd of idle sockets comes and goes, twice: RSS per socket, kept, reused."""
    base = await relay.settled_rss(0)
    peak, after = await _crowd(relay, token, settings.sockets)
    second_peak, after_second = await _crowd(relay, token, settings.sockets)
    growth = peak - base
    return {
        "idle_sockets": settings.sockets,
        "rss_baseline_kib": base,
        "rss_peak_kib": peak,
        "rss_after_kib": after,
        "rss_second_peak_kib": second_peak,
        "rss_after_second_kib": after_second,
        "kib_per_idle_socket": round(growth / settings.sockets, 2),
        "kept_kib": after - base,
        "kept_percent": round(100 * (after - base) / growth, 1) if growth > 0 else None,
        "second_crowd_extra_kib": second_peak - peak,
        "second_crowd_extra_percent": round(100 * max(0, second_peak - peak) / growth, 1)
        if growth > 0
        else None,
    }


async def real_relay(settings: LoadSettings, say: Callable[[str], None]) -> dict[str, Any]:
    raise_fd_limit()
    async with _relay_process(settings.settle_s) as relay:
        pid = relay.pid
        say("relay_load: warm-up and an hour of churn ...")
        token = await _prepare(relay, settings)
        # The crowds first: with pymalloc, memory any earlier phase freed would be reused.
        say(f"relay_load: a crowd of {settings.sockets} idle sockets comes and goes, twice ...")
        memory = await _crowds(relay, token, settings)

        say(f"relay_load: {settings.live} customers waiting with their codes ...")
        agents = [client for client, _ in await _in_batches(settings.live, relay.register)]
        await relay.settled_rss(settings.live)
        cpu = process_cpu_seconds(pid)
        at_live = await _timed_registrations(relay, settings.samples)
        at_live["relay_cpu_s"] = _delta(process_cpu_seconds(pid), cpu)
        at_live["live_codes"] = settings.live

        idle_count = settings.sockets - settings.live
        say(f"relay_load: {idle_count} idle operator sockets more ({settings.sockets} connected) ...")
        idle = await _in_batches(idle_count, lambda: relay.operator(token))
        await relay.settled_rss(settings.sockets)
        with_sockets = await _timed_registrations(relay, settings.samples)
        with_sockets["sockets"] = settings.sockets
        with_sockets["live_codes"] = settings.live

        say(f"relay_load: churn for {settings.churn_s:g} s with everything connected ...")
        cpu = process_cpu_seconds(pid)
        churn = await _churn(relay, settings.churn_clients, seconds=settings.churn_s)
        cpu_s = _delta(process_cpu_seconds(pid), cpu)
        churn["relay_cpu_percent"] = round(100 * cpu_s / churn["seconds"], 1) if cpu_s is not None else None
        await asyncio.gather(*(relay.hang_up(a) for a in agents))
        await asyncio.gather(*(client.ws.close() for client in idle))
        memory["rss_at_the_end_kib"] = await relay.settled_rss(0)

    # The same crowds on a relay whose Python allocates with glibc's malloc: it can give
    # freed memory back (relay/memory.py), pymalloc's arenas stay while anything pins them.
    say("relay_load: the crowds again, relay with PYTHONMALLOC=malloc ...")
    async with _relay_process(settings.settle_s, {"PYTHONMALLOC": "malloc"}) as relay:
        token = await _prepare(relay, settings)
        # Memory per waiting customer here, on a relay that has not seen a crowd yet.
        rss_before_live = await relay.settled_rss(0)
        agents = [client for client, _ in await _in_batches(settings.live, relay.register)]
        rss_live = await relay.settled_rss(settings.live)
        await asyncio.gather(*(relay.hang_up(a) for a in agents))
        with_malloc = await _crowds(relay, token, settings)
        with_malloc["kib_per_waiting_customer"] = round((rss_live - rss_before_live) / settings.live, 2)
    return {
        "register_at_live_codes": at_live,
        "register_with_sockets": with_sockets,
        "churn": churn,
        "memory": memory,
        "memory_pythonmalloc_malloc": with_malloc,
    }


def _delta(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else round(after - before, 3)


# --- the report -------------------------------------------------------------------------


def _lookup(report: dict[str, Any], path: Sequence[str]) -> Any:
    value: Any = report
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def check_targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, path, limit in TARGETS:
        measured = _lookup(report, path)
        met = None if measured is None else measured <= limit
        out.append({"target": name, "limit": limit, "measured": measured, "met": met})
    return out


async def bench(settings: LoadSettings, *, command: str, say: Callable[[str], None]) -> dict[str, Any]:
    report: dict[str, Any] = {
        "benchmark": "relay_load",
        "version": 1,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": command,
        "machine": machine_info(),
        "settings": dataclasses.asdict(settings),
        "relay_overrides": RELAY_OVERRIDES,
    }
    report["draw"] = draw_comparison(settings, say)
    report["relay"] = await real_relay(settings, say)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    report["machine"]["load_average_at_end"] = [round(v, 2) for v in load] if load else None
    report["targets"] = check_targets(report)
    return report


def render(report: dict[str, Any]) -> str:
    draw, relay = report["draw"], report["relay"]
    lines = [
        "| sans-IO draw | live | p50 ms | p99 ms | max ms | reused while remembered |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in ("baseline", "madoguchi"):
        e = draw[name]
        reused = e["reused_while_remembered"]
        lines.append(
            f"| {name} | {e['live_codes']} | {e['p50_ms']} | {e['p99_ms']} | {e['max_ms']} "
            f"| {reused['total']} of {reused['registrations']} |"
        )
    at, wide = relay["register_at_live_codes"], relay["register_with_sockets"]
    churn, mem = relay["churn"], relay["memory"]
    lines += [
        "",
        "| real relay | p50 ms | p99 ms | max ms |",
        "| --- | --- | --- | --- |",
        f"| register at {at['live_codes']} live codes | {at['p50_ms']} | {at['p99_ms']} | {at['max_ms']} |",
        f"| register, {wide['sockets']} sockets | {wide['p50_ms']} | {wide['p99_ms']} | {wide['max_ms']} |",
        "",
        f"churn: {churn['per_second']} registrations/s ({churn['clients']} clients, "
        f"relay CPU {churn['relay_cpu_percent']} % of a core)",
        f"memory: {mem['kib_per_idle_socket']} KiB per idle socket ({mem['idle_sockets']}); "
        f"{relay['memory_pythonmalloc_malloc']['kib_per_waiting_customer']} KiB per waiting customer "
        "(PYTHONMALLOC=malloc)",
    ]
    for label, m in (("pymalloc", mem), ("PYTHONMALLOC=malloc", relay["memory_pythonmalloc_malloc"])):
        lines.append(
            f"RSS KiB, {label}: {m['rss_baseline_kib']} -> {m['rss_peak_kib']} -> {m['rss_after_kib']} "
            f"({m['kept_percent']} % of the growth kept, {m['kib_per_idle_socket']} KiB per socket); "
            f"second crowd {m['rss_second_peak_kib']} -> {m['rss_after_second_kib']}"
        )
    lines.append("")
    for t in report["targets"]:
        verdict = "met" if t["met"] else "NOT met"
        lines.append(f"target {t['target']} <= {t['limit']:g}: {t['measured']} ({verdict})")
    load = report["machine"]
    lines.append(
        f"load average at start {load['load_average_at_start']}, at end {load['load_average_at_end']}"
    )
    return "\n".join(lines)


def configure(parser: argparse.ArgumentParser) -> None:
    """The options of ``madoguchi bench-relay`` and ``python -m benchmarks.relay_load``."""
    parser.add_argument("--quick", action="store_true", help="small counts, a few seconds (a smoke test)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write every figure as JSON")
    parser.add_argument("--live", type=int, help="codes held while measuring (default 1000)")
    parser.add_argument("--sockets", type=int, help="sockets connected in the second phase (default 5000)")
    parser.add_argument("--remembered", type=int, help="customers in the hour before (default 3000)")
    parser.add_argument("--samples", type=int, help="timed registrations per phase (default 300)")
    parser.add_argument("--seconds", type=float, help="churn duration (default 10)")
    parser.add_argument("--churn-clients", type=int, help="customers churning at once (default 20)")


def run(args: argparse.Namespace, command: str = "madoguchi bench-relay") -> int:
    settings = LoadSettings.quick() if args.quick else LoadSettings()
    chosen = {
        "live": args.live,
        "sockets": args.sockets,
        "remembered": args.remembered,
        "samples": args.samples,
        "churn_s": args.seconds,
        "churn_clients": args.churn_clients,
    }
    settings = dataclasses.replace(settings, **{k: v for k, v in chosen.items() if v is not None})
    if settings.live < 1 or settings.samples < 1 or settings.sockets < settings.live or settings.churn_s <= 0:
        print(
            "relay_load: need --live >= 1, --samples >= 1, --sockets >= --live, --seconds > 0",
            file=sys.stderr,
        )
        return 2

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    report = asyncio.run(bench(settings, command=command.strip(), say=say))
    print(render(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.relay_load", description=__doc__.split("\n")[0]
    )
    configure(parser)
    args = parser.parse_args(argv)
    command = "python -m benchmarks.relay_load " + shlex.join(
        list(argv if argv is not None else sys.argv[1:])
    )
    return run(args, command)


if __name__ == "__main__":
    sys.exit(main())
