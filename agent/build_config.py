"""Settings baked into an agent build.

The installer build overwrites this module (it is plain Python, so PyInstaller
freezes it like any other module): a customer double-clicks the downloaded
program and must never have to type a server address. A source checkout keeps
the default below, a relay on this machine (``madoguchi relay``).

At run time ``--relay URL`` wins over ``MADOGUCHI_RELAY_URL``, which wins over
:data:`RELAY_URL` (see :func:`agent.cli.resolve_relay_url`).
"""

from __future__ import annotations

__all__ = ["RELAY_URL"]

RELAY_URL = "http://127.0.0.1:8765"
"""The relay the agent registers with, ``http(s)://host[:port]``."""
