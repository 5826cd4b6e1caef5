"""Sizes and clock speeds as both programs show them: one convention (docs/glossary.md).

The customer reads numbers off their own Windows PC while the operator reads the
console, so both must say the same figure for the same reading. Windows (Explorer,
Settings, Task Manager, System Properties) counts a gigabyte as 1024³ bytes and
labels it "GB", and shows processor speed in GHz with two decimals ("2.60 GHz").
We follow Windows: ``GB`` here means 2³⁰ bytes, in Japanese and English alike,
because the customer is the one reading their screen aloud and the operator must
hear the figure they see. Unit symbols are not translated (Japanese Windows shows
"GB" and "GHz" too).

Pure functions, no Qt: the agent's summary and the console's customer information
both call them, and the glossary test checks that neither formats units itself.
"""

from __future__ import annotations

__all__ = ["BYTES_PER_GB", "BYTES_PER_MB", "format_bytes", "format_clock_mhz"]

BYTES_PER_GB = 1024**3
"""One "GB" as Windows shows it (a gibibyte)."""
BYTES_PER_MB = 1024**2


def format_bytes(value: float) -> str:
    """``8 * 1024**3`` -> ``"8.0 GB"``; under one GB -> whole ``MB``."""
    if value >= BYTES_PER_GB:
        return f"{value / BYTES_PER_GB:.1f} GB"
    return f"{value / BYTES_PER_MB:.0f} MB"


def format_clock_mhz(mhz: float) -> str:
    """``2596`` -> ``"2.60 GHz"``, as Windows' System page shows the processor speed."""
    return f"{mhz / 1000:.2f} GHz"
