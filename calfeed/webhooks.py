"""Telling someone that something happened: a small JSON posted to a URL,
from a background thread, a few times until it is taken
(``calfeed.background``). Used to tell the
editors that a proposal arrived (``CALFEED_PROPOSALS_WEBHOOK``); the
request that caused it never waits for it, and a failure loses nothing but
the notice. No Flask here.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from calfeed.background import ATTEMPTS, PAUSE, Refused, in_background, with_retries

log = logging.getLogger("calfeed")

TIMEOUT = 5.0  # seconds for each attempt


def is_webhook_url(url: str) -> bool:
    """Only http(s) URLs are posted to.

    >>> is_webhook_url("https://chat.example.org/hooks/abc"), is_webhook_url("file:///etc/passwd")
    (True, False)
    """
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def post_json(url: str, payload: Mapping[str, Any], attempts: int = ATTEMPTS, timeout: float = TIMEOUT,
              pause: float = PAUSE) -> bool:
    """Post ``payload`` as JSON; try again after a network error or a 5xx
    answer, at most ``attempts`` times. True once a 2xx answer came."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")

    def send() -> None:
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "User-Agent": "calfeed"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310  (the scheme is checked)
                if not 200 <= answer.status < 300:
                    raise ConnectionError(f"HTTP {answer.status}")
        except urllib.error.HTTPError as error:
            if error.code < 500:
                raise Refused(f"HTTP {error.code}") from None  # a 4xx will not change by asking again
            raise

    return with_retries(send, f"webhook {url}", attempts, pause)


def notify(url: str, payload: Mapping[str, Any], pause: float = PAUSE) -> threading.Thread | None:
    """``post_json`` in a daemon thread, started; None for a URL not http(s)."""
    if not is_webhook_url(url):
        log.error("calfeed: webhook %r is not an http(s) URL; no notice sent", url)
        return None
    return in_background(post_json, "calfeed-webhook", url, dict(payload), pause=pause)
