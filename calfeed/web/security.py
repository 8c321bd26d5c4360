"""Headers that keep the pages safe to show: what they may load, who may frame them."""

from __future__ import annotations

from flask import Flask, Response, request

# Pages load only their own script and styles, and fetch only their own site
# (the preview of <calfeed-events> on /; Lighthouse reads robots.txt that way,
# and fails SEO when the policy forbids it); images may come from events' https URLs.
_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' https: data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
)
EMBED_PATH = "/embed"
EDIT_PREFIX = "/edit/"


def register(app: Flask) -> None:
    @app.after_request
    def protect(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        if response.mimetype == "text/html":
            embed = request.path == EMBED_PATH
            # Partner sites may frame the embed, and nothing else.
            response.headers["Content-Security-Policy"] = _PAGE_POLICY.format(ancestors="*" if embed else "'none'")
            if not embed:
                response.headers["X-Frame-Options"] = "DENY"
        elif response.mimetype == "image/svg+xml":
            response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
        if request.path.startswith(EDIT_PREFIX):
            # Every editor answer, a redirect or a 404 included: never kept by a
            # cache or a shared browser, never framed (clickjacking a save).
            response.headers["Cache-Control"] = "no-store"
            response.headers["Content-Security-Policy"] = _PAGE_POLICY.format(ancestors="'none'")
            response.headers["X-Frame-Options"] = "DENY"
        return response
