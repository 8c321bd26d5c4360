"""Every problem found in one events.toml, reported together.

An error is data with a place (file, line, event, field) kept apart from its
message, so the CLI, the server log and /healthz can all print the same text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field as _field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the file, and where.

    ``message`` is for people (the CLI, the log, /healthz); ``code`` and
    ``data`` are for programs (``calfeed import`` repairs problems by code),
    so the English text can change without breaking them. ``index`` is the
    0-based position of the [[events]] table the problem is in.

    >>> problem = Problem("start must be a date or a date-time", where='event "festa" (#3)',
    ...                   field="start", line=14, code="wrong-type", data={"value": "soon"}, index=2)
    >>> str(problem)
    '14: event "festa" (#3): start: start must be a date or a date-time'
    >>> problem.code, problem.data["value"], problem.index
    ('wrong-type', 'soon', 2)
    """

    message: str
    where: str | None = None
    field: str | None = None
    line: int | None = None
    code: str = "invalid"
    # Plain values only (text, numbers, lists of text): problems cross a fork by pickle.
    data: Mapping[str, Any] = _field(default_factory=dict, compare=False, hash=False)
    index: int | None = None

    def __str__(self) -> str:
        parts = [str(self.line)] if self.line else []
        if self.where:
            parts.append(self.where)
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)


class CalendarErrors(Exception):
    """A file that cannot become a calendar, with every reason at once."""

    def __init__(self, path: str, problems: list[Problem]):
        self.path = path
        self.problems = list(problems)
        super().__init__(self.report())

    def __reduce__(self) -> tuple:
        return CalendarErrors, (self.path, self.problems)

    def lines(self) -> list[str]:
        """One line per problem, each starting with the file (and line) it is in."""
        out = []
        for problem in self.problems:
            prefix = f"{self.path}:{problem.line}" if problem.line else self.path
            rest = Problem(problem.message, problem.where, problem.field)
            out.append(f"{prefix}: {rest}")
        return out

    def report(self) -> str:
        """The whole report: every problem, then how many there were."""
        count = len(self.problems)
        noun = "error" if count == 1 else "errors"
        return "\n".join([*self.lines(), f"{count} {noun} in {self.path}"])
