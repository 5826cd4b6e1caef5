"""Japanese line breaks by phrase (文節), for both programs' Qt labels.

Qt breaks Japanese text between any two characters (UAX #14 lets ideographs and
kana break anywhere), so a wrapped label can split a word: 「閉 / じておいて
ください」, 「パス / ワード」. :func:`phrase_breaks` asks BudouX (Google's
maintained phrase segmenter, a small machine-learned model, no dictionary) where
the phrases are, then joins the characters inside a phrase with WORD JOINER
(U+2060: no break here) and puts a ZERO WIDTH SPACE (U+200B: break here if
needed) between phrases. Qt's line breaker honours both and draws neither.

Text without Japanese is returned unchanged, and so is everything when BudouX
is not installed (a line may then break mid-word, nothing worse). Use the marked
text only for display: :func:`plain` strips the marks for copying, comparing and
accessible names.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable

__all__ = ["WORD_JOINER", "ZERO_WIDTH_SPACE", "phrase_breaks", "plain"]

logger = logging.getLogger(__name__)

WORD_JOINER = "\u2060"
ZERO_WIDTH_SPACE = "\u200b"
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
_MARKS = re.compile(f"[{WORD_JOINER}{ZERO_WIDTH_SPACE}]")


@functools.cache
def _parser() -> Callable[[str], list[str]] | None:
    try:
        import budoux

        parser = budoux.load_default_japanese_parser()
    except ImportError:
        logger.warning("budoux is not installed: Japanese lines may break mid-word")
        return None
    except Exception:
        # Line breaking is a courtesy: a broken install (a data file missing from a
        # package) must never take a window down with it.
        logger.exception("budoux could not load its model: Japanese lines may break mid-word")
        return None
    parse: Callable[[str], list[str]] = parser.parse
    return parse


def phrase_breaks(text: str) -> str:
    """``text`` with line breaks allowed only between phrases (Japanese), else as is."""
    if not _JAPANESE.search(text):
        return text
    parse = _parser()
    if parse is None:
        return text
    lines = []
    for line in plain(text).split("\n"):
        phrases = parse(line) if line else []
        lines.append(ZERO_WIDTH_SPACE.join(_join(phrase) for phrase in phrases))
    return "\n".join(lines)


def _join(phrase: str) -> str:
    # Spaces stay break opportunities (a Latin name inside a Japanese sentence).
    return " ".join(WORD_JOINER.join(word) for word in phrase.split(" "))


def plain(text: str) -> str:
    """``text`` without the marks :func:`phrase_breaks` added."""
    return _MARKS.sub("", text)
