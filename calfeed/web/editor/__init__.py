"""The editor in the browser (``/edit/``): sessions, CSRF and the switch that
keeps every ``/edit/...`` path a 404 until an editor and a secret exist."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

from calfeed.web.editor import imports  # noqa: F401 (its routes join bp)
from calfeed.web.editor import proposals as _queue  # noqa: F401  (its routes join ``bp``)
from calfeed.web.editor.views import Editing, bp
from calfeed.web.editor import places as _places  # noqa: F401  (its routes join bp)
from calfeed.web.editor import dates as _dates  # noqa: F401  (its routes join bp)
from calfeed.web.http import current_calendar
from calfeed.web.security import EDIT_PREFIX

SESSION_HOURS = 12
PROPOSE_PATH = "/propose"


def _proposing() -> bool:
    return request.path == PROPOSE_PATH or request.path.startswith(PROPOSE_PATH + "/")


class EditorSessions(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the calendar's base_url is
    https, read per request: a ``base_url`` changed in the file counts at once.
    ``/propose`` keeps its CSRF token in a cookie of its own, sent to
    ``/propose`` only: no editor's session there, no cookie on other pages."""

    def get_cookie_name(self, app: Flask) -> str:
        return "calfeed_propose" if _proposing() else super().get_cookie_name(app)

    def get_cookie_path(self, app: Flask) -> str:
        return PROPOSE_PATH if _proposing() else super().get_cookie_path(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        if not request.path.startswith(EDIT_PREFIX) and not _proposing():  # asked on every response, cookie or not
            return False
        return current_calendar().calendar.base_url.startswith("https://")


def register(app: Flask) -> None:
    """The editor's blueprint, always registered: its guard answers 404
    while editing is off, so the switch needs no restart to turn on."""
    app.config.update({
        "SESSION_COOKIE_NAME": "calfeed_edit",
        "SESSION_COOKIE_PATH": "/edit/",  # public pages never see it, so caches can share them
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=SESSION_HOURS),
        # The guard checks tokens on /edit/ only (the public pages take no POST).
        "WTF_CSRF_CHECK_DEFAULT": False,
        # A token lives as long as its session: a long form still saves.
        "WTF_CSRF_TIME_LIMIT": None,
    })
    app.session_interface = EditorSessions()
    csrf = app.extensions.get("csrf") or CSRFProtect(app)
    app.extensions["calfeed.editor"] = Editing(
        Path(app.config["EVENTS"]), app.config.get("EDITORS"), app.config.get("BASE_URL"), csrf
    )
    app.register_blueprint(bp)
