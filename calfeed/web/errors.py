"""Errors as short pages (or JSON for .json paths): never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("calfeed")


def _render(error: HTTPException) -> tuple[Response | str, int]:
    if request.path.endswith(".json"):
        response = jsonify(error=error.description, status=error.code)
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        response = render_template("error.html", error=error)
    return response, error.code or 500


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return _render(error)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("calfeed: unexpected error on %s", request.path)
        return _render(InternalServerError())
