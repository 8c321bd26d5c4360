// Expands every VEVENT of an iCalendar file with Mozilla's ical.js (the
// parser inside Thunderbird) and prints one JSON object per occurrence that
// starts in [START, END).
//
//   node expand.mjs FILE.ics START END     (START, END: ISO UTC, e.g. 2022-01-01T00:00:00Z)
//
// Each line: {"uid", "start_utc", "end_utc", "recurrence_id_utc", "status",
// "summary", "exception", "orphan"}. Date-times are UTC ("2022-02-02T17:00:00Z"),
// all-day values plain dates ("2022-06-11"). recurrence_id_utc is null for an
// event that does not recur. "exception" says the occurrence comes from a
// RECURRENCE-ID component related to its master; "orphan" marks a
// RECURRENCE-ID component that no occurrence of its master matched.
//
// Every TZID must resolve to the file's own VTIMEZONE: ical.js has no zone
// database, and a TZID it cannot resolve silently becomes floating time, so
// the script stops with an error instead. Exit status 2 on any problem.

import { readFileSync } from "node:fs";
import ICAL from "ical.js";

// More occurrences than this for one event (in and before the window) is a
// runaway expansion, not a calendar: stop rather than hang.
const MAX_ITERATIONS = 20000;

function fail(message) {
  process.stderr.write(`expand.mjs: ${message}\n`);
  process.exit(2);
}

const [file, startArg, endArg] = process.argv.slice(2);
if (!file || !startArg || !endArg) {
  fail("usage: node expand.mjs FILE.ics START END (ISO UTC date-times)");
}
const windowStart = Date.parse(startArg);
const windowEnd = Date.parse(endArg);
if (Number.isNaN(windowStart) || Number.isNaN(windowEnd) || windowEnd <= windowStart) {
  fail(`bad window ${startArg} .. ${endArg}`);
}

let calendar;
try {
  calendar = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));
} catch (error) {
  fail(`cannot read ${file}: ${error.message}`);
}

// Register every VTIMEZONE of the file, so TZIDs resolve from the feed's own
// definitions (ical.js also finds them through the component tree).
ICAL.TimezoneService.reset();
const ownZones = new Map();
for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
  const zone = new ICAL.Timezone(vtimezone);
  if (!zone.tzid) {
    fail("a VTIMEZONE without TZID");
  }
  ICAL.TimezoneService.register(zone);
  ownZones.set(zone.tzid, vtimezone);
}

const TIME_PROPERTIES = ["dtstart", "dtend", "rdate", "exdate", "recurrence-id"];

/** Fails unless every local time of the VEVENT uses the file's VTIMEZONE of its TZID. */
function checkZones(vevent) {
  for (const name of TIME_PROPERTIES) {
    for (const property of vevent.getAllProperties(name)) {
      const tzid = property.getParameter("tzid");
      for (const value of property.getValues()) {
        const time = value instanceof ICAL.Period ? value.start : value;
        if (tzid === undefined || time.isDate) {
          continue;
        }
        const zone = time.zone;
        if (!ownZones.has(tzid)) {
          fail(`${name.toUpperCase()};TZID=${tzid}: the file has no VTIMEZONE for it`);
        }
        if (!zone || zone.tzid !== tzid || zone.component !== ownZones.get(tzid)) {
          fail(`${name.toUpperCase()};TZID=${tzid}: ical.js did not resolve it to the file's VTIMEZONE (got ${zone && zone.tzid})`);
        }
      }
    }
  }
}

function utc(time) {
  if (time.isDate) {
    return time.toString(); // all-day: the date itself
  }
  if (time.zone === ICAL.Timezone.localTimezone) {
    fail(`floating time ${time.toString()}: calfeed never writes one`);
  }
  return new Date(time.toUnixTime() * 1000).toISOString().replace(".000Z", "Z");
}

/** The instant used to compare with the window (an all-day date: its UTC midnight). */
function unixMs(time) {
  return time.isDate ? Date.parse(time.toString() + "T00:00:00Z") : time.toUnixTime() * 1000;
}

function inWindow(time) {
  const moment = unixMs(time);
  return moment >= windowStart && moment < windowEnd;
}

function status(event) {
  return event.component.getFirstPropertyValue("status") || null;
}

function emit(record) {
  process.stdout.write(JSON.stringify(record) + "\n");
}

const vevents = calendar.getAllSubcomponents("vevent");
vevents.forEach(checkZones);

// RECURRENCE-ID components by UID, to relate to their master.
const exceptionsByUid = new Map();
for (const vevent of vevents) {
  if (vevent.hasProperty("recurrence-id")) {
    const uid = vevent.getFirstPropertyValue("uid");
    if (!exceptionsByUid.has(uid)) {
      exceptionsByUid.set(uid, []);
    }
    exceptionsByUid.get(uid).push(new ICAL.Event(vevent));
  }
}

const masters = vevents.filter((vevent) => !vevent.hasProperty("recurrence-id"));
const seenUids = new Set();

for (const vevent of masters) {
  // exceptions: [] stops ical.js from relating every RECURRENCE-ID component
  // of the calendar whatever its UID; strictExceptions refuses a wrong UID.
  const event = new ICAL.Event(vevent, { strictExceptions: true, exceptions: [] });
  const uid = event.uid;
  if (seenUids.has(uid)) {
    fail(`two VEVENTs without RECURRENCE-ID share UID ${uid}`);
  }
  seenUids.add(uid);
  const exceptions = exceptionsByUid.get(uid) || [];
  for (const exception of exceptions) {
    event.relateException(exception);
  }
  exceptionsByUid.delete(uid);

  if (!event.isRecurring()) {
    if (exceptions.length) {
      fail(`${uid}: RECURRENCE-ID components for an event that does not recur`);
    }
    if (inWindow(event.startDate)) {
      emit({
        uid,
        start_utc: utc(event.startDate),
        end_utc: utc(event.endDate),
        recurrence_id_utc: null,
        status: status(event),
        summary: event.summary,
        exception: false,
        orphan: false,
      });
    }
    continue;
  }

  // Follow the series past the window's end and past every RECURRENCE-ID,
  // so an occurrence moved into the window from outside it is found too.
  let stopAt = windowEnd;
  for (const exception of exceptions) {
    stopAt = Math.max(stopAt, unixMs(exception.recurrenceId));
  }
  const matched = new Set();
  const iterator = event.iterator();
  let iterations = 0;
  for (let next = iterator.next(); next; next = iterator.next()) {
    if (unixMs(next) > stopAt) {
      break;
    }
    if (++iterations > MAX_ITERATIONS) {
      fail(`${uid}: more than ${MAX_ITERATIONS} occurrences before ${new Date(stopAt).toISOString()}`);
    }
    const details = event.getOccurrenceDetails(next);
    const isException = details.item !== event;
    if (isException) {
      matched.add(details.item);
    }
    if (!inWindow(details.startDate)) {
      continue;
    }
    emit({
      uid,
      start_utc: utc(details.startDate),
      end_utc: utc(details.endDate),
      recurrence_id_utc: utc(details.recurrenceId),
      status: status(details.item),
      summary: details.item.summary,
      exception: isException,
      orphan: false,
    });
  }
  for (const exception of exceptions) {
    if (!matched.has(exception) && inWindow(exception.startDate)) {
      emit({
        uid,
        start_utc: utc(exception.startDate),
        end_utc: utc(exception.endDate),
        recurrence_id_utc: utc(exception.recurrenceId),
        status: status(exception),
        summary: exception.summary,
        exception: true,
        orphan: true,
      });
    }
  }
}

// RECURRENCE-ID components whose master is not in the file.
for (const [uid, exceptions] of exceptionsByUid) {
  for (const exception of exceptions) {
    if (inWindow(exception.startDate)) {
      emit({
        uid,
        start_utc: utc(exception.startDate),
        end_utc: utc(exception.endDate),
        recurrence_id_utc: utc(exception.recurrenceId),
        status: status(exception),
        summary: exception.summary,
        exception: true,
        orphan: true,
      });
    }
  }
}
