"""The load generator of ``madoguchi bench relay``, in a process of its own.

``python -m benchmarks.relay_generator`` reads a JSON spec on stdin (the relay nodes'
URLs and process ids, the counts), speaks the real protocol to the nodes over raw
aiohttp websockets, prints progress on stderr and one JSON object with every figure on
stdout. It is a separate process so that its sockets and CPU are never the relay's
(the relays are separate processes too: ``benchmarks.relay_nodes`` starts all of them).

Phases, in this order (``benchmarks/relay_nodes.py`` says what each figure means):

1. **warm-up**: a few hundred customers register and hang up on every node;
2. **connect cycles**: ``cycles`` customers connect, register, say ``bye`` and close,
   ``cycle_clients`` at a time, spread over the nodes; every node's RSS after each
   ``cycle_step`` (the churn paused, sockets settled); the growth over the second half
   is what must stay flat (the first half fills the relay's bounded memory: with
   20,000 cycles, every one of the 10,000 codes has been used and is remembered);
3. **held sockets**: customers connect and register and stay (their code waiting),
   spread over the nodes, up to ``sockets``; at each checkpoint N, with N - 1 waiting,
   ``samples`` timed registrations one at a time (the Nth socket: connect, ``register``
   sent to ``registered`` read, ``bye``, close) and every node's RSS;
4. **claims**: ``claims`` customers wait with their codes; ``claimers`` operator
   sockets (each logged in on its node) claim them, an operator always on another node
   than its customer when there are several; a pairing counts as verified when the
   operator got ``claim_pending``, the customer ``operator_request`` naming that
   operator, and after the customer's Allow both got ``session_start`` with the same
   session id; then the customer says ``bye`` and both must see ``ended``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from benchmarks.machine import process_cpu_seconds
from benchmarks.relay_side import raise_fd_limit
from benchmarks.stats import percentile
from protocol import (
    PROTOCOL_VERSION,
    Auth,
    Authenticated,
    Bye,
    Claim,
    ClaimPending,
    Decision,
    Ended,
    Error,
    Message,
    OperatorRequest,
    Register,
    Registered,
    SessionStart,
    SignalingMessage,
    decode_signaling,
    encode,
)

__all__ = ["BENCH_OPERATOR", "Spec", "main", "rss_kib"]

logger = logging.getLogger(__name__)

BENCH_OPERATOR = ("bench", "Bench Operator", "Madoguchi Bench")
"""username, display name, organisation of the operator the nodes are given."""

_T = TypeVar("_T", bound=Message)
_R = TypeVar("_R")


@dataclasses.dataclass(frozen=True)
class Spec:
    urls: tuple[str, ...]
    pids: tuple[int, ...]
    password: str
    sockets: int = 10_000
    checkpoints: tuple[int, ...] = (1_000, 5_000, 10_000)
    samples: int = 200
    cycles: int = 20_000
    cycle_step: int = 1_000
    cycle_clients: int = 20
    claims: int = 2_000
    claimers: int = 30
    warmup: int = 200
    batch: int = 100
    settle_s: float = 1.0
    timeout_s: float = 30.0


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def rss_kib(pid: int) -> int:
    return _status(pid, "VmRSS")


def latency(ms: Sequence[float]) -> dict[str, Any]:
    def pick(q: float) -> float | None:
        value = percentile(ms, q)
        return None if value is None else round(value, 3)

    return {"samples": len(ms), "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": pick(1.0)}


class Refused(RuntimeError):
    """The relay answered with an error (or closed) where the protocol says otherwise."""


class Socket:
    """One signaling websocket with a reader task, so that pings are answered while it waits."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, timeout: float) -> None:
        self.ws = ws
        self.timeout = timeout
        self.inbox: asyncio.Queue[SignalingMessage | None] = asyncio.Queue()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for frame in self.ws:  # answers pings itself (autoping)
                if frame.type is aiohttp.WSMsgType.TEXT:
                    self.inbox.put_nowait(decode_signaling(frame.data))
        finally:
            self.inbox.put_nowait(None)

    async def send(self, message: Message) -> None:
        await self.ws.send_str(encode(message))

    async def expect(self, kind: type[_T]) -> _T:
        """The next message of ``kind``, skipping others; an error, an end or a close raises."""
        while True:
            message = await asyncio.wait_for(self.inbox.get(), self.timeout)
            if isinstance(message, kind):
                return message
            if message is None:
                raise Refused(f"closed while waiting for {kind.type}")
            if isinstance(message, Error | Ended):
                raise Refused(f"{message!r} while waiting for {kind.type}")

    async def close(self) -> None:
        await self.ws.close()
        await self.reader


class Node:
    def __init__(self, index: int, url: str, pid: int, http: aiohttp.ClientSession, timeout: float) -> None:
        self.index = index
        self.url = url
        self.pid = pid
        self.http = http
        self.timeout = timeout

    async def connect(self, role: str) -> Socket:
        url = self.url.replace("http", "ws", 1) + f"/ws/{role}"
        return Socket(await self.http.ws_connect(url, max_msg_size=0), self.timeout)

    async def register(self) -> tuple[Socket, Registered, float]:
        """A customer connects and registers: its socket, its code, the latency in ms."""
        sock = await self.connect("agent")
        message = Register(protocol_version=PROTOCOL_VERSION, client_version="bench", consent_accepted=True)
        start = time.perf_counter()
        await sock.send(message)
        try:
            registered = await sock.expect(Registered)
        except BaseException:
            await sock.close()
            raise
        return sock, registered, (time.perf_counter() - start) * 1000

    async def hang_up(self, sock: Socket) -> None:
        await sock.send(Bye())
        await sock.expect(Ended)
        await sock.close()

    async def cycle(self) -> float:
        sock, _, elapsed = await self.register()
        await self.hang_up(sock)
        return elapsed

    async def token(self, password: str) -> str:
        login = {"username": BENCH_OPERATOR[0], "password": password}
        async with self.http.post(f"{self.url}/api/login", json=login) as response:
            body = await response.json()
            if response.status != 200:
                raise Refused(f"login on {self.url}: {response.status} {body}")
            return str(body["token"])

    async def operator(self, token: str) -> Socket:
        sock = await self.connect("operator")
        await sock.send(Auth(protocol_version=PROTOCOL_VERSION, token=token))
        await sock.expect(Authenticated)
        return sock

    async def connections(self) -> int:
        async with self.http.get(f"{self.url}/metrics") as response:
            for line in (await response.text()).splitlines():
                if line.startswith("madoguchi_connections "):
                    return int(float(line.split()[1]))
        raise RuntimeError(f"no madoguchi_connections in {self.url}/metrics")


def _cpu(nodes: Sequence[Node]) -> list[float]:
    """Each node's CPU seconds so far (Linux: from /proc; 0 where unreadable)."""
    return [process_cpu_seconds(node.pid) or 0.0 for node in nodes]


def _cpu_percent(before: list[float], after: list[float], wall: float) -> list[float | None]:
    """Each node's CPU over ``wall`` seconds, in % of one core."""
    return [None if wall <= 0 else round(100 * (a - b) / wall, 1) for b, a in zip(before, after, strict=True)]


def _say(line: str) -> None:
    print(f"relay_generator: {line}", file=sys.stderr, flush=True)


async def _settled_rss(nodes: Sequence[Node], counts: Sequence[int], settle_s: float) -> list[int]:
    """Every node's RSS once it holds exactly its share of sockets and a few ticks went by."""
    deadline = time.monotonic() + 120
    for node, count in zip(nodes, counts, strict=True):
        while (now := await node.connections()) != count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"node {node.index} holds {now} sockets, not {count}")
            await asyncio.sleep(0.1)
    await asyncio.sleep(settle_s)
    return [rss_kib(node.pid) for node in nodes]


async def _in_batches(count: int, make: Callable[[int], Awaitable[_R]], batch: int) -> list[_R]:
    made: list[_R] = []
    while len(made) < count:
        start = len(made)
        made += await asyncio.gather(*(make(start + i) for i in range(min(batch, count - start))))
    return made


def _shares(total: int, nodes: int) -> list[int]:
    """How many of ``total`` sockets handed out round-robin land on each node."""
    return [total // nodes + (1 if i < total % nodes else 0) for i in range(nodes)]


async def _cycles(nodes: Sequence[Node], spec: Spec) -> dict[str, Any]:
    series: list[dict[str, Any]] = []
    done = 0
    latencies: list[float] = []
    busy_s = 0.0
    busy_cpu = [0.0] * len(nodes)
    while done < spec.cycles:
        chunk = min(spec.cycle_step, spec.cycles - done)
        queue = iter(range(done, done + chunk))

        async def worker(queue: Iterator[int] = queue) -> None:
            for i in queue:
                latencies.append(await nodes[i % len(nodes)].cycle())

        cpu, chunk_start = _cpu(nodes), time.monotonic()
        await asyncio.gather(*(worker() for _ in range(spec.cycle_clients)))
        busy_s += time.monotonic() - chunk_start
        busy_cpu = [t + a - b for t, a, b in zip(busy_cpu, _cpu(nodes), cpu, strict=True)]
        done += chunk
        rss = await _settled_rss(nodes, [0] * len(nodes), spec.settle_s)
        threads = [_status(node.pid, "Threads") for node in nodes]
        series.append({"cycles": done, "rss_kib": rss, "threads": threads})
        _say(f"{done} connect cycles, RSS KiB {rss}")
    # The first half fills what the relay keeps on purpose (every code of the space
    # remembered once, the code pool's index, SQLite's page cache); the second half
    # must leave the RSS flat.
    half = series[max(0, len(series) // 2 - 1)]
    last = series[-1]["rss_kib"]
    tail = [step for step in series if step["cycles"] >= half["cycles"]]
    slope: list[float | None] = []  # least squares over the second half: robust to one noisy reading
    for i in range(len(nodes)):
        if len(tail) < 2:
            slope.append(None)
            continue
        fit = statistics.linear_regression(
            [t["cycles"] for t in tail], [t["rss_kib"][i] * 1024 for t in tail]
        )
        slope.append(round(fit.slope, 1))
    return {
        "cycles": spec.cycles,
        "clients": spec.cycle_clients,
        "per_second": round(spec.cycles / busy_s, 1),
        "relay_cpu_percent": _cpu_percent([0.0] * len(nodes), busy_cpu, busy_s),
        "register_latency": latency(latencies),
        "series": series,
        "flat_from_cycle": half["cycles"],
        "bytes_per_cycle_after": slope,
        "growth_kib": [b - a for a, b in zip(half["rss_kib"], last, strict=True)],
        "growth_percent": [round(100 * (b - a) / a, 2) for a, b in zip(half["rss_kib"], last, strict=True)],
        "first_step_to_half_kib": [b - a for a, b in zip(series[0]["rss_kib"], half["rss_kib"], strict=True)],
    }


async def _held(nodes: Sequence[Node], spec: Spec) -> dict[str, Any]:
    n = len(nodes)
    held: list[Socket] = []
    rss_before = await _settled_rss(nodes, [0] * n, spec.settle_s)
    checkpoints: list[dict[str, Any]] = []
    ramp: list[float] = []
    started = time.monotonic()
    for target in spec.checkpoints:
        grow = target - 1 - len(held)  # the Nth socket is the one timed
        first = len(held)

        async def one(i: int, first: int = first) -> Socket:
            sock, _, elapsed = await nodes[(first + i) % n].register()
            ramp.append(elapsed)
            return sock

        held += await _in_batches(grow, one, spec.batch)
        shares = _shares(len(held), n)
        rss = await _settled_rss(nodes, shares, spec.settle_s)
        timings = [await nodes[i % n].cycle() for i in range(spec.samples)]
        checkpoints.append(
            {
                "sockets": target,
                "sockets_per_node": _shares(target, n),
                "register": latency(timings),
                "rss_kib": rss,
            }
        )
        _say(f"{target} sockets: register p99 {checkpoints[-1]['register']['p99_ms']} ms, RSS KiB {rss}")
    ramp_s = time.monotonic() - started
    top = checkpoints[-1]
    per_node = _shares(len(held), n)
    rss_top = await _settled_rss(nodes, per_node, spec.settle_s)
    kib_per_1000 = [
        round(1000 * (top_kib - base) / count, 1) if count else None
        for top_kib, base, count in zip(rss_top, rss_before, per_node, strict=True)
    ]
    for i in range(0, len(held), spec.batch):
        await asyncio.gather(*(nodes[(i + j) % n].hang_up(s) for j, s in enumerate(held[i : i + spec.batch])))
    rss_after = await _settled_rss(nodes, [0] * n, spec.settle_s)
    return {
        "held_sockets": len(held) + 1,
        "max_sockets_per_node": max(_shares(top["sockets"], n)),
        "checkpoints": checkpoints,
        "ramp": {
            "registrations": len(ramp),
            "concurrent": spec.batch,
            "seconds": round(ramp_s, 1),
            "register_latency": latency(ramp),
        },
        "rss_before_kib": rss_before,
        "rss_held_kib": rss_top,
        "rss_after_kib": rss_after,
        "kib_per_1000_sockets": kib_per_1000,
    }


async def _claims(nodes: Sequence[Node], spec: Spec) -> dict[str, Any]:
    n = len(nodes)
    tokens = [await node.token(spec.password) for node in nodes]
    say_every = max(1, spec.claims // 4)

    async def customer(i: int) -> tuple[int, Socket, Registered]:
        sock, registered, _ = await nodes[i % n].register()
        return i % n, sock, registered

    waiting = await _in_batches(spec.claims, customer, spec.batch)
    # An operator on another node than its customer whenever there are several.
    queues: list[list[tuple[int, Socket, Registered]]] = [[] for _ in range(n)]
    for entry in waiting:
        queues[(entry[0] + 1) % n].append(entry)
    queue_iters = [iter(q) for q in queues]
    claimers = [
        await nodes[w % n].operator(tokens[w % n]) for w in range(max(spec.claimers, n))
    ]  # logged in before the clock starts
    verified = 0
    cross_node = 0
    failures: list[str] = []
    latencies: list[float] = []
    sessions: set[str] = set()

    async def claimer(w: int) -> None:
        nonlocal verified, cross_node
        op, node = claimers[w], w % n
        for agent_node, agent, registered in queue_iters[node]:
            start = time.perf_counter()
            try:
                await op.send(Claim(code=registered.code))
                await op.expect(ClaimPending)
                request = await agent.expect(OperatorRequest)
                if request.operator.display_name != BENCH_OPERATOR[1]:
                    raise Refused(f"the customer was asked by {request.operator!r}")
                await agent.send(Decision(allowed=True, system_info=False))
                agent_start = await agent.expect(SessionStart)
                op_start = await op.expect(SessionStart)
                if agent_start.session_id != op_start.session_id:
                    raise Refused("the customer and the operator were told different session ids")
                if agent_start.session_id in sessions:
                    raise Refused(f"session id {agent_start.session_id} handed out twice")
                sessions.add(agent_start.session_id)
                latencies.append((time.perf_counter() - start) * 1000)
                verified += 1
                cross_node += agent_node != node
                if verified % say_every == 0:
                    _say(f"{verified} pairings verified")
                await agent.send(Bye())
                await agent.expect(Ended)
                await op.expect(Ended)
            except (Refused, TimeoutError) as exc:
                failures.append(f"{registered.code}: {exc}")
            finally:
                await agent.close()

    cpu, started = _cpu(nodes), time.monotonic()
    await asyncio.gather(*(claimer(w) for w in range(len(claimers))))
    wall = time.monotonic() - started
    cpu_percent = _cpu_percent(cpu, _cpu(nodes), wall)
    await asyncio.gather(*(op.close() for op in claimers))
    return {
        "claims": spec.claims,
        "claimers": len(claimers),
        "seconds": round(wall, 2),
        "per_second": round(verified / wall, 1) if wall > 0 else None,
        "relay_cpu_percent": cpu_percent,
        "verified": verified,
        "cross_node": cross_node,
        "failures": len(failures),
        "failure_examples": failures[:5],
        "pairing_verified": verified == spec.claims and not failures,
        "claim_to_session_latency": latency(latencies),
    }


async def _run(spec: Spec) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=0)  # websockets hold their connection
    timeout = aiohttp.ClientTimeout(total=None, connect=spec.timeout_s)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        nodes = [
            Node(i, url, pid, http, spec.timeout_s)
            for i, (url, pid) in enumerate(zip(spec.urls, spec.pids, strict=True))
        ]
        _say(f"warm-up: {spec.warmup} customers on each of {len(nodes)} node(s)")
        for node in nodes:
            for _ in range(spec.warmup):
                await node.cycle()
        _say(f"{spec.cycles} connect cycles, {spec.cycle_clients} at a time ...")
        cycles = await _cycles(nodes, spec)
        _say(f"customers waiting with their codes, up to {spec.sockets} ...")
        held = await _held(nodes, spec)
        _say(f"{spec.claims} claims by {spec.claimers} operator sockets ...")
        claims = await _claims(nodes, spec)
    return {"connect_cycles": cycles, "held_sockets": held, "claims": claims}


def main(argv: Sequence[str] | None = None) -> int:
    del argv  # everything comes as JSON on stdin
    logging.basicConfig(level=logging.WARNING, format="relay_generator %(levelname)s %(name)s: %(message)s")
    limit = raise_fd_limit()
    fields: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(sys.stdin.read()).items()
    }
    spec = Spec(**fields)
    with contextlib.suppress(KeyboardInterrupt):
        result = asyncio.run(_run(spec))
        result["nofile_soft_limit"] = limit
        print(json.dumps(result), flush=True)
        return 0
    return 130


if __name__ == "__main__":
    sys.exit(main())
