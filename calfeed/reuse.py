"""Checked events carried from one load of a file to the next.

A server reloads events.toml after every edit; most [[events]] tables did
not change, so their events are taken from the last good version instead of
being checked again. Kept here, beside the store that holds it across loads.
"""

from __future__ import annotations

import hashlib
import pickle
from typing import Any

from calfeed.model import Event


def digest(value: Any) -> bytes:
    """A fingerprint of parsed TOML: equal fingerprints, equal values."""
    return hashlib.blake2b(pickle.dumps(value, protocol=5), digest_size=16).digest()


class EventReuse:
    """The events of the last good version, by the fingerprint of their
    [[events]] table: a reload re-checks only the tables that changed, as long
    as the tables they depend on ([calendar], [places], the base URL) did not."""

    def __init__(self) -> None:
        self.context: bytes | None = None
        self.events: dict[bytes, Event] = {}

    def known(self, context: bytes) -> dict[bytes, Event]:
        return self.events if context == self.context else {}

    def keep(self, context: bytes, events: dict[bytes, Event]) -> None:
        self.context, self.events = context, events
