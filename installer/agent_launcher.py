"""Entry point of the packaged agent: ``madoguchi agent`` with the build's settings, then self-removal.

Order matters, and is the reason this is more than ``madoguchi.cli.main(["agent"])``:

1. parse the command line (light imports only: ``--help`` writes nothing);
2. in the packaged one-file build, create the private data directory and point
   temporary files and caches into it (:mod:`agent.uninstall.packaged`), and
   point OpenSSL at the baked CA certificate, all *before* Qt or aiohttp are
   imported (aiohttp builds its default TLS context at import time);
3. run the agent UI with the self-removal exit hook;
4. leave with ``os._exit``: on Linux and macOS the executable and the unpack
   directory are gone by then, and a normal interpreter shutdown could try to
   import something from them.

If the UI crashes before the customer could use it, only the private data
directory is removed: the customer keeps the downloaded file to try again.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, "") and not getattr(sys, "frozen", False):
    # Run as a script from a checkout (``python installer/agent_launcher.py``).
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.uninstall.hook import SelfRemoval
from agent.uninstall.packaged import (
    PackagedRun,
    detect_packaged,
    private_data_dir,
    redirect_environment,
)
from installer import settings as build_settings

__all__ = ["main", "parse_args", "prepare_packaged"]

logger = logging.getLogger("installer.agent_launcher")


def parse_args(argv: Sequence[str] | None, baked: build_settings.BuildSettings) -> argparse.Namespace:
    from agent import build_config, cli

    if baked.relay_url:
        # The build's relay becomes the embedded default (``--relay`` and
        # MADOGUCHI_RELAY_URL still win, see agent.cli.resolve_relay_url).
        build_config.RELAY_URL = baked.relay_url
    parser = argparse.ArgumentParser(
        prog="madoguchi-agent", description="Madoguchi screen sharing support (the customer's program)."
    )
    cli.configure(parser)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    return parser.parse_args(argv)


def prepare_packaged(baked: build_settings.BuildSettings) -> PackagedRun | None:
    """Set up the packaged run: the CA, and for the one-file agent its data directory.

    Returns the :class:`PackagedRun` (with its data directory) of the
    self-removing one-file build, else ``None``: nothing is created then.
    """
    bundle = getattr(sys, "_MEIPASS", None)
    if baked.ca_bundled and bundle:
        ca = Path(bundle) / build_settings.CA_BUNDLE_NAME
        if ca.is_file():
            # OpenSSL's default verify paths honour SSL_CERT_FILE; Python's default
            # context (aiohttp's too) then trusts the relay's private CA.
            os.environ["SSL_CERT_FILE"] = str(ca)
    run = detect_packaged(self_removing=baked.self_removal)
    if run is None:
        return None
    data_dir = private_data_dir(run.temp_roots[0])
    redirect_environment(data_dir)
    return run.with_data_dir(data_dir)


def _configure_logging(verbose: int, data_dir: Path | None) -> Callable[[], None]:
    level = logging.WARNING - 10 * min(verbose, 2)
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    if sys.stderr is not None or data_dir is None:
        logging.basicConfig(level=level, format=fmt)
        return lambda: None
    # A windowed Windows program has no stderr: log into the private directory,
    # which goes with everything else.
    handler = logging.FileHandler(data_dir / "agent.log", encoding="utf-8")
    logging.basicConfig(level=level, format=fmt, handlers=[handler])

    def close() -> None:
        logging.getLogger().removeHandler(handler)
        handler.close()

    return close


def main(argv: Sequence[str] | None = None) -> int:
    baked = build_settings.load()
    args = parse_args(argv, baked)
    packaged = prepare_packaged(baked)
    close_log = _configure_logging(args.verbose, packaged.data_dir if packaged else None)
    logger.info("madoguchi agent %s (%s)", baked.version, "packaged" if packaged else "not self-removing")

    removal: SelfRemoval | None = None
    if packaged is not None:
        # Imported now, while every module can still be loaded from the executable.
        from agent.uninstall.report import show_removal_report

        removal = SelfRemoval(packaged, report=show_removal_report, before=close_log)

    from agent.cli import resolve_relay_url
    from agent.ui.app import run_agent

    try:
        return run_agent(resolve_relay_url(args.relay), args.lang, exit_hooks=[removal] if removal else [])
    except Exception:
        logger.exception("the agent failed")
        if removal is not None and removal.outcome is None and removal.run.data_dir is not None:
            shutil.rmtree(removal.run.data_dir, ignore_errors=True)
        return 1


def _exit(status: int) -> None:
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    os._exit(status)


if __name__ == "__main__":
    _exit(main())
