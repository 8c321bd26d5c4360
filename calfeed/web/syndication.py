"""RSS 2.0 and Atom of the upcoming events, for feed readers and for the
channels (Telegram, Mastodon) that reshare a feed's new items.

One item per event: a single event while it has not ended, a series once,
with its next date and its rule in words. The bytes depend only on the
calendar and the day (the feed's date is the newest ``updated``, never the
clock), so every worker and ``calfeed build`` give the same file.
"""

from __future__ import annotations

import html
import weakref
from datetime import date, datetime, time, timedelta, tzinfo

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from calfeed import timezones
from calfeed.occurrences import Entry, Selection, entries, select
from calfeed.published import FeedFilter, Published
from calfeed.web.i18n import rule_words, strings, when
from calfeed.web.links import page_url
from calfeed.web.pages import paragraphs

# How far ahead the feeds look, and the most items they hold (the nearest).
AHEAD = timedelta(days=366)
MAX_ITEMS = 200
TYPES = {"rss": "application/rss+xml; charset=utf-8", "atom": "application/atom+xml; charset=utf-8"}


def upcoming(events: Selection, today: date, zone: tzinfo) -> list[Entry]:
    """Each event with a date not ended by the start of ``today`` and
    starting within ``AHEAD``, once, at its next date (a series: its next
    date not cancelled, if it has one), nearest first, at most ``MAX_ITEMS``."""
    after = datetime.combine(today, time(), zone)
    return entries(events, after, after + AHEAD, zone, MAX_ITEMS)


def _text(item: Entry, published: Published) -> str:
    """The item's HTML: date, rule, place, then the description."""
    calendar = published.calendar
    zone = timezones.zone(calendar.timezone)
    language = calendar.language
    shown = item.next.event
    lines = [f"<p><strong>{html.escape(when(item.next, zone, language))}</strong></p>"]
    if item.event.recurrence is not None:
        words = rule_words(item.event, zone, language)
        if words:
            lines.append(f"<p>{html.escape(words[:1].upper() + words[1:])}</p>")
    if shown.location_text:
        lines.append(f"<p>{html.escape(shown.location_text)}</p>")
    for url in shown.online:
        lines.append(f'<p>Online: <a href="{html.escape(url)}">{html.escape(url)}</a></p>')
    if shown.description:
        lines.append(paragraphs(shown.description))
    return "\n".join(lines)


def _title(item: Entry, published: Published) -> str:
    shown = item.next.event
    if shown.status == "cancelled":
        return f"{strings(published.calendar.language)['cancelled']}: {shown.title}"
    return shown.title


# The entries last made, for the other kind of the same feed (RSS, then Atom):
# (the version, held weakly, the selection, the day), and the entries.
_last: tuple[tuple, list[FeedEntry]] | None = None


def _entries(published: Published, selection: FeedFilter, today: date) -> list[FeedEntry]:
    """Each item as a feed entry: the same in the RSS and the Atom of a feed
    (feedgen writes either from one entry), so made once for both."""
    global _last
    key = (selection, today)
    last = _last
    if last is not None and last[0][0]() is published and last[0][1:] == key:
        return last[1]
    calendar = published.calendar
    zone = timezones.zone(calendar.timezone)
    found = []
    for item in upcoming(select(calendar, selection.categories, selection.places), today, zone):
        stamp = item.next.event.updated or item.event.updated or published.last_modified
        url = page_url(calendar, item.event.id)
        entry = FeedEntry()
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(_title(item, published))
        entry.link(href=url, rel="alternate")
        entry.summary(_text(item, published), type="html")
        entry.updated(stamp)
        entry.published(stamp)
        for category in item.event.categories:
            entry.category(term=category.name)
        found.append(entry)
    _last = ((weakref.ref(published), *key), found)
    return found


def syndication(published: Published, selection: FeedFilter, today: date, kind: str) -> bytes:
    """The RSS (``kind`` "rss") or Atom ("atom") of ``selection``'s upcoming events."""
    calendar = published.calendar
    names = [c.name for c in calendar.categories if c.slug in selection.categories]
    names += [p.name for p in calendar.places if p.slug in selection.places]
    title = f"{calendar.name}: {' + '.join(names)}" if names else calendar.name
    own = calendar.base_url + selection.path(kind)
    feed = FeedGenerator()
    feed.id(own)
    feed.title(title)
    feed.description(calendar.description or title)
    query = "&".join([f"category={c}" for c in sorted(selection.categories)] + [f"place={p}" for p in sorted(selection.places)])
    feed.link(href=own, rel="self")
    # Last: RSS takes its one <link> from the last one given.
    feed.link(href=calendar.base_url + "/" + (f"?{query}" if query else ""), rel="alternate")
    feed.language(calendar.language)
    feed.author({"name": calendar.name})
    feed.generator("calfeed")
    feed.updated(published.last_modified)
    for entry in _entries(published, selection, today):
        feed.add_entry(entry, order="append")
    return feed.rss_str(pretty=True) if kind == "rss" else feed.atom_str(pretty=True)
