"""Baseline (a): the script a user writes by hand with tomllib and icalendar.

One ``icalendar.Event`` per entry, ``add_missing_timezones()``, ``to_ical()``,
one feed written. No validation, no filtered feeds, no pages: only the whole
calendar. Usage: ``python naive_icalendar.py events.toml out.ics``.
"""

import sys
import tomllib
from datetime import date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vDuration, vRecur


def main(source: str, target: str) -> None:
    with open(source, "rb") as handle:
        data = tomllib.load(handle)
    info = data["calendar"]
    zone = ZoneInfo(info.get("timezone", "Europe/Rome"))
    host = info["base_url"].split("//", 1)[1].split("/")[0]
    places = data.get("places", {})

    def local(value):
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=zone)
        return value

    calendar = Calendar()
    calendar.add("prodid", "-//naive//benchmark//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", info["name"])
    for entry in data.get("events", []):
        event = Event()
        event.add("uid", f"{entry['id']}@{host}")
        event.add("dtstamp", local(entry.get("updated", datetime(2000, 1, 1))))
        event.add("summary", entry["title"])
        event.add("dtstart", local(entry["start"]))
        if "end" in entry:
            end = entry["end"]
            if isinstance(end, date) and not isinstance(end, datetime):
                end = date.fromordinal(end.toordinal() + 1)  # all-day: DTEND is the day after
            event.add("dtend", local(end))
        elif "duration" in entry:
            event.add("duration", vDuration.from_ical(entry["duration"]))
        if "rrule" in entry:
            event.add("rrule", vRecur.from_ical(entry["rrule"]))
        for moment in entry.get("exdates", []):
            event.add("exdate", local(moment))
        if "place" in entry:
            place = places[entry["place"]]
            event.add("location", ", ".join(filter(None, [place["name"], place.get("address")])))
            if "geo" in place:
                event.add("geo", tuple(place["geo"]))
        elif "location" in entry:
            event.add("location", entry["location"])
        if "description" in entry:
            event.add("description", entry["description"])
        if "categories" in entry:
            event.add("categories", entry["categories"])
        if "url" in entry:
            event.add("url", entry["url"])
        if "organizer" in entry:
            organizer = vCalAddress("mailto:" + entry["organizer"]["email"])
            organizer.params["cn"] = entry["organizer"]["name"]
            event.add("organizer", organizer)
        event.add("status", entry.get("status", "confirmed").upper())
        event.add("sequence", entry.get("sequence", 0))
        if "updated" in entry:
            event.add("last-modified", local(entry["updated"]))
        calendar.add_component(event)
    calendar.add_missing_timezones()
    with open(target, "wb") as handle:
        handle.write(calendar.to_ical())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
