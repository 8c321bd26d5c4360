"""Parsed events.toml → a validated ``model.Calendar``, collecting every error.

One module per concern: ``fields`` checks single values, ``times`` the
moments of an event, ``details`` the fields events and overrides share,
``series`` rrule, rdates, exdates and overrides, and ``builder`` puts the
file together. The names below are what the rest of calfeed imports.
"""

from calfeed.reuse import EventReuse
from calfeed.validation.builder import build_calendar, load_calendar
from calfeed.validation.fields import (
    CONTROL_CHARACTERS, CALENDAR_KEYS, DEFAULT_REFRESH, DEFAULT_TIMEZONE, EVENT_KEYS, LANGUAGES, OVERRIDE_KEYS,
    PLACE_KEYS, STATUSES, is_http_url,
)
from calfeed.validation.times import FIRST_YEAR, LAST_YEAR

__all__ = [
    "CONTROL_CHARACTERS", "CALENDAR_KEYS", "DEFAULT_REFRESH", "DEFAULT_TIMEZONE", "EVENT_KEYS", "FIRST_YEAR", "LANGUAGES",
    "LAST_YEAR", "OVERRIDE_KEYS", "PLACE_KEYS", "STATUSES", "EventReuse", "build_calendar", "is_http_url",
    "load_calendar",
]
