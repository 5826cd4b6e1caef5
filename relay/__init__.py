"""The signaling relay: pairs agents and operators by code; never touches media.

Modules (one concept each):

* :mod:`relay.config` — ``RelayConfig`` from TOML + ``MADOGUCHI_RELAY_*`` environment;
* :mod:`relay.registry` — the sans-IO pairing state machine (messages + ``now`` -> effects);
* :mod:`relay.code_pool` — which code to hand out next (unused, typo-safe, least recently used);
* :mod:`relay.effects` — what the registry asks the I/O layer to do;
* :mod:`relay.store` — shared state behind the ``Store`` protocol (``MemoryStore``);
* :mod:`relay.redis_store` — the ``Store`` of several relay nodes, on Redis;
* :mod:`relay.cluster` — several nodes: routing effects between them (pub/sub), node liveness;
* :mod:`relay.accounts`, :mod:`relay.auth` — operator accounts (scrypt), login, tokens;
* :mod:`relay.audit` — the append-only SQLite audit trail;
* :mod:`relay.metrics` — Prometheus metrics in a per-app registry;
* :mod:`relay.app` — ``create_app(config)``, the aiohttp glue;
* :mod:`relay.listener` — the listening socket: connection caps, TLS deadline, fd exhaustion;
* :mod:`relay.memory` — giving memory back once a crowd of sockets has left;
* :mod:`relay.server` — ``running_relay()`` / ``relay_in_thread()`` for in-process use;
* :mod:`relay.cli`, :mod:`relay.admin_cli` — ``madoguchi relay`` and ``madoguchi admin``;
* :mod:`relay.testing` — a bare signaling client for tests.

This package imports nothing heavy at import time, so ``madoguchi --help`` stays fast.
"""

__all__: list[str] = []
