"""<calfeed-events>' script and snippet over HTTP and in the static build
(the browser's view is in test_component_browser.py): a content-named
address kept for a year, an integrity hash of the bytes served, the snippet
of the chosen filter on /."""

from __future__ import annotations

import base64
import hashlib
import html
import re

import pytest

from conftest import SAMPLE
from calfeed import create_app
from calfeed.build import build_site
from calfeed.web.site import Site

BASE = "https://eventi.casedelquartiere.example.org"


@pytest.fixture
def client():
    return create_app({"EVENTS": str(SAMPLE), "TODAY": "2021-11-25"}).test_client()


def offered(client, query: str = "") -> str:
    page = client.get("/" + query).get_data(as_text=True)
    return html.unescape(re.search(r'<textarea id="component-code"[^>]*>(.*?)</textarea>', page, re.S).group(1))


def test_the_snippet_names_the_script_by_its_content_and_hash(client):
    snippet = offered(client)
    src = re.search(r'<script type="module" src="([^"]+)" integrity="([^"]+)" crossorigin="anonymous"></script>', snippet)
    assert src, snippet
    assert src.group(1).startswith(BASE + "/static/calfeed-events.")
    reply = client.get(src.group(1).removeprefix(BASE))
    assert reply.status_code == 200
    assert src.group(2) == "sha384-" + base64.b64encode(hashlib.sha384(reply.data).digest()).decode()
    assert hashlib.sha384(reply.data).hexdigest()[:16] in src.group(1)
    assert reply.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert reply.headers["Access-Control-Allow-Origin"] == "*"  # crossorigin="anonymous" needs it for the integrity check
    assert reply.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert client.get(src.group(1).removeprefix(BASE), headers={"If-None-Match": reply.headers["ETag"]}).status_code == 304
    assert client.get("/static/calfeed-events.0123456789abcdef.js").status_code == 404  # an older script's address


def test_the_snippet_carries_the_chosen_filter_and_a_fallback_link(client):
    snippet = offered(client, "?category=webinar&place=bagni-pubblici")
    element = snippet.split("\n")[1]
    assert element == (
        f'<calfeed-events src="{BASE}/" category="webinar" place="bagni-pubblici" limit="5" lang="it">'
        f'<a href="{BASE}/?category=webinar&amp;place=bagni-pubblici">'
        "Case del Quartiere e Patti di collaborazione: Webinar + Bagni Pubblici di via Agliè</a></calfeed-events>"
    )


def test_the_build_writes_the_script_the_snippet_names(tmp_path, client):
    out = tmp_path / "site"
    written = build_site(Site(create_app({"EVENTS": str(SAMPLE), "TODAY": "2021-11-25"})), out, workers=1)
    src = re.search(r'src="([^"]+\.js)"', offered(client)).group(1).removeprefix(BASE + "/")
    assert src in written
    assert (out / src).read_bytes() == client.get("/" + src).data
    assert src in html.unescape((out / "index.html").read_text(encoding="utf-8"))
