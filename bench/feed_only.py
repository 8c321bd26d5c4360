"""calfeed's compiler alone, as a whole process, for comparison with the
single-feed baselines: load and validate events.toml, write calendar.ics.

    python -m bench.feed_only events.toml out.ics
"""

import sys
from datetime import date
from pathlib import Path

from calfeed.published import FeedFilter, Published
from calfeed.validation import load_calendar


def main(source: str, target: str) -> None:
    published = Published(load_calendar(source))
    Path(target).write_bytes(published.feed(FeedFilter(), date.today()).data)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
