"""Japanese and English for the Qt programs (Qt Linguist translations).

Source strings are English, marked with ``self.tr()`` / ``QCoreApplication.translate``.
Each program keeps ``<package>/i18n/<domain>_ja.ts`` (the Linguist source, edited
by people) and ships the compiled ``.qm`` next to it. ``ensure_compiled`` builds a
missing or stale ``.qm`` with ``pyside6-lrelease`` (run by ``make setup`` and the
installer build; at run time only as a fallback for a source checkout).

The language is Japanese when the system locale is Japanese, else English;
``MADOGUCHI_LANG=ja|en`` or a program's ``--lang`` overrides it, and the UIs can
switch at run time with :func:`switch_language`.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Literal

__all__ = ["LANGUAGES", "Language", "ensure_compiled", "pick_language", "switch_language"]

logger = logging.getLogger(__name__)

Language = Literal["ja", "en"]
LANGUAGES: tuple[Language, ...] = ("ja", "en")

_installed: dict[int, object] = {}


def pick_language(override: str | None = None) -> Language:
    """``override`` (e.g. ``--lang``), then ``MADOGUCHI_LANG``, then the system locale."""
    for candidate in (override, os.environ.get("MADOGUCHI_LANG")):
        if candidate:
            lowered = candidate.lower()
            if lowered.startswith("ja"):
                return "ja"
            if lowered.startswith("en"):
                return "en"
    from PySide6.QtCore import QLocale

    return "ja" if QLocale.system().language() == QLocale.Language.Japanese else "en"


def _lrelease() -> str | None:
    beside = Path(sys.executable).with_name("pyside6-lrelease")
    if beside.exists():
        return str(beside)
    return shutil.which("pyside6-lrelease") or shutil.which("lrelease")


def ensure_compiled(ts_file: Path) -> Path | None:
    """Compile ``x.ts`` to ``x.qm`` when the ``.qm`` is missing or older; return the ``.qm``."""
    qm_file = ts_file.with_suffix(".qm")
    if qm_file.exists() and (not ts_file.exists() or qm_file.stat().st_mtime >= ts_file.stat().st_mtime):
        return qm_file
    if not ts_file.exists():
        return None
    tool = _lrelease()
    if tool is None:
        logger.warning("no lrelease found: %s stays untranslated", ts_file.name)
        return qm_file if qm_file.exists() else None
    result = subprocess.run(
        [tool, "-silent", str(ts_file), "-qm", str(qm_file)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        logger.warning("lrelease failed on %s: %s", ts_file.name, result.stderr.strip())
        return qm_file if qm_file.exists() else None
    return qm_file


def switch_language(i18n_dir: Path, domain: str, language: Language) -> bool:
    """Install the translator for ``language`` on the running QCoreApplication.

    English needs no file: removing the translator shows the source strings.
    Widgets get a ``LanguageChange`` event and should re-run their ``retranslate``.
    """
    from PySide6.QtCore import QCoreApplication, QTranslator

    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("create the QApplication first")
    key = id(app)
    old = _installed.pop(key, None)
    if isinstance(old, QTranslator):
        QCoreApplication.removeTranslator(old)
    if language == "en":
        return True
    qm_file = ensure_compiled(i18n_dir / f"{domain}_{language}.ts")
    translator = QTranslator(app)
    if qm_file is None or not translator.load(str(qm_file)):
        logger.warning("no %s translation for %s", language, domain)
        return False
    QCoreApplication.installTranslator(translator)
    _installed[key] = translator
    return True
