"""Item keys, the JSON value type, the errors, and the abstract per-OS backend.

Exception tree (the whole of it)::

    SysInfoError(Exception)            root of everything this package raises
    +-- UnsupportedPlatformError       no backend for this OS (raised by the factory)
    +-- Unavailable                    raised by a probe: there is no reading for this
                                       item; ``reason`` is a short, fixed-vocabulary text
                                       that the collector puts in ``SysInfo.unavailable``

A probe never lets anything else escape on purpose; if it does (a bug, an odd
system), the collector catches it, logs it and reports the item as null with a
generic reason, so one item can never crash the collection.
"""

from __future__ import annotations

import abc
import errno
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Final, Generic, TypeAlias, TypeVar

from protocol import Scope

__all__ = [
    "KEYS",
    "NORMAL_KEYS",
    "JsonValue",
    "Scope",
    "SysInfoBackend",
    "SysInfoError",
    "Unavailable",
    "UnsupportedPlatformError",
    "SharedReading",
    "errno_name",
]

logger = logging.getLogger(__name__)


JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"
"""A plain JSON value, as the protocol's ``SysInfoReport.data`` accepts."""

KEYS: Final[tuple[str, ...]] = (
    "os",
    "os_version",
    "os_service_pack",
    "device_type",
    "system_manufacturer",
    "system_model",
    "cpu_vendor",
    "cpu_clock_mhz",
    "physical_memory_bytes",
    "disk_volume_serial",
    "disk_free_bytes",
    "ie_version",
    "default_browser",
    "default_browser_version",
    "default_mail_client",
    "default_mail_client_version",
    "router_present",
    "firewall",
    "antivirus",
    "mac_addresses",
    "ip_addresses",
    "applications",
)
"""Every item of R19, in display order. Stable wire names: never renamed or reused."""

NORMAL_KEYS: Final[tuple[str, ...]] = ("os", "os_version", "default_browser", "default_browser_version")
"""The items of R20 (normal mode): exactly these four."""


class SysInfoError(Exception):
    """Root of the errors raised by :mod:`agent.sysinfo`."""


class UnsupportedPlatformError(SysInfoError):
    """There is no system-information backend for this OS."""

    def __init__(self, platform: str) -> None:
        super().__init__(f"no system information backend for platform {platform!r}")
        self.platform = platform


class Unavailable(SysInfoError):
    """A probe has no reading for its item. ``reason`` is shown to the operator.

    Reasons are short fixed texts written by us; they never embed command output,
    exception messages or paths, which could carry user or file names.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_T = TypeVar("_T")


class SharedReading(Generic[_T]):
    """One reading used by several items (e.g. one CIM query for MAC, IP and router).

    It is computed once; every caller gets the same value or the same
    :class:`Unavailable`. ``get()`` computes on the calling thread if nobody has
    started yet and otherwise waits; ``get(timeout)`` never computes on the caller:
    it starts the computation on a helper thread if needed and gives up waiting
    after ``timeout`` seconds, for items that have something to report without it.
    """

    def __init__(self, compute: Callable[[], _T]) -> None:
        self._compute = compute
        self._lock = threading.Lock()
        self._started = False
        self._done = threading.Event()
        self._value: _T | None = None
        self._error: Unavailable | None = None

    def get(self, timeout: float | None = None) -> _T:
        with self._lock:
            start_here = not self._started
            self._started = True
        if start_here:
            if timeout is None:
                self._run()
            else:
                threading.Thread(target=self._run, name="sysinfo-shared", daemon=True).start()
        if not self._done.wait(None if timeout is None else max(0.0, timeout)):
            raise Unavailable("timed out")
        if self._error is not None:
            raise Unavailable(self._error.reason)
        return self._value  # type: ignore[return-value]  # set whenever _error is None

    def _run(self) -> None:
        try:
            self._value = self._compute()
        except Unavailable as exc:
            self._error = exc
        except Exception:
            # Several items depend on this reading: each reports it, none crashes.
            logger.exception("sysinfo shared reading failed")
            self._error = Unavailable("probe failed unexpectedly")
        finally:
            self._done.set()


class SysInfoBackend(abc.ABC):
    """Reads the items of :data:`KEYS` on one OS.

    Each ``read_<key>`` method returns a JSON value or raises :class:`Unavailable`.
    The collector calls them concurrently, one thread each, so a method must be
    thread-safe (share readings through :class:`SharedReading`) and must not
    block past ``deadline`` (use :meth:`run` for commands).
    """

    platform: str = ""

    def __init__(self, *, deadline: float | None = None, environ: Mapping[str, str] | None = None) -> None:
        self.deadline = time.monotonic() + 5.0 if deadline is None else deadline
        # Commands run with (and are found on the PATH of) this environment.
        self.environ = dict(os.environ if environ is None else environ)

    def reader(self, key: str) -> Callable[[], JsonValue]:
        """The bound ``read_<key>`` method for an item key."""
        if key not in KEYS:
            raise KeyError(key)
        method: Callable[[], JsonValue] = getattr(self, f"read_{key}")
        return method

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def run(
        self,
        args: Sequence[str],
        *,
        what: str,
        ok_codes: tuple[int, ...] = (0,),
        exit_reasons: Mapping[int, str] | None = None,
        env: Mapping[str, str] | None = None,
        max_seconds: float | None = None,
    ) -> str:
        """:meth:`run_bytes`, decoded as UTF-8 (undecodable bytes replaced)."""
        out = self.run_bytes(
            args, what=what, ok_codes=ok_codes, exit_reasons=exit_reasons, env=env, max_seconds=max_seconds
        )
        return out.decode("utf-8", "replace")

    def run_bytes(
        self,
        args: Sequence[str],
        *,
        what: str,
        ok_codes: tuple[int, ...] = (0,),
        exit_reasons: Mapping[int, str] | None = None,
        env: Mapping[str, str] | None = None,
        max_seconds: float | None = None,
        partial_on_timeout: bool = False,
    ) -> bytes:
        """Run a command without a shell, bounded by the deadline; return its stdout.

        ``what`` names the command in reasons ("findmnt", "PowerShell"); stderr and
        the exit text are never put in a reason because they may contain paths.
        ``exit_reasons`` maps known failure exit codes to their reason. With
        ``partial_on_timeout``, a command killed at the deadline returns what it had
        printed so far instead of raising (for outputs made of independent sections).
        """
        timeout = self.remaining()
        if max_seconds is not None:
            timeout = min(timeout, max_seconds)
        if timeout <= 0.05:
            raise Unavailable(f"no time left to run {what}")
        run_env = dict(self.environ if env is None else env)
        # Parsers expect untranslated output; C.UTF-8 keeps non-ASCII names intact.
        run_env["LC_ALL"] = "C.UTF-8"
        try:
            proc = subprocess.run(
                list(args),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                env=run_env,
                check=False,
                creationflags=_CREATION_FLAGS,
            )
        except FileNotFoundError:
            raise Unavailable(f"{what} not installed") from None
        except subprocess.TimeoutExpired as exc:
            if partial_on_timeout and exc.stdout:
                logger.warning("%s killed at the deadline; using its partial output", what)
                return exc.stdout if isinstance(exc.stdout, bytes) else exc.stdout.encode()
            raise Unavailable(f"{what} timed out") from None
        except OSError as exc:
            raise Unavailable(f"{what} could not run ({errno_name(exc)})") from None
        if proc.returncode not in ok_codes:
            if exit_reasons and proc.returncode in exit_reasons:
                raise Unavailable(exit_reasons[proc.returncode])
            raise Unavailable(f"{what} failed (exit {proc.returncode})")
        return proc.stdout

    # --- one method per item; see docs/sysinfo.md for what each returns ---

    @abc.abstractmethod
    def read_os(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_os_version(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_os_service_pack(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_device_type(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_system_manufacturer(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_system_model(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_cpu_vendor(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_cpu_clock_mhz(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_physical_memory_bytes(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_disk_volume_serial(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_disk_free_bytes(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_ie_version(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_default_browser(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_default_browser_version(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_default_mail_client(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_default_mail_client_version(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_router_present(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_firewall(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_antivirus(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_mac_addresses(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_ip_addresses(self) -> JsonValue: ...

    @abc.abstractmethod
    def read_applications(self) -> JsonValue: ...


def errno_name(exc: OSError) -> str:
    """``EACCES``-style name of an OSError, safe for a reason (no path, no message)."""
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)


# No console window flashing up on the customer's desktop for each probe.
if sys.platform == "win32":
    _CREATION_FLAGS = subprocess.CREATE_NO_WINDOW
else:
    _CREATION_FLAGS = 0
