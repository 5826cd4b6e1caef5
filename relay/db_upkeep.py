"""Background upkeep of a shared database (PostgreSQL), one loop per relay node.

Every ``interval_s``, off the event loop (worker threads: the calls block):

* an unreachable database is tried again (:meth:`relay.database.Storage.check`); until
  it answers, calls fail at once instead of waiting on the network;
* the audit rows spooled during an outage are written, oldest first
  (:meth:`relay.audit.AuditLog.replay`);
* settings changed by an admin on another node are taken
  (:meth:`relay.settings.Settings.refresh`) and ``on_settings`` is called;
* the accounts' disabled flags are read for the registry's periodic account check
  (``refresh_accounts``: :meth:`relay.auth.Auth.refresh_accounts`), so that check does
  not query the database on the event loop.

Metrics (in the relay's registry): ``madoguchi_database_up`` (1 reachable, 0 not) and
``madoguchi_audit_spooled`` (rows waiting in this node's spool).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from prometheus_client import CollectorRegistry, Gauge

from .audit import AuditLog
from .database import DatabaseUnavailable, Storage
from .settings import Settings

__all__ = ["add_metrics", "running_upkeep"]

logger = logging.getLogger(__name__)


def add_metrics(registry: CollectorRegistry, storage: Storage, audit: AuditLog) -> None:
    Gauge(
        "madoguchi_database_up", "1 while the accounts and audit database is reachable", registry=registry
    ).set_function(lambda: float(all(db.available for db in storage.all())))
    Gauge(
        "madoguchi_audit_spooled",
        "Audit rows waiting in this node's spool for the database",
        registry=registry,
    ).set_function(lambda: audit.spooled)


async def _once(
    storage: Storage,
    audit: AuditLog,
    settings: Settings,
    on_settings: Callable[[], None],
    refresh_accounts: Callable[[], None],
) -> None:
    if not all(db.available for db in storage.all()) and not await asyncio.to_thread(storage.check):
        return
    if audit.spooled:
        await asyncio.to_thread(audit.replay)
    if await asyncio.to_thread(settings.refresh):
        logger.info("settings: changed on another node -> taken here")
        on_settings()
    with suppress(DatabaseUnavailable):  # gone again: the next round tries
        await asyncio.to_thread(refresh_accounts)


@asynccontextmanager
async def running_upkeep(
    storage: Storage,
    audit: AuditLog,
    settings: Settings,
    on_settings: Callable[[], None],
    refresh_accounts: Callable[[], None],
    *,
    interval_s: float = 1.0,
) -> AsyncIterator[None]:
    async def loop() -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await _once(storage, audit, settings, on_settings, refresh_accounts)
            except Exception:  # a bug must not stop the retries for good
                logger.exception("database upkeep failed")

    task = asyncio.create_task(loop(), name="relay-database-upkeep")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
