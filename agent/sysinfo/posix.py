"""POSIX-only calls shared by the Linux and macOS backends.

Defined behind ``sys.platform`` checks so that ``mypy --platform win32`` can check
the modules that use them (the Windows branch is never executed).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from .base import Unavailable, errno_name

__all__ = ["free_bytes", "same_block_device", "unix_socket_accepts"]

if sys.platform != "win32":

    def free_bytes(path: Path) -> int:
        """Bytes an ordinary user can still write on the filesystem holding ``path``
        (``f_bavail``: the root-reserved blocks are not free to the customer)."""
        try:
            st = os.statvfs(path)
        except OSError as exc:
            raise Unavailable(f"statvfs failed ({errno_name(exc)})") from None
        return st.f_bavail * st.f_frsize

    def same_block_device(node: os.stat_result, device: int) -> bool:
        """Is ``node`` (a stat of a /dev entry) the block device numbered ``device``?"""
        import stat

        return stat.S_ISBLK(node.st_mode) and node.st_rdev == device

    def unix_socket_accepts(path: Path, timeout: float) -> bool:
        """Does something listen on the Unix socket ``path`` (not just a stale file)?"""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            try:
                sock.connect(str(path))
            except OSError:
                return False
            return True

else:

    def free_bytes(path: Path) -> int:
        raise Unavailable("statvfs is POSIX only")

    def same_block_device(node: os.stat_result, device: int) -> bool:
        return False

    def unix_socket_accepts(path: Path, timeout: float) -> bool:
        return False
