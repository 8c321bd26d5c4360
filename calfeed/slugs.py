"""Slugs: the URL names of categories, places and events."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
_OTHER = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=4096)
def slugify(name: str) -> str:
    """The slug of a category name: lower case, accents removed, every run of
    other characters one ``-``.

    >>> slugify("Patti di collaborazione")
    'patti-di-collaborazione'
    >>> slugify("Città aperta")
    'citta-aperta'
    >>> slugify("  Musica & Teatro!! ")
    'musica-teatro'
    """
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii")
    return _OTHER.sub("-", ascii_only).strip("-")


def is_slug(text: str) -> bool:
    """Whether text may name an event or place in a URL.

    >>> is_slug("generare-prossimita"), is_slug("Festa"), is_slug("-x")
    (True, False, False)
    """
    return bool(SLUG_PATTERN.match(text))
