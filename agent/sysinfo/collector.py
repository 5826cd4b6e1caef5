"""Run every probe of a scope concurrently, each bounded in time, into a SysInfo.

Each item runs on its own daemon thread. All start together and share one
deadline, so the whole collection takes at most ``timeout_per_item`` (plus a few
milliseconds) however many probes hang, and a hung probe cannot keep the process
alive at exit (daemon threads; commands are killed by their own timeouts).

The agent calls :func:`collect_async` from its event loop once the customer has
allowed the session, then sends :func:`to_report` over the data channel.
"""

from __future__ import annotations

import asyncio
import dataclasses
import getpass
import logging
import math
import os
import re
import sys
import threading
import time
from typing import Final

from protocol import MAX_MESSAGE_BYTES, ProtocolError, SysInfoReport, encode

from .base import (
    KEYS,
    NORMAL_KEYS,
    JsonValue,
    Scope,
    SysInfoBackend,
    Unavailable,
    UnsupportedPlatformError,
)

__all__ = ["DEFAULT_TIMEOUT_S", "SysInfo", "collect", "collect_async", "keys_for", "to_report"]

logger = logging.getLogger(__name__)

# Per-item time limit; since items run in parallel it is also the worst-case total.
# Windows gets more: its CIM items wait for a powershell.exe to start, which takes
# seconds on the 1 GHz machines R21 allows.
DEFAULT_TIMEOUT_S: Final = 8.0 if sys.platform == "win32" else 4.0

_REASON_MAX: Final = 160
_TEXT_MAX: Final = 200
_MAX_DEPTH: Final = 5
# Accounts that name a role, not a person: redacting them would only mangle values.
_ROLE_ACCOUNTS: Final = frozenset({"root", "admin", "administrator", "user", "guest", "system"})


def keys_for(scope: Scope) -> tuple[str, ...]:
    """The item keys of a scope, in display order."""
    return NORMAL_KEYS if scope == "normal" else KEYS


@dataclasses.dataclass(frozen=True)
class SysInfo:
    """One collection. ``data`` has every key of the scope; a key's value is None
    exactly when ``unavailable`` holds a short reason for it."""

    scope: Scope
    data: dict[str, JsonValue]
    unavailable: dict[str, str]
    duration_s: float = 0.0

    def __post_init__(self) -> None:
        expected = keys_for(self.scope)
        if tuple(self.data) != expected:
            raise ValueError(f"data keys must be exactly {expected}")
        nulls = {k for k, v in self.data.items() if v is None}
        if nulls != set(self.unavailable):
            raise ValueError("unavailable must list exactly the null items")


def collect(
    scope: Scope = "detailed",
    *,
    timeout_per_item: float = DEFAULT_TIMEOUT_S,
    backend: SysInfoBackend | None = None,
) -> SysInfo:
    """Collect the items of ``scope`` (R19 "detailed", R20 "normal"). Never raises
    for a failing item; blocks for at most about ``timeout_per_item`` seconds."""
    if scope not in ("normal", "detailed"):
        raise ValueError(f"unknown scope {scope!r}")
    keys = keys_for(scope)
    start = time.monotonic()
    deadline = start + timeout_per_item
    if backend is None:
        from .factory import create_backend

        try:
            backend = create_backend(deadline=deadline)
        except UnsupportedPlatformError as exc:
            logger.warning("sysinfo: %s", exc)
            why = "no system information backend for this OS"
            return SysInfo(scope, dict.fromkeys(keys), dict.fromkeys(keys, why))
    else:
        # The collector owns the deadline: commands a probe runs stop when it does.
        backend.deadline = deadline

    results: dict[str, tuple[JsonValue, str | None]] = {}
    cond = threading.Condition()
    redact = _Redactor.for_current_user()
    for key in keys:
        threading.Thread(
            target=_run_probe,
            args=(backend, key, redact, results, cond),
            name=f"sysinfo-{key}",
            daemon=True,
        ).start()
    with cond:
        cond.wait_for(lambda: len(results) == len(keys), timeout=max(0.0, deadline - time.monotonic()))
        finished = dict(results)

    data: dict[str, JsonValue] = {}
    unavailable: dict[str, str] = {}
    for key in keys:
        value, reason = finished.get(key, (None, f"timed out after {timeout_per_item:g} s"))
        data[key] = value
        if reason is not None:
            unavailable[key] = reason
    duration = time.monotonic() - start
    late = [k for k in keys if k not in finished]
    if late:
        logger.warning("sysinfo: items timed out: %s", ", ".join(late))
    logger.info("sysinfo %s: %d items, %d null, %.2f s", scope, len(keys), len(unavailable), duration)
    return SysInfo(scope, data, unavailable, duration)


async def collect_async(
    scope: Scope = "detailed",
    *,
    timeout_per_item: float = DEFAULT_TIMEOUT_S,
    backend: SysInfoBackend | None = None,
) -> SysInfo:
    """:func:`collect` without blocking the event loop (runs on a worker thread)."""
    return await asyncio.to_thread(collect, scope, timeout_per_item=timeout_per_item, backend=backend)


def to_report(info: SysInfo) -> SysInfoReport:
    """The protocol message for a collection, guaranteed to encode within
    ``protocol.MAX_MESSAGE_BYTES``: if it would not, the applications list is
    shortened (its ``omitted`` count grows) until it does."""
    data = dict(info.data)
    unavailable = dict(info.unavailable)
    while True:
        report = SysInfoReport(scope=info.scope, data=data, unavailable=unavailable)
        try:
            size = len(encode(report).encode())
        except ProtocolError:
            size = MAX_MESSAGE_BYTES + 1
        if size <= MAX_MESSAGE_BYTES:
            return report
        apps = data.get("applications")
        if isinstance(apps, dict) and isinstance(apps.get("items"), list) and apps["items"]:
            items = apps["items"]
            assert isinstance(items, list)
            kept = items[: len(items) // 2]
            total = apps.get("total")
            omitted = (total if isinstance(total, int) else len(items)) - len(kept)
            data["applications"] = {**apps, "items": kept, "omitted": omitted}
            logger.warning("sysinfo report too large (%d bytes): applications cut to %d", size, len(kept))
            continue
        # Every other item is capped at the source, so this is a bug; send what fits.
        logger.error("sysinfo report too large (%d bytes) without applications", size)
        for key in reversed(list(data)):
            if data[key] is not None:
                data[key] = None
                unavailable[key] = "too large for one message"
                break
        else:  # pragma: no cover - all-null reports are tiny
            raise AssertionError("empty sysinfo report does not fit")


def _run_probe(
    backend: SysInfoBackend,
    key: str,
    redact: _Redactor,
    results: dict[str, tuple[JsonValue, str | None]],
    cond: threading.Condition,
) -> None:
    outcome: tuple[JsonValue, str | None]
    try:
        value = _sanitise(backend.reader(key)(), redact, 0)
        outcome = (value, None) if value is not None else (None, "no reading")
    except Unavailable as exc:
        outcome = (None, _clip(redact(exc.reason), _REASON_MAX))
    except Exception:
        # A bug or an odd system must cost one item, never the collection.
        logger.exception("sysinfo probe %s failed", key)
        outcome = (None, "probe failed unexpectedly")
    with cond:
        results[key] = outcome
        cond.notify_all()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sanitise(value: object, redact: _Redactor, depth: int) -> JsonValue:
    """Check a reading is plain JSON within bounds; clip and redact its strings."""
    if depth > _MAX_DEPTH:
        raise Unavailable("reading nested too deeply")
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Unavailable("reading is not a finite number")
        return value
    if isinstance(value, str):
        return _clip(redact(value), _TEXT_MAX)
    if isinstance(value, list | tuple):
        return [_sanitise(v, redact, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): _sanitise(v, redact, depth + 1) for k, v in value.items()}
    raise Unavailable(f"reading has an unsupported type ({type(value).__name__})")


class _Redactor:
    """Last line of defence for "never user names": replaces the login name and the
    home directory if a reading happens to contain them (e.g. an application
    whose display name embeds the account)."""

    def __init__(self, user: str | None, home: str | None) -> None:
        self._home = home if home and len(home) > 3 else None
        self._user_re = (
            re.compile(rf"(?<![\w]){re.escape(user)}(?![\w])", re.IGNORECASE)
            if user and len(user) >= 3 and user.casefold() not in _ROLE_ACCOUNTS
            else None
        )

    @classmethod
    def for_current_user(cls) -> _Redactor:
        try:
            user: str | None = getpass.getuser()
        except Exception:  # no USER variable and no passwd entry (containers)
            user = None
        home = os.path.expanduser("~")
        return cls(user, None if home == "~" else home)

    def __call__(self, text: str) -> str:
        if self._home and self._home in text:
            text = text.replace(self._home, "~")
        if self._user_re is not None:
            text = self._user_re.sub("<user>", text)
        return text
