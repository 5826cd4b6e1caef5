"""The packaged one-file agent, built for real, used as a customer would, then gone without a trace.

The agent is built once per source state (packaged_support.build), copied into a
fresh "Downloads" folder and started on the test Xvfb with ``HOME`` and
``TMPDIR`` pointing at fresh directories, so before/after listings are exact.
It reaches a real TLS relay only through the CA certificate baked into it. The
window is driven with real X key and mouse events (xdotool): Return on
Agree and Allow (the focused default buttons), a click on the sharing bar's
Stop, Return on Close. An operator (OperatorClient) must receive frames.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from installer.build import ROOT
from installer.measure import XDriver
from operator_console.client import ClaimAccepted, SessionEnded, ViewingStarted
from tests.functional.packaged_support import BAKED_RELAY, build, listing, tls_relay

pytestmark = [
    pytest.mark.display,
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux: the Windows run is in CI"),
]

MAIN = "^Screen sharing support$"
REPORT = " / Screen sharing support$"
QUIT_QUESTION = "^Close the program\\?$"
OURS_IN_TMP = re.compile(r"^(_MEI|madoguchi-agent)")


@pytest.fixture(scope="session")
def agent_program() -> Path:
    return build("agent")


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, *, every: Callable[[], None] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if every is not None:
            every()
        time.sleep(0.4)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Customer:
    """A fresh machine-like setup: a Downloads folder with the program, a home, a temp directory."""

    def __init__(self, program: Path, base: Path, display: str) -> None:
        self.base = base
        self.downloads = base / "Downloads"
        self.home = base / "home"
        self.tmp = base / "tmp"
        for folder in (self.downloads, self.home, self.tmp):
            folder.mkdir(parents=True)
        self.program = self.downloads / program.name
        shutil.copy2(program, self.program)
        self.log = base / "agent.log"
        self.env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "DISPLAY": display,
            "HOME": str(self.home),
            "TMPDIR": str(self.tmp),
            "LANG": "C.UTF-8",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *args: str, prefix: tuple[str, ...] = ()) -> subprocess.Popen[bytes]:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [*prefix, str(self.program), "--lang", "en", "-vv", *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self.process

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def sharing_bar(x: XDriver, timeout: float = 10.0) -> tuple[int, int, int, int]:
    """The sharing card's geometry: the agent's small, low window (its title is the UI's business)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for window in x.windows("."):
            left, top, width, height = x.geometry(window)
            if 30 <= height <= 200 and width >= 300:
                return left, top, width, height
        time.sleep(0.2)
    raise AssertionError("no sharing bar on screen")


def close_and_confirm(x: XDriver, window: str) -> None:
    question = x.windows(QUIT_QUESTION)
    if question:
        x.key(question[0], "Tab", "Return")
    else:
        x.key(window, "Return")


def tmp_entries() -> set[str]:
    return {name for name in os.listdir("/tmp") if OURS_IN_TMP.match(name)}


@pytest.mark.timeout(900)
def test_packaged_agent_shares_the_screen_then_removes_itself(
    agent_program: Path, xvfb: str, tmp_path: Path
) -> None:
    x = XDriver(xvfb)
    customer = Customer(agent_program, tmp_path, xvfb)
    with tls_relay() as relay:
        before = listing(customer.home, customer.tmp, customer.downloads)
        assert before == {str(customer.program)}
        before_tmp = tmp_entries()
        process = customer.start("--relay", relay.url)
        try:
            window = x.wait_window(MAIN, 60)
            # Agree is disabled until the terms arrived from the relay (over TLS, baked CA):
            # press Return on the focused Agree until the relay has a live code.
            wait_until(
                lambda: bool(relay.live_codes()),
                30,
                "a code after Agree",
                every=lambda: x.key(window, "Return"),
            )
            (code,) = relay.live_codes()
            operator = relay.operator()
            relay.claim(operator, code)
            wait_until(lambda: relay.saw(ClaimAccepted), 10, "the claim to be accepted")
            # The request page shows the operator's name; Allow is the focused default.
            wait_until(
                lambda: relay.saw(ViewingStarted),
                30,
                "sharing to start",
                every=lambda: x.key(window, "Return"),
            )
            wait_until(lambda: operator.sink.frames_received >= 3, 30, "frames at the operator")
            frames = operator.sink.frames_received

            left, top, width, height = sharing_bar(x)
            # Stop is the right one of the two buttons along the sharing card's bottom.
            x.click(left + width * 3 // 4, top + height - 26)
            wait_until(lambda: relay.saw(SessionEnded), 15, "the session to end after Stop")

            # The summary: Close is the focused default button. The program then asks before
            # it removes itself, "Go back" the default: Tab to "Close the program", Return.
            wait_until(
                lambda: process.poll() is not None,
                30,
                "the agent to quit",
                every=lambda: close_and_confirm(x, window),
            )
            assert process.wait(10) == 0, customer.log_text()
        finally:
            customer.stop()
        after_tmp = tmp_entries()

    log = customer.log_text()
    assert frames >= 3
    # The bundle's encoder is x264 with a per-frame quantizer (agent.x264 found the libx264
    # PyInstaller unpacked), not the CRF fallback.
    assert "libx264 build" in log, log
    assert "per-frame quantizer unavailable" not in log, log
    assert "self-removal: removed" in log, log
    # Nothing of it is left: not the program, not the unpack directory, not a cache, lock or log.
    assert not customer.program.exists()
    assert listing(customer.home, customer.tmp, customer.downloads) == set(), log
    assert after_tmp - before_tmp == set()


@pytest.mark.timeout(900)
def test_a_program_that_cannot_delete_itself_says_what_to_delete(agent_program: Path, xvfb: str) -> None:
    # Not under pytest's tmp_path: its parents are closed to other users, and this
    # test may run the agent as another user.
    base = Path(tempfile.mkdtemp(prefix="madoguchi-test-"))
    base.chmod(0o755)
    customer = Customer(agent_program, base, xvfb)
    prefix: tuple[str, ...] = ()
    if sys.platform != "win32" and os.getuid() == 0:
        # Root may delete anything: run as "nobody", for whom the Downloads folder is read-only.
        for folder in (customer.home, customer.tmp):
            shutil.chown(folder, "nobody", "nogroup")
        prefix = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--")
    customer.downloads.chmod(0o555)
    x = XDriver(xvfb)
    try:
        process = customer.start("--relay", "https://127.0.0.1:9", prefix=prefix)
        x.wait_window(MAIN, 60)
        process.send_signal(signal.SIGTERM)  # what closing the window does
        try:
            report = x.wait_window(REPORT, 30)
        except TimeoutError as exc:
            raise AssertionError(customer.log_text()) from exc
        x.key(report, "Return")
        assert process.wait(20) == 0, customer.log_text()
        log = customer.log_text()
        assert customer.program.exists()
        headline = "プログラムを自動で削除できませんでした。 / The program could not delete itself."
        assert f"removal report shown: {headline}; left: {customer.program}" in log, log
        # Everything that could go, went.
        assert listing(customer.tmp) == set(), log
    finally:
        customer.stop()
        customer.downloads.chmod(0o755)
        shutil.rmtree(base)


@pytest.mark.timeout(900)
def test_packaged_agent_help_shows_the_baked_relay_and_writes_nothing(
    agent_program: Path, tmp_path: Path
) -> None:
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    command = [str(agent_program), "--help"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert BAKED_RELAY in done.stdout
    assert agent_program.exists()
    assert listing(tmp_path) == set()


def test_running_from_source_deletes_nothing(xvfb: str, tmp_path: Path) -> None:
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    launcher = ROOT / "installer" / "agent_launcher.py"
    env = {**os.environ, "DISPLAY": xvfb, "HOME": str(home), "TMPDIR": str(tmp)}
    env.pop("QT_QPA_PLATFORM", None)
    with (tmp_path / "log").open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(launcher), "--relay", "http://127.0.0.1:9", "--lang", "en", "-vv"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        XDriver(xvfb).wait_window(MAIN, 60)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    log = (tmp_path / "log").read_text()
    assert "not self-removing" in log, log
    assert "self-removal" not in log.replace("not self-removing", "")
    assert launcher.exists()
    assert Path(sys.executable).exists()
    assert (ROOT / "agent" / "uninstall" / "base.py").exists()
    assert listing(tmp) == set(), log


def test_the_bundle_carries_the_agents_own_native_libraries(agent_program: Path) -> None:
    # installer/native_trim.py: FFmpeg without codecs the agent never runs, Qt's ICU data for
    # ja/en only; what only the originals needed (libx265, SVT-AV1, dav1d, gnutls) is gone.
    from PyInstaller.archive.readers import CArchiveReader

    sizes = {
        os.path.basename(name): length
        for name, (_, _, length, _, kind) in CArchiveReader(str(agent_program)).toc.items()
        if kind == "b"
    }
    absent = ("libx265", "libSvtAv1Enc", "libdav1d", "libgnutls", "libvpx", "libopus")
    assert not [name for name in sizes if name.startswith(absent)]
    codec = next(size for name, size in sizes.items() if name.startswith("libavcodec-"))
    assert codec < 2_000_000  # the wheel's: 18.8 MB
    assert sizes["libicudata.so.73"] < 4_000_000  # the wheel's: 32 MB


_BLAS_CALLS = {"dot", "matmul", "inner", "vdot", "tensordot", "einsum", "cov", "corrcoef", "polyfit", "lstsq"}


def _blas_uses(source: str) -> list[str]:
    """Where numpy code would reach BLAS: ``@``, dot-like calls, anything of ``linalg``."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.BinOp | ast.AugAssign) and isinstance(node.op, ast.MatMult):
            found.append(f"line {node.lineno}: @")
        elif isinstance(node, ast.Attribute) and (node.attr in _BLAS_CALLS or node.attr == "linalg"):
            found.append(f"line {node.lineno}: .{node.attr}")
    return sorted(found)


def test_no_module_in_the_bundle_would_reach_the_blas_stub(agent_program: Path) -> None:
    # The bundle's BLAS is a stub that aborts (installer/build.py: _stub_blas): none of our
    # modules in it may call into BLAS. numpy's own import-time check is covered by the stub.
    from PyInstaller.archive.readers import CArchiveReader

    pyz = CArchiveReader(str(agent_program)).open_embedded_archive("PYZ.pyz")
    ours = sorted(n for n in pyz.toc if n.split(".")[0] in ("agent", "madoguchi", "protocol", "installer"))
    assert "agent.capture.change" in ours
    uses = {}
    for module in ours:
        path = ROOT.joinpath(*module.split("."))
        source = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        found = _blas_uses(source.read_text(encoding="utf-8"))
        if found:
            uses[module] = found
    assert uses == {}
    assert _blas_uses("x = a @ b\ny = np.linalg.inv(x)\nz = a.dot(b)\n") == [
        "line 1: @",
        "line 2: .linalg",
        "line 3: .dot",
    ]
