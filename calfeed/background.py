"""Sending a notice from a background thread, a few times until it is
taken: the webhook (``calfeed.webhooks``) and the e-mails (``calfeed.mail``)
share this, so the request that caused a notice never waits for it and a
failure loses nothing but the notice. No Flask here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("calfeed")

ATTEMPTS = 3
PAUSE = 2.0  # seconds before the second attempt, doubled before each next one


class Refused(Exception):
    """The other side said no for good (an HTTP 4xx, an SMTP 5xx): asking again will not help."""


def with_retries(send: Callable[[], None], what: str, attempts: int = ATTEMPTS, pause: float = PAUSE) -> bool:
    """Call ``send`` until it returns; again after an ``OSError`` (a network
    error, a temporary refusal), at most ``attempts`` times, never after
    ``Refused``. True once it returned.

    >>> tries = []
    >>> def flaky():
    ...     tries.append(1)
    ...     if len(tries) < 3:
    ...         raise ConnectionRefusedError("down")
    >>> with_retries(flaky, "test", pause=0), len(tries)
    (True, 3)
    """
    for attempt in range(attempts):
        if attempt:
            time.sleep(pause * 2 ** (attempt - 1))
        try:
            send()
            return True
        except Refused as error:
            log.error("calfeed: %s refused: %s", what, error)
            return False
        except OSError as error:
            log.warning("calfeed: %s, attempt %d: %s", what, attempt + 1, error)
    log.error("calfeed: %s: gave up after %d attempts", what, attempts)
    return False


def in_background(work: Callable[..., Any], name: str, *arguments: Any, **keywords: Any) -> threading.Thread:
    """``work(*arguments, **keywords)`` in a daemon thread, started."""
    thread = threading.Thread(target=work, args=arguments, kwargs=keywords, name=name, daemon=True)
    thread.start()
    return thread
