"""Fixtures shared by the functional tests that drive a real Chromium."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from testbed.browser import BrowserCustomer

logger = logging.getLogger(__name__)


@pytest.fixture
async def browser(xvfb: str) -> AsyncIterator[BrowserCustomer]:
    """Chromium on the test display (non-headless: it captures the screen), closed after."""
    async with BrowserCustomer.start(xvfb) as page_owner:
        yield page_owner
        for kind, text in page_owner.console:  # shown with a failing test's captured log
            logger.warning("page console %s: %s", kind, text)
