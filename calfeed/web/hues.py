"""Category colours: each category's slug picks one of a few accessible
colour pairs by a hash of its bytes, so a category keeps its colour across
pages, restarts, machines and static builds, and needs no setting."""

from __future__ import annotations

import zlib

# (text, background): each pair has a contrast of at least 4.5:1 (WCAG AA),
# and the text colour also reads on white (the month view's bars).
PALETTE = (
    ("#1d4e89", "#e3edf9"),  # blue
    ("#8a3b12", "#fbe9dc"),  # rust
    ("#2e6b30", "#e4f2e1"),  # green
    ("#6a3d9a", "#efe6f8"),  # violet
    ("#a1283b", "#fbe4e7"),  # crimson
    ("#00676b", "#dcf1f1"),  # teal
    ("#735400", "#f8efd4"),  # ochre
    ("#9c2a6e", "#f9e3f0"),  # magenta
)


def hue(slug: str) -> str:
    """The CSS class of a category's colour: a CRC-32 of its slug (the same
    on every machine, unlike Python's salted ``hash``) into the palette.

    >>> hue("webinar") == hue("webinar"), hue("webinar").startswith("hue-")
    (True, True)
    """
    return f"hue-{zlib.crc32(slug.encode()) % len(PALETTE)}"


# The palette's rules, once, for the pages' inline style.
CSS = "\n".join(
    f".hue-{n} {{ --hue: {text}; --hue-bg: {background}; }}" for n, (text, background) in enumerate(PALETTE)
)
