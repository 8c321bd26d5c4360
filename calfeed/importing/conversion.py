"""iCalendar components → the fields of events.toml an editor would have written.

icalendar parses the source (it resolves VTIMEZONEs placed anywhere, Windows
zone names and X-WR-TIMEZONE with x-wr-timezone); this module maps each
component to the fields of events.toml (``timing`` the times, ``details``
the rest), keeps rules as rules, puts changed dates under their series, and
says what it could not carry over. ``tomlfile`` writes the text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import icalendar
import x_wr_timezone

from calfeed import tomlfile
from calfeed.importing.details import details, text_of
from calfeed.importing.report import Report
from calfeed.importing.timing import Timing, dates_of, instant, length_of, rule_text, times_of, zone_for
from calfeed.slugs import slugify
from calfeed.timezones import zone_names
from calfeed.validation import CONTROL_CHARACTERS


def standard(calendar: icalendar.Calendar, report: Report) -> icalendar.Calendar:
    """The calendar with X-WR-TIMEZONE applied, after noting the TZIDs that
    no zone answers to (their times are read in the calendar's zone)."""
    for component in calendar.walk("VEVENT"):
        prop = component.get("DTSTART")
        tzid = prop.params.get("TZID") if prop is not None else None
        if tzid and isinstance(prop.dt, datetime) and prop.dt.tzinfo is None:
            summary = str(component.get("SUMMARY", "?"))[:50]
            report.notes.append(f'"{summary}": time zone {tzid!r} is unknown; its times were read in the calendar\'s zone')
    try:
        return x_wr_timezone.to_standard(calendar)
    except Exception:
        return calendar


@dataclass
class Imported:
    """One event as events.toml will hold it (an ordered dict of fields)."""

    fields: dict[str, Any]
    overrides: list[dict[str, Any]] = field(default_factory=list)
    sort_key: tuple = ()


@dataclass
class Conversion:
    """One source being converted: the report, the places made, and the
    events so far, kept apart until ``finish`` puts changed dates under
    their series."""

    timing: Timing
    report: Report
    places: dict[str, dict[str, Any]] = field(default_factory=dict)  # slug → fields
    place_of: dict[str, str] = field(default_factory=dict)  # LOCATION text → slug
    masters: dict[str, Imported] = field(default_factory=dict)  # by UID
    changes: dict[str, list[tuple[date | datetime, dict[str, Any]]]] = field(default_factory=dict)  # by the series' UID
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
        title = (text_of(component, "SUMMARY", report, f"{where}an event") or "Senza titolo").replace("\n", " ")
        label = f'{where}"{title[:50]}"' + (f" ({uid})" if uid else "")
        if "DTSTART" not in component:
            report.notes.append(f"{label}: no DTSTART; left out")
            return
        start = component.decoded("DTSTART")
        zone_name = zone_for(component, timing)
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
        if "RECURRENCE-ID" in component and uid:
            original = component.decoded("RECURRENCE-ID")
            self.changes.setdefault(uid, []).append((timing.value(original, zone_name), fields))
            return
        rule = rule_text(component, start, zone_name, report, label)
        if rule:
            fields["rrule"] = rule
            if isinstance(fields["start"], datetime) and fields["start"].tzinfo is not None:
                fields["start"] = fields["start"].replace(tzinfo=None)  # a series is wall-clock
        for key, name in (("rdates", "RDATE"), ("exdates", "EXDATE")):
            values = [timing.value(v, zone_name) for v in dates_of(component, name)]
            values = [v.replace(tzinfo=None) if isinstance(v, datetime) and v.tzinfo is not None and isinstance(fields["start"], datetime) and fields["start"].tzinfo is None else v for v in values]
            if values:
                fields[key] = values
        if uid:
            fields["uid"] = uid
        item = Imported(fields, sort_key=(instant(start, zone_name), title))
        if uid and uid in self.masters:
            report.notes.append(f"{label}: a second event with UID {uid}; imported as a separate event with a new UID")
            fields.pop("uid")
            self.loose.append(item)
        elif uid:
            self.masters[uid] = item
        else:
            report.notes.append(f"{label}: no UID in the source; calfeed gives it one")
            self.loose.append(item)

    def finish(self) -> list[Imported]:
        """The events, changed dates under their series, in time order."""
        for uid, items in self.changes.items():
            master = self.masters.get(uid)
            if master is None:
                self.report.notes.append(f"changed date(s) of {uid} left out: the series itself is not in the source")
                continue
            length = length_of(master.fields)
            for original, fields in sorted(items, key=lambda pair: str(pair[0])):
                override = {"recurrence_id": original}
                start = fields.get("start", original)
                if length is not None and fields.get("end") is not None and start + length == fields["end"]:
                    fields.pop("end")  # the same length as the series: implied
                for key, value in fields.items():
                    if key in ("timezone",) or master.fields.get(key) == value:
                        continue
                    if key in ("start", "end", "duration", "title", "description", "status", "place", "location", "categories", "url", "online", "attachments", "image", "organizer", "sequence", "updated"):
                        override[key] = value
                if override.get("start") == original:
                    override.pop("start")
                master.overrides.append(override)
        return sorted([*self.masters.values(), *self.loose], key=lambda item: item.sort_key)


def convert(
    calendar: icalendar.Calendar, target: str, report: Report, lines: list[int] | None = None
) -> tuple[list[Imported], dict[str, dict[str, Any]]]:
    """Every event of the source, grouped with its changed dates, and the
    places; ``lines`` are where each VEVENT begins, for the report."""
    conversion = Conversion(Timing(target), report)
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
