"""<calfeed-events>, the web component partner sites paste: its script at an
address named by its content, so that browsers and proxies may keep it for a
year, and the snippet that loads it with its integrity hash."""

from __future__ import annotations

import base64
import hashlib
import html
from pathlib import Path

from flask import Blueprint, Response, abort

from calfeed.model import Calendar
from calfeed.published import Body, FeedFilter
from calfeed.web.http import current_calendar, feed_response

bp = Blueprint("component", __name__)

SCRIPT = Body((Path(__file__).parent.parent / "static" / "calfeed-events.js").read_bytes())
_DIGEST = hashlib.sha384(SCRIPT.data)
# Subresource Integrity: the browser refuses a script whose bytes differ.
INTEGRITY = "sha384-" + base64.b64encode(_DIGEST.digest()).decode("ascii")
# A changed script gets a new address; an old address answers 404, and the
# snippets still naming it show their fallback link.
PATH = f"/static/calfeed-events.{_DIGEST.hexdigest()[:16]}.js"
IMMUTABLE = "public, max-age=31536000, immutable"
LIMIT = 5


def script_tag(src: str) -> str:
    return f'<script type="module" src="{html.escape(src)}" integrity="{INTEGRITY}" crossorigin="anonymous"></script>'


def element(src: str, chosen: FeedFilter, language: str, fallback: str, label: str) -> str:
    """The <calfeed-events> element of a filter, with its fallback link."""
    filters = "".join(
        f' {name}="{html.escape(" ".join(sorted(slugs)))}"' for name, slugs in (("category", chosen.categories), ("place", chosen.places)) if slugs
    )
    return (
        f'<calfeed-events src="{html.escape(src)}"{filters} limit="{LIMIT}" lang="{language}">'
        f'<a href="{html.escape(fallback)}">{html.escape(label)}</a></calfeed-events>'
    )


def snippet(calendar: Calendar, chosen: FeedFilter, query: str, label: str) -> str:
    """What a partner pastes: the script, then the element."""
    site = calendar.base_url + "/"
    fallback = site + (f"?{query}" if query else "")
    return script_tag(calendar.base_url + PATH) + "\n" + element(site, chosen, calendar.language, fallback, label)


@bp.get("/static/calfeed-events.<version>.js")
def script(version: str) -> Response:
    """The component's script, kept for a year: its address changes with it."""
    if f"/static/calfeed-events.{version}.js" != PATH:
        abort(404)
    response = feed_response(SCRIPT, current_calendar(), "text/javascript; charset=utf-8")
    response.headers["Cache-Control"] = IMMUTABLE
    return response
