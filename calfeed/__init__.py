"""calfeed: one hand-edited events.toml, served as iCalendar feeds.

``create_app`` is the Flask application factory; Flask stays at this edge and
in ``calfeed.web``, while loading, validation and compiling know nothing of HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from calfeed.model import Calendar
from calfeed.published import Published

if TYPE_CHECKING:
    from flask import Flask


class Loaded:
    """One calendar, already validated, served as it is (``calfeed build``
    checks the file once and renders from the calendar it got)."""

    def __init__(self, calendar: Calendar):
        self.published = Published(calendar)

    def current(self) -> Published:
        return self.published


def create_app(test_config: dict[str, Any] | None = None, calendar: Calendar | None = None) -> Flask:
    """The web app for one events.toml, or for ``calendar`` when given.

    Configuration comes in layers: defaults, then ``CALFEED_*`` environment
    variables (``CALFEED_EVENTS``, ``CALFEED_BASE_URL``), then ``test_config``.
    Raises ``CalendarErrors`` when the file is bad: the service does not start
    on a calendar it cannot serve.
    """
    # Imported here, not above: a program that only compiles feeds (``import
    # calfeed.published``) does not pay for Flask and the store, a fifth of its time.
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from calfeed.store import SETTLE_SECONDS, CalendarStore
    from calfeed.web import api, component, editor, errors, fastpath, feeds, month, pages, proposals, qr, security, status

    # No static folder: the one script is served by a view, with an ETag
    # from its content (file times differ between machines).
    app = Flask(__name__, static_folder=None)
    app.config.from_mapping(EVENTS="events.toml", BASE_URL=None, RELOAD_SETTLE=SETTLE_SECONDS, RELOAD_SIGNAL="on", TODAY=None, TRUSTED_PROXIES="0")
    app.config.from_prefixed_env("CALFEED", loads=str)
    if test_config:
        app.config.update(test_config)

    app.extensions["calfeed"] = Loaded(calendar) if calendar is not None else CalendarStore(
        app.config["EVENTS"],
        base_url=app.config["BASE_URL"],
        settle=float(app.config["RELOAD_SETTLE"]),
        signal=str(app.config["RELOAD_SIGNAL"]).lower() != "off",  # off: always wait for the file to settle
        warm=lambda published: feeds.compile_main_feed(published, app.config),
    )

    app.register_blueprint(api.bp)
    app.register_blueprint(component.bp)
    app.register_blueprint(month.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(qr.bp)
    app.register_blueprint(status.bp)
    editor.register(app)
    proposals.register(app)
    errors.register(app)
    security.register(app)
    app.wsgi_app = fastpath.FeedFastPath(app, app.wsgi_app)  # type: ignore[method-assign]
    proxies = int(app.config["TRUSTED_PROXIES"] or 0)
    if proxies:
        # The client's address, as counted by the login limits, is the one the
        # trusted proxies (nginx) put in X-Forwarded-For, not the proxy's own.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    return app
