"""RSS 2.0 and Atom of the upcoming events, for feed readers and for the
channels (Telegram, Mastodon) that reshare a feed's new items.

One item per event: a single event while it has not ended, a series once,
with its next date and its rule in words. The bytes depend only on the
calendar and the day (the feed's date is the newest ``updated``, never the
clock), so every worker and ``calfeed build`` give the same file.
"""

from __future__ import annotations

import html
import re
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, tzinfo

from calfeed import timezones
from calfeed.occurrences import Entry, Occurrence, Selection, entries, select
from calfeed.published import FeedFilter, Published
from calfeed.web.i18n import rule_words, strings, when
from calfeed.web.links import page_url
from calfeed.web.pages import paragraphs

# How far ahead the feeds look, and the most items they hold (the nearest).
AHEAD = timedelta(days=366)
MAX_ITEMS = 200
TYPES = {"rss": "application/rss+xml; charset=utf-8", "atom": "application/atom+xml; charset=utf-8"}


def upcoming(events: Selection, today: date, zone: tzinfo, known: dict[str, Occurrence | None] | None = None) -> list[Entry]:
    """Each event with a date not ended by the start of ``today`` and
    starting within ``AHEAD``, once, at its next date (a series: its next
    date not cancelled, if it has one), nearest first, at most ``MAX_ITEMS``;
    ``known``: the series' next dates already found for ``today``."""
    after = datetime.combine(today, time(), zone)
    return entries(events, after, after + AHEAD, zone, MAX_ITEMS, known)


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


# RSS's dates, in English whatever the locale (as RFC 822 has them).
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# What XML 1.0 cannot hold (validation lets U+FFFE and U+FFFF through): left out.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """``text`` as XML character data, escaped as lxml writes it (feedgen's
    bytes, kept: every reader's cached copy and ETag stay valid).

    >>> _xml_text('a < b & "c" > d\\r\\ufffe')
    'a &lt; b &amp; "c" &gt; d&#13;'
    """
    if _NOT_XML.search(text):
        text = _NOT_XML.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _xml_attribute(text: str) -> str:
    """``text`` in a double-quoted XML attribute, escaped as lxml writes it.

    >>> _xml_attribute('a "b"\\tc\\n')
    'a &quot;b&quot;&#9;c&#10;'
    """
    return _xml_text(text).replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")


def _rfc822(moment: datetime) -> str:
    return f"{_DAYS[moment.weekday()]}, {moment:%d} {_MONTHS[moment.month - 1]} {moment:%Y %H:%M:%S %z}"


def _written(item: Entry, published: Published) -> tuple[str, str]:
    """The item's RSS ``<item>`` and Atom ``<entry>``, indented as in their
    feeds: the same in every feed the event is in (its next date does not
    depend on the filter), so made once for all of them."""
    stamp = item.next.event.updated or item.event.updated or published.last_modified
    url = page_url(published.calendar, item.event.id)
    link, title, text = _xml_text(url), _xml_text(_title(item, published)), _xml_text(_text(item, published))
    names = [category.name for category in item.event.categories]
    rss = "".join(f"      <category>{_xml_text(name)}</category>\n" for name in names)
    atom = "".join(f'    <category term="{_xml_attribute(name)}"/>\n' for name in names)
    iso = stamp.isoformat()
    return (
        f"    <item>\n      <title>{title}</title>\n      <link>{link}</link>\n"
        f"      <description>{text}</description>\n      <guid isPermaLink=\"true\">{link}</guid>\n"
        f"{rss}      <pubDate>{_rfc822(stamp)}</pubDate>\n    </item>\n",
        f"  <entry>\n    <id>{link}</id>\n    <title>{title}</title>\n    <updated>{iso}</updated>\n"
        f'    <link href="{_xml_attribute(url)}"/>\n    <summary type="html">{text}</summary>\n'
        f"{atom}    <published>{iso}</published>\n  </entry>\n",
    )


# Inside ``sharing()``: the items written for a version (held weakly) and
# day, by event and next date, and the series' next dates. Always: the last feed's items, for the other
# kind of the same feed (RSS, then Atom).
_sharing = False
_made: tuple[weakref.ref, date, dict[tuple[str, object], tuple[str, str]], dict[str, Occurrence | None]] | None = None
_last: tuple[tuple, list[tuple[str, str]]] | None = None


@contextmanager
def sharing() -> Iterator[None]:
    """Inside (a whole site's build, which asks every feed): each event's
    item written once for all the feeds it is in. Outside, a server holds
    no items beyond the feed it answers (3,300 items, 11 MiB at 10,000 events)."""
    global _sharing, _made
    _sharing = True
    try:
        yield
    finally:
        _sharing, _made = False, None


def _items(published: Published, selection: FeedFilter, today: date) -> list[tuple[str, str]]:
    """The RSS and Atom of each of ``selection``'s upcoming items."""
    global _made, _last
    key = (selection, today)
    last = _last
    if last is not None and last[0][0]() is published and last[0][1:] == key:
        return last[1]
    made = _made
    if _sharing and (made is None or made[0]() is not published or made[1] != today):
        made = _made = (weakref.ref(published), today, {}, {})
    written, known = made[2:] if _sharing and made is not None else ({}, None)
    calendar = published.calendar
    found = []
    for item in upcoming(select(calendar, selection.categories, selection.places), today, timezones.zone(calendar.timezone), known):
        pair = written.get((item.event.id, item.next.start))
        if pair is None:
            pair = written[item.event.id, item.next.start] = _written(item, published)
        found.append(pair)
    _last = ((weakref.ref(published), *key), found)
    return found


def syndication(published: Published, selection: FeedFilter, today: date, kind: str) -> bytes:
    """The RSS (``kind`` "rss") or Atom ("atom") of ``selection``'s upcoming
    events, written as feedgen 1.0.0 wrote them (pretty-printed by lxml)."""
    calendar = published.calendar
    names = [c.name for c in calendar.categories if c.slug in selection.categories]
    names += [p.name for p in calendar.places if p.slug in selection.places]
    plain = f"{calendar.name}: {' + '.join(names)}" if names else calendar.name
    title, description = _xml_text(plain), _xml_text(calendar.description or plain)
    own = calendar.base_url + selection.path(kind)
    query = "&".join([f"category={c}" for c in sorted(selection.categories)] + [f"place={p}" for p in sorted(selection.places)])
    home = calendar.base_url + "/" + (f"?{query}" if query else "")
    language = calendar.language
    updated = published.last_modified
    items = _items(published, selection, today)
    if kind == "rss":
        head = (
            "<?xml version='1.0' encoding='UTF-8'?>\n"
            '<rss xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">\n'
            f"  <channel>\n    <title>{title}</title>\n    <link>{_xml_text(home)}</link>\n"
            f"    <description>{description}</description>\n"
            f'    <atom:link href="{_xml_attribute(own)}" rel="self"/>\n'
            "    <docs>http://www.rssboard.org/rss-specification</docs>\n    <generator>calfeed</generator>\n"
            f"    <language>{_xml_text(language)}</language>\n    <lastBuildDate>{_rfc822(updated)}</lastBuildDate>\n"
        )
        return "".join([head, *(rss for rss, _ in items), "  </channel>\n</rss>\n"]).encode()
    head = (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{_xml_attribute(language)}">\n'
        f"  <id>{_xml_text(own)}</id>\n  <title>{title}</title>\n  <updated>{updated.isoformat()}</updated>\n"
        f"  <author>\n    <name>{_xml_text(calendar.name)}</name>\n  </author>\n"
        f'  <link href="{_xml_attribute(own)}" rel="self"/>\n  <link href="{_xml_attribute(home)}" rel="alternate"/>\n'
        f"  <generator>calfeed</generator>\n  <subtitle>{description}</subtitle>\n"
    )
    return "".join([head, *(atom for _, atom in items), "</feed>\n"]).encode()
