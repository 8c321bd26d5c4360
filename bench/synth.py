"""Synthetic events.toml files for the benchmark: deterministic, realistic.

``calendar_text(n)`` gives the same text on every machine for the same ``n``:
Italian titles and descriptions (with accents), 40 places with addresses and
coordinates, 16 categories, about 10% recurring events (weekly or monthly
rules with ``UNTIL`` or ``COUNT``, some with an ``exdate``), some all-day,
cancelled, online or free-text-location events.

    >>> text = calendar_text(50)
    >>> text.count("[[events]]"), text.count("rrule = ")
    (50, 5)
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

CATEGORIES = [
    "Patti di collaborazione", "Città aperta", "Laboratori", "Musica", "Teatro",
    "Sport e benessere", "Bambini e famiglie", "Anziani", "Ambiente", "Cucina",
    "Lingue e intercultura", "Orti urbani", "Volontariato", "Cinema", "Mercatini",
    "Assemblee",
]
QUARTIERI = [
    ("bagni-pubblici", "Bagni Pubblici di via Agliè", "Via Agliè 9, 10154 Torino", (45.0907, 7.6913)),
    ("cascina-roccafranca", "Cascina Roccafranca", "Via Edoardo Rubino 45, 10137 Torino", (45.0416, 7.6233)),
    ("casa-del-quartiere-san-salvario", "Casa del Quartiere di San Salvario", "Via Morgari 14, 10125 Torino", (45.0563, 7.6817)),
    ("cecchi-point", "Cecchi Point", "Via Antonio Cecchi 17, 10152 Torino", (45.0826, 7.6890)),
    ("casa-nel-parco", "Casa nel Parco", "Via Panetti 1, 10127 Torino", (45.0237, 7.6500)),
    ("hub-multiculturale", "Hub Multiculturale Cecchi Point", "Via Cecchi 17, 10152 Torino", (45.0828, 7.6893)),
    ("cascina-giajone", "Cascina Giajone", "Via Guido Reni 102, 10136 Torino", (45.0360, 7.6180)),
    ("casa-di-quartiere-vallette", "Casa di Quartiere Vallette", "Piazza Montale 18a, 10151 Torino", (45.1046, 7.6456)),
    ("barrito", "Il Barrito – Casa del Quartiere di Nizza Millefonti", "Via Tiziano 30, 10126 Torino", (45.0340, 7.6660)),
    ("casa-quartiere-latina", "Casa di Quartiere Latina", "Via Sezze, 04100 Latina", (41.4676, 12.9037)),
]
PLACE_KINDS = ["Biblioteca civica", "Giardino comunitario", "Centro d'incontro", "Oratorio", "Sala polivalente", "Piazzetta"]
STREETS = ["via Nizza", "corso Giulio Cesare", "via Po", "corso Regina Margherita", "via Sacchi", "piazza Benefica", "via Cibrario", "corso Vercelli", "via Madama Cristina", "largo Saluzzo"]
SUBJECTS = [
    "Laboratorio di cucito", "Incontro sui patti di collaborazione", "Cena condivisa", "Corso d'italiano per stranieri",
    "Ciclofficina popolare", "Cura del giardino", "Letture ad alta voce", "Concerto all'aperto", "Assemblea di quartiere",
    "Mercatino del riuso", "Cineforum", "Torneo di scacchi", "Yoga al parco", "Sportello energia", "Caffè filosofico",
    "Teatro dei burattini", "Pulizia del marciapiede", "Scambio di semi", "Tango per tutti", "Festa di primavera",
]
QUALIFIERS = [
    "per tutte le età", "con i bambini", "in lingua facile", "città più verde", "perché la piazza è di tutti",
    "— edizione speciale", "al tramonto", "e merenda sinoira", "a più voci", "per la comunità",
]
SENTENCES = [
    "L'ingresso è libero e gratuito, ma è gradita la prenotazione.",
    "Porta con te un'amica o un vicino: più siamo, meglio è.",
    "In caso di pioggia l'attività si svolgerà al coperto, nella sala grande.",
    "Un'occasione per conoscersi, scambiare idee e prendersi cura dei beni comuni.",
    "L'attività è accessibile alle persone con disabilità motoria; c'è un ascensore.",
    "Il materiale è fornito dall'associazione; chi può porti un contributo per la merenda.",
    "È prevista una breve introduzione, poi si lavora in piccoli gruppi.",
    "Perché la città è più bella quando la si cura insieme: partecipa anche tu!",
    "Al termine, aperitivo a offerta libera preparato dai volontari del quartiere.",
    "Per informazioni scrivi alla segreteria o passa al bancone di accoglienza.",
]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def _places(rng: random.Random) -> list[tuple[str, str, str, tuple[float, float] | None]]:
    places = list(QUARTIERI)
    for index in range(30):
        kind, street = PLACE_KINDS[index % len(PLACE_KINDS)], STREETS[index % len(STREETS)]
        slug = f"luogo-{index + 1:02d}"
        geo = (round(45.0 + rng.random() * 0.1, 4), round(7.6 + rng.random() * 0.1, 4)) if index % 3 else None
        places.append((slug, f"{kind} n. {index + 1}", f"{street.capitalize()} {index + 3}, 10100 Torino", geo))
    return places


def _text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _event(rng: random.Random, index: int, places: list, recurring: bool) -> list[str]:
    subject = SUBJECTS[rng.randrange(len(SUBJECTS))]
    title = f"{subject} {QUALIFIERS[rng.randrange(len(QUALIFIERS))]}"
    first = date(2024, 1, 1) + timedelta(days=rng.randrange(3 * 365))
    lines = ["[[events]]", f'id = "evento-{index:05d}"', f"title = {_text(title)}"]
    all_day = not recurring and rng.random() < 0.08
    if all_day:
        lines.append(f"start = {first.isoformat()}")
        if rng.random() < 0.5:
            lines.append(f"end = {(first + timedelta(days=rng.randrange(1, 3))).isoformat()}")
    else:
        start = datetime.combine(first, datetime.min.time()).replace(hour=rng.choice([9, 10, 15, 17, 18, 20, 21]), minute=rng.choice([0, 0, 30]))
        lines.append(f"start = {start.isoformat()}")
        if rng.random() < 0.5:
            lines.append(f"end = {(start + timedelta(minutes=rng.choice([60, 90, 120, 180]))).isoformat()}")
        else:
            lines.append(f'duration = "{rng.choice(["PT1H", "PT1H30M", "PT2H", "PT3H"])}"')
        if recurring:
            day = DAYS[first.weekday()]
            if rng.random() < 0.6:
                until = first + timedelta(weeks=rng.randrange(8, 40))
                lines.append(f'rrule = "FREQ=WEEKLY;BYDAY={day};UNTIL={until:%Y%m%d}"')
                if rng.random() < 0.5:
                    lines.append(f"exdates = [{(start + timedelta(weeks=2)).isoformat()}]")
            elif rng.random() < 0.5:
                lines.append(f'rrule = "FREQ=MONTHLY;COUNT={rng.randrange(3, 13)}"')
            else:
                lines.append(f'rrule = "FREQ=WEEKLY;INTERVAL=2;BYDAY={day};COUNT={rng.randrange(4, 26)}"')
    if rng.random() < 0.9:
        lines.append(f'place = "{places[rng.randrange(len(places))][0]}"')
    else:
        lines.append(f"location = {_text(f'Cortile di {STREETS[rng.randrange(len(STREETS))]} {rng.randrange(1, 200)}, Torino')}")
    chosen = rng.sample(CATEGORIES, rng.choice([1, 1, 2, 2, 3]))
    lines.append("categories = [" + ", ".join(_text(c) for c in chosen) + "]")
    paragraphs = [" ".join(rng.sample(SENTENCES, rng.randrange(1, 4))) for _ in range(rng.randrange(1, 3))]
    lines.append('description = """\n' + "\n\n".join(paragraphs) + '"""')
    if rng.random() < 0.3:
        lines.append(f'url = "https://www.casedelquartiere.example.org/eventi/{index:05d}"')
    if rng.random() < 0.1:
        lines.append('online = ["https://meet.example.org/quartiere"]')
    if rng.random() < 0.2:
        lines.append('organizer = { name = "Rete delle Case del Quartiere", email = "info@casedelquartiere.example.org" }')
    if rng.random() < 0.02:
        lines += ['status = "cancelled"', "sequence = 1"]
    updated = datetime.combine(first - timedelta(days=rng.randrange(3, 60)), datetime.min.time()).replace(hour=rng.randrange(8, 20))
    lines.append(f"updated = {updated.isoformat()}")
    return lines


def calendar_text(count: int, seed: int = 20240501) -> str:
    """An events.toml with ``count`` events (every tenth one recurring)."""
    rng = random.Random(seed)
    places = _places(rng)
    out = [
        f"# Synthetic calendar for calfeed's benchmark: {count} events (seed {seed}).",
        "",
        "[calendar]",
        'name = "Case del Quartiere — calendario di prova"',
        'description = "Eventi sintetici: laboratori, feste, assemblee e corsi delle Case del Quartiere."',
        'timezone = "Europe/Rome"',
        'base_url = "https://eventi.casedelquartiere.example.org"',
        'language = "it"',
        'refresh = "PT6H"',
        "",
    ]
    for slug, name, address, geo in places:
        out += [f"[places.{slug}]", f"name = {_text(name)}", f"address = {_text(address)}"]
        if geo:
            out.append(f"geo = [{geo[0]}, {geo[1]}]")
        out.append("")
    for index in range(count):
        out += _event(rng, index, places, recurring=index % 10 == 9)
        out.append("")
    return "\n".join(out)


def edited(text: str, round_: int) -> str:
    """The same calendar with one event's title changed (a one-event edit);
    the marker ``Modifica N`` tells the new version apart in the feed."""
    marker = 'id = "evento-00000"\ntitle = "'
    assert marker in text
    return text.replace(marker, f'{marker}Modifica {round_}: ', 1)
