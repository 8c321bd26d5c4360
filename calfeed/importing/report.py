"""What an import says back: a report of what it did, or why it did nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ImportFailed(Exception):
    """The source cannot be imported at all; nothing is written.

    ``code`` and ``data`` say why for programs (the browser editor words the
    common failures in the calendar's language and never offers
    ``--allow-private``); the message is the command line's English."""

    def __init__(self, message: str, code: str = "import-failed", **data: Any):
        super().__init__(message)
        self.code, self.data = code, data


@dataclass
class Report:
    """What an import did, and what it could not carry over (and why)."""

    events: int = 0
    series: int = 0
    overrides: int = 0
    places: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"imported {self.events} events ({self.series} recurring series, "
            f"{self.overrides} changed dates), {self.places} places made"
        ]
        lines += [f"  - {note}" for note in self.notes]
        return "\n".join(lines)
