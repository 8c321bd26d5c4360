"""The WSGI entry point for production servers: ``gunicorn wsgi:app``.

Reads ``CALFEED_EVENTS`` (default ./events.toml) and ``CALFEED_BASE_URL``.
"""

import sys

from calfeed import create_app
from calfeed.errors import CalendarErrors

try:
    app = create_app()
except CalendarErrors as errors:
    print(errors.report(), file=sys.stderr)
    # 4 is gunicorn's "app failed to load": the master stops instead of
    # restarting workers forever; any other server just sees a failure.
    sys.exit(4)
