"""Entry point of the packaged operator console: ``madoguchi console`` with the build's settings.

The baked relay URL pre-fills the login dialog and a baked CA certificate is
used unless ``--relay`` / ``--ca-file`` say otherwise. The console is a one-folder
build, installed by an administrator; it never removes itself.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, "") and not getattr(sys, "frozen", False):
    # Run as a script from a checkout (``python installer/console_launcher.py``).
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from installer import settings as build_settings

__all__ = ["main", "parse_args"]

logger = logging.getLogger("installer.console_launcher")


def parse_args(argv: Sequence[str] | None, baked: build_settings.BuildSettings) -> argparse.Namespace:
    from operator_console import cli

    parser = argparse.ArgumentParser(prog="madoguchi-console", description="Madoguchi operator console.")
    cli.configure(parser)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    args = parser.parse_args(argv)
    if args.relay is None and baked.relay_url:
        args.relay = baked.relay_url
    bundle = getattr(sys, "_MEIPASS", None)
    if args.ca_file is None and baked.ca_bundled and bundle:
        args.ca_file = Path(bundle) / build_settings.CA_BUNDLE_NAME
    return args


def main(argv: Sequence[str] | None = None) -> int:
    baked = build_settings.load()
    args = parse_args(argv, baked)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logger.info("madoguchi console %s", baked.version)
    from operator_console import cli

    return cli.run(args)


if __name__ == "__main__":
    sys.exit(main())
