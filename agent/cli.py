"""``madoguchi agent``: the customer's program (consent, number, sharing, pointer, keyboard guide)."""

from __future__ import annotations

import argparse
import os

from agent import build_config
from client_core.proxy import add_proxy_option, apply_proxy_option

__all__ = ["configure", "resolve_relay_url", "run"]

ENV_RELAY_URL = "MADOGUCHI_RELAY_URL"


def resolve_relay_url(argument: str | None = None) -> str:
    """``--relay``, else ``MADOGUCHI_RELAY_URL``, else the URL baked into the build."""
    return (argument or os.environ.get(ENV_RELAY_URL) or build_config.RELAY_URL).rstrip("/")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--relay",
        metavar="URL",
        help=f"relay to register with (default: ${ENV_RELAY_URL} or {build_config.RELAY_URL})",
    )
    parser.add_argument(
        "--lang", choices=["ja", "en"], help="language (default: MADOGUCHI_LANG or the system locale)"
    )
    add_proxy_option(parser)


def run(args: argparse.Namespace) -> int:
    from agent.ui.app import run_agent

    apply_proxy_option(args)
    return run_agent(resolve_relay_url(args.relay), args.lang)
