"""Errors as short pages (or JSON for .json paths) in the calendar's
language: never a stack trace, never a 500 for what a client sends."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from calfeed.web.http import current_calendar, refuse
from calfeed.web.i18n import error_texts, strings

log = logging.getLogger("calfeed")


def _language() -> str:
    try:
        return current_calendar().calendar.language
    except Exception:  # the error may be the calendar's own: the page still gets made
        return "it"


def _render(error: HTTPException) -> tuple[Response | str, int, list[tuple[str, str]]]:
    status = error.code or 500
    language = _language()
    title, text = error_texts(language, status)
    # werkzeug's own descriptions (an unknown path, a wrong method) are English: ours replace them.
    if error.description and error.description != type(error).description:
        text = error.description
    if request.path.endswith(".json"):
        response = jsonify(error=text, status=status)
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        response = render_template("error.html", lang=language, t=SimpleNamespace(**strings(language)), status=status, title=title, text=text)
    # What werkzeug's own answer would carry besides its body (a 405's Allow,
    # which RFC 9110 requires; a 401's WWW-Authenticate).
    extra = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    return response, status, extra


def register(app: Flask) -> None:
    @app.before_request
    def readable_query() -> None:
        # PEP 3333 servers pass the query as latin-1 text of its raw bytes;
        # werkzeug reads it as UTF-8 on first use, which fails on other bytes.
        try:
            request.query_string.decode()
        except UnicodeDecodeError:
            refuse(current_calendar(), 400, "bad_query")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return _render(error)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("calfeed: unexpected error on %s", request.path)
        return _render(InternalServerError())
