"""The validated calendar: frozen values with no I/O.

Times are already resolved here: a ``datetime`` is always aware (its zone is
the event's ``ZoneInfo`` for local wall-clock times, UTC for instants written
with an offset) and a ``date`` means an all-day event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from calfeed.slugs import slugify
from calfeed.timezones import zone

When = date | datetime


@dataclass(frozen=True)
class Place:
    slug: str
    name: str
    address: str | None = None
    geo: tuple[float, float] | None = None
    url: str | None = None

    def location_text(self) -> str:
        """What LOCATION says: the name, then the address when there is one."""
        return f"{self.name}, {self.address}" if self.address else self.name


@dataclass(frozen=True)
class Organizer:
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Category:
    """A category, equal to any other whose name has the same slug."""

    name: str

    @property
    def slug(self) -> str:
        return slugify(self.name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Category) and other.slug == self.slug

    def __hash__(self) -> int:
        return hash(self.slug)


@dataclass(frozen=True)
class Event:
    """One entry of ``[[events]]``.

    ``end`` is exclusive, as DTEND: for an all-day event it is the day after
    the last day the editor wrote. ``timezone`` is the TZID of local times,
    or None when the times are UTC instants (or dates).
    """

    id: str
    uid: str
    title: str
    start: When
    end: When | None = None
    timezone: str | None = None
    place: Place | None = None
    location: str | None = None
    categories: tuple[Category, ...] = ()
    description: str | None = None
    url: str | None = None
    online: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()
    image: str | None = None
    organizer: Organizer | None = None
    status: str = "confirmed"
    sequence: int = 0
    updated: datetime | None = None

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def location_text(self) -> str | None:
        return self.place.location_text() if self.place else self.location

    def last_day(self, zone) -> date:
        """The last calendar day, in ``zone``, on which the event takes place."""
        if not isinstance(self.start, datetime):
            end = self.end or self.start + timedelta(days=1)
            return end - timedelta(days=1)
        if self.end is None or self.end == self.start:
            return self.start.astimezone(zone).date()
        # An event ending at midnight does not touch the next day.
        return (self.end.astimezone(zone) - timedelta(microseconds=1)).date()


@dataclass(frozen=True)
class Calendar:
    name: str
    base_url: str
    timezone: str
    description: str | None = None
    language: str = "it"
    refresh: timedelta = timedelta(hours=6)
    past_days: int | None = None
    places: tuple[Place, ...] = ()
    events: tuple[Event, ...] = ()
    categories: tuple[Category, ...] = field(default=())

    @property
    def last_modified(self) -> datetime | None:
        """The newest ``updated`` of any event: the calendar's Last-Modified."""
        stamps = [event.updated for event in self.events if event.updated]
        return max(stamps) if stamps else None

    def event(self, event_id: str) -> Event | None:
        return next((e for e in self.events if e.id == event_id), None)

    def place(self, slug: str) -> Place | None:
        return next((p for p in self.places if p.slug == slug), None)

    def category(self, slug: str) -> Category | None:
        return next((c for c in self.categories if c.slug == slug), None)

    def select(
        self,
        categories: frozenset[str] = frozenset(),
        places: frozenset[str] = frozenset(),
        since: date | None = None,
    ) -> tuple[Event, ...]:
        """The events in any of ``categories`` (slugs) and at any of ``places``
        (slugs), whose last day is ``since`` or later; an empty set selects all.
        """
        cal_zone = zone(self.timezone)
        return tuple(
            event
            for event in self.events
            if (not categories or any(c.slug in categories for c in event.categories))
            and (not places or (event.place is not None and event.place.slug in places))
            and (since is None or event.last_day(cal_zone) >= since)
        )
