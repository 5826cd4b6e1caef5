"""The terms of use the customer agrees to (R15), fetched from the relay.

The admin configures the text per language on the relay (``[terms]`` in
relay.toml); ``GET /api/terms?lang=ja|en`` returns ``{"lang", "version", "text"}``.
Fetching them registers nothing: the relay learns about the agent only when it
registers after the customer's Agree.
"""

from __future__ import annotations

import dataclasses
import logging
import ssl

__all__ = ["Terms", "TermsUnavailable", "fetch_terms"]

logger = logging.getLogger(__name__)

_MAX_TEXT = 100_000
"""Terms longer than this are not terms but a misconfiguration (or an attack on the UI)."""


@dataclasses.dataclass(frozen=True)
class Terms:
    lang: str
    version: str
    text: str


class TermsUnavailable(Exception):
    """The terms could not be fetched; ``reason`` is for the log, never shown raw to the customer."""

    def __init__(self, lang: str, reason: str) -> None:
        super().__init__(f"terms ({lang}) unavailable: {reason}")
        self.lang = lang
        self.reason = reason


async def fetch_terms(
    relay_url: str, lang: str, *, ssl_context: ssl.SSLContext | None = None, timeout_s: float = 10.0
) -> Terms:
    # Imported here, on the bridge's loop thread: aiohttp is about 140 ms of imports the
    # first window should not wait for (tests/unit/test_agent_startup_imports.py).
    import aiohttp

    from client_core.proxy import resolve_proxy

    url = f"{relay_url.rstrip('/')}/api/terms"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http,
            http.get(
                url,
                params={"lang": lang},
                ssl=ssl_context if ssl_context is not None else True,
                proxy=resolve_proxy(url),
            ) as reply,
        ):
            if reply.status != 200:
                raise TermsUnavailable(lang, f"HTTP {reply.status}")
            body = await reply.json(content_type=None)
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise TermsUnavailable(lang, type(exc).__name__) from exc
    except ValueError as exc:
        raise TermsUnavailable(lang, "not JSON") from exc
    if not isinstance(body, dict):
        raise TermsUnavailable(lang, "unexpected answer")
    text, version = body.get("text"), body.get("version")
    if not isinstance(text, str) or not text.strip() or len(text) > _MAX_TEXT:
        raise TermsUnavailable(lang, "no usable text")
    logger.info("terms %s version %s fetched", lang, version)
    return Terms(lang=lang, version=str(version or ""), text=text)
