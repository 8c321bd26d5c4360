"""Links into calendar clients: subscribe to a feed, or add one occurrence."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from calfeed.ical import utc_value
from calfeed.model import Calendar
from calfeed.occurrences import Occurrence, end_of
from calfeed.timezones import UTC

# What urllib's quote_plus leaves as it is (a space becomes "+"); any other byte is %XX.
_UNSAFE = re.compile(rb"[^A-Za-z0-9_.~ -]")
_PERCENT = {bytes([byte]): b"%%%02X" % byte for byte in range(256)}


def urlencode(query: dict[str, str]) -> str:
    """A query string, the same as ``urllib.parse.urlencode(query)`` but
    quicker: urllib quotes byte by byte in Python, and an event's description
    goes into two links on its page, which made quoting its slowest part.

    >>> urlencode({"text": "Città aperta & co.", "x": "a/b~ 100%"})
    'text=Citt%C3%A0+aperta+%26+co.&x=a%2Fb~+100%25'
    """
    return "&".join(f"{_quote_plus(key)}={_quote_plus(value)}" for key, value in query.items())


@lru_cache(maxsize=256)  # an event page quotes its description twice (Google's link, Outlook's)
def _quote_plus(text: str) -> str:
    # One replace for each kind of byte to escape, "%" first: the escapes
    # themselves are made of "%", digits and capitals.
    data = text.encode()
    unsafe = set(_UNSAFE.findall(data))
    if b"%" in unsafe:
        unsafe.remove(b"%")
        data = data.replace(b"%", b"%25")
    for byte in unsafe:
        data = data.replace(byte, _PERCENT[byte])
    return data.replace(b" ", b"+").decode("ascii")


def subscribe_links(calendar: Calendar, path: str, name: str) -> dict[str, str]:
    """Every way to subscribe to the feed at ``path``.

    >>> from calfeed.model import Calendar
    >>> links = subscribe_links(Calendar("Eventi", "https://e.example.org", "Europe/Rome"), "/calendar.ics", "Eventi")
    >>> links["webcal"], links["google"]
    ('webcal://e.example.org/calendar.ics', 'https://calendar.google.com/calendar/render?cid=webcal%3A%2F%2Fe.example.org%2Fcalendar.ics')
    """
    url = calendar.base_url + path
    webcal = "webcal://" + url.split("://", 1)[1]
    add_from_web = urlencode({"url": url, "name": name})
    return {
        "url": url,
        "webcal": webcal,
        "google": "https://calendar.google.com/calendar/render?" + urlencode({"cid": webcal}),
        "outlook": "https://outlook.live.com/calendar/0/addfromweb?" + add_from_web,
        "office": "https://outlook.office.com/calendar/0/addfromweb?" + add_from_web,
    }


# Outlook's times: ISO 8601 in UTC, the fields formatted by hand (three
# times as fast as strftime; two links a page).
_OUTLOOK = "%04d-%02d-%02dT%02d:%02d:%02dZ"


def _outlook_time(moment: datetime) -> str:
    """
    >>> from calfeed.timezones import zone
    >>> _outlook_time(datetime(2021, 12, 1, 18, tzinfo=zone("Europe/Rome")))
    '2021-12-01T17:00:00Z'
    """
    moment = moment.astimezone(UTC)
    return _OUTLOOK % (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def _google_dates(occurrence: Occurrence) -> str:
    start, end = occurrence.start, end_of(occurrence)
    if not isinstance(start, datetime):
        return f"{start:%Y%m%d}/{end:%Y%m%d}"
    return f"{utc_value(start)}/{utc_value(end)}"


def google_event_link(occurrence: Occurrence, calendar: Calendar, page_url: str) -> str:
    """Google Calendar's "add event" page for one occurrence."""
    event = occurrence.event
    details = "\n\n".join(part for part in (event.description and event.description.strip(), page_url) if part)
    query = {"action": "TEMPLATE", "text": event.title, "dates": _google_dates(occurrence), "details": details}
    if event.location_text:
        query["location"] = event.location_text
    query["ctz"] = calendar.timezone
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


def outlook_event_link(occurrence: Occurrence, page_url: str) -> str:
    """Outlook.com's "new event" page for one occurrence."""
    event = occurrence.event
    start, end = occurrence.start, end_of(occurrence)
    query = {"path": "/calendar/action/compose", "rru": "addevent", "subject": event.title}
    if isinstance(start, datetime):
        query["startdt"] = _outlook_time(start)
        query["enddt"] = _outlook_time(end)
    else:
        query["startdt"] = start.isoformat()
        query["enddt"] = end.isoformat()
        query["allday"] = "true"
    query["body"] = "\n\n".join(part for part in (event.description and event.description.strip(), page_url) if part)
    if event.location_text:
        query["location"] = event.location_text
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(query)


def map_link(latitude: float, longitude: float) -> str:
    return f"https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}#map=17/{latitude}/{longitude}"


def page_url(calendar: Calendar, event_id: str) -> str:
    return f"{calendar.base_url}/events/{event_id}"


def ics_url(calendar: Calendar, event_id: str) -> str:
    return f"{calendar.base_url}/events/{event_id}.ics"
