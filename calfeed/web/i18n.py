"""Every page string in one table per language, and dates written out the way
people read them (Babel's CLDR data, not hand-made month tables)."""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo
from functools import lru_cache

from babel.dates import format_date, format_time

from calfeed.occurrences import Occurrence, last_day_of

STRINGS: dict[str, dict[str, str]] = {
    "it": {
        "upcoming": "Prossimi eventi",
        "past": "Eventi passati",
        "no_events": "Nessun evento in programma.",
        "no_past": "Nessun evento passato.",
        "all_events": "Tutti gli eventi",
        "filters": "Filtra gli eventi",
        "category": "Categoria",
        "place": "Luogo",
        "any": "Tutti",
        "apply": "Applica",
        "subscribe": "Iscriviti al calendario",
        "subscribe_help": "Il calendario si aggiorna da solo: iscriviti una volta e vedrai sempre gli eventi nuovi.",
        "apple": "Apple Calendar / iPhone",
        "google": "Google Calendar",
        "outlook": "Outlook.com",
        "office": "Microsoft 365",
        "feed_url": "Indirizzo del calendario",
        "copy": "Copia",
        "embed": "Inserisci nel tuo sito",
        "embed_help": "Copia questo codice nella tua pagina per mostrare i prossimi eventi.",
        "cancelled": "Annullato",
        "tentative": "Da confermare",
        "all_day": "tutto il giorno",
        "map": "Vedi sulla mappa (OpenStreetMap)",
        "no_map": "Mappa non disponibile",
        "online": "Segui online",
        "categories": "Categorie",
        "attachments": "Documenti",
        "download": "Scarica",
        "more_info": "Maggiori informazioni",
        "organizer": "Organizza",
        "add_google": "Aggiungi a Google Calendar",
        "add_outlook": "Aggiungi a Outlook",
        "download_ics": "Scarica l'evento (.ics)",
        "next_dates": "Prossime date",
        "when": "Quando",
        "where": "Dove",
        "more": "Tutti gli eventi sul sito",
        "not_found": "Pagina non trovata",
        "month": "Calendario del mese",
        "by_category": "Calendari per categoria",
        "by_place": "Calendari per luogo",
        "previous_month": "Mese precedente",
        "next_month": "Mese successivo",
        "today": "oggi",
        "print": "Stampa",
        "qr_feed": "Inquadra il codice per iscriverti al calendario",
        "qr_event": "Inquadra il codice per aprire questa pagina",
    },
    "en": {
        "upcoming": "Upcoming events",
        "past": "Past events",
        "no_events": "No upcoming events.",
        "no_past": "No past events.",
        "all_events": "All events",
        "filters": "Filter events",
        "category": "Category",
        "place": "Place",
        "any": "All",
        "apply": "Apply",
        "subscribe": "Subscribe to the calendar",
        "subscribe_help": "The calendar updates itself: subscribe once and new events keep appearing.",
        "apple": "Apple Calendar / iPhone",
        "google": "Google Calendar",
        "outlook": "Outlook.com",
        "office": "Microsoft 365",
        "feed_url": "Calendar address",
        "copy": "Copy",
        "embed": "Embed on your site",
        "embed_help": "Paste this code into your page to show the upcoming events.",
        "cancelled": "Cancelled",
        "tentative": "Tentative",
        "all_day": "all day",
        "map": "See on the map (OpenStreetMap)",
        "no_map": "Map not available",
        "online": "Watch online",
        "categories": "Categories",
        "attachments": "Documents",
        "download": "Download",
        "more_info": "More information",
        "organizer": "Organised by",
        "add_google": "Add to Google Calendar",
        "add_outlook": "Add to Outlook",
        "download_ics": "Download the event (.ics)",
        "next_dates": "Next dates",
        "when": "When",
        "where": "Where",
        "more": "All events on the site",
        "not_found": "Page not found",
        "month": "Month calendar",
        "by_category": "Calendars by category",
        "by_place": "Calendars by place",
        "previous_month": "Previous month",
        "next_month": "Next month",
        "today": "today",
        "print": "Print",
        "qr_feed": "Scan the code to subscribe to the calendar",
        "qr_event": "Scan the code to open this page",
    },
}


def strings(language: str) -> dict[str, str]:
    return STRINGS.get(language, STRINGS["it"])


@lru_cache(maxsize=8192)  # a site has a few thousand days, and Babel takes ~50 µs a date
def long_date(day: date, language: str) -> str:
    """A day as people write it, capitalised as at the start of a line.

    >>> long_date(date(2021, 12, 1), "it"), long_date(date(2021, 12, 1), "en")
    ('Mercoledì 1 dicembre 2021', 'Wednesday 1 December 2021')
    """
    text = format_date(day, "EEEE d MMMM y", locale=language)
    return text[:1].upper() + text[1:]


def clock(moment: datetime, language: str) -> str:
    """The wall-clock time of ``moment`` (in its own zone), as "18:00"."""
    return _clock(moment.hour, moment.minute, language)


@lru_cache(maxsize=4096)
def _clock(hour: int, minute: int, language: str) -> str:
    return format_time(time(hour, minute), "HH:mm", locale=language)


def when(occurrence: Occurrence, zone: tzinfo, language: str) -> str:
    """An occurrence's date and time, in the calendar's zone.

    >>> from calfeed.timezones import zone as z
    >>> from calfeed.model import Event
    >>> rome = z("Europe/Rome")
    >>> start, end = datetime(2021, 12, 1, 18, tzinfo=rome), datetime(2021, 12, 1, 19, 30, tzinfo=rome)
    >>> when(Occurrence(Event("a", "a@x", "A", start, end), start, end), rome, "it")
    'Mercoledì 1 dicembre 2021, 18:00–19:30'
    """
    start, end = occurrence.start, occurrence.end
    if not isinstance(start, datetime):
        last = last_day_of(occurrence, zone)
        if last == start:
            return long_date(start, language)
        return f"{long_date(start, language)} – {long_date(last, language)}"
    start = start.astimezone(zone)
    text = f"{long_date(start.date(), language)}, {clock(start, language)}"
    if end is None:
        return text
    end = end.astimezone(zone)
    if end.date() == start.date():
        return f"{text}–{clock(end, language)}"
    return f"{text} – {long_date(end.date(), language)}, {clock(end, language)}"


def hours(occurrence: Occurrence, zone: tzinfo, language: str) -> str:
    """The time part of ``when`` for a list grouped by day: "18:00–19:30"."""
    full = when(occurrence, zone, language)
    start = occurrence.start
    if not isinstance(start, datetime):
        return strings(language)["all_day"]
    prefix = f"{long_date(start.astimezone(zone).date(), language)}, "
    return full.removeprefix(prefix)
