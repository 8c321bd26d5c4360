"""/sitemap.xml and /robots.txt, read as a search engine reads them: the
sitemap with an XML parser, robots.txt with the standard library's robots parser."""

from __future__ import annotations

from urllib.robotparser import RobotFileParser

from lxml import etree

from calfeed import create_app
from calfeed.build import build_site
from calfeed.web.site import Site
from conftest import SAMPLE

BASE = "https://eventi.casedelquartiere.example.org"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def test_the_sitemap_lists_every_public_page_with_its_lastmod(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.content_type == "application/xml; charset=utf-8"
    root = etree.fromstring(response.data)
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    pages = {url.findtext("s:loc", namespaces=NS): url.findtext("s:lastmod", namespaces=NS) for url in root.findall("s:url", NS)}
    ids = ["generare-prossimita", "assemblea-rete-case-quartiere", "corso-riparazione-biciclette", "pulizia-parco-dora",
           "festa-casa-quartiere-latina", "cineforum-bagni-pubblici", "laboratorio-patti-latina", "sportello-patti-latina"]
    assert set(pages) == {BASE + "/", BASE + "/month", BASE + "/past", *(f"{BASE}/events/{i}" for i in ids)}
    assert len(root.findall("s:url", NS)) == len(pages)
    # Written by hand from events.toml (Rome is +01:00 in winter, +02:00 in summer).
    assert pages[BASE + "/"] == "2022-11-20T08:00:00+00:00"
    assert pages[f"{BASE}/events/generare-prossimita"] == "2021-11-20T09:00:00+00:00"
    assert pages[f"{BASE}/events/festa-casa-quartiere-latina"] == "2022-05-20T16:00:00+00:00"
    # A series' page changes with its overrides: the newest of their `updated`.
    assert pages[f"{BASE}/events/sportello-patti-latina"] == "2022-11-20T08:00:00+00:00"
    for url in pages:
        assert client.get(url.removeprefix(BASE) or "/").status_code == 200, url


def test_an_event_without_updated_has_no_lastmod(make_client):
    client = make_client('[[events]]\nid = "x"\ntitle = "X"\nstart = 2022-01-01\n')
    root = etree.fromstring(client.get("/sitemap.xml").data)
    urls = root.findall("s:url", NS)
    assert [u.findtext("s:loc", namespaces=NS) for u in urls][-1] == "https://eventi.example.org/events/x"
    assert all(u.find("s:lastmod", NS) is None for u in urls)


def test_robots_allows_the_public_pages_and_the_login_not_the_editor_and_names_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.content_type == "text/plain; charset=utf-8"
    robots = RobotFileParser()
    robots.parse(response.data.decode().splitlines())
    public = ["/", "/month", "/past", "/events/generare-prossimita", "/propose", "/feed.rss", "/calendar.ics"]
    for path in [*public, "/edit/login"]:
        assert robots.can_fetch("Googlebot", BASE + path), path
    for path in ["/edit/", "/edit/events/new", "/edit/history"]:
        assert not robots.can_fetch("Googlebot", BASE + path), path
    assert robots.site_maps() == [BASE + "/sitemap.xml"]


def test_both_are_cached_like_the_feeds_and_built_as_served(tmp_path, client):
    for path in ("/sitemap.xml", "/robots.txt"):
        first = client.get(path)
        assert first.headers["Access-Control-Allow-Origin"] == "*"
        assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    out = tmp_path / "site"
    build_site(Site(create_app({"EVENTS": str(SAMPLE), "TODAY": "2021-11-25"})), out, workers=1)
    for name in ("sitemap.xml", "robots.txt"):
        assert (out / name).read_bytes() == client.get("/" + name).data
