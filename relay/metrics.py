"""Prometheus metrics for one relay app, in its own ``CollectorRegistry``.

A per-app registry (not the process-wide default) lets several relays run in one
process (tests, ``madoguchi demo``) without "duplicated timeseries" errors.
Gauges are read from the registry's live state at scrape time; counters are
driven by :class:`relay.effects.Count` effects.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest

from protocol import EndReason, ErrorCode

from .effects import Alarm, Count
from .registry import RegistryStats

__all__ = ["CONTENT_TYPE", "RelayMetrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST


_UNLABELLED = frozenset({"lockouts", "sessions_started"})


class RelayMetrics:
    def __init__(self, stats: Callable[[], RegistryStats]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._stats = stats
        Gauge("madoguchi_codes_pending", "Live unclaimed codes", registry=r).set_function(
            lambda: stats().codes_pending
        )
        Gauge("madoguchi_claims_pending", "Claims waiting for the customer's Allow", registry=r).set_function(
            lambda: stats().claims_pending
        )
        Gauge("madoguchi_sessions_active", "Sessions the customer allowed", registry=r).set_function(
            lambda: stats().sessions_active
        )
        Gauge("madoguchi_connections", "Open websockets", registry=r).set_function(
            lambda: stats().connections
        )
        self.alarm = Gauge(
            "madoguchi_failed_claims_alarm",
            "1 while failed claims relay-wide exceed the alarm level",
            registry=r,
        )
        self._counters: dict[str, Counter] = {
            "claims_failed": Counter(
                "madoguchi_claims_failed", "Claims refused (wrong code, lockout...)", ["reason"], registry=r
            ),
            "joins_failed": Counter(
                "madoguchi_joins_failed", "Reverse-pairing joins refused", ["reason"], registry=r
            ),
            "registrations_refused": Counter(
                "madoguchi_registrations_refused", "Agent registrations refused", ["reason"], registry=r
            ),
            "lockouts": Counter("madoguchi_lockouts", "Operators locked out of claiming", registry=r),
            "sessions_started": Counter("madoguchi_sessions_started", "Sessions started", registry=r),
            "sessions_ended": Counter("madoguchi_sessions_ended", "Sessions ended", ["reason"], registry=r),
            "messages_forwarded": Counter(
                "madoguchi_messages_forwarded", "Signaling messages forwarded", ["type"], registry=r
            ),
            "protocol_errors": Counter(
                "madoguchi_protocol_errors", "Connections closed for bad input", ["error"], registry=r
            ),
        }
        self.logins = Counter("madoguchi_logins", "Operator login attempts", ["result"], registry=r)
        self.connections_refused = Counter(
            "madoguchi_connections_refused",
            "TCP connections aborted at accept (per-address or total cap)",
            ["reason"],
            registry=r,
        )
        self.accept_errors = Counter(
            "madoguchi_accept_errors", "accept() failures (out of file descriptors)", registry=r
        )
        for reason in ("per_address", "total"):
            self.connections_refused.labels(reason)
        # Pre-create the usual label values so the series exist (at 0) from the start.
        for code in (ErrorCode.UNKNOWN_CODE, ErrorCode.EXPIRED_CODE, ErrorCode.CODE_ALREADY_USED):
            self._counters["claims_failed"].labels(code.value)
            self._counters["joins_failed"].labels(code.value)
        for code in (ErrorCode.LOCKED_OUT, ErrorCode.RATE_LIMITED):
            self._counters["claims_failed"].labels(code.value)
        for code in (ErrorCode.BUSY, ErrorCode.RATE_LIMITED, ErrorCode.CONSENT_REQUIRED):
            self._counters["registrations_refused"].labels(code.value)
        for reason in EndReason:
            self._counters["sessions_ended"].labels(reason.value)
        for result in ("ok", "invalid_credentials", "rate_limited", "locked"):
            self.logins.labels(result)

    def count(self, effect: Count) -> None:
        counter = self._counters[effect.metric]
        if effect.metric not in _UNLABELLED:
            counter.labels(effect.label or "none").inc()
        else:
            counter.inc()

    def set_alarm(self, effect: Alarm) -> None:
        self.alarm.set(1 if effect.active else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
