"""The program icon, drawn with Pillow at build time (no binary file in the repository).

A calm blue rounded square holding a white window (窓, "madoguchi" is the
service counter's window) with an orange pointer circle: the operator points,
the customer acts. ``python -m installer.icon DIR`` writes ``madoguchi.ico``
(16-256 px, for the Windows executable) and ``madoguchi.png`` (256 px).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from PIL import Image, ImageDraw

__all__ = ["ICO_SIZES", "draw_icon", "write_icons"]

logger = logging.getLogger(__name__)

ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
BLUE = (31, 94, 160, 255)
WHITE = (255, 255, 255, 255)
PANE = (214, 230, 245, 255)
ORANGE = (240, 140, 30, 255)


def draw_icon(size: int = 256) -> Image.Image:
    """Drawn at 4x and scaled down, so small sizes stay smooth."""
    big = size * 4
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    u = big / 16
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=int(3 * u), fill=BLUE)
    # The window: a frame with a title bar and two panes.
    draw.rounded_rectangle((2.5 * u, 3 * u, 13.5 * u, 12.5 * u), radius=int(0.8 * u), fill=WHITE)
    draw.rectangle((3.5 * u, 5 * u, 7.7 * u, 11.5 * u), fill=PANE)
    draw.rectangle((8.3 * u, 5 * u, 12.5 * u, 11.5 * u), fill=PANE)
    # The operator's pointer circle, overlapping the window's lower right.
    draw.ellipse((9 * u, 9 * u, 15 * u, 15 * u), fill=ORANGE, outline=WHITE, width=int(0.6 * u))
    return image.resize((size, size), Image.Resampling.LANCZOS)


def write_icons(directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    image = draw_icon(256)
    ico, png = directory / "madoguchi.ico", directory / "madoguchi.png"
    image.save(ico, format="ICO", sizes=[(s, s) for s in ICO_SIZES])
    image.save(png, format="PNG")
    logger.info("icons written to %s", directory)
    return ico, png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("directory", type=Path)
    args = parser.parse_args()
    for path in write_icons(args.directory):
        print(path)


if __name__ == "__main__":
    main()
