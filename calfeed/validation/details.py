"""The descriptive fields an event and an override share: title, place,
categories, status, links, organizer...; checked the same way for both."""

from __future__ import annotations

import difflib
from datetime import datetime
from functools import lru_cache
from typing import Any

from calfeed.model import Category, Place
from calfeed.slugs import slugify
from calfeed.timezones import UTC
from calfeed.validation.fields import MAX_CATEGORY, STATUSES, Table, kind, plain
from calfeed.validation.times import moment, shared


@lru_cache(maxsize=4096)
def category(name: str) -> Category:
    """One Category object per name, shared by the events that use it."""
    return Category(name)


def details(table: Table, raw: dict, places: dict[str, Place], tz_name: str | None) -> dict[str, Any]:
    """The descriptive fields present in ``raw``, checked, as Event keywords."""
    found: dict[str, Any] = {}
    if "title" in raw:
        found["title"] = table.text("title", required=True, one_line=True) or ""
    if "place" in raw:
        slug = table.text("place", one_line=True)
        found["place"] = places.get(slug) if slug is not None else None
        if slug is not None and found["place"] is None:
            known = ", ".join(sorted(places)) or "none defined"
            close = difflib.get_close_matches(slug, sorted(places), n=1)
            hint = f' did you mean "{close[0]}"?' if close else ""
            table.error(
                "place", f'unknown place "{slug}";{hint} places in this file: {known}',
                "unknown-place", value=plain(slug), suggestion=close[0] if close else None, allowed=sorted(places),
            )
    if "location" in raw:
        found["location"] = table.text("location")
        if "place" in raw:
            table.error("location", "give either place or location, not both", "conflicting-fields", fields=["place", "location"])
    if "categories" in raw:
        categories: list[Category] = []
        for name in table.value("categories", (list,), "a list of names in quotes") or []:
            if not isinstance(name, str):
                table.error(
                    "categories", f"must be a list of names in quotes, found {kind(name)}",
                    "wrong-type", found=kind(name), expected="a list of names in quotes",
                )
                continue
            name = table.text("categories", value=name, one_line=True)
            if name is None:
                continue
            if len(name) > MAX_CATEGORY:
                table.error(
                    "categories", f'"{name[:40]}..." is {len(name)} characters long; a category name has at most {MAX_CATEGORY}',
                    "too-long", value=plain(name), maximum=MAX_CATEGORY,
                )
            elif not slugify(name):
                table.error("categories", f'"{name}" has no letters or digits to make its URL from', "bad-category", value=plain(name))
            elif (found_category := category(name.strip())) not in categories:
                categories.append(found_category)
        # Shared by the names: categories are equal by slug, and each event shows its own spelling.
        found["categories"] = table.checker.shared(tuple(categories), ("categories", *(c.name for c in categories)))
    if "status" in raw:
        found["status"] = table.text("status", one_line=True) or "confirmed"
        if found["status"] not in STATUSES:
            table.error(
                "status", f'"{found["status"]}" is not a status; use one of: {", ".join(STATUSES)}',
                "unknown-status", value=plain(found["status"]), allowed=list(STATUSES),
            )
    if "updated" in raw:
        updated = moment(table, "updated", tz_name)
        if updated is not None and not isinstance(updated, datetime):
            table.error(
                "updated", "must be a date-time, e.g. 2021-11-20T10:00:00",
                "wrong-type", value=plain(raw["updated"]), found=kind(raw["updated"]), expected="a date-time",
            )
            updated = None
        found["updated"] = shared(table, updated.astimezone(UTC)) if updated else None
    if "description" in raw:
        found["description"] = table.text("description")
    for key in ("url", "image"):
        if key in raw:
            found[key] = table.url(key)
    for key in ("online", "attachments"):
        if key in raw:
            found[key] = table.urls(key)
    if "organizer" in raw:
        found["organizer"] = table.organizer("organizer")
    if "sequence" in raw:
        found["sequence"] = table.whole("sequence") or 0
    return found
