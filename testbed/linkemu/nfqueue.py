"""NFQUEUE over raw netlink (stdlib ``socket.AF_NETLINK``), and the emulator's main loop.

Only what the emulator needs: bind one queue in metadata-only copy mode, read
packet ids, and issue ACCEPT/DROP verdicts, in any order (the kernel allows
out-of-order verdicts, which is how a packet is delayed: its verdict is given later).
No payload is copied. Message layouts: ``linux/netfilter/nfnetlink_queue.h``.

Run inside a namespace: ``python -m testbed.linkemu.nfqueue --queue N --delay S ...``
(:class:`testbed.linkemu.namespace.LinkNamespace` starts it). It prints ``ready``
once bound, and its counters as JSON when it gets SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import selectors
import signal
import socket
import struct
import time
from collections.abc import Iterator
from dataclasses import asdict

from testbed.linkemu.core import LinkCore, Outage

__all__ = ["NfQueue", "parse_packet_ids", "run"]

AF_NETLINK = 16  # socket.AF_NETLINK on Linux (typeshed lacks it on Windows)
NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_NO_ENOBUFS = 5
NLM_F_REQUEST = 1
NLMSG_ERROR = 2
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NF_DROP = 0
NF_ACCEPT = 1

_NLMSGHDR = struct.Struct("=IHHII")
_NFGENMSG = struct.Struct("!BBH")
_NLATTR = struct.Struct("=HH")


def _attr(kind: int, payload: bytes) -> bytes:
    raw = _NLATTR.pack(_NLATTR.size + len(payload), kind) + payload
    return raw + b"\0" * (-len(raw) % 4)


def _message(msg: int, queue: int, attrs: bytes, seq: int) -> bytes:
    body = _NFGENMSG.pack(socket.AF_UNSPEC, 0, queue) + attrs
    kind = (NFNL_SUBSYS_QUEUE << 8) | msg
    return _NLMSGHDR.pack(_NLMSGHDR.size + len(body), kind, NLM_F_REQUEST, seq, 0) + body


def _attrs(data: bytes) -> Iterator[tuple[int, bytes]]:
    pos = 0
    while pos + _NLATTR.size <= len(data):
        length, kind = _NLATTR.unpack_from(data, pos)
        if length < _NLATTR.size:
            return
        yield kind & 0x3FFF, data[pos + _NLATTR.size : pos + length]
        pos += (length + 3) & ~3


def parse_packet_ids(data: bytes) -> list[int]:
    """The packet ids in one netlink datagram (several messages may share it)."""
    ids: list[int] = []
    pos = 0
    while pos + _NLMSGHDR.size <= len(data):
        length, kind, _flags, _seq, _pid = _NLMSGHDR.unpack_from(data, pos)
        if length < _NLMSGHDR.size:
            break
        if kind == NLMSG_ERROR:
            (errno,) = struct.unpack_from("=i", data, pos + _NLMSGHDR.size)
            if errno:
                raise OSError(-errno, "nfqueue: netlink error")
        elif kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
            start = pos + _NLMSGHDR.size + _NFGENMSG.size
            for attr, payload in _attrs(data[start : pos + length]):
                if attr == NFQA_PACKET_HDR:
                    ids.append(struct.unpack_from("!I", payload)[0])
        pos += (length + 3) & ~3
    return ids


class NfQueue:
    """One bound NFQUEUE queue (root, inside the namespace whose iptables rule feeds it)."""

    def __init__(self, queue: int, maxlen: int = 16384) -> None:
        self.queue = queue
        self._seq = 0
        self.sock = socket.socket(AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)
        self.sock.bind((0, 0))
        bind = struct.pack("!BBH", NFQNL_CFG_CMD_BIND, 0, socket.AF_INET)
        self._send(NFQNL_MSG_CONFIG, _attr(NFQA_CFG_CMD, bind))
        params = struct.pack("!IB", 0, NFQNL_COPY_META)
        self._send(
            NFQNL_MSG_CONFIG,
            _attr(NFQA_CFG_PARAMS, params) + _attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", maxlen)),
        )

    def _send(self, msg: int, attrs: bytes) -> None:
        self._seq += 1
        self.sock.send(_message(msg, self.queue, attrs, self._seq))

    def receive(self) -> list[int]:
        return parse_packet_ids(self.sock.recv(1 << 16))

    def verdict(self, packet_id: int, accept: bool) -> None:
        hdr = struct.pack("!II", NF_ACCEPT if accept else NF_DROP, packet_id)
        self._send(NFQNL_MSG_VERDICT, _attr(NFQA_VERDICT_HDR, hdr))

    def close(self) -> None:
        self.sock.close()


def run(queue: int, core: LinkCore[int]) -> None:
    """Serve the queue until SIGTERM/SIGINT; print ``ready`` once bound, the counters at the end."""
    nfq = NfQueue(queue)
    stop = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sel = selectors.DefaultSelector()
    sel.register(nfq.sock, selectors.EVENT_READ)
    print("ready", flush=True)
    try:
        while not stop:
            deadline = core.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            if sel.select(timeout if timeout is not None else 0.5):
                now = time.monotonic()
                for packet_id in nfq.receive():
                    if not core.arrive(packet_id, now):
                        nfq.verdict(packet_id, accept=False)
            for packet_id in core.due(time.monotonic()):
                nfq.verdict(packet_id, accept=True)
    finally:
        for packet_id in core.due(float("inf")):
            nfq.verdict(packet_id, accept=True)
        nfq.close()
        print(json.dumps(asdict(core.counters)), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queue", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0, help="one-way delay, seconds")
    parser.add_argument("--loss", type=float, default=0.0, help="loss probability, 0..1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--outage",
        action="append",
        default=[],
        metavar="START:DURATION",
        help="seconds from the first packet",
    )
    args = parser.parse_args(argv)
    outages = tuple(Outage(float(s), float(d)) for s, d in (o.split(":") for o in args.outage))
    run(args.queue, LinkCore[int](delay=args.delay, loss=args.loss, outages=outages, seed=args.seed))


if __name__ == "__main__":
    main()
