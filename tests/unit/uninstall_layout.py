"""A packaged agent's files laid out for real in a temporary directory (for the uninstall tests).

The same shapes PyInstaller's one-file bootloader and the agent create: the
downloaded executable somewhere, ``_MEI...`` with ``base_library.zip`` directly
in the temporary directory, and the private data directory beside it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from agent.uninstall.packaged import PackagedRun, private_data_dir


@dataclasses.dataclass
class Layout:
    root: Path
    temp_root: Path
    home: Path
    executable: Path
    unpack_dir: Path
    data_dir: Path

    @property
    def run(self) -> PackagedRun:
        return PackagedRun(
            executable=self.executable,
            unpack_dir=self.unpack_dir,
            temp_roots=(self.temp_root,),
            data_dir=self.data_dir,
        )

    def listing(self) -> set[str]:
        return {p.relative_to(self.root).as_posix() for p in self.root.rglob("*")}


def make_layout(root: Path) -> Layout:
    temp_root = root / "tmp"
    home = root / "home"
    downloads = home / "Downloads"
    for folder in (temp_root, downloads):
        folder.mkdir(parents=True)
    executable = downloads / "madoguchi-agent"
    executable.write_bytes(b"\x7fELF pretend executable")
    executable.chmod(0o755)
    unpack_dir = temp_root / "_MEI123abc"
    (unpack_dir / "PySide6" / "Qt" / "lib").mkdir(parents=True)
    (unpack_dir / "base_library.zip").write_bytes(b"PK")
    (unpack_dir / "PySide6" / "Qt" / "lib" / "libQt6Core.so.6").write_bytes(b"lib")
    unpack_dir.chmod(0o700)
    data_dir = private_data_dir(temp_root, name="tester")
    (data_dir / "cache" / "fontconfig").mkdir(parents=True)
    (data_dir / "cache" / "fontconfig" / "x.cache-9").write_bytes(b"cache")
    (data_dir / "agent.log").write_text("log\n")
    return Layout(root, temp_root, home, executable, unpack_dir, data_dir)
