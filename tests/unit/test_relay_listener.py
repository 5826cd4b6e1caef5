"""The listener's sans-IO parts: connection counting and the accept() error log."""

from __future__ import annotations

import asyncio
import errno
import logging

import pytest

from relay.listener import AcceptErrorLog, ConnectionCounter


def test_counter_caps_per_address_and_in_total() -> None:
    counter = ConnectionCounter(max_total=3, max_per_address=2)
    assert counter.admit("10.0.0.1") is None
    assert counter.admit("10.0.0.1") is None
    assert counter.admit("10.0.0.1") == "per_address"
    assert counter.admit("10.0.0.2") is None
    assert counter.admit("10.0.0.3") == "total"
    counter.release("10.0.0.1")
    assert counter.open_from("10.0.0.1") == 1
    assert counter.admit("10.0.0.3") is None
    assert counter.total == 3


def test_counter_without_caps() -> None:
    counter = ConnectionCounter(max_total=0, max_per_address=0)
    assert all(counter.admit("10.0.0.1") is None for _ in range(10_000))


def test_accept_errors_make_one_line_then_a_summary_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    clock = [0.0]
    counted: list[int] = []
    log = AcceptErrorLog(on_error=lambda: counted.append(1), clock=lambda: clock[0])
    loop = asyncio.new_event_loop()
    others: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: others.append(context))
    log.install(loop)
    try:
        context = {
            "message": "socket.accept() out of system resource",
            "exception": OSError(errno.EMFILE, "Too many open files"),
        }
        with caplog.at_level(logging.ERROR, logger="relay.listener"):
            for i in range(130 * 90):  # asyncio's worst case: 128 a second, for 90 s
                clock[0] = i / 130
                loop.call_exception_handler(context)
            loop.call_exception_handler({"message": "something else"})
        lines = [r.getMessage() for r in caplog.records if r.name == "relay.listener"]
        assert len(lines) == 2
        assert "Too many open files" in lines[0]
        assert "more times in the last 60 s" in lines[1]
        assert not any(r.exc_info for r in caplog.records)
        assert len(counted) == 130 * 90
        assert others == [{"message": "something else"}]  # everything else goes where it went before
    finally:
        log.uninstall(loop)
        loop.close()


def test_connection_budget_fits_the_descriptor_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    import relay.listener as listener

    monkeypatch.setattr(listener, "_descriptor_limits", lambda: (1024, 4096))
    assert listener.connection_budget(4096) == 1024 - 256
    assert listener.connection_budget(100) == 100
    assert listener.connection_budget(0) == 1024 - 256
    monkeypatch.setattr(listener, "_descriptor_limits", lambda: (400, 400))
    assert listener.connection_budget(4096) == 300  # a quarter kept back for files, threads, accept bursts
    monkeypatch.setattr(listener, "_descriptor_limits", lambda: None)
    assert listener.connection_budget(4096) == 4096
