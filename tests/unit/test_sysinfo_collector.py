"""The collector: time bounds, failure isolation, JSON hygiene, the wire size cap.

Probes here are scripted (they sleep, hang, raise, return odd values) because the
point is how the collector treats them; real readings are tested in
tests/functional/test_sysinfo_linux.py.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import cast

import pytest

import protocol
from agent.sysinfo import (
    KEYS,
    NORMAL_KEYS,
    JsonValue,
    SysInfo,
    SysInfoBackend,
    Unavailable,
    UnsupportedPlatformError,
    collect,
    collect_async,
    create_backend,
    to_report,
)
from agent.sysinfo.base import SharedReading
from agent.sysinfo.collector import _Redactor
from agent.sysinfo.common import cap_applications

Behaviour = Callable[[], JsonValue]


def _scripted(key: str) -> Callable[[ScriptedBackend], JsonValue]:
    def read(self: ScriptedBackend) -> JsonValue:
        self.calls.append(key)
        return self.behaviours.get(key, lambda: f"{key} value")()

    return read


class ScriptedBackend(SysInfoBackend):
    """Each item returns ``"<key> value"`` unless ``behaviours`` says otherwise."""

    def __init__(self, behaviours: dict[str, Behaviour] | None = None) -> None:
        super().__init__()
        self.behaviours = behaviours or {}
        self.calls: list[str] = []

    read_os = _scripted("os")
    read_os_version = _scripted("os_version")
    read_os_service_pack = _scripted("os_service_pack")
    read_device_type = _scripted("device_type")
    read_system_manufacturer = _scripted("system_manufacturer")
    read_system_model = _scripted("system_model")
    read_cpu_vendor = _scripted("cpu_vendor")
    read_cpu_clock_mhz = _scripted("cpu_clock_mhz")
    read_physical_memory_bytes = _scripted("physical_memory_bytes")
    read_disk_volume_serial = _scripted("disk_volume_serial")
    read_disk_free_bytes = _scripted("disk_free_bytes")
    read_ie_version = _scripted("ie_version")
    read_default_browser = _scripted("default_browser")
    read_default_browser_version = _scripted("default_browser_version")
    read_default_mail_client = _scripted("default_mail_client")
    read_default_mail_client_version = _scripted("default_mail_client_version")
    read_router_present = _scripted("router_present")
    read_firewall = _scripted("firewall")
    read_antivirus = _scripted("antivirus")
    read_mac_addresses = _scripted("mac_addresses")
    read_ip_addresses = _scripted("ip_addresses")
    read_applications = _scripted("applications")


@pytest.fixture
def never() -> Iterator[threading.Event]:
    """An event nobody sets during the test: a probe waiting on it hangs. Set at
    teardown so the hung thread ends instead of lingering for the session."""
    event = threading.Event()
    yield event
    event.set()


def _unavailable(reason: str) -> Behaviour:
    def read() -> JsonValue:
        raise Unavailable(reason)

    return read


def test_detailed_has_every_key_in_order() -> None:
    info = collect("detailed", backend=ScriptedBackend())
    assert tuple(info.data) == KEYS
    assert info.data["cpu_vendor"] == "cpu_vendor value"
    assert info.unavailable == {}


def test_normal_scope_reads_exactly_four_items() -> None:
    backend = ScriptedBackend()
    info = collect("normal", backend=backend)
    assert (
        tuple(info.data) == NORMAL_KEYS == ("os", "os_version", "default_browser", "default_browser_version")
    )
    assert sorted(backend.calls) == sorted(NORMAL_KEYS)  # nothing else is even read


def test_unknown_scope_is_refused() -> None:
    with pytest.raises(ValueError, match="scope"):
        collect("everything", backend=ScriptedBackend())  # type: ignore[arg-type]


def test_a_probe_that_never_returns_does_not_hold_up_the_rest(never: threading.Event) -> None:
    def hang() -> JsonValue:
        never.wait()
        return "too late"

    start = time.monotonic()
    info = collect("detailed", timeout_per_item=0.5, backend=ScriptedBackend({"antivirus": hang}))
    elapsed = time.monotonic() - start
    assert 0.45 <= elapsed < 1.5
    assert info.data["antivirus"] is None
    assert info.unavailable["antivirus"] == "timed out after 0.5 s"
    assert info.data["os"] == "os value"
    assert len(info.unavailable) == 1


def test_a_hanging_command_is_killed_at_the_deadline() -> None:
    backend = ScriptedBackend()
    backend.behaviours["firewall"] = lambda: backend.run(["sleep", "30"], what="sleep")
    start = time.monotonic()
    info = collect("detailed", timeout_per_item=0.6, backend=backend)
    assert time.monotonic() - start < 2.0
    assert info.data["firewall"] is None
    # Either the command's own timeout or the collector's deadline got there first.
    assert info.unavailable["firewall"] in ("sleep timed out", "timed out after 0.6 s")


def test_probes_run_in_parallel() -> None:
    info = collect("detailed", timeout_per_item=3.0, backend=ScriptedBackend(dict.fromkeys(KEYS, _slow)))
    assert info.unavailable == {}
    # 22 probes of 0.2 s each: in series that would be 4.4 s.
    assert info.duration_s < 1.5


def _slow() -> JsonValue:
    time.sleep(0.2)
    return 1


def test_failures_cost_one_item_each(caplog: pytest.LogCaptureFixture) -> None:
    def crash() -> JsonValue:
        raise RuntimeError("bug with /home/someone/secret path")

    behaviours: dict[str, Behaviour] = {
        "firewall": crash,
        "antivirus": _unavailable("no known antivirus product found"),
        "cpu_clock_mhz": lambda: float("nan"),
        "system_model": lambda: None,
        "applications": lambda: cast(JsonValue, {"items": {1, 2}}),  # a set is not JSON
    }
    info = collect("detailed", backend=ScriptedBackend(behaviours))
    assert info.unavailable == {
        "firewall": "probe failed unexpectedly",  # never the exception text: it may hold paths
        "antivirus": "no known antivirus product found",
        "cpu_clock_mhz": "reading is not a finite number",
        "system_model": "no reading",
        "applications": "reading has an unsupported type (set)",
    }
    assert all(info.data[k] is None for k in info.unavailable)
    assert "sysinfo probe firewall failed" in caplog.text


def test_values_are_made_plain_json() -> None:
    behaviours: dict[str, Behaviour] = {
        # A tuple where the JSON type says list: what a careless probe might return.
        "mac_addresses": lambda: cast(JsonValue, ({"interface": "eth0", "mac": "02:00:00:00:00:01"},)),
        "os": lambda: "x" * 1000,
        "disk_volume_serial": _unavailable("r" * 500),
    }
    info = collect("detailed", backend=ScriptedBackend(behaviours))
    assert info.data["mac_addresses"] == [{"interface": "eth0", "mac": "02:00:00:00:00:01"}]
    os_value = info.data["os"]
    assert isinstance(os_value, str)
    assert len(os_value) == 200
    assert len(info.unavailable["disk_volume_serial"]) == 160
    json.dumps(info.data, allow_nan=False)


def test_sysinfo_invariants() -> None:
    data: dict[str, JsonValue] = {
        "os": "x",
        "os_version": None,
        "default_browser": "b",
        "default_browser_version": "1",
    }
    SysInfo("normal", data, {"os_version": "why"})
    with pytest.raises(ValueError, match="exactly the null"):
        SysInfo("normal", data, {})
    with pytest.raises(ValueError, match="keys"):
        SysInfo("detailed", data, {"os_version": "why"})


def test_redactor_hides_user_and_home() -> None:
    redact = _Redactor("hanako", "/home/hanako")
    assert redact("/home/hanako/.local/bin/app") == "~/.local/bin/app"
    assert redact("Backup for Hanako") == "Backup for <user>"
    assert redact("hanakoya") == "hanakoya"  # only whole words
    # Role accounts and very short names are not personal, and redacting them mangles values.
    assert _Redactor("root", "/root")("root certificates") == "root certificates"
    assert _Redactor("ab", None)("ab tools") == "ab tools"


def test_report_fits_the_wire_limit_with_huge_application_lists() -> None:
    # 5000 long Japanese names: far beyond the budget before the cap.
    apps = [
        (f"アプリケーション名がとても長いソフトウェア製品 {i:05d} " + "版" * 60, f"{i}.0.0")
        for i in range(5000)
    ]
    capped = cap_applications(apps)
    info = collect("detailed", backend=ScriptedBackend({"applications": lambda: capped}))
    report = to_report(info)
    encoded = protocol.encode(report).encode()
    assert len(encoded) <= protocol.MAX_MESSAGE_BYTES
    applications = report.data["applications"]
    assert isinstance(applications, dict)
    assert applications["total"] == 5000
    assert applications["omitted"] == 5000 - len(applications["items"])
    decoded = protocol.decode_guidance(encoded)
    assert isinstance(decoded, protocol.SysInfoReport)
    assert decoded.data == report.data


def test_to_report_shrinks_an_oversized_list() -> None:
    # Bypass the cap to prove to_report's own guarantee.
    items: list[JsonValue] = [{"name": f"app-{i:05d}-" + "x" * 90, "version": "1.0"} for i in range(2000)]
    data: dict[str, JsonValue] = dict.fromkeys(KEYS, "v")
    data["applications"] = {"total": 2000, "items": items, "omitted": 0}
    report = to_report(SysInfo("detailed", data, {}))
    assert len(protocol.encode(report).encode()) <= protocol.MAX_MESSAGE_BYTES
    apps = report.data["applications"]
    assert isinstance(apps, dict)
    kept = apps["items"]
    assert isinstance(kept, list)
    assert 0 < len(kept) < 2000
    assert apps["omitted"] == 2000 - len(kept)


async def test_collect_async_leaves_the_event_loop_free() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        backend = ScriptedBackend({"os": _slow, "applications": _slow})
        info = await collect_async("detailed", timeout_per_item=2.0, backend=backend)
    finally:
        task.cancel()
    assert info.data["os"] == 1
    assert ticks >= 5  # the loop kept running while the probes slept


def test_factory_refuses_unknown_and_foreign_platforms() -> None:
    with pytest.raises(UnsupportedPlatformError) as caught:
        create_backend(platform="sunos5")
    assert caught.value.platform == "sunos5"
    foreign = "darwin" if sys.platform == "win32" else "win32"
    # Another OS's backend could read nothing here: a domain error, not an ImportError.
    with pytest.raises(UnsupportedPlatformError):
        create_backend(platform=foreign)
    assert create_backend().platform in ("linux", "win32", "darwin")


def test_shared_reading_computes_once_for_concurrent_callers() -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        time.sleep(0.1)
        return 42

    shared = SharedReading(compute)
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(shared.get())) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [42] * 5
    assert calls == [1]


def test_shared_reading_with_a_timeout_never_blocks_its_caller(never: threading.Event) -> None:
    shared: SharedReading[int] = SharedReading(lambda: int(never.wait()))
    start = time.monotonic()
    with pytest.raises(Unavailable, match="timed out"):
        shared.get(timeout=0.2)  # the computation runs on a helper thread, not here
    assert time.monotonic() - start < 1.0


def test_shared_reading_errors_reach_every_caller(caplog: pytest.LogCaptureFixture) -> None:
    def crash() -> int:
        raise RuntimeError("bug")

    shared = SharedReading(crash)
    for _ in range(2):
        with pytest.raises(Unavailable, match="probe failed unexpectedly"):
            shared.get()
    assert "shared reading failed" in caplog.text

    def missing() -> int:
        raise Unavailable("no such key")

    absent = SharedReading(missing)
    with pytest.raises(Unavailable, match="no such key"):
        absent.get()


def test_partial_output_of_a_killed_command() -> None:
    backend = ScriptedBackend()
    backend.deadline = time.monotonic() + 0.5
    script = "echo '#section:a'; echo done-a; sleep 30"
    out = backend.run_bytes(["sh", "-c", script], what="sh", partial_on_timeout=True)
    assert out.splitlines() == [b"#section:a", b"done-a"]
    backend.deadline = time.monotonic() + 0.3
    with pytest.raises(Unavailable, match="sh timed out"):
        backend.run_bytes(["sh", "-c", script], what="sh")
