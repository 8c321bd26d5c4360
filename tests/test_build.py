"""``calfeed build``: the static site is the same bytes the server sends."""

from __future__ import annotations

from click.testing import CliRunner

from calfeed.cli import cli
from conftest import SAMPLE, parse_both


def test_build_writes_every_feed_as_the_server_serves_it(tmp_path, client):
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", str(SAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.ics"))
    assert "calendar.ics" in files
    assert "categories/patti-di-collaborazione.ics" in files
    assert "places/bagni-pubblici.ics" in files
    assert "events/generare-prossimita.ics" in files
    assert len(files) == 1 + 7 + 3 + 8
    for name in files:
        served = client.get("/" + name).data
        assert (out / name).read_bytes() == served, name
        parse_both(served)


def test_rebuild_replaces_the_old_site_whole(tmp_path, write_events):
    out = tmp_path / "site"
    first = write_events('[[events]]\nid = "vecchio"\ntitle = "Vecchio"\nstart = 2022-01-01\n', name="a.toml")
    second = write_events('[[events]]\nid = "nuovo"\ntitle = "Nuovo"\nstart = 2022-01-02\n', name="b.toml")
    runner = CliRunner()
    assert runner.invoke(cli, ["build", str(first), "--out", str(out)]).exit_code == 0
    assert (out / "events/vecchio.ics").exists()
    assert runner.invoke(cli, ["build", str(second), "--out", str(out)]).exit_code == 0
    assert (out / "events/nuovo.ics").exists()
    assert not (out / "events/vecchio.ics").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.toml", "b.toml", "site"]  # no temp folders left


def test_bad_file_builds_nothing(tmp_path, write_events):
    out = tmp_path / "site"
    good = write_events('[[events]]\nid = "x"\ntitle = "X"\nstart = 2022-01-01\n', name="good.toml")
    bad = write_events('[[events]]\nid = "x"\nstart = 2022-01-01\n', name="bad.toml")
    runner = CliRunner()
    runner.invoke(cli, ["build", str(good), "--out", str(out)])
    before = (out / "calendar.ics").read_bytes()
    result = runner.invoke(cli, ["build", str(bad), "--out", str(out)])
    assert result.exit_code == 1
    assert "title: missing" in result.output
    assert (out / "calendar.ics").read_bytes() == before


def test_check_prints_a_summary(tmp_path):
    result = CliRunner().invoke(cli, ["check", str(SAMPLE)])
    assert result.exit_code == 0
    assert result.output.strip().endswith(
        "OK: 8 events (1 all-day, 1 cancelled), 3 places, 7 categories"
    )
    assert result.output.count("\n") == 1


def test_build_never_replaces_a_folder_it_did_not_write(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["build", str(SAMPLE), "--out", str(project)])
    assert result.exit_code == 1
    assert "was not written by calfeed build" in result.output
    assert sorted(p.name for p in project.iterdir()) == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert CliRunner().invoke(cli, ["build", str(SAMPLE), "--out", str(empty)]).exit_code == 0
    assert (empty / "calendar.ics").exists()


def test_the_built_site_has_every_page_and_its_links_resolve(tmp_path, monkeypatch):
    from urllib.parse import urlsplit

    from calfeed import create_app
    from calfeed.build import static_file
    from conftest import Page

    monkeypatch.setenv("CALFEED_TODAY", "2021-11-25")
    out = tmp_path / "site"
    assert CliRunner().invoke(cli, ["build", str(SAMPLE), "--out", str(out)]).exit_code == 0
    server = create_app({"EVENTS": str(SAMPLE), "TODAY": "2021-11-25"}).test_client()
    for path in ["/", "/past", "/embed", "/events.json", "/month/2021-12", "/events/generare-prossimita",
                 "/events/generare-prossimita/print", "/events/generare-prossimita/qr.svg", "/qr/categories/webinar.svg"]:
        assert (out / static_file(path)).read_bytes() == server.get(path).data, path
    assert "Mercoledì 1 dicembre 2021, 18:00–19:30" in Page((out / "events/generare-prossimita.html").read_bytes()).text
    broken = set()
    for html in out.rglob("*.html"):
        page = Page(html.read_bytes())
        targets = [href for _, href in page.links] + [i["src"] for i in page.all("img")]
        for target in targets:
            if target.startswith("/"):
                path = urlsplit(target).path
                if not (out / static_file(path)).exists():
                    broken.add((html.relative_to(out).as_posix(), target))
    assert not broken, sorted(broken)[:10]
