// Parse an iCalendar feed with Mozilla's ical.js (the parser inside Thunderbird) and print
// JSON: the calendar's properties and, for each VEVENT, its UID, UTC start/end and zone.
//
// Usage: node parse_feed.mjs FILE.ics
//
// Only the feed's own VTIMEZONE components define the zones (ical.js 2 finds them in the
// component tree; registering them as well covers the global lookup), so a TZID resolves
// through the definition we publish, not a built-in zone database. An unresolved TZID makes
// ical.js fall back to floating time; we report each time's zone so the tests catch that.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const text = readFileSync(process.argv[2], "utf8");
const root = new ICAL.Component(ICAL.parse(text));

for (const vtimezone of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(new ICAL.Timezone(vtimezone));
}

const utc = (time) => time.toJSDate().toISOString();

const events = root.getAllSubcomponents("vevent").map((vevent) => {
  const event = new ICAL.Event(vevent);
  return {
    uid: event.uid,
    start: utc(event.startDate),
    end: utc(event.endDate),
    start_zone: event.startDate.zone.tzid,
    end_zone: event.endDate.zone.tzid,
    summary: event.summary,
    sequence: event.sequence,
    status: vevent.getFirstPropertyValue("status"),
    attendees: event.attendees.map((p) => ({
      cn: p.getParameter("cn"),
      value: p.getFirstValue(),
    })),
  };
});

const calendar = {};
for (const name of ["version", "prodid", "calscale", "method", "name", "x-wr-calname", "color"]) {
  const value = root.getFirstPropertyValue(name);
  calendar[name] = value === null ? null : String(value);
}

process.stdout.write(JSON.stringify({ calendar, events }, null, 1) + "\n");
