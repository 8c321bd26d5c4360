"""The command line: ``calfeed check``, ``serve`` and ``build`` drive the same
code as the web app; ``calfeed editors`` keeps the editors' accounts."""

from __future__ import annotations

import getpass
import os
import sys
from datetime import datetime
from pathlib import Path

import click

from calfeed.accounts import AccountError, Editors, LoginThrottle, check_password, editors_path
from calfeed.build import BuildFailed, BuildRefused, build_site
from calfeed.errors import CalendarErrors
from calfeed.heap import collections_paused
from calfeed.model import Calendar
from calfeed.timezones import zone
from calfeed.validation import load_calendar


def _default_events() -> str:
    return os.environ.get("CALFEED_EVENTS", "events.toml")


def _load(path: str) -> Calendar:
    try:
        return load_calendar(path, base_url=os.environ.get("CALFEED_BASE_URL"))
    except CalendarErrors as errors:
        click.echo(errors.report(), err=True)
        raise SystemExit(1) from None


def summary(path: str, calendar: Calendar) -> str:
    """The one line ``calfeed check`` prints for a good file."""
    events = calendar.events
    all_day = sum(event.all_day for event in events)
    cancelled = sum(event.status == "cancelled" for event in events)
    return (
        f"{path}: OK: {len(events)} events ({all_day} all-day, {cancelled} cancelled), "
        f"{len(calendar.places)} places, {len(calendar.categories)} categories"
    )


@click.group()
def cli() -> None:
    """calfeed: publish events.toml as iCalendar feeds."""


@cli.command()
@click.argument("path", required=False)
def check(path: str | None) -> None:
    """Validate events.toml: a summary, or every error with its place."""
    path = path or _default_events()
    click.echo(summary(path, _load(path)))


def editing_status(path: str, calendar: Calendar) -> str:
    """Whether ``/edit/`` is on, and what is missing when it is not."""
    from calfeed.web.editor.switch import editing, editors_file

    switch = editing(editors_file(path, os.environ.get("CALFEED_EDITORS")), os.environ.get("CALFEED_SECRET_KEY"))
    if not switch.on:
        return f"calfeed: editing in the browser (/edit/) is off: {switch.reason}"
    line = f"calfeed: editing in the browser (/edit/) is on: {switch.reason}"
    if not calendar.base_url.startswith("https://"):
        line += f"; WARNING: base_url {calendar.base_url} is not https, so passwords and sessions cross the network readable"
    return line


@cli.command()
@click.option("--events", "path", default=None, help="events.toml to serve (env CALFEED_EVENTS).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn worker processes.")
def serve(path: str | None, host: str, port: int, workers: int) -> None:
    """Serve the feeds with gunicorn; refuses to start on a bad file."""
    from gunicorn.app.base import BaseApplication

    from calfeed import create_app

    path = path or _default_events()
    calendar = _load(path)
    click.echo(editing_status(path, calendar), err=True)

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            if "control_socket_disable" in self.cfg.settings:
                # No shared ~/.gunicorn control socket between two calfeed servers.
                self.cfg.set("control_socket_disable", True)

        def load(self):
            return create_app({"EVENTS": path})

    Server().run()


@cli.command()
@click.argument("path", required=False)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder to write the site into.")
@click.option("--workers", default=None, type=click.IntRange(min=1), help="Processes writing files (default: one a core).")
def build(path: str | None, out: str, workers: int | None) -> None:
    """Write the whole site (feeds, pages, JSON, embed) as static files."""
    from calfeed import create_app
    from calfeed.web.site import Site

    path = path or _default_events()
    with collections_paused():
        calendar = _load(path)
    today = os.environ.get("CALFEED_TODAY") or datetime.now(zone(calendar.timezone)).date().isoformat()
    try:
        # The calendar checked above is the one built: the file is read once.
        site = Site(create_app({"EVENTS": path, "TODAY": today}, calendar=calendar))
        written = build_site(site, Path(out), workers)
    except (BuildRefused, BuildFailed) as problem:
        click.echo(f"calfeed build: {problem}", err=True)
        raise SystemExit(1) from None
    click.echo(f"{out}: {len(written)} files from {path}")


@cli.command(name="import")
@click.argument("source")
@click.option("--out", default="events.toml", show_default=True, type=click.Path(dir_okay=False), help="events.toml to write.")
@click.option("--merge", is_flag=True, help="Add to an existing --out, keeping its events (matched by UID) as they are.")
@click.option("--timezone", default=None, help="Zone of the local times written (default: the source's, else Europe/Rome).")
@click.option("--base-url", default=None, help="The public address of the calendar, for a new file.")
@click.option("--allow-private", is_flag=True, help="Also fetch from loopback and private addresses (a feed on your own network).")
def import_command(source: str, out: str, merge: bool, timezone: str | None, base_url: str | None, allow_private: bool) -> None:
    """Import an .ics file or an http(s) feed into events.toml."""
    from calfeed.importing import ImportFailed, import_calendar

    try:
        report = import_calendar(
            source, Path(out), merge=merge, timezone=timezone, base_url=base_url, allow_private=allow_private
        )
    except ImportFailed as failure:
        click.echo(f"calfeed import: {failure}", err=True)
        raise SystemExit(1) from None
    click.echo(f"{out}: {report.summary()}")


@cli.group()
def editors() -> None:
    """Editors who may change events in the browser (/edit/)."""


events_option = click.option(
    "--events", "events", default=None, help="events.toml; the editors file is beside it (env CALFEED_EVENTS, CALFEED_EDITORS)."
)
password_stdin = click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")


def _editors(events: str | None) -> Editors:
    try:
        return Editors.load(editors_path(events or _default_events(), os.environ.get("CALFEED_EDITORS")))
    except AccountError as error:
        _fail(error)


def _fail(error: AccountError) -> None:
    click.echo(f"calfeed editors: {error}", err=True)
    raise SystemExit(1)


def _count(found: Editors) -> str:
    count = len(found.names())
    return f"{count} editor" if count == 1 else f"{count} editors"


def _password(name: str, from_stdin: bool) -> str:
    """The new password: one line of standard input, or typed twice unseen."""
    if from_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    password = getpass.getpass(f"New password for {name} (at least 12 characters): ")
    check_password(password)  # say it now, not after typing it twice
    if getpass.getpass("The same password again: ") != password:
        raise AccountError("the two passwords differ; nothing changed")
    return password


@editors.command(name="add")
@click.argument("name")
@password_stdin
@events_option
def editors_add(name: str, password_stdin: bool, events: str | None) -> None:
    """Add the editor NAME with a password (asked twice, or --password-stdin)."""
    found = _editors(events)
    try:
        found.require_new(name)
        found.add(name, _password(name, password_stdin))
    except AccountError as error:
        _fail(error)
    click.echo(f"{found.path}: added {name} ({_count(found)})")


@editors.command(name="list")
@events_option
def editors_list(events: str | None) -> None:
    """List the editors' names."""
    found = _editors(events)
    for name in found.names():
        click.echo(name)
    if not found.names():
        click.echo(f"{found.path}: no editors; editing in the browser is off", err=True)


@editors.command(name="remove")
@click.argument("name")
@events_option
def editors_remove(name: str, events: str | None) -> None:
    """Remove the editor NAME."""
    found = _editors(events)
    try:
        found.remove(name)
    except AccountError as error:
        _fail(error)
    click.echo(f"{found.path}: removed {name} ({_count(found)})")


@editors.command(name="passwd")
@click.argument("name")
@password_stdin
@events_option
def editors_passwd(name: str, password_stdin: bool, events: str | None) -> None:
    """Set a new password for the editor NAME."""
    found = _editors(events)
    try:
        found.require(name)
        found.set_password(name, _password(name, password_stdin))
    except AccountError as error:
        _fail(error)
    click.echo(f"{found.path}: new password for {name}")


@editors.command(name="unlock")
@click.argument("name")
@events_option
def editors_unlock(name: str, events: str | None) -> None:
    """Let NAME log in again at once after too many failed logins."""
    found = _editors(events)
    LoginThrottle(found.path).unlock(name)
    click.echo(f"{name}: unlocked")
