"""Pick the self-removal backend for this OS, importing it only when needed."""

from __future__ import annotations

import logging
import sys

from .base import Remover, UnsupportedPlatformError

__all__ = ["SUPPORTED_PLATFORMS", "create_remover"]

logger = logging.getLogger(__name__)

SUPPORTED_PLATFORMS = ("linux", "win32", "darwin")
"""``sys.platform`` prefixes with a backend."""


def create_remover(*, platform: str | None = None) -> Remover:
    """The :class:`Remover` for ``platform`` (default: this machine).

    Raises :class:`UnsupportedPlatformError` elsewhere (FreeBSD, say): the agent
    then tells the customer what to delete instead of guessing.
    """
    plat = platform or sys.platform
    if plat.startswith("win32"):
        from .windows import WindowsRemover

        return WindowsRemover()
    if plat.startswith(("linux", "darwin")):
        from .posix import PosixRemover

        return PosixRemover()
    raise UnsupportedPlatformError(plat)
