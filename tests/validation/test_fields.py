"""Values repeated across events are held once (every worker holds the whole
calendar), and sharing never changes what an event says."""

from __future__ import annotations

from calfeed import ical
from calfeed.validation import load_calendar


def test_equal_values_are_shared_and_each_event_keeps_its_own(write_events):
    path = write_events(
        """
        [[events]]
        id = "a"
        title = "Concerto"
        description = "Ingresso libero"
        start = 2022-06-01T10:00:00
        categories = ["Musica"]
        organizer = { name = "Pro Loco", email = "info@example.org" }

        [[events]]
        id = "b"
        title = "Concerto"
        description = "Ingresso libero"
        start = 2022-06-01T08:00:00Z
        categories = ["musica"]
        organizer = { name = "Pro Loco", email = "info@example.org" }

        [[events]]
        id = "c"
        title = "Concerto"
        start = 2022-06-01T10:00:00
        categories = ["Musica"]
        """
    )
    a, b, c = sorted(load_calendar(path).events, key=lambda e: e.id)
    assert a.title is b.title is c.title and a.description is b.description
    assert a.organizer is b.organizer and a.categories is c.categories and a.start is c.start
    # The same instant in another zone, and a category equal by slug, stay as written.
    assert b.start is not a.start and b.categories is not a.categories
    text = b"".join(ical.vevent(e, ical.DEFAULT_STAMP) for e in (a, b)).decode()
    assert "DTSTART;TZID=Europe/Rome:20220601T100000" in text and "DTSTART:20220601T080000Z" in text
    assert "CATEGORIES:Musica\r\n" in text and "CATEGORIES:musica\r\n" in text
