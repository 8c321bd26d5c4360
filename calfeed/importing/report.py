"""What an import says back: a report of what it did, or why it did nothing."""

from __future__ import annotations

from dataclasses import dataclass, field


class ImportFailed(Exception):
    """The source cannot be imported at all; nothing is written."""


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
