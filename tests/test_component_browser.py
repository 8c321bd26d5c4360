"""<calfeed-events> in a real Chromium, on a partner's page.

calfeed runs under gunicorn (``servers.Server``) on a calendar written
below, today pinned to Monday 2 March 2026; the partner's pages come from a
tiny http.server on another 127.0.0.1 port (another origin), with hostile
CSS (``* { display: none !important }`` among others) and a serif font of
their own. The snippet pasted there is the one calfeed's home page offers.
The expected titles, dates and rules in words are written by hand from the
calendar below. Screenshots on a phone and a laptop go to
``test-artifacts/webcomponent/``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re

import pytest

from servers import Server, html_pages
from test_browser import ARTIFACTS as BROWSER_ARTIFACTS, TIMEOUT_MS, browser  # noqa: F401 - the fixture

ARTIFACTS = BROWSER_ARTIFACTS.parent / "webcomponent"
TODAY = "2026-03-02"

EVENTS = """\
[calendar]
name = "Eventi di Borgo Dora"
timezone = "Europe/Rome"
base_url = "https://example.org"
language = "it"

[places.bagni-pubblici]
name = "Bagni Pubblici di via Agliè"
address = "Via Agliè 9, 10154 Torino"

[places.cascina-roccafranca]
name = "Cascina Roccafranca"

[[events]]
id = "passato"
title = "Incontro già passato"
start = 2026-02-01T18:00:00
categories = ["Assemblea"]
place = "bagni-pubblici"

[[events]]
id = "corso-cucito"
title = "Corso di cucito"
start = 2026-01-07T17:00:00
end = 2026-01-07T19:00:00
rrule = "FREQ=WEEKLY;BYDAY=WE;UNTIL=2026-06-24"
categories = ["Corso"]
place = "cascina-roccafranca"

[[events]]
id = "assemblea-marzo"
title = "Assemblea di quartiere"
start = 2026-03-04T18:00:00
end = 2026-03-04T19:30:00
categories = ["Assemblea"]
place = "bagni-pubblici"

[[events]]
id = "festa-primavera"
title = "Festa di primavera"
start = 2026-03-07
end = 2026-03-08
categories = ["Festa"]
place = "cascina-roccafranca"

[[events]]
id = "webinar-patti"
title = "Webinar sui patti"
start = 2026-03-10T10:00:00
end = 2026-03-10T11:00:00
categories = ["Webinar"]
online = ["https://example.org/live"]

[[events]]
id = "assemblea-annullata"
title = "Assemblea straordinaria"
start = 2026-03-12T18:00:00
categories = ["Assemblea"]
place = "bagni-pubblici"
status = "cancelled"

[[events]]
id = "festa-aprile"
title = "Cena di aprile"
start = 2026-04-15T20:00:00
end = 2026-04-15T23:00:00
categories = ["Festa"]
place = "bagni-pubblici"
"""

# Each entry as a person reads it, written by hand: the date, the title, where, the rule.
CORSO = ("Mercoledì 4 marzo 2026, 17:00–19:00", "Corso di cucito", "Cascina Roccafranca", "ogni mercoledì, 17:00–19:00, fino al 24 giugno 2026")
ASSEMBLEA = ("Mercoledì 4 marzo 2026, 18:00–19:30", "Assemblea di quartiere", "Bagni Pubblici di via Agliè", None)
FESTA = ("Sabato 7 – domenica 8 marzo 2026", "Festa di primavera", "Cascina Roccafranca", None)
WEBINAR = ("Martedì 10 marzo 2026, 10:00–11:00", "Webinar sui patti", None, None)
ANNULLATA = ("Giovedì 12 marzo 2026, 18:00", "Assemblea straordinaria", "Bagni Pubblici di via Agliè", None)
CENA = ("Mercoledì 15 aprile 2026, 20:00–23:00", "Cena di aprile", "Bagni Pubblici di via Agliè", None)
IDS = {
    "Corso di cucito": "corso-cucito", "Assemblea di quartiere": "assemblea-marzo", "Festa di primavera": "festa-primavera",
    "Webinar sui patti": "webinar-patti", "Assemblea straordinaria": "assemblea-annullata", "Cena di aprile": "festa-aprile",
}

# The partner's own look: a serif font, colours for the component, and rules
# that would hide or break anything they reach.
HOSTILE = """\
* { display: none !important; visibility: hidden !important; color: red !important; }
html, body, main, h1, p { display: block !important; visibility: visible !important; color: #222 !important; }
body { font-family: "DejaVu Serif", serif; font-size: 18px; background: #fdf6e3; }
ul, li, a, span, time, div { display: none !important; letter-spacing: 1em !important; }
calfeed-events { --calfeed-accent: rgb(0, 100, 0); text-transform: uppercase; letter-spacing: .5em; }
"""


def partner_page(snippet: str, css: str = HOSTILE) -> bytes:
    return (
        "<!doctype html>\n<html lang=\"it\">\n<head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>Associazione partner</title><style>{css}</style></head>\n"
        f"<body><main><h1>Associazione partner</h1><p>I prossimi eventi del quartiere:</p>\n{snippet}\n</main></body></html>\n"
    ).encode("utf-8")


@pytest.fixture(scope="module")
def calfeed(tmp_path_factory):
    work = tmp_path_factory.mktemp("component")
    events = work / "events.toml"
    events.write_text(EVENTS, encoding="utf-8")
    server = Server(events, work, workers=1, env={"CALFEED_TODAY": TODAY}, own_base_url=True)
    try:
        server.wait_answering()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def partner():
    """A partner's site on another 127.0.0.1 port: the test puts its pages in ``pages``."""
    pages: dict[str, bytes] = {}
    with html_pages(pages) as origin:
        yield origin, pages


def offered_snippet(calfeed: Server, query: str = "") -> str:
    """The component's code that calfeed's home page offers to copy."""
    reply = calfeed.get("/" + query)
    assert reply.status == 200
    found = re.search(r'<textarea id="component-code"[^>]*>(.*?)</textarea>', reply.body.decode("utf-8"), re.S)
    assert found, "no component snippet on /"
    return html.unescape(found.group(1))


@pytest.fixture
def context(browser):  # noqa: F811 - test_browser's fixture
    made = browser.new_context(locale="it-IT", timezone_id="America/New_York", viewport={"width": 1000, "height": 900})
    made.set_default_timeout(TIMEOUT_MS)
    made.set_default_navigation_timeout(TIMEOUT_MS)
    made.route(lambda url: not url.startswith("http://127.0.0.1:"), lambda route: route.abort())
    try:
        yield made
    finally:
        made.close()


def entries(component) -> list[tuple]:
    """Each entry of a drawn component as (date, title, where, rule)."""
    component.locator("li").first.wait_for()
    found = []
    for item in component.locator("li").all():
        where, rule = item.locator(".where"), item.locator(".repeats")
        found.append((
            item.locator("time").inner_text(),
            item.locator(".title").inner_text(),
            where.inner_text() if where.count() else None,
            rule.inner_text() if rule.count() else None,
        ))
    return found


def test_the_offered_snippet_draws_the_next_events_on_a_hostile_page(context, calfeed, partner):
    origin, pages = partner
    snippet = offered_snippet(calfeed)
    pages["/"] = partner_page(snippet)
    context.add_cookies([{"name": "session", "value": "secret", "url": calfeed.url}])
    sent: dict[str, dict] = {}
    page = context.new_page()
    page.on("request", lambda request: sent.__setitem__(request.url, request.all_headers()))
    page.goto(origin + "/")
    component = page.locator("calfeed-events")

    # Limit 5 in the snippet; the weekly course once, at its next date, with its rule.
    assert entries(component) == [CORSO, ASSEMBLEA, FESTA, WEBINAR, ANNULLATA]
    assert component.locator("li.cancelled .badge").inner_text() == "Annullato"
    links = component.locator("li a")
    assert [links.nth(i).get_attribute("href") for i in range(5)] == [
        f"{calfeed.url}/events/{IDS[entry[1]]}" for entry in (CORSO, ASSEMBLEA, FESTA, WEBINAR, ANNULLATA)
    ]
    assert component.get_by_role("link", name="Tutti gli eventi").get_attribute("href") == calfeed.url + "/"

    # The hostile CSS reached neither the host's display nor the list; the
    # partner's font and the accent colour it chose came in.
    assert links.first.is_visible() and component.locator("li").nth(4).is_visible()
    assert component.get_by_role("link", name="Eventi di Borgo Dora").is_hidden()  # the fallback, replaced
    style = component.locator(".calfeed").evaluate("box => getComputedStyle(box)")
    assert "DejaVu Serif" in style["fontFamily"] and style["fontSize"] == "18px"
    assert style["letterSpacing"] == "normal" and style["textTransform"] == "none"
    assert links.first.evaluate("a => getComputedStyle(a).color") == "rgb(0, 100, 0)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hostile-page.png"), full_page=True)

    # No cookie went to calfeed, though the browser holds one for it.
    calls = {url: headers for url, headers in sent.items() if url.startswith(calfeed.url)}
    assert any("/events.json?" in url for url in calls) and any("/static/calfeed-events." in url for url in calls)
    assert [url for url, headers in calls.items() if "cookie" in headers] == []
    with page.expect_request(calfeed.url + "/healthz") as control:
        page.goto(calfeed.url + "/healthz")
    assert control.value.all_headers().get("cookie") == "session=secret"  # the observation sees cookies

    # A link opens the event's page.
    page.goto(origin + "/")
    component.get_by_role("link", name="Webinar sui patti").click()
    page.wait_for_url(f"{calfeed.url}/events/webinar-patti")
    assert page.get_by_role("heading", level=1).inner_text() == "Webinar sui patti"


def test_filters_limit_and_language(context, calfeed, partner):
    origin, pages = partner
    script = offered_snippet(calfeed).split("\n")[0]
    pages["/filters"] = partner_page(script + f"""
<calfeed-events id="festa" src="{calfeed.url}/" category="festa"><a href="{calfeed.url}/">Eventi</a></calfeed-events>
<calfeed-events id="bagni" src="{calfeed.url}" place="bagni-pubblici" limit="2"><a href="{calfeed.url}/">Eventi</a></calfeed-events>
<calfeed-events id="two" src="{calfeed.url}/" category="festa webinar" limit="2"><a href="{calfeed.url}/">Eventi</a></calfeed-events>
<calfeed-events id="english" src="{calfeed.url}/" category="corso assemblea" lang="en"><a href="{calfeed.url}/">Events</a></calfeed-events>
<calfeed-events id="none" src="{calfeed.url}/" category="assemblea" place="cascina-roccafranca"><a href="{calfeed.url}/">Eventi</a></calfeed-events>
<p lang="en-GB"><calfeed-events id="page-lang" src="{calfeed.url}/" category="webinar"><a href="{calfeed.url}/">Events</a></calfeed-events></p>
""")
    page = context.new_page()
    page.goto(origin + "/filters")
    assert entries(page.locator("#festa")) == [FESTA, CENA]
    assert entries(page.locator("#bagni")) == [ASSEMBLEA, ANNULLATA]
    assert entries(page.locator("#two")) == [FESTA, WEBINAR]
    assert page.locator("#festa").get_by_role("link", name="Tutti gli eventi").get_attribute("href") == calfeed.url + "/?category=festa"
    english = page.locator("#english")
    assert entries(english) == [
        ("Wednesday, March 4, 2026, 17:00–19:00", "Corso di cucito", "Cascina Roccafranca", "every Wednesday, 17:00–19:00, until 24 June 2026"),
        ("Wednesday, March 4, 2026, 18:00–19:30", "Assemblea di quartiere", "Bagni Pubblici di via Agliè", None),
        ("Thursday, March 12, 2026, 18:00", "Assemblea straordinaria", "Bagni Pubblici di via Agliè", None),
    ]
    assert english.locator(".badge").inner_text() == "Cancelled"
    assert english.get_by_role("link", name="All events").is_visible()
    assert english.locator(".calfeed").get_attribute("lang") == "en"
    none = page.locator("#none")
    none.get_by_role("link", name="Tutti gli eventi").wait_for()
    assert none.locator("li").count() == 0 and none.get_by_text("Nessun evento in programma.").is_visible()
    # Without its own lang, the page's language around it.
    assert entries(page.locator("#page-lang")) == [("Tuesday, March 10, 2026, 10:00–11:00", "Webinar sui patti", None, None)]


def test_an_unreadable_calendar_leaves_the_link(context, calfeed, partner):
    origin, pages = partner
    script = offered_snippet(calfeed).split("\n")[0]
    pages["/gone"] = partner_page(
        script + f'<calfeed-events src="{origin}/no-calendar-here/"><a href="{calfeed.url}/">Eventi di Borgo Dora</a></calfeed-events>',
        css="body { font-family: serif; }",
    )
    page = context.new_page()
    with page.expect_response(f"{origin}/no-calendar-here/events.json?series=once&limit=5") as answer:
        page.goto(origin + "/gone")
    assert answer.value.status == 404
    page.wait_for_function("document.querySelector('calfeed-events').shadowRoot !== null")
    assert page.get_by_role("link", name="Eventi di Borgo Dora").is_visible()
    assert page.locator("calfeed-events li").count() == 0


def test_a_tampered_script_is_refused_and_the_link_stays(context, calfeed, partner):
    origin, pages = partner
    snippet = offered_snippet(calfeed)
    src = re.search(r'src="([^"]+\.js)"', snippet).group(1)
    served = calfeed.get(src.removeprefix(calfeed.url))
    integrity = re.search(r'integrity="([^"]+)"', snippet).group(1)
    assert integrity == "sha384-" + base64.b64encode(hashlib.sha384(served.body).digest()).decode()
    pages["/tampered"] = partner_page(snippet, css="body { font-family: serif; }")
    tampered = served.body.replace(b"Tutti gli eventi", b"Tutti gli eventi!")
    assert tampered != served.body
    context.route(src, lambda route: route.fulfill(
        status=200, body=tampered, headers={"Content-Type": "text/javascript", "Access-Control-Allow-Origin": "*"}
    ))
    refusals: list[str] = []
    page = context.new_page()
    page.on("console", lambda message: refusals.append(message.text) if "integrity" in message.text else None)
    with page.expect_event("console", lambda message: "integrity" in message.text):
        page.goto(origin + "/tampered")
    fallback = page.get_by_role("link", name="Eventi di Borgo Dora")
    assert page.evaluate("customElements.get('calfeed-events')") is None
    assert page.locator("calfeed-events").evaluate("host => host.shadowRoot") is None
    assert fallback.is_visible() and fallback.get_attribute("href") == calfeed.url + "/"
    assert refusals, "Chromium did not report the integrity failure"


def test_without_javascript_the_link_is_there(browser, calfeed, partner):  # noqa: F811
    origin, pages = partner
    pages["/plain"] = partner_page(offered_snippet(calfeed, "?category=festa"), css="body { font-family: serif; }")
    context = browser.new_context(java_script_enabled=False)
    try:
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto(origin + "/plain")
        fallback = page.get_by_role("link", name="Eventi di Borgo Dora: Festa")
        assert fallback.is_visible()
        assert fallback.get_attribute("href") == calfeed.url + "/?category=festa"
        assert page.locator("calfeed-events li").count() == 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "without-javascript.png"))
    finally:
        context.close()


def test_the_preview_on_the_home_page_works_under_calfeeds_policy(context, calfeed):
    problems: list[str] = []
    page = context.new_page()
    page.on("console", lambda message: problems.append(message.text) if message.type in ("error", "warning") else None)
    reply = page.goto(calfeed.url + "/?category=festa")
    assert "script-src 'self'" in reply.headers["content-security-policy"]
    page.get_by_text("Anteprima").click()  # the preview is folded: the page's own list comes first
    preview = page.locator(".component-preview calfeed-events")
    assert entries(preview) == [FESTA, CENA]
    assert problems == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator(".component-preview").screenshot(path=str(ARTIFACTS / "home-preview.png"))


@pytest.mark.parametrize("name, viewport", [("phone", {"width": 390, "height": 844}), ("laptop", {"width": 1366, "height": 768})])
def test_screenshots(browser, calfeed, partner, name, viewport):  # noqa: F811
    origin, pages = partner
    css = "body { font-family: 'DejaVu Serif', serif; max-width: 40rem; margin: 1rem auto; padding: 0 1rem; color: #2b2b2b; }" \
          " calfeed-events { --calfeed-accent: #8a3b12; --calfeed-muted: #5c5c5c; border: 1px solid #e0d6c8; padding: .5rem 1rem; }"
    pages["/look"] = partner_page(offered_snippet(calfeed), css=css)
    context = browser.new_context(viewport=viewport, device_scale_factor=2 if name == "phone" else 1)
    try:
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto(origin + "/look")
        assert len(entries(page.locator("calfeed-events"))) == 5
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 0
    finally:
        context.close()
