"""System information for the operator (R19 detailed, R20 normal).

The agent calls, after the customer has allowed the session::

    info = await collect_async("detailed")      # or "normal"
    await channel.send(encode(to_report(info)))

``collect``/``collect_async`` never raise for a failing item: every key of the
scope is present in ``info.data``, either a real reading or None with a short
reason in ``info.unavailable``. See docs/sysinfo.md for every item per OS.
"""

from .base import (
    KEYS,
    NORMAL_KEYS,
    JsonValue,
    Scope,
    SysInfoBackend,
    SysInfoError,
    Unavailable,
    UnsupportedPlatformError,
)
from .collector import DEFAULT_TIMEOUT_S, SysInfo, collect, collect_async, keys_for, to_report
from .factory import create_backend

__all__ = [
    "KEYS",
    "NORMAL_KEYS",
    "DEFAULT_TIMEOUT_S",
    "JsonValue",
    "Scope",
    "SysInfo",
    "SysInfoBackend",
    "SysInfoError",
    "Unavailable",
    "UnsupportedPlatformError",
    "collect",
    "collect_async",
    "create_backend",
    "keys_for",
    "to_report",
]
