"""The serve benchmark's floor: a bare Flask app under the same gunicorn,
answering /calendar.ics from prebuilt bytes (``BENCH_FEED``, a file written
by ``calfeed build``). It does only what any feed server must: the same
headers as calfeed, 304 on a matching If-None-Match, gzip bytes made once
at start. ``gunicorn bench.floor_app:app``.
"""

import gzip
import hashlib
import os

from flask import Flask, Response, request

DATA = open(os.environ["BENCH_FEED"], "rb").read()
GZIPPED = gzip.compress(DATA, compresslevel=6, mtime=0)
ETAG = '"' + hashlib.sha256(DATA).hexdigest()[:32] + '"'
GZIP_ETAG = ETAG[:-1] + '-gzip"'
HEADERS = {
    "Last-Modified": os.environ.get("BENCH_LAST_MODIFIED", "Mon, 01 Jan 2024 00:00:00 GMT"),
    "Cache-Control": "public, max-age=21600",
    "Vary": "Accept-Encoding",
    "Access-Control-Allow-Origin": "*",
}
CALENDAR_TYPE = "text/calendar; charset=utf-8"

app = Flask(__name__)


@app.get("/calendar.ics")
def calendar_ics() -> Response:
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "")
    headers = {**HEADERS, "ETag": GZIP_ETAG if gzipped else ETAG}
    if request.headers.get("If-None-Match") == headers["ETag"]:
        return Response(status=304, headers=headers)
    if gzipped:
        return Response(GZIPPED, content_type=CALENDAR_TYPE, headers={**headers, "Content-Encoding": "gzip"})
    return Response(DATA, content_type=CALENDAR_TYPE, headers=headers)
