"""The checker's problems in the calendar's language, for the editor.

``calfeed check``, the server's log and /healthz keep the checker's English
message (read by whoever runs calfeed); an editor reads the problem next to
the form field it is about, in Italian for an Italian calendar. The text is
made here from the problem's stable ``code`` and its ``data`` (never from
the English wording), so rewording a message changes nothing here; a code
without an entry, or data an entry cannot use, shows the English message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from string import Formatter
from typing import Any

from babel.dates import format_date

from calfeed.errors import Problem
from calfeed.timezones import transition_near, zone, zone_names

# One text per code and language; a code with variants picks one by its
# data (``_variant``). Blanks: the problem's data, shown for people
# (``_Blanks``), plus ``hint`` (a suggestion, or the end of the sentence).
TEXTS: dict[str, dict[str, str]] = {
    "it": {
        "bad-toml": "Il file events.toml non è TOML valido: va corretto a mano (il comando «calfeed check» dice dove).",
        "not-utf8": "Il file events.toml non è testo UTF-8: va salvato come UTF-8.",
        "unreadable-file": "Il file events.toml non si può leggere.",
        "file-changed": "Il file events.toml è cambiato mentre veniva letto: riprova.",
        "internal-error": "Errore interno nel leggere events.toml: vedi il log del server.",
        "unknown-key": "Chiave sconosciuta «{key}»{hint} Chiavi ammesse: {allowed}.",
        "missing-field": "Obbligatorio: serve {expected}.",
        "wrong-type": "Qui serve {expected}, non {found}.",
        "control-character": "Contiene il carattere di controllo {character}: sono ammessi solo tabulazioni e a capo.",
        "not-one-line": "Deve stare su una sola riga.",
        "empty-text": "Non può essere vuoto.",
        "too-long": "«{short}» è troppo lungo: al massimo {maximum} caratteri.",
        "bad-url": "«{short}» non è un indirizzo web: sono ammessi solo indirizzi che iniziano con http:// o https://.",
        "bad-email": "«{short}» non è un indirizzo e-mail come info@example.org.",
        "bad-slug": "«{short}» non va bene come identificativo: solo lettere minuscole senza accenti, cifre e «-», "
                    "iniziando con una lettera o una cifra (es. «bagni-pubblici»).",
        "bad-geo": "Scrivi [latitudine, longitudine] in gradi, es. [45.0907, 7.6913].",
        "bad-category": "«{short}» non contiene lettere o cifre da cui fare l'indirizzo della categoria.",
        "out-of-range": "Deve essere un numero da {minimum} a {maximum}, non {value}.",
        "out-of-range/maximum": "{value} è troppo: al massimo {maximum}.",
        "date-out-of-range": "{value} è fuori dagli anni ammessi: da {first_year} a {last_year}.",
        "unknown-zone": "Fuso orario sconosciuto «{value}»{hint} Usa un nome IANA come «Europe/Rome».",
        "unknown-place": "Luogo sconosciuto «{value}»{hint} Luoghi nel file: {allowed}.",
        "unknown-status": "«{value}» non è uno stato: usa {allowed}.",
        "unknown-language": "Lingua «{value}» non disponibile: usa {allowed}.",
        "dst-gap": "Il {day} alle {clock} non esiste in {zone}: quella notte gli orologi passano dalle {before} alle {after}. "
                   "Scegli un altro orario.",
        "dst-overlap": "Il {day} alle {clock} capita due volte in {zone}: quella notte gli orologi tornano dalle {before} alle {after}. "
                       "Scegli un altro orario.",
        "end-before-start": "La fine ({value}) non è dopo l'inizio ({start}): un evento deve finire dopo essere iniziato.",
        "end-before-start/day": "La fine ({value}) è prima dell'inizio ({start}): per un evento di tutto il giorno "
                                "la fine è l'ultimo giorno, compreso.",
        "conflicting-fields": "Indica {fields}, non entrambi.",
        "duration-too-long": "La durata {value} supera dieci anni: è un errore di battitura?",
        "duration-not-whole-days": "La durata {value} non è fatta di giorni interi: un evento di tutto il giorno "
                                   "dura giorni interi (P1D, P2D).",
        "bad-duration": "«{short}» non è una durata come «PT1H30M» (un'ora e mezza), «P1D» (un giorno) o «P1W» (una settimana).",
        "bad-rrule": "La regola di ripetizione «{short}» non è valida (dettaglio tecnico: {reason}).",
        "bad-rrule/plain": "La regola di ripetizione «{short}» non è valida.",
        "bad-until": "La fine della ripetizione (UNTIL={value}) non si può usare: per una serie di tutto il giorno "
                     "scrivi una data (UNTIL=2022-06-29), altrimenti un orario che esiste in quel giorno.",
        "until-before-start": "La ripetizione finisce ({value}) prima di iniziare ({start}).",
        "empty-rule": "La regola «{short}» non dà nessuna data: controlla BYMONTHDAY, BYMONTH e simili.",
        "offset-start-in-series": "Una serie segue l'ora locale: scrivi l'inizio senza scarto da UTC (es. 2021-12-01T18:00:00).",
        "too-many-dates": "La serie ha più di {limit} date: calfeed ne accetta al massimo {limit}; "
                          "usa un periodo più lungo o una fine (UNTIL) più vicina.",
        "start-not-first-date": "L'inizio ({value}) non è una data della regola: fai iniziare la serie dalla sua prima data, {first}.",
        "not-a-date-of-series": "{value} non è una data della serie; le più vicine sono {nearest}.",
        "not-a-date-of-series/none": "{value} non è una data della serie, che non ha date vicine.",
        "not-a-series": "Questo evento non si ripete (non ha né regola né date aggiunte): qui non servono date della serie.",
        "not-compared": "Non confrontato con le date della serie, perché {because}: ricontrolla dopo averlo corretto.",
        "duplicate-override": "{value} è già cambiata da una modifica precedente della stessa serie.",
        "duplicate-id": "L'identificativo «{short}» è già dell'evento n. {first}: ogni evento ne ha uno suo.",
        "duplicate-uid": "L'UID «{short}» è già dell'evento n. {first}: ogni evento ne ha uno suo.",
    },
    "en": {
        "bad-toml": "events.toml is not valid TOML: it needs fixing by hand (the command \"calfeed check\" says where).",
        "not-utf8": "events.toml is not UTF-8 text: it needs saving as UTF-8.",
        "unreadable-file": "events.toml cannot be read.",
        "file-changed": "events.toml changed while it was being read: try again.",
        "internal-error": "Internal error reading events.toml: see the server's log.",
        "unknown-key": "Unknown key \"{key}\"{hint} Allowed keys: {allowed}.",
        "missing-field": "Required: give {expected}.",
        "wrong-type": "Must be {expected}, not {found}.",
        "control-character": "Contains the control character {character}: only tabs and line breaks are allowed.",
        "not-one-line": "Must be one line.",
        "empty-text": "Must not be empty.",
        "too-long": "\"{short}\" is too long: at most {maximum} characters.",
        "bad-url": "\"{short}\" is not a web address: only addresses starting with http:// or https:// are allowed.",
        "bad-email": "\"{short}\" is not an e-mail address such as info@example.org.",
        "bad-slug": "\"{short}\" cannot be an id: lower-case letters without accents, digits and \"-\", "
                    "starting with a letter or digit (e.g. \"bagni-pubblici\").",
        "bad-geo": "Write [latitude, longitude] in degrees, e.g. [45.0907, 7.6913].",
        "bad-category": "\"{short}\" has no letters or digits to make the category's address from.",
        "out-of-range": "Must be a number from {minimum} to {maximum}, not {value}.",
        "out-of-range/maximum": "{value} is too much: at most {maximum}.",
        "date-out-of-range": "{value} is outside the years allowed: {first_year} to {last_year}.",
        "unknown-zone": "Unknown time zone \"{value}\"{hint} Use an IANA name such as \"Europe/Rome\".",
        "unknown-place": "Unknown place \"{value}\"{hint} Places in this file: {allowed}.",
        "unknown-status": "\"{value}\" is not a status: use {allowed}.",
        "unknown-language": "Language \"{value}\" is not available: use {allowed}.",
        "dst-gap": "{clock} on {day} does not exist in {zone}: that night clocks jump from {before} to {after}. Choose another time.",
        "dst-overlap": "{clock} on {day} happens twice in {zone}: that night clocks go back from {before} to {after}. Choose another time.",
        "end-before-start": "The end ({value}) is not after the start ({start}): an event must end after it starts.",
        "end-before-start/day": "The end ({value}) is before the start ({start}): for an all-day event the end is "
                                "the last day, inclusive.",
        "conflicting-fields": "Give {fields}, not both.",
        "duration-too-long": "The duration {value} is over ten years: is it a typo?",
        "duration-not-whole-days": "The duration {value} is not whole days: an all-day event lasts whole days (P1D, P2D).",
        "bad-duration": "\"{short}\" is not a duration such as \"PT1H30M\" (an hour and a half), \"P1D\" (a day) or \"P1W\" (a week).",
        "bad-rrule": "The repeat rule \"{short}\" is not valid ({reason}).",
        "bad-rrule/plain": "The repeat rule \"{short}\" is not valid.",
        "bad-until": "The end of the repeat (UNTIL={value}) cannot be used: for an all-day series write a date "
                     "(UNTIL=2022-06-29), else a time that exists on that day.",
        "until-before-start": "The repeat ends ({value}) before it starts ({start}).",
        "empty-rule": "The rule \"{short}\" gives no dates at all: check BYMONTHDAY, BYMONTH and the like.",
        "offset-start-in-series": "A series follows local time: write the start without an offset from UTC (e.g. 2021-12-01T18:00:00).",
        "too-many-dates": "The series has more than {limit} dates: calfeed takes at most {limit}; "
                          "use a longer period or an earlier end (UNTIL).",
        "start-not-first-date": "The start ({value}) is not a date of the rule: start the series on its first date, {first}.",
        "not-a-date-of-series": "{value} is not a date of the series; the nearest are {nearest}.",
        "not-a-date-of-series/none": "{value} is not a date of the series, which has no dates near it.",
        "not-a-series": "This event does not repeat (it has no rule and no added dates): dates of a series do not apply.",
        "not-compared": "Not compared with the dates of the series, because {because}: check again once that is fixed.",
        "duplicate-override": "{value} is already changed by an earlier change of the same series.",
        "duplicate-id": "The id \"{short}\" belongs to event #{first} already: each event has its own.",
        "duplicate-uid": "The UID \"{short}\" belongs to event #{first} already: each event has its own.",
    },
}

_HINTS = {"it": (": forse intendevi «{}»?", "."), "en": ('; did you mean "{}"?', ".")}
_OR = {"it": " o ", "en": " or "}
_NONE = {"it": "nessuno", "en": "none"}
_AND_NOT = {"it": " oppure ", "en": " or "}
# What the checker's data says in English, and in Italian. A value missing
# here makes the problem show the English message.
_KINDS = {
    "text": "un testo", "a whole number": "un numero intero", "a number": "un numero", "true/false": "vero/falso",
    "a date": "una data", "a date-time": "una data con ora", "a time of day": "un'ora del giorno",
    "a list": "un elenco", "a table": "una tabella",
}
_WANTED = {
    **_KINDS,
    "text in quotes": "un testo tra virgolette",
    "a list of URLs in quotes": "un elenco di indirizzi web tra virgolette",
    "a list of names in quotes": "un elenco di nomi tra virgolette",
    "a list of dates or date-times": "un elenco di date o di date con ora",
    "a date or a date-time": "una data o una data con ora",
    "a date (all-day events end on a day)": "una data (un evento di tutto il giorno finisce in un giorno)",
    "date-times like start (2021-12-08T18:00:00)": "date con ora, come l'inizio (2021-12-08T18:00:00)",
    "dates like start (2021-12-08)": "date senza ora, come l'inizio (2021-12-08)",
    "[calendar]": "la tabella [calendar]",
    "[places.<slug>] tables": "tabelle [places.<slug>]",
    "[[events]] tables": "tabelle [[events]]",
    "[[events.overrides]] tables": "tabelle [[events.overrides]]",
    'a table such as { name = "Labsus", email = "info@example.org" }':
        'una tabella come { name = "Labsus", email = "info@example.org" }',
    "the original start of a date of the series": "l'inizio originale di una data della serie",
}
_BECAUSE = {
    "start is wrong": "l'inizio è sbagliato",
    "start has an offset": "l'inizio ha uno scarto da UTC",
    "rrule is wrong": "la regola è sbagliata",
    "UNTIL is wrong": "la fine della ripetizione (UNTIL) è sbagliata",
    "start is not the rule's first date": "l'inizio non è la prima data della regola",
    "rdates has a mistake": "le date aggiunte (rdates) hanno un errore",
    "the event is not a series": "l'evento non si ripete",
}
# Short names of the fields, for the list of problems above the form.
FIELD_NAMES = {
    "it": {
        "title": "titolo", "start": "inizio", "end": "fine", "duration": "durata", "place": "luogo",
        "location": "luogo scritto a mano", "categories": "categorie", "description": "descrizione",
        "url": "link", "online": "link online", "attachments": "documenti", "image": "locandina",
        "status": "stato", "rrule": "regola di ripetizione", "exdates": "date tolte", "rdates": "date aggiunte",
        "recurrence_id": "data cambiata", "timezone": "fuso orario", "organizer": "organizza",
        "id": "identificativo", "uid": "UID",
    },
    "en": {
        "title": "title", "start": "start", "end": "end", "duration": "duration", "place": "place",
        "location": "place written by hand", "categories": "categories", "description": "description",
        "url": "link", "online": "online links", "attachments": "documents", "image": "poster",
        "status": "status", "rrule": "repeat rule", "exdates": "dates left out", "rdates": "added dates",
        "recurrence_id": "changed date", "timezone": "time zone", "organizer": "organizer",
        "id": "id", "uid": "UID",
    },
}
_WHERE = {
    "it": {"event": "evento «{}» (n. {})", "number": "evento n. {}", "override": "modifica n. {}", "place": "luogo «{}»", "line": "riga {}"},
    "en": {"event": "event “{}” (#{})", "number": "event #{}", "override": "change #{}", "place": "place “{}”", "line": "line {}"},
}
_EVENT = re.compile(r'^event "(.*)" \(#(\d+)\)(?:, override #(\d+))?$')
_EVENT_NUMBER = re.compile(r"^event #(\d+)(?:, override #(\d+))?$")
_PLACE = re.compile(r'^place "(.*)"$')


class _Unusable(Exception):
    """The data lacks what the text needs (or has what it cannot show)."""


def render(problem: Problem, language: str) -> str:
    """The problem in ``language``, from its code and data; its English
    message when the catalogue cannot say it.

    >>> render(Problem("…", field="place", code="unknown-place",
    ...        data={"value": "bagni", "suggestion": "bagni-pubblici", "allowed": ["bagni-pubblici"]}), "it")
    'Luogo sconosciuto «bagni»: forse intendevi «bagni-pubblici»? Luoghi nel file: bagni-pubblici.'
    >>> render(Problem("the English message", code="no-such-code"), "it")
    'the English message'
    """
    table = TEXTS.get(language)
    if table is None or problem.code not in table:
        return problem.message
    try:
        text = table.get(_variant(problem.code, problem.data), table[problem.code])
        return Formatter().vformat(text, (), _Blanks(problem.data, language))
    except (_Unusable, KeyError, IndexError, ValueError, TypeError):
        return problem.message


def located(problem: Problem, language: str) -> str:
    """The problem with where it is, for the list above the form:
    "riga 14: evento «festa» (n. 3): inizio: …"."""
    words = _WHERE.get(language, _WHERE["en"])
    parts = [words["line"].format(problem.line)] if problem.line else []
    if problem.where:
        parts.append(_where(problem.where, language))
    if problem.field:
        parts.append(FIELD_NAMES.get(language, {}).get(problem.field, problem.field))
    parts.append(render(problem, language))
    return ": ".join(parts)


def _where(where: str, language: str) -> str:
    words = _WHERE.get(language, _WHERE["en"])
    if match := _EVENT.match(where):
        text = words["event"].format(match.group(1), match.group(2))
        override = match.group(3)
    elif match := _EVENT_NUMBER.match(where):
        text, override = words["number"].format(match.group(1)), match.group(2)
    elif match := _PLACE.match(where):
        return words["place"].format(match.group(1))
    else:
        return where
    return f"{text}, {words['override'].format(override)}" if override else text


def _variant(code: str, data: Mapping[str, Any]) -> str:
    if code == "out-of-range" and "minimum" not in data:
        return "out-of-range/maximum"
    if code == "end-before-start" and "T" not in str(data.get("value", "T")):
        return "end-before-start/day"
    if code == "bad-rrule" and not data.get("reason"):
        return "bad-rrule/plain"
    if code == "not-a-date-of-series" and not data.get("nearest"):
        return "not-a-date-of-series/none"
    return code


class _Blanks(dict):
    """The blanks of a text, made on demand from the problem's data."""

    def __init__(self, data: Mapping[str, Any], language: str):
        super().__init__()
        self.data, self.language = data, language

    def __missing__(self, name: str) -> str:
        data, language = self.data, self.language
        if name == "hint":
            found, missing = _HINTS[language]
            return found.format(data["suggestion"]) if data.get("suggestion") else missing
        if name == "short":
            text = str(data["value"])
            return text if len(text) <= 60 else text[:60] + "…"
        if name == "allowed":
            return ", ".join(map(str, data["allowed"])) or _NONE[language]
        if name == "nearest":
            return _OR[language].join(_moment(str(m), language) for m in data["nearest"])
        if name in ("expected", "found"):
            return _english(data[name], _WANTED, language)
        if name == "because":
            return _english(data["because"], _BECAUSE, language)
        if name == "fields":
            names = FIELD_NAMES[language]
            return _AND_NOT[language].join(f"«{names.get(f, f)}»" if language == "it" else f"“{names.get(f, f)}”" for f in data["fields"])
        if name == "first":
            return str(data["first_index"] + 1) if "first_index" in data else _moment(str(data["first"]), language)
        if name in ("value", "start"):
            return _moment(str(data[name]), language)
        if name in ("day", "clock", "before", "after"):
            return _change(data, language)[name]
        return str(data[name])


def _english(text: Any, italian: Mapping[str, str], language: str) -> str:
    if language == "en":
        return str(text)
    if text not in italian:
        raise _Unusable(text)
    return italian[text]


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)?)?$")


def _moment(text: str, language: str) -> str:
    """An ISO date or date-time of the data as people write it, in the
    time of day its text gives; other text as it is.

    >>> _moment("2021-12-08T18:00:00", "it"), _moment("2022-03-27", "en"), _moment("P1D", "it")
    ('8 dicembre 2021, 18:00', '27 March 2022', 'P1D')
    """
    if not _ISO.match(text):
        return text
    value = datetime.fromisoformat(text.replace("Z", "+00:00")) if "T" in text else date.fromisoformat(text)
    day = format_date(value if isinstance(value, date) and not isinstance(value, datetime) else value.date(), "d MMMM y", locale=language)
    return day if not isinstance(value, datetime) else f"{day}, {value:%H:%M}"


def _change(data: Mapping[str, Any], language: str) -> dict[str, str]:
    """The wall-clock time of a DST problem, and the clock change it falls in."""
    name = data["zone"]
    if name not in zone_names():
        raise _Unusable(name)
    local = datetime.fromisoformat(str(data["value"])).replace(tzinfo=None)
    change = transition_near(zone(name), local)
    return {
        "day": format_date(local.date(), "d MMMM y", locale=language),
        "clock": f"{local:%H:%M}",
        "before": f"{change.local_before:%H:%M}",
        "after": f"{change.local_after:%H:%M}",
    }
