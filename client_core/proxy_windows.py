"""Windows: the per-user proxy settings from the registry (what Internet Options shows).

Only reading happens here; :func:`client_core.proxy.parse_windows_settings` makes sense
of the values and is tested on recorded ones. Imported only on Windows, by
:func:`client_core.proxy.system_rule`.
"""

from __future__ import annotations

import sys
import winreg

__all__ = ["INTERNET_SETTINGS", "read_internet_settings"]

INTERNET_SETTINGS = r"Software\Microsoft\Windows\CurrentVersion\Internet Settings"
# Imported by the factory on Windows only; the assert also tells mypy so.
assert sys.platform == "win32"

_NAMES = ("ProxyEnable", "ProxyServer", "ProxyOverride", "AutoConfigURL")


def read_internet_settings() -> dict[str, object]:
    """The proxy values present under HKCU\\...\\Internet Settings, by name (missing ones left out)."""
    values: dict[str, object] = {}
    with winreg.OpenKey(winreg.HKEY_CURRENT_USER, INTERNET_SETTINGS) as key:
        for name in _NAMES:
            try:
                value, _kind = winreg.QueryValueEx(key, name)
            except FileNotFoundError:
                continue
            values[name] = value
    return values
