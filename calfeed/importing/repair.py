"""Fixing what the checker refuses in an imported calendar.

Real feeds carry things RFC 5545 allows and events.toml does not: an EXDATE
that matches no date of the series (Google keeps those after a series is
moved), a DTSTART off the rule (RFC 5545 counts it as an occurrence). These
are repaired, by the problem's code and data, never by its wording; any other
problem leaves its event out, named in the report.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from calfeed.errors import CalendarErrors, Problem
from calfeed.importing.conversion import Imported
from calfeed.importing.report import ImportFailed, Report
from calfeed.occurrences import naive


def repaired(events: list[Imported], errors: CalendarErrors, offset: int, report: Report) -> list[Imported]:
    """The events with fixable problems fixed and the others left out, each
    named in the report with why. ``events`` are the [[events]] tables
    written after the first ``offset`` ones (those of the file merged into)."""
    bad: dict[int, str] = {}
    for problem in errors.problems:
        position = None if problem.index is None else problem.index - offset
        if position is None or not 0 <= position < len(events):
            raise ImportFailed(f"the imported calendar would not be valid, so nothing was written:\n{errors.report()}")
        if problem.code == "not-compared":
            continue  # waits for another problem of the event: compared again once that is repaired
        if not _repair(events[position], problem, report):
            bad.setdefault(position, f"{problem.field}: {problem.message}")
    kept = []
    for position, event in enumerate(events):
        if position in bad:
            report.notes.append(f'{event.where}"{event.fields["title"][:50]}": left out, calfeed cannot serve it as written ({bad[position]})')
        else:
            kept.append(event)
    return kept


def _local(text: str, like: date | datetime) -> date | datetime:
    """The ISO text of the checker's data as a value of the kind of ``like``
    (a date-time at midnight may be named by its date alone)."""
    value = datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
    if isinstance(like, datetime) and not isinstance(value, datetime):
        return datetime.combine(value, time())
    if not isinstance(like, datetime) and isinstance(value, datetime):
        return value.date()
    return value


def _repair(event: Imported, problem: Problem, report: Report) -> bool:
    """Fix what real feeds often carry; False when the event cannot be fixed."""
    label = f'{event.where}"{event.fields["title"][:50]}"'
    if problem.code == "not-a-date-of-series" and problem.field == "exdates" and problem.data.get("value"):
        stale = problem.data.get("value", "")
        exdates = event.fields.get("exdates", [])
        kept = [d for d in exdates if naive(d) != naive(_local(stale, d))]
        if len(kept) < len(exdates):
            event.fields["exdates"] = kept
            if not kept:
                del event.fields["exdates"]
            report.notes.append(f"{label}: EXDATE {stale} removed, it matches no date of the series")
            return True
    organizer = event.fields.get("organizer", {})
    if problem.code == "bad-email" and organizer.get("email") is not None and organizer["email"] == problem.data.get("value"):
        del organizer["email"]  # KOrganizer writes "nobody@nowhere": the event stays, without the address
        if not organizer:
            del event.fields["organizer"]
        report.notes.append(f'{label}: ORGANIZER "{problem.data["value"]}" is not an e-mail address; the address was left out')
        return True
    if problem.code == "start-not-first-date" and "first" in problem.data and "rrule" in event.fields:
        first = problem.data["first"]
        done = _moved_start(event, first)
        if done:
            report.notes.append(f"{label}: DTSTART is off the rule; {done}")
            return True
    return False


def _moved_start(event: Imported, first: str) -> str | None:
    """RFC 5545 counts a DTSTART off the rule as an occurrence, the first of a
    COUNT; calfeed wants the first date of the rule: start there and keep the
    old start as an rdate. With COUNT=1 the old start is the only date."""
    fields = event.fields
    old = fields["start"]
    new = _local(first, old)
    if isinstance(old, datetime) != isinstance(new, datetime):
        return None
    if re.search(r"(^|;)COUNT=1(;|$)", fields["rrule"]):
        del fields["rrule"]
        done = "with COUNT=1 the old start is the rule's only date; the rule was dropped"
        if "rdates" in fields:
            return done
        if naive(old) in {naive(d) for d in fields.pop("exdates", [])}:
            return None  # its only date removed too: nothing to serve, the event is left out
        for override in [o for o in event.overrides if naive(o["recurrence_id"]) == naive(old)]:  # that date changed: the event is it
            changed = {key: value for key, value in override.items() if key != "recurrence_id"}
            if "start" in changed and isinstance(fields.get("end"), datetime) and "end" not in changed:
                changed["end"] = changed["start"] + (fields["end"] - old)
            fields.update(changed)
        event.overrides.clear()  # the other dates are gone with the rule
        return done
    shift = new - old
    fields["start"] = new
    if isinstance(fields.get("end"), (date, datetime)):
        fields["end"] += shift
    fields["rdates"] = [old, *fields.get("rdates", [])]
    count = re.search(r"COUNT=(\d+)", fields["rrule"])  # the rule as the import wrote it
    if count:  # the old start was one of the COUNT
        fields["rrule"] = fields["rrule"].replace(count.group(0), f"COUNT={int(count.group(1)) - 1}")
    counted = "; COUNT includes the old start, as RFC 5545 counts it (some apps count it apart and show one date more): check the last date"
    return f"the series starts on {first} and the old start is kept as an RDATE" + (counted if count else "")
