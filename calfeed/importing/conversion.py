"""iCalendar components → the fields of events.toml an editor would have written.

icalendar parses the source (it resolves VTIMEZONEs placed anywhere, Windows
zone names and X-WR-TIMEZONE with x-wr-timezone); this module maps each
component to the fields of events.toml (``timing`` the times, ``details``
the rest), keeps rules as rules, puts changed dates under their series, and
says what it could not carry over. ``tomlfile`` writes the text.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import islice, takewhile
from typing import Any

import icalendar
import x_wr_timezone

from calfeed import tomlfile
from calfeed.importing.details import details, text_of
from calfeed.importing.report import Report
from calfeed.importing.timing import (
    Timing, dates_of, file_zone, instant, is_bounded, length_of, like_start, period_ends, rule_dates, rule_texts, times_of,
    wall_day, zone_for,
)
from calfeed.occurrences import naive
from calfeed.slugs import slugify
from calfeed.timezones import UTC, zone, zone_names
from calfeed.validation import CONTROL_CHARACTERS


def standard(calendar: icalendar.Calendar, report: Report) -> icalendar.Calendar:
    """The calendar with X-WR-TIMEZONE applied, after noting the TZIDs that
    no zone answers to (their times are read in the calendar's zone)."""
    for component in calendar.walk("VEVENT"):
        prop = component.get("DTSTART")
        prop = prop[0] if isinstance(prop, list) else prop  # given twice: ``Conversion.add`` keeps the first
        tzid = prop.params.get("TZID") if prop is not None else None
        if tzid and isinstance(prop.dt, datetime) and prop.dt.tzinfo is None:
            summary = str(component.get("SUMMARY", "?"))[:50]
            report.notes.append(f'"{summary}": time zone {tzid!r} is unknown; its times were read in the calendar\'s zone')
    try:
        calendar = x_wr_timezone.to_standard(calendar)
    except Exception:
        pass
    _with_file_rules(calendar)
    return calendar


def _with_file_rules(calendar: icalendar.Calendar) -> None:
    """Times read by the file's own VTIMEZONE of their TZID, as RFC 5545 says.
    icalendar reads an IANA name by the tz database instead, and any other
    TZID by the first VTIMEZONE of that name it met in the process (it keeps
    them by name): a second file whose "W. Europe Standard Time" or "Ufficio"
    has other rules would be read by the first one's. An old export's rules
    are what its author's calendar showed; where they agree with the tz
    database nothing changes (``keep_instants``)."""
    rules = {}
    for vtimezone in calendar.walk("VTIMEZONE"):
        tzid = str(vtimezone.get("TZID", ""))
        try:
            rules[tzid] = vtimezone.to_tz(lookup_tzid=False)
        except Exception:  # rules icalendar cannot read: its own reading stays
            continue
    if not rules:
        return
    for component in calendar.walk("VEVENT"):
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE"):
            values = component.get(name)
            for value in values if isinstance(values, list) else [values] if values is not None else []:
                own = rules.get(value.params.get("TZID", ""))
                for item in value.dts if hasattr(value, "dts") else [value]:
                    if own is not None and isinstance(item.dt, datetime) and item.dt.tzinfo is not None and item.dt.tzinfo is not UTC:
                        item.dt = item.dt.replace(tzinfo=own)


# The title of an event the source gives none, in the calendar's language.
UNTITLED = {"it": "(senza titolo)", "en": "(untitled)"}
# A further RRULE with an end and at most this many dates becomes rdates of its
# event (one UID for subscribers); longer or endless ones become events of their own.
MAX_RULE_RDATES = 100
# A series in a zone the file defines is compared with its IANA zone on its
# dates of this many years from its start (at most MAX_CHECKED_DATES dates).
MAX_CHECKED_YEARS = 10
MAX_CHECKED_DATES = 5000
_CHANGEABLE = ("start", "end", "duration", "title", "description", "status", "place", "location", "categories", "url",
               "online", "attachments", "image", "organizer", "sequence", "updated")


@dataclass
class Imported:
    """One event as events.toml will hold it (an ordered dict of fields)."""

    fields: dict[str, Any]
    overrides: list[dict[str, Any]] = field(default_factory=list)
    sort_key: tuple = ()
    where: str = ""  # "line N: " of its VEVENT in the source, for the report
    rules: list = field(default_factory=list)  # dateutil rules of its dates, to place changed dates
    clock: Any = None  # the zone the file defines, whose wall clock its dates are written in
    clock_name: str = ""  # that zone's TZID


@dataclass
class Conversion:
    """One source being converted: the report, the places made, and the
    events so far, kept apart until ``finish`` puts changed dates under
    their series."""

    timing: Timing
    report: Report
    language: str = "it"
    places: dict[str, dict[str, Any]] = field(default_factory=dict)  # slug → fields
    place_of: dict[str, str] = field(default_factory=dict)  # LOCATION text → slug
    masters: dict[str, Imported] = field(default_factory=dict)  # by UID
    extras: dict[str, list[Imported]] = field(default_factory=dict)  # further RRULEs of a series, by its UID
    # By the series' UID: (the date changed, read in its own zone; the VEVENT; its fields; the report's label).
    changes: dict[str, list[tuple[date | datetime, Any, dict[str, Any], str]]] = field(default_factory=dict)
    loose: list[Imported] = field(default_factory=list)  # no UID, or one already taken

    def make_places(self, components: list) -> None:
        """A place for each LOCATION used twice, or given with coordinates (GEO needs a place)."""
        locations = Counter(str(e.get("LOCATION")).strip() for e in components if e.get("LOCATION"))
        with_geo = {str(e.get("LOCATION")).strip() for e in components if e.get("LOCATION") and e.get("GEO")}
        for text, count in sorted(locations.items()):
            if (count >= 2 or text in with_geo) and slugify(text):
                slug = slugify(text.split(",")[0])[:60].strip("-") or "luogo"
                while slug in self.places:
                    slug += "-2"
                name, _, address = text.partition(", ")
                self.places[slug] = {"name": name.strip(), **({"address": address.strip()} if address.strip() else {})}
                self.place_of[text] = slug

    def add(self, component, where: str = "") -> None:
        """Convert one VEVENT into ``masters``, ``changes`` or ``loose``."""
        report, timing = self.report, self.timing
        uid = str(component.get("UID", "")).strip() or None
        written_title = text_of(component, "SUMMARY", report, f"{where}an event") or ""
        title = written_title.replace("\n", " ")
        untitled = not title
        title = title or UNTITLED.get(self.language, UNTITLED["en"])
        label = f'{where}"{title[:50]}"' + (f" ({uid})" if uid else "")
        if not untitled and title != written_title:
            report.notes.append(f"{label}: the title (SUMMARY) has line breaks; written on one line")
        for name in ("DTSTART", "DTEND"):
            if isinstance(component.get(name), list):  # a property given twice: which one is meant is unknown
                component[name] = component[name][0]
                report.notes.append(f"{label}: {name} given twice; the first ({component.decoded(name).isoformat()}) was kept: check its times")
        if "DTSTART" not in component:
            report.notes.append(f"{label}: no DTSTART; left out")
            return
        start = component.decoded("DTSTART")
        if untitled:
            day = start.date() if isinstance(start, datetime) else start
            report.notes.append(f'{label}: no title (SUMMARY) in the source; kept on {day.isoformat()} with the title "{title}": give it one')
        zone_name = zone_for(component, timing, report, label)
        fields: dict[str, Any] = {"title": title}
        if zone_name != timing.target:
            fields["timezone"] = zone_name
        fields.update(times_of(component, timing, zone_name, label, report))
        location = str(component.get("LOCATION", "")).strip()
        if location in self.place_of:
            place = self.places[self.place_of[location]]
            fields["place"] = self.place_of[location]
            geo = component.get("GEO")
            if geo is not None and "geo" not in place:
                place["geo"] = [geo.latitude, geo.longitude]
        elif location:
            fields["location"] = CONTROL_CHARACTERS.sub("", location)
        fields.update(details(component, label, report))
        tzid = component["DTSTART"].params.get("TZID", "")
        if "RECURRENCE-ID" in component and uid:
            original = component.decoded("RECURRENCE-ID")
            # In a zone the file defines, the series is kept on that zone's wall clock (see ``keep_instants``).
            clock = file_zone(original)
            value = original.astimezone(clock).replace(tzinfo=None) if clock else timing.value(original, zone_name)
            self.changes.setdefault(uid, []).append((value, component, fields, label))
            return
        clock = file_zone(start) if "RRULE" in component else None
        if clock is not None:  # the series keeps the file's wall clock; ``keep_instants`` mends the dates that differ
            fields["start"] = start.replace(tzinfo=None)
            if isinstance(fields.get("end"), datetime):
                fields["end"] = component.decoded("DTEND").astimezone(clock).replace(tzinfo=None)
        else:
            _note_other_clock(report, label, start, tzid, zone_name)
        texts = rule_texts(component, start, zone_name, report, label, clock)
        if texts:
            fields["rrule"] = texts[0]
            if isinstance(fields["start"], datetime) and fields["start"].tzinfo is not None:
                fields["start"] = fields["start"].replace(tzinfo=None)  # a series is wall-clock
        rules = [rule_dates(text, fields["start"]) for text in texts]
        ends, periods = period_ends(component), []

        def read(written: date | datetime) -> date | datetime:
            """A time of this event, on the wall clock it is kept on (in an all-day series, the day it names)."""
            if not isinstance(fields["start"], datetime) and isinstance(written, datetime):
                return wall_day(written, zone_name)
            return written.astimezone(clock).replace(tzinfo=None) if clock and isinstance(written, datetime) and written.tzinfo else timing.value(written, zone_name)

        for key, name in (("rdates", "RDATE"), ("exdates", "EXDATE")):
            values = []
            for written in dates_of(component, name):
                found = like_start(read(written), fields["start"], rules)
                if isinstance(written, datetime) != isinstance(fields["start"], datetime):
                    _note_form(report, label, name, written, fields["start"], found)
                elif name == "RDATE" and written in ends and ends[written] - written != _length(component, start):
                    periods.append({"recurrence_id": found[0], "end": read(ends[written])})
                    report.notes.append(f"{label}: RDATE {written.isoformat()}/{ends[written].isoformat()} is a period of another length "
                                        "than the event's; carried as a changed date with that end")
                values += found
            if values:
                fields[key] = list(dict.fromkeys(values))
        if uid:
            fields["uid"] = uid
        item = Imported(fields, periods, sort_key=(instant(start, zone_name), title), where=where, rules=rules[:1], clock=clock, clock_name=tzid)
        extras = self.further_rules(item, texts, rules, label)
        if uid and uid in self.masters:
            report.notes.append(f"{label}: a second event with UID {uid}; imported as a separate event with a new UID")
            fields.pop("uid")
            for extra in extras:
                extra.fields.pop("uid")
            self.loose += [item, *extras]
        elif uid:
            self.masters[uid] = item
            self.extras[uid] = extras
        else:
            report.notes.append(f"{label}: no UID in the source; calfeed gives it one")
            self.loose += [item, *extras]

    def further_rules(self, item: Imported, texts: list[str], rules: list, label: str) -> list[Imported]:
        """The second and later RRULEs (RFC 2445 allowed several; events.toml
        has one): a short one with an end as rdates of the event, any other as
        an event of its own, with the same fields and the UID ``<uid>-rrule<N>``,
        that takes the source's exdates and changed dates falling on its dates."""
        fields = item.fields
        first = naive(fields["start"])
        all_day = not isinstance(fields["start"], datetime)
        extras = []

        def short(text: str, rule) -> bool:
            return is_bounded(text) and len(list(islice(rule, MAX_RULE_RDATES + 1))) <= MAX_RULE_RDATES

        further, removed = list(enumerate(zip(texts[1:], rules[1:]), start=2)), set()
        # The rdates first: the events of the other rules leave out every date already given.
        for number, (text, rule) in sorted(further, key=lambda entry: not short(*entry[1])):
            counted = ("; its COUNT includes DTSTART, which is off this rule, as RFC 5545 counts it (some apps count it apart "
                       "and show one date more): check the last date") if "COUNT=" in text and next(iter(rule), None) != first else ""
            if short(text, rule):
                dates = list(rule)
                taken = {naive(d) for d in fields.get("rdates", [])}
                added = [d for d in dates if d != first and d not in taken | removed and not any(d in r for r in rules[:1])]
                excluded = {naive(d) for d in fields.get("exdates", [])} & set(added)
                removed |= excluded  # also when a later rule gives them
                if excluded:  # removed dates of this rule: simply not added
                    added = [d for d in added if d not in excluded]
                    fields["exdates"] = [d for d in fields["exdates"] if naive(d) not in excluded]
                    if not fields["exdates"]:
                        del fields["exdates"]
                fields["rdates"] = [*fields.get("rdates", []), *(d.date() if all_day else d for d in added)]
                if not fields["rdates"]:
                    del fields["rdates"]
                self.report.notes.append(
                    f"{label}: RRULE #{number} ({text}) carried as {len(added)} rdates of the same event{counted}")
                continue
            following = next((d for d in islice(rule, 2) if d != first), None)
            if following is None:
                continue
            extra = Imported(dict(fields), sort_key=item.sort_key, where=item.where, rules=[rule], clock=item.clock, clock_name=item.clock_name)
            extra.fields["rrule"] = _counted_from(text)
            extra.fields["start"] = following.date() if all_day else following
            if isinstance(fields.get("end"), (date, datetime)):
                extra.fields["end"] = fields["end"] + (following - first)
            extra.fields.pop("rdates", None)
            # Dates both rules give stay once, in the first event (RFC 5545 counts them once).
            horizon = list(islice(rule, 1000))
            shared = {first, *(naive(d) for d in fields.get("rdates", []))}
            for earlier in [rules[0], *(e.rules[0] for e in extras)]:
                shared |= set(earlier.between(first, horizon[-1], inc=True))
            own = {naive(d) for d in fields.get("exdates", []) if naive(d) in rule} | {d for d in removed if d in rule}
            exdates = sorted({*own, *(d for d in horizon if d in shared and d != first)})
            if exdates:
                extra.fields["exdates"] = [d.date() if all_day else d for d in exdates]
            else:
                extra.fields.pop("exdates", None)
            if "exdates" in fields:
                mine = [d for d in fields["exdates"] if naive(d) in rules[0] or naive(d) not in rule]
                fields["exdates"] = mine
                if not mine:
                    del fields["exdates"]
            if "uid" in fields:
                extra.fields["uid"] = f'{fields["uid"]}-rrule{number}'
            self.report.notes.append(
                f"{label}: RRULE #{number} ({text}) has no end or over {MAX_RULE_RDATES} dates; carried as a second event"
                + (f' with UID {extra.fields["uid"]}' if "uid" in extra.fields else "") + f" and the same fields{counted}")
            extras.append(extra)
        return extras

    def finish(self) -> list[Imported]:
        """The events, changed dates under their series, in time order."""
        orphans = []
        for uid, items in self.changes.items():
            master = self.masters.get(uid)
            if master is None:
                orphans += [self.one_off(original, fields, label) for original, _, fields, label in items]
                continue
            for original, component, fields, label in sorted(items, key=lambda entry: str(entry[0])):
                self.change(master, original, component, fields, label)
        extras = [extra for found in self.extras.values() for extra in found]
        for item in [*self.masters.values(), *extras, *self.loose]:
            if item.clock is not None:
                self.keep_instants(item)
        return sorted([*self.masters.values(), *extras, *self.loose, *orphans], key=lambda item: item.sort_key)

    def keep_instants(self, item: Imported) -> None:
        """A series written in a zone the file defines is kept on that zone's
        wall clock in the IANA zone its name maps to (the calendar's for a
        custom TZID); on each date where the two disagree (other DST rules, old
        rules) that date becomes a changed date at the file's instant."""
        fields = item.fields
        name = fields.get("timezone", self.timing.target)
        first = fields["start"]
        horizon = first + timedelta(days=365 * MAX_CHECKED_YEARS)
        checked = list(islice(takewhile(lambda d: d <= horizon, item.rules[0].xafter(first, inc=True)), MAX_CHECKED_DATES))
        removed = {naive(d) for d in fields.get("exdates", [])}
        dates = {first, *checked} | {d for d in fields.get("rdates", []) if isinstance(d, datetime) and d.tzinfo is None}
        dates -= removed
        dates -= {naive(o["recurrence_id"]) for o in item.overrides}  # a changed date has its own instant
        moved = sorted(d for d in dates if _disagree(d, item.clock, zone(name)))
        for day in moved:
            item.overrides.append({"recurrence_id": day, "start": self.timing.value(day.replace(tzinfo=item.clock), name)})
        if not moved:
            return
        label = f'{item.where}"{fields["title"][:50]}"' + (f' ({fields["uid"]})' if "uid" in fields else "")
        shown = ", ".join(d.isoformat(timespec="minutes") for d in moved[:3]) + (", ..." if len(moved) > 3 else "")
        self.report.notes.append(
            f'{label}: time zone "{item.clock_name}" as the file defines it differs from the tz database\'s {name} on {len(moved)} dates '
            f"({shown}); the series follows {name}'s clock and those dates were written as changed dates at the file's times"
            + self.unchecked(item, checked[-1] if checked else first, removed, name))

    def unchecked(self, item: Imported, last: datetime, removed: set, name: str) -> str:
        """What the report says of the dates after those compared (an endless
        or long series): from which date on they follow the IANA zone's clock,
        the first of them the file shows at another time, and what to do."""
        later = item.rules[0].after(last)
        if later is None:
            return ""
        ahead = (d for d in islice(item.rules[0].xafter(later, inc=True), MAX_CHECKED_DATES) if d not in removed)
        off = next((d for d in ahead if _disagree(d, item.clock, zone(name))), None)
        told = (f"; its dates from {later.isoformat(timespec='minutes')} on (after {MAX_CHECKED_YEARS} years or {MAX_CHECKED_DATES} "
                f"dates) were not compared and follow {name}'s clock")
        if off is None:
            return told + f", and none of the next {MAX_CHECKED_DATES} differs from the file's"
        at_file = self.timing.value(off.replace(tzinfo=item.clock), name)
        return (told + f"; the first one off is {off.isoformat(timespec='minutes')}, which the file puts at "
                f"{at_file.isoformat(timespec='minutes')} on that clock: add such dates as [[events.overrides]] at the file's "
                "times, or end the series before it")


    def one_off(self, original: date | datetime, fields: dict[str, Any], label: str) -> Imported:
        """A changed date whose series is not in the source: an event of its own."""
        shown = original.isoformat() if isinstance(original, date) else str(original)
        self.report.notes.append(
            f"{label}: a changed date (RECURRENCE-ID {shown}) of a series not in the source; imported as a one-off event")
        return Imported(fields, sort_key=(instant(fields["start"], self.timing.target), fields["title"]))

    def change(self, master: Imported, original: date | datetime, component, fields: dict[str, Any], label: str) -> None:
        """Put one changed date under its series (or the event of the series'
        further RRULE that has that date), its times read on the series' clock."""
        read = original  # in its own zone, as the report shows it
        written = component.decoded("RECURRENCE-ID")
        timed = isinstance(master.fields["start"], datetime)
        if not timed and isinstance(written, datetime):
            original = wall_day(written, self.timing.target)
        name = master.fields.get("timezone", self.timing.target)
        if timed and isinstance(written, datetime) and written.tzinfo is not None:
            original = written.astimezone(master.clock).replace(tzinfo=None) if master.clock else self.timing.value(written, name)
        if timed and isinstance(component.decoded("DTSTART"), datetime):  # its new times, on the same clock
            for key in ("start", "end", "duration"):
                fields.pop(key, None)
            fields.update(times_of(component, self.timing, name, label, Report()))
        (original,) = like_start(original, master.fields["start"], master.rules)[:1]
        if isinstance(written, datetime) != isinstance(master.fields["start"], datetime):
            _note_form(self.report, label, "RECURRENCE-ID", read, master.fields["start"], [original])
        candidates = [master, *self.extras.get(str(master.fields.get("uid")), [])]
        given = {naive(master.fields["start"]), *(naive(d) for d in master.fields.get("rdates", []))}  # DTSTART, short rules' dates
        mine = naive(original) in given or any(naive(original) in r for r in master.rules)
        owner = next((c for c in candidates[1:] if not mine and naive(original) in c.rules[0]), master)
        length = length_of(owner.fields)
        override = {"recurrence_id": original}
        start = fields.get("start", original)
        lasts = "end" in fields  # else one day (or an instant), whatever the series' length
        if length is not None and fields.get("end") is not None and type(start) is type(fields["end"]):
            if start + length == fields["end"]:
                fields.pop("end")  # the same length as the series: implied
        if not isinstance(start, datetime) and not lasts and (isinstance(owner.fields["start"], datetime) or "end" in owner.fields):
            fields["end"] = start  # an all-day changed date without DTEND lasts one day, not the series' hours or days
        for key, value in fields.items():
            if key in _CHANGEABLE and owner.fields.get(key) != value:
                override[key] = value
        # The changed date replaces the occurrence whole (RFC 5545): what it lacks is not the series'.
        if "status" in owner.fields and "status" not in fields:
            override["status"] = "confirmed"
        if override.get("start") == original:
            override.pop("start")
        owner.overrides.append(override)


def _length(component, start: date | datetime) -> timedelta:
    """How long the event lasts as written (DTEND or DURATION; none: an instant)."""
    if "DTEND" in component:
        return component.decoded("DTEND") - start
    return component.decoded("DURATION") if "DURATION" in component else timedelta(0)


def _disagree(moment: datetime, clock, other) -> bool:
    """Whether two zones give a wall-clock time different instants. A time
    that the clock skips in both is judged by the hours around it (libraries
    place a skipped time each their own way)."""
    def real(zone_info) -> bool:
        placed = moment.replace(tzinfo=zone_info)
        return placed.astimezone(UTC).astimezone(zone_info).replace(tzinfo=None) == moment

    if moment.replace(tzinfo=clock).utcoffset() == moment.replace(tzinfo=other).utcoffset():
        return False
    if real(clock) or real(other):
        return True
    hours = timedelta(hours=3)
    return any((moment + step).replace(tzinfo=clock).utcoffset() != (moment + step).replace(tzinfo=other).utcoffset() for step in (-hours, hours))


def _note_other_clock(report: Report, label: str, start: date | datetime, tzid: str, zone_name: str) -> None:
    """Say when a one-off event's time, in a zone the file defines, reads
    otherwise on the clock of the zone it is kept in (its instant is kept)."""
    clock = file_zone(start)
    if clock is None:
        return
    kept = start.astimezone(zone(zone_name))
    if kept.utcoffset() != start.utcoffset():
        report.notes.append(
            f'{label}: {start.replace(tzinfo=None).isoformat(timespec="minutes")} in time zone "{tzid}" as the file defines it '
            f'is {kept.replace(tzinfo=None).isoformat(timespec="minutes")} in the tz database\'s {zone_name}; the instant was kept')


def _note_form(report: Report, label: str, name: str, written: date | datetime, start: date | datetime, found: list) -> None:
    """Say that a date of a series was written in another form than its start, and how it was read."""
    kind = "an all-day" if not isinstance(start, datetime) else "a timed"
    what = "a date-time" if isinstance(written, datetime) else "a date"
    read = ", ".join(value.isoformat() for value in found)
    report.notes.append(f"{label}: {name} {written.isoformat()} is {what} in {kind} series; read as {read}")


def _counted_from(text: str) -> str:
    """A further rule as an event of its own, which starts at the rule's
    first date other than DTSTART: its COUNT, which includes DTSTART (RFC
    5545, also when DTSTART is off the rule), is one less."""
    count = re.search(r"COUNT=(\d+)", text)
    if count:
        return text.replace(count.group(0), f"COUNT={int(count.group(1)) - 1}")
    return text


def convert(
    calendar: icalendar.Calendar, target: str, report: Report, lines: list[int] | None = None, language: str = "it"
) -> tuple[list[Imported], dict[str, dict[str, Any]]]:
    """Every event of the source, grouped with its changed dates, and the
    places; ``lines`` are where each VEVENT begins, for the report."""
    conversion = Conversion(Timing(target), report, language)
    components = calendar.walk("VEVENT")
    conversion.make_places(components)
    for position, component in enumerate(components):
        where = f"line {lines[position]}: " if lines and position < len(lines) else ""
        try:
            conversion.add(component, where)
        except Exception as error:  # one unreadable event must not sink the others
            summary = str(component.get("SUMMARY", "?"))[:50]
            report.notes.append(f'{where}"{summary}": left out, it cannot be read ({type(error).__name__}: {str(error)[:120]})')
    return conversion.finish(), conversion.places


def target_zone(calendar: icalendar.Calendar, chosen: str | None) -> str:
    """The calendar's zone: --timezone, else the source's X-WR-TIMEZONE, else Europe/Rome."""
    if chosen:
        return chosen
    named = str(calendar.get("X-WR-TIMEZONE", "")).strip()
    return named if named in zone_names() else "Europe/Rome"


def _unescape(text: str) -> str:
    """TEXT escapes, which icalendar leaves in X- properties such as X-WR-CALDESC."""
    return text.replace("\\n", "\n").replace("\\N", "\n").replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\")


def header(calendar: icalendar.Calendar, target: str, base_url: str | None, report: Report) -> str:
    """The [calendar] table of a new file, from the source's name and description."""
    name = _unescape(str(calendar.get("X-WR-CALNAME") or calendar.get("NAME") or "Calendario importato")).strip()
    description = _unescape(str(calendar.get("X-WR-CALDESC") or calendar.get("DESCRIPTION") or "")).strip()
    fields: dict[str, Any] = {"name": name.replace("\n", " ")}
    if description:
        fields["description"] = CONTROL_CHARACTERS.sub("", description)
    fields["timezone"] = target
    fields["base_url"] = base_url or "https://calendario.example.org"
    if not base_url:
        report.notes.append("base_url is a placeholder: set it to your site's address (or CALFEED_BASE_URL)")
    return "\n".join(["# Imported with `calfeed import`; edit freely.", "[calendar]", *tomlfile.table(fields, tomlfile.CALENDAR_ORDER)]) + "\n"
