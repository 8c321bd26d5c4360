"""The month view: a grid of weeks, each day with its occurrences."""

from __future__ import annotations

import calendar as calendars
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, get_day_names
from flask import Blueprint, Response, render_template, request
from markupsafe import Markup, escape

from calfeed import timezones
from calfeed.model import Calendar
from calfeed.occurrences import Occurrence, last_day_of, listing, local_day, select, span_listing
from calfeed.web.hues import hue
from calfeed.web.http import current_calendar, refuse, selection, today
from calfeed.web.i18n import clock, strings
from calfeed.published import FeedFilter, Published
from calfeed.web.pages import kept_page, page_context

bp = Blueprint("month", __name__)

# Enough for any real month; a request cannot make it expand more.
MONTH_LIMIT = 2000


@dataclass
class Day:
    day: date
    in_month: bool
    items: list[Markup] = field(default_factory=list)  # its occurrences' list items


def weeks(year: int, month: int, first_weekday: int) -> list[list[Day]]:
    """The month's weeks as rows of seven days, starting on ``first_weekday``
    (0 is Monday), padded with the neighbouring months' days.

    >>> [[d.day.day for d in week] for week in weeks(2022, 3, 0)][0]
    [28, 1, 2, 3, 4, 5, 6]
    """
    grid = calendars.Calendar(first_weekday).monthdatescalendar(year, month)
    return [[Day(d, d.month == month) for d in week] for week in grid]


def days_covered(occurrence: Occurrence, zone, first: date, last: date) -> list[date]:
    """The days from ``first`` to ``last`` the occurrence takes place on, in
    ``zone``: a weekend festival, or a night that goes past midnight, shows
    on each of its days (an end at midnight does not touch the next day).

    >>> from calfeed.model import Event
    >>> from calfeed.timezones import UTC
    >>> night = Event("n", "n@x", "N", datetime(2022, 3, 4, 21, tzinfo=UTC), datetime(2022, 3, 5, 2, tzinfo=UTC))
    >>> [d.day for d in days_covered(Occurrence(night, night.start, night.end), UTC, date(2022, 3, 1), date(2022, 3, 31))]
    [4, 5]
    """
    since, until = max(local_day(occurrence.start, zone), first), min(last_day_of(occurrence, zone), last)
    return [since + timedelta(days=n) for n in range((until - since).days + 1)]


def items(occurrence: Occurrence, zone, language: str, known: dict[int, tuple[str, str, Markup]]) -> tuple[Markup, Markup]:
    """The occurrence's list item on its first day and on the days after
    (said to go on), written here rather than in the template: a month page
    of a large calendar has a thousand of them, and Jinja's attribute
    lookups and calls were half of its time. ``known`` holds a page's events'
    escaped parts: a series' dates differ only in their time."""
    event = occurrence.event
    parts = known.get(id(event))
    if parts is None:
        words = strings(language)
        hued = f" {escape(hue(event.categories[0].slug))}" if event.categories else ""
        head = f'<li class="{escape(event.status)}{hued}">'
        tail = f'<a class="title" href="/events/{escape(event.id)}">{escape(event.title)}</a>'
        if event.status == "cancelled":
            tail += f' <span class="badge">{escape(words["cancelled"])}</span>'
        continued = Markup(f'{head}<span class="time">{escape(words["month_continued"])}</span> {tail}</li>')
        parts = known[id(event)] = (head, tail, continued)
    head, tail, continued = parts
    start = occurrence.start
    at = _time(clock(start.astimezone(zone), language)) if isinstance(start, datetime) else ""
    return Markup(f"{head}{at}{tail}</li>"), continued


@lru_cache(maxsize=1024)
def _time(text: str) -> str:
    """An item's start time, escaped once for every item at that time."""
    return f'<span class="time">{escape(text)}</span> '


def month_range(calendar: Calendar, today: date) -> tuple[date, date]:
    """The first days of the first and last months worth a page: from the
    first event to a year ahead of today (or the last event, if later)."""
    days = calendar.derived.get("month_days")
    if days is None:  # asked by every month page: made once per version
        starts = [e.start if not isinstance(e.start, datetime) else e.start.date() for e in calendar.events]
        days = calendar.derived["month_days"] = [min(starts), max(starts)] if starts else []
    first = min([*days, today]).replace(day=1)
    ahead = date(today.year + 1, today.month, 1)
    last = max([*days, ahead]).replace(day=1)
    return first, last


@bp.get("/month")
@bp.get("/month/<int:year>-<int:month>")
def month_view(year: int | None = None, month: int | None = None) -> Response:
    published = current_calendar()
    chosen = selection(published)
    now_day = today(published)
    year, month = (year, month) if year is not None else (now_day.year, now_day.month)
    if not (1900 <= year <= 2199 and 1 <= month <= 12):
        refuse(published, 404, "no_month")
    return kept_page(published, ("month", year, month), now_day, lambda: _page(published, chosen, year, month, now_day))


def _page(published: Published, chosen: FeedFilter, year: int, month: int, now_day: date) -> str:
    """The month's grid; the same for the whole of ``now_day``."""
    cal = published.calendar
    zone = timezones.zone(cal.timezone)
    first_weekday = Locale.parse(cal.language).first_week_day
    rows = weeks(year, month, first_weekday)
    first, last = rows[0][0].day, rows[-1][-1].day
    earliest, latest = month_range(cal, now_day)
    after, before = datetime.combine(first, time(), zone), datetime.combine(last + timedelta(days=1), time(), zone)
    events = select(cal, chosen.categories, chosen.places)
    # The whole calendar's pages the month view links to share one walk of
    # the series (3.7 MB kept at 10,000 events); a filter's pages, which any
    # query can multiply, walk their own.
    span = datetime.combine(earliest - timedelta(days=7), time(), zone), datetime.combine(latest + timedelta(days=45), time(), zone)
    if not chosen.categories and not chosen.places and span[0] <= after and before <= span[1]:
        found = span_listing(events, after, before, zone, MONTH_LIMIT, span)
    else:
        found = listing(events, after, before, zone, MONTH_LIMIT)
    by_day = {d.day: d for week in rows for d in week}
    known: dict[int, tuple[str, str, Markup]] = {}  # by id(): the events are held by ``found``
    for occurrence in found:
        opening = local_day(occurrence.start, zone)
        on_first, continued = items(occurrence, zone, cal.language, known)
        for day in days_covered(occurrence, zone, first, last):
            by_day[day].items.append(continued if day != opening else on_first)
    previous = date(year, month, 1) - timedelta(days=1)
    following = date(year, month, 28) + timedelta(days=7)
    query = request.query_string.decode("utf-8", "replace")
    suffix = f"?{query}" if query else ""
    names = get_day_names("wide", locale=cal.language)
    short = get_day_names("abbreviated", locale=cal.language)
    order = [(first_weekday + n) % 7 for n in range(7)]
    title = format_date(date(year, month, 1), "LLLL y", locale=cal.language)
    return render_template(
        "month.html",
        **page_context(
            published,
            title=title[:1].upper() + title[1:],
            weekdays=[(names[n], short[n]) for n in order],
            rows=rows,
            today=now_day,
            previous_url=f"/month/{previous:%Y-%m}{suffix}" if previous >= earliest else None,
            next_url=f"/month/{following:%Y-%m}{suffix}" if following.replace(day=1) <= latest else None,
            chosen=chosen,
        ),
    )
