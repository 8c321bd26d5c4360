// Baseline (b): the same feed written with Node's ical-generator (pinned in
// bench/package.json and bench/package-lock.json), as a user would: parse
// events.toml (smol-toml), one event per entry, a VTIMEZONE from
// @touch4it/ical-timezones (ical-generator's documented generator), one file.
// Usage: TZ=UTC node ical_generator.mjs events.toml out.ics
// (TZ=UTC: ical-generator prints a Date's process-local fields next to a
// TZID, so wall-clock strings are parsed as UTC and printed back unchanged.)
import { readFileSync, writeFileSync } from "node:fs";
import { getVtimezoneComponent } from "@touch4it/ical-timezones";
import ical from "ical-generator";
import { parse } from "smol-toml";

const [source, target] = process.argv.slice(2);
const data = parse(readFileSync(source, "utf8"));
const info = data.calendar;
const zone = info.timezone ?? "Europe/Rome";
const host = new URL(info.base_url).host;
const places = data.places ?? {};

// A TOML local date or date-time, as the wall-clock text it was written as.
const wall = (value) => (typeof value === "string" ? value : value.toISOString().replace(/Z$/, "").replace(/\.000$/, ""));
const isDate = (value) => /^\d{4}-\d{2}-\d{2}$/.test(wall(value));
const dayAfter = (value) => new Date(Date.parse(wall(value)) + 86400000).toISOString().slice(0, 10);
const seconds = (text) => {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(text);
  return ((+m[1] || 0) * 24 * 60 + (+m[2] || 0) * 60 + (+m[3] || 0)) * 60 + (+m[4] || 0);
};
const repeating = (rule, exdates) => {
  const parts = Object.fromEntries(rule.split(";").map((part) => part.split("=")));
  const out = { freq: parts.FREQ };
  if (parts.COUNT) out.count = +parts.COUNT;
  if (parts.INTERVAL) out.interval = +parts.INTERVAL;
  if (parts.BYDAY) out.byDay = parts.BYDAY.split(",");
  if (parts.UNTIL) out.until = parts.UNTIL.replace(/^(\d{4})(\d{2})(\d{2})/, "$1-$2-$3");
  if (exdates?.length) out.exclude = exdates.map(wall);
  return out;
};

const calendar = ical({
  name: info.name,
  prodId: "//calfeed-bench//ical-generator//EN",
  method: "PUBLISH",
  timezone: { name: zone, generator: getVtimezoneComponent },
});
for (const entry of data.events ?? []) {
  const allDay = isDate(entry.start);
  const options = {
    id: `${entry.id}@${host}`,
    summary: entry.title,
    start: wall(entry.start),
    allDay,
    stamp: entry.updated ? wall(entry.updated) : "2000-01-01T00:00:00",
    status: (entry.status ?? "confirmed").toUpperCase(),
    sequence: entry.sequence ?? 0,
    timezone: allDay ? null : zone,
  };
  if (entry.end) options.end = allDay ? dayAfter(entry.end) : wall(entry.end);
  else if (entry.duration) options.end = new Date(Date.parse(wall(entry.start)) + seconds(entry.duration) * 1000);
  if (entry.rrule) options.repeating = repeating(entry.rrule, entry.exdates);
  if (entry.place) {
    const place = places[entry.place];
    options.location = { title: [place.name, place.address].filter(Boolean).join(", ") };
    if (place.geo) options.location.geo = { lat: place.geo[0], lon: place.geo[1] };
  } else if (entry.location) options.location = entry.location;
  if (entry.description) options.description = entry.description;
  if (entry.categories) options.categories = entry.categories.map((name) => ({ name }));
  if (entry.url) options.url = entry.url;
  if (entry.organizer) options.organizer = { name: entry.organizer.name, email: entry.organizer.email };
  if (entry.updated) options.lastModified = wall(entry.updated);
  calendar.createEvent(options);
}
writeFileSync(target, calendar.toString());
