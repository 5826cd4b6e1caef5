"""The customer's agent UI (PySide6): consent, number, operator request, sharing, summary, overlays.

Modules, one concept each: :mod:`~agent.ui.app` (start), :mod:`~agent.ui.controller`
(the flow), :mod:`~agent.ui.bridge` (Qt <-> network thread), the pages
(:mod:`~agent.ui.consent`, :mod:`~agent.ui.code`, :mod:`~agent.ui.request`,
:mod:`~agent.ui.notice`, :mod:`~agent.ui.summary` in :mod:`~agent.ui.window`),
the sharing signals (:mod:`~agent.ui.sharing_bar`, :mod:`~agent.ui.border`), the
overlays (:mod:`~agent.ui.pointer`, :mod:`~agent.ui.key_guide` drawing
:mod:`~agent.ui.keyboard` from :mod:`~agent.ui.keyboard_layout`), screen geometry
(:mod:`~agent.ui.screens`), capture exclusion (:mod:`~agent.ui.capture_exclusion`),
and the single-instance guard. docs/agent-ui.md describes the whole.

Importing this package does not import Qt; its modules do.
"""

__all__: list[str] = []
