"""The validated calendar: frozen values with no I/O.

Times are already resolved here: a ``datetime`` is always aware (its zone is
the event's ``ZoneInfo`` for local wall-clock times, UTC for instants written
with an offset) and a ``date`` means an all-day event. The classes are
slotted: every worker holds a whole calendar, 10,000 events and more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from operator import attrgetter

from calfeed.rrules import Rule
from calfeed.slugs import slugify

When = date | datetime


@dataclass(frozen=True, slots=True)
class Place:
    slug: str
    name: str
    address: str | None = None
    geo: tuple[float, float] | None = None
    url: str | None = None

    def location_text(self) -> str:
        """What LOCATION says: the name, then the address when there is one."""
        return f"{self.name}, {self.address}" if self.address else self.name


@dataclass(frozen=True, slots=True)
class Organizer:
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Category:
    """A category, equal to any other whose name has the same slug."""

    name: str
    slug: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "slug", slugify(self.name))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Category) and other.slug == self.slug

    def __hash__(self) -> int:
        return hash(self.slug)


@dataclass(frozen=True, slots=True)
class Recurrence:
    """How an event repeats. ``until`` is a UTC instant for a timed series
    (RFC 5545 wants it so when DTSTART has a TZID) and a date for an all-day
    one; exdates and rdates are of the same kind as the event's start."""

    rule: Rule | None = None
    until: date | datetime | None = None
    exdates: tuple[date | datetime, ...] = ()
    rdates: tuple[date | datetime, ...] = ()


@dataclass(frozen=True, slots=True)
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
    recurrence: Recurrence | None = None
    # A series' changed occurrences; each is an Event with ``recurrence_id``
    # set to the original start it replaces (RECURRENCE-ID).
    overrides: tuple[Event, ...] = ()
    recurrence_id: date | datetime | None = None

    def __reduce__(self) -> tuple:
        """Pickled as its fields in order, made again by ``__init__``: a
        child process hands thousands back, and dataclasses' own state
        (a dict, set back field by field) costs a fifth more both ways."""
        return Event, _event_fields(self)

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def location_text(self) -> str | None:
        return self.place.location_text() if self.place else self.location


_event_fields = attrgetter(*Event.__slots__)


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

    @cached_property
    def last_modified(self) -> datetime | None:
        """The newest ``updated`` of any event: the calendar's Last-Modified."""
        every = [e for event in self.events for e in (event, *event.overrides)]
        stamps = [event.updated for event in every if event.updated]
        return max(stamps) if stamps else None

    @cached_property
    def derived(self) -> dict:
        """What other modules compute once from this version (``occurrences``
        keeps its selections here); it goes when the version goes."""
        return {}

    @cached_property
    def _by_id(self) -> dict[str, Event]:
        return {event.id: event for event in self.events}

    def event(self, event_id: str) -> Event | None:
        """The event with this id (an index built once per calendar version)."""
        return self._by_id.get(event_id)

    def place(self, slug: str) -> Place | None:
        return next((p for p in self.places if p.slug == slug), None)

    def category(self, slug: str) -> Category | None:
        return next((c for c in self.categories if c.slug == slug), None)
