"""The operator console's Qt user interface (``madoguchi console``).

Modules, one concept each: ``main_window`` (tabs, menus, shortcuts, status bar),
``session_tab`` (one customer from code to end), ``pages`` (code entry, waiting,
ended), ``video_view`` (the picture and the pointer tool), ``pointer`` (geometry
and rate limiting, no Qt), ``key_guide`` (keyboard-guide tool), ``info_panel``
(system information), ``login`` (login dialog), ``bridge`` (the network thread),
``messages`` (friendly texts), ``settings`` (what is remembered), ``testing``
(real relay and agents on their own thread, for tests and screenshots).
"""

from __future__ import annotations

__all__: list[str] = []
