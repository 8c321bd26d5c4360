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


def _entries(client, path: str, tag: str) -> dict[str, str | None]:
    """``loc`` → ``lastmod`` of a sitemap (tag "url") or an index (tag "sitemap"), checked as sitemaps.org says."""
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.content_type == "application/xml; charset=utf-8"
    root = etree.fromstring(response.data)
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}" + ("sitemapindex" if tag == "sitemap" else "urlset")
    items = root.findall("s:" + tag, NS)
    assert len(items) == len(root), "only <%s> inside" % tag
    assert all({child.tag.split("}")[1] for child in item} <= {"loc", "lastmod"} for item in items)
    found = {item.findtext("s:loc", namespaces=NS): item.findtext("s:lastmod", namespaces=NS) for item in items}
    assert len(found) == len(items), "each address once"
    return found


def _crawled(client, base: str) -> tuple[dict[str, str | None], dict[str, dict[str, str | None]]]:
    """What a crawler reads from /sitemap.xml: the index, and each child's pages."""
    index = _entries(client, "/sitemap.xml", "sitemap")
    return index, {loc: _entries(client, loc.removeprefix(base), "url") for loc in index}


def test_the_sitemap_is_an_index_whose_children_list_every_public_page_with_its_lastmod(client):
    index, children = _crawled(client, BASE)
    # Written by hand from events.toml (Rome is +01:00 in winter, +02:00 in summer).
    assert index == {BASE + "/sitemap-pages.xml": "2022-11-20T08:00:00+00:00",
                     BASE + "/sitemap-events-1.xml": "2022-11-20T08:00:00+00:00"}
    assert list(children[BASE + "/sitemap-pages.xml"]) == [BASE + "/", BASE + "/month", BASE + "/past"]
    pages = {loc: lastmod for child in children.values() for loc, lastmod in child.items()}
    ids = ["generare-prossimita", "assemblea-rete-case-quartiere", "corso-riparazione-biciclette", "pulizia-parco-dora",
           "festa-casa-quartiere-latina", "cineforum-bagni-pubblici", "laboratorio-patti-latina", "sportello-patti-latina"]
    assert set(pages) == {BASE + "/", BASE + "/month", BASE + "/past", *(f"{BASE}/events/{i}" for i in ids)}
    assert pages[BASE + "/"] == "2022-11-20T08:00:00+00:00"
    assert pages[f"{BASE}/events/generare-prossimita"] == "2021-11-20T09:00:00+00:00"
    assert pages[f"{BASE}/events/festa-casa-quartiere-latina"] == "2022-05-20T16:00:00+00:00"
    # A series' page changes with its overrides: the newest of their `updated`.
    assert pages[f"{BASE}/events/sportello-patti-latina"] == "2022-11-20T08:00:00+00:00"
    for url in pages:
        assert client.get(url.removeprefix(BASE) or "/").status_code == 200, url


def test_an_event_without_updated_has_no_lastmod(make_client):
    client = make_client('[[events]]\nid = "x"\ntitle = "X"\nstart = 2022-01-01\n')
    index, children = _crawled(client, "https://eventi.example.org")
    assert index == {"https://eventi.example.org/sitemap-pages.xml": None, "https://eventi.example.org/sitemap-events-1.xml": None}
    assert children["https://eventi.example.org/sitemap-events-1.xml"] == {"https://eventi.example.org/events/x": None}
    assert client.get("/sitemap-events-2.xml").status_code == 404


def test_a_calendar_without_events_lists_its_lists_alone(make_client):
    client = make_client("")
    index, children = _crawled(client, "https://eventi.example.org")
    assert list(index) == ["https://eventi.example.org/sitemap-pages.xml"]
    assert client.get("/sitemap-events-1.xml").status_code == 404


def _many(count: int) -> str:
    """``count`` events e-0001…; e-1234 the newest (12:00 in Rome's summer),
    e-2001 on without ``updated``, the rest at 01:00 on 1 January in Rome."""
    text = []
    for n in range(1, count + 1):
        text.append(f'[[events]]\nid = "e-{n:04}"\ntitle = "Evento {n}"\nstart = 2022-02-01T18:00:00\n')
        if n == 1234:
            text.append("updated = 2022-06-15T12:00:00\n")
        elif n <= 2000:
            text.append("updated = 2022-01-01T01:00:00\n")
    return "".join(text)


def test_events_are_split_a_thousand_a_child_and_adding_one_changes_only_the_last(write_events, tmp_path):
    base = "https://eventi.example.org"
    config = {"EVENTS": str(write_events(_many(2500))), "TODAY": "2022-01-15"}
    client = create_app(config).test_client()
    index, children = _crawled(client, base)
    assert index == {f"{base}/sitemap-pages.xml": "2022-06-15T10:00:00+00:00",
                     f"{base}/sitemap-events-1.xml": "2022-01-01T00:00:00+00:00",
                     f"{base}/sitemap-events-2.xml": "2022-06-15T10:00:00+00:00",
                     f"{base}/sitemap-events-3.xml": None}
    sizes = [len(children[f"{base}/sitemap-events-{n}.xml"]) for n in (1, 2, 3)]
    assert sizes == [1000, 1000, 500]
    union = [loc for child in children.values() for loc in child]
    assert set(union) == {f"{base}/", f"{base}/month", f"{base}/past", *(f"{base}/events/e-{n:04}" for n in range(1, 2501))}
    assert len(union) == 2503
    assert list(children[f"{base}/sitemap-events-2.xml"])[0] == f"{base}/events/e-1001"
    for wrong in ("0", "4", "01", "-1", "1x", "²", "9" * 5000):
        assert client.get(f"/sitemap-events-{wrong}.xml").status_code == 404, wrong
    before = [client.get(f"/sitemap-events-{n}.xml").data for n in (1, 2, 3)]
    added = _many(2500) + '[[events]]\nid = "nuovo"\ntitle = "Nuovo"\nstart = 2022-03-01\n'
    grown = create_app({**config, "EVENTS": str(write_events(added, "grown.toml"))}).test_client()
    after = [grown.get(f"/sitemap-events-{n}.xml").data for n in (1, 2, 3)]
    assert after[:2] == before[:2] and after[2] != before[2]
    assert f"{base}/events/nuovo".encode() in after[2]
    # The static build writes the index and every child, each as served, and no more.
    out = tmp_path / "site"
    build_site(Site(create_app(config)), out, workers=1)
    built = sorted(path.name for path in out.glob("sitemap*.xml"))
    assert built == ["sitemap-events-1.xml", "sitemap-events-2.xml", "sitemap-events-3.xml", "sitemap-pages.xml", "sitemap.xml"]
    for name in built:
        assert (out / name).read_bytes() == client.get("/" + name).data, name


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
    every = ("sitemap.xml", "sitemap-pages.xml", "sitemap-events-1.xml", "robots.txt")
    for path in ["/" + name for name in every]:
        first = client.get(path)
        assert first.headers["Access-Control-Allow-Origin"] == "*"
        assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    out = tmp_path / "site"
    build_site(Site(create_app({"EVENTS": str(SAMPLE), "TODAY": "2021-11-25"})), out, workers=1)
    for name in every:
        assert (out / name).read_bytes() == client.get("/" + name).data
