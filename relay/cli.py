"""``madoguchi relay``: run the signaling relay until Ctrl+C / SIGTERM."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

__all__ = ["configure", "run"]

logger = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="relay.toml (see docs/operations.md)")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8765, 0 = any free port)")
    parser.add_argument("--data-dir", type=Path, help="where accounts and the audit trail are kept")
    parser.add_argument("--cert", type=Path, help="TLS certificate chain (PEM); serves https/wss")
    parser.add_argument("--key", type=Path, help="TLS private key (PEM) for --cert")


def run(args: argparse.Namespace) -> int:
    import ssl

    from .config import ConfigError, load_config
    from .server import serve_forever

    overrides = {
        key: value
        for key, value in (("host", args.host), ("port", args.port), ("data_dir", args.data_dir))
        if value is not None
    }
    try:
        config = load_config(args.config, **overrides)
    except ConfigError as exc:
        logger.error("configuration: %s", exc)
        return 2
    if (args.cert is None) != (args.key is None):
        logger.error("--cert and --key go together")
        return 2
    context = None
    if args.cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(args.cert, args.key)
        except (OSError, ssl.SSLError) as exc:
            logger.error("cannot load the TLS certificate/key: %s", exc)
            return 2
    if config.host not in ("127.0.0.1", "::1", "localhost") and context is None:
        logger.warning(
            "listening on %s without TLS: put a TLS proxy in front or pass --cert/--key", config.host
        )
    from .database import DatabaseUnavailable

    try:
        serve_forever(config, ssl_context=context)
    except ConfigError as exc:  # found when the relay opens it (the database URL)
        logger.error("configuration: %s", exc)
        return 2
    except DatabaseUnavailable as exc:
        logger.error("the relay needs its database to start: %s", exc)
        return 1
    return 0
