"""Smaller native libraries for the packaged agent: which ones, and the plan the spec applies.

Most of the one-file agent's size is native code it never runs: PyAV's FFmpeg
with every codec, Qt's ICU data for every language, numpy's BLAS. Before
PyInstaller runs, :func:`installer.build.prepare_native` puts replacements for those into the build's
work directory and writes a plan (``native.json``): the bundle file name of
each library to replace and its replacement. The spec applies the plan with
:func:`apply` *before* pruning, so libraries only the originals needed (libx265,
SVT-AV1, gnutls, libgfortran, ...) are pruned away as nothing needs them.

Each replacement is optional: when one cannot be made on this machine (wrong
OS, a source that cannot be downloaded, a PyAV whose FFmpeg is not the pinned
release), the original stays and the plan records why, so the build still
produces a working, bigger agent and says so.

This module is imported by the spec inside PyInstaller: standard library only.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PLAN_NAME", "Plan", "apply", "load_plan"]

logger = logging.getLogger(__name__)

PLAN_NAME = "native.json"

TocEntry = tuple[str, str, str]


@dataclass
class Plan:
    """Bundle file name (``libavcodec-5e6b81c2.so.62.28.102``) -> replacement path, plus notes."""

    replacements: dict[str, str] = field(default_factory=dict)
    kept: dict[str, str] = field(default_factory=dict)
    """What was not replaced, and why (``"ffmpeg": "cannot download ..."``)."""

    def to_json(self) -> str:
        return json.dumps({"replacements": self.replacements, "kept": self.kept}, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data = json.loads(text)
        replacements = data.get("replacements", {})
        kept = data.get("kept", {})
        if not isinstance(replacements, dict) or not isinstance(kept, dict):
            raise ValueError("native plan: replacements and kept must be objects")
        return cls(
            replacements={str(k): str(v) for k, v in replacements.items()},
            kept={str(k): str(v) for k, v in kept.items()},
        )


def load_plan(gen: Path) -> Plan:
    """The plan :func:`installer.build.prepare_native` wrote into ``gen`` (an empty plan if there is none)."""
    path = gen / PLAN_NAME
    if not path.is_file():
        return Plan()
    return Plan.from_json(path.read_text(encoding="utf-8"))


def apply(binaries: Sequence[TocEntry], plan: Plan) -> list[TocEntry]:
    """Point each planned library's entry at its replacement; every other entry unchanged.

    Raises ValueError if a planned library is not in the bundle: the plan was made
    for other dependencies than PyInstaller found, and guessing would ship a mix.
    """
    result: list[TocEntry] = []
    used: set[str] = set()
    for dest, src, kind in binaries:
        name = os.path.basename(dest)
        replacement = plan.replacements.get(name)
        if replacement is not None and kind != "SYMLINK":
            used.add(name)
            result.append((dest, replacement, kind))
        else:
            result.append((dest, src, kind))
    unused = sorted(set(plan.replacements) - used)
    if unused:
        raise ValueError("native plan names libraries the bundle does not have: " + ", ".join(unused))
    for reason in plan.kept.values():
        logger.warning("native libraries kept as shipped: %s", reason)
    logger.info("native libraries replaced: %s", ", ".join(sorted(used)) or "none")
    return result
