"""calfeed's compiler alone, as a whole process, for comparison with the
single-feed baselines: load and validate events.toml, write calendar.ics.
It prints where its time went (the bench reports the parse time of the file
from it): ``{"import": s, "parse": s, "validate": s, "compile": s}``.

    python -m bench.feed_only events.toml out.ics
"""

import time

started = time.perf_counter()

import json  # noqa: E402  (timed: the imports are part of the process's cost)
import sys  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

from calfeed import loading  # noqa: E402
from calfeed.published import FeedFilter, Published  # noqa: E402
from calfeed.validation import build_calendar  # noqa: E402


def main(source: str, target: str) -> None:
    marks = [("import", time.perf_counter())]
    parsed = loading.read(source)
    marks.append(("parse", time.perf_counter()))
    calendar = build_calendar(parsed)
    marks.append(("validate", time.perf_counter()))
    Path(target).write_bytes(Published(calendar).feed(FeedFilter(), date.today()).data)
    marks.append(("compile", time.perf_counter()))
    times, previous = {}, started
    for name, moment in marks:
        times[name], previous = round(moment - previous, 4), moment
    print(json.dumps(times))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
