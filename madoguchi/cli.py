"""``madoguchi SUBCOMMAND ...``: one console script, one module per subcommand.

Each subcommand module defines ``configure(parser)`` and ``run(args) -> int`` and
imports its heavy dependencies (aiortc, Qt) inside ``run`` only, so that
``madoguchi --help`` and ``madoguchi relay`` stay light and fast to start.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import Protocol, cast

from client_core import __version__

__all__ = ["main", "SUBCOMMANDS"]

# name -> (module, one-line help). Add a line here for a new subcommand.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "relay": ("relay.cli", "run the signaling relay"),
    "admin": ("relay.admin_cli", "manage operator accounts, read the audit trail"),
    "demo": ("madoguchi.demo", "run a real session on this machine and print its figures"),
    "bench": ("benchmarks.streaming", "streaming benchmark: Madoguchi vs stock aiortc side by side"),
    "bench-relay": ("benchmarks.relay_load", "relay benchmark: registration cost, memory, code reuse"),
    "sysinfo": ("agent.sysinfo.cli", "show the system information the agent would send (R19/R20)"),
    "agent": ("agent.cli", "the customer's screen-sharing program (consent, number, sharing, pointer)"),
    "console": ("operator_console.cli", "the operator console: log in, view and guide customers"),
}

# command -> {name -> (module, one-line help)}: ``madoguchi bench relay``. Without one of
# these names the command runs its own module (``madoguchi bench`` is the streaming bench).
NESTED: dict[str, dict[str, tuple[str, str]]] = {
    "bench": {
        "relay": (
            "benchmarks.relay_nodes",
            "relay nodes under load: held sockets, register latency, RSS, claims per second",
        ),
    },
}


class _Subcommand(Protocol):
    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="madoguchi", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--version", action="version", version=f"madoguchi {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = cast(_Subcommand, importlib.import_module(module_name))
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.configure(sub_parser)
        sub_parser.set_defaults(_module=module)
        nested = NESTED.get(name)
        if nested:
            inner = sub_parser.add_subparsers(dest=f"{name}_target", metavar="TARGET")
            for inner_name, (inner_module_name, inner_help) in nested.items():
                inner_module = cast(_Subcommand, importlib.import_module(inner_module_name))
                inner_parser = inner.add_parser(inner_name, help=inner_help, description=inner_help)
                inner_module.configure(inner_parser)
                inner_parser.set_defaults(_module=inner_module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    module = cast(_Subcommand, args._module)
    try:
        return module.run(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
