"""Render calendar feeds as iCalendar (RFC 5545 with RFC 7986 extensions).

Pure and deterministic: no Flask, no database, no clock. The same `FeedCalendar` always gives
the same bytes, so a feed can be cached and served with a strong ETag. Times are written in
local time with a TZID and a VTIMEZONE built from yearly RRULEs, which is the form that
Outlook, Google, Apple Calendar and Thunderbird (ical.js) all read the same way.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import (
    Calendar,
    Component,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vDuration,
)

__all__ = [
    "DEFAULT_TZ",
    "PRODID",
    "FeedCalendar",
    "FeedEvent",
    "etag_for",
    "render_feed",
    "vtimezone",
]

PRODID = "-//sel-time//protected time//EN"
DEFAULT_TZ = "Europe/London"
DEFAULT_COLOUR = "teal"

Status = Literal["CONFIRMED", "CANCELLED"]
_STATUSES = ("CONFIRMED", "CANCELLED")
# The EU rule: summer time from 01:00 UTC on the last Sunday of March to 01:00 UTC on the
# last Sunday of October (the UK has followed it since 1996).
_EU_CHANGE_UTC = time(1)


def _require_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


@dataclass(frozen=True)
class FeedEvent:
    """One session as a calendar event.

    `uid` is the session's stable identity (never a position or random value). `start`, `end`
    and `last_modified` are aware datetimes (UTC in the database; any zone is accepted). Bump
    `sequence` and `last_modified` whenever the session changes, and only then. `attendees`
    and `organizer` are (name, email) pairs. `url` is the link to record whether the time was
    taken; it is also appended to the description, since Outlook and Google do not show URL.
    """

    uid: str
    start: datetime
    end: datetime
    summary: str
    last_modified: datetime
    description: str = ""
    location: str | None = None
    sequence: int = 0
    status: Status = "CONFIRMED"
    attendees: tuple[tuple[str, str], ...] = ()
    organizer: tuple[str, str] | None = None
    url: str | None = None
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.uid or any(c in self.uid for c in "\r\n"):
            raise ValueError(f"uid must be a non-empty single line, got {self.uid!r}")
        for name in ("start", "end", "last_modified"):
            _require_aware(name, getattr(self, name))
        if self.end <= self.start:
            raise ValueError(f"event {self.uid} ends ({self.end}) before it starts ({self.start})")
        if self.status not in _STATUSES:
            raise ValueError(f"status must be one of {_STATUSES}, got {self.status!r}")
        if self.sequence < 0:
            raise ValueError(f"sequence must be >= 0, got {self.sequence}")
        # Accept lists from callers but keep the dataclass hashable and immutable.
        object.__setattr__(self, "attendees", tuple(tuple(a) for a in self.attendees))
        object.__setattr__(self, "categories", tuple(self.categories))


@dataclass(frozen=True)
class FeedCalendar:
    """A whole feed: its display name, description, colour, refresh hint and events.

    `colour` is a CSS3 colour name ("teal") or a hex colour ("#008080"); RFC 7986 COLOR gets
    the nearest CSS3 name, Apple's X-APPLE-CALENDAR-COLOR the exact hex.
    """

    name: str
    description: str = ""
    colour: str = DEFAULT_COLOUR
    refresh_minutes: int = 360
    events: tuple[FeedEvent, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.refresh_minutes <= 0:
            raise ValueError(f"refresh_minutes must be positive, got {self.refresh_minutes}")
        object.__setattr__(self, "events", tuple(self.events))
        _colour_pair(self.colour)  # fail early on an unknown colour
        uids = [e.uid for e in self.events]
        if len(set(uids)) != len(uids):
            duplicates = sorted({u for u in uids if uids.count(u) > 1})
            raise ValueError(f"duplicate event uids: {duplicates}")


def render_feed(cal: FeedCalendar, tz: str = DEFAULT_TZ) -> bytes:
    """Render `cal` as iCalendar bytes (CRLF, folded at 75 octets), times in zone `tz`."""
    ZoneInfo(tz)  # fail early on an unknown zone
    refresh = timedelta(minutes=cal.refresh_minutes)
    css_name, hex_colour = _colour_pair(cal.colour)

    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.calendar_name = cal.name  # NAME and X-WR-CALNAME
    if cal.description:
        calendar.description = cal.description  # DESCRIPTION and X-WR-CALDESC
    calendar.add("COLOR", css_name)
    calendar.add("X-APPLE-CALENDAR-COLOR", hex_colour)
    calendar.add("X-WR-TIMEZONE", tz)
    calendar.add("REFRESH-INTERVAL", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vDuration(refresh))

    events = sorted(cal.events, key=lambda e: (e.start.astimezone(UTC), e.uid))
    head = _to_ical(calendar)
    if not head.endswith(_END):
        raise RuntimeError(f"unexpected end of calendar: {head[-40:]!r}")
    parts = [head[: -len(_END)], _vtimezone_bytes(tz, _years(events))]
    parts += [_vevent_bytes(event, tz) for event in events]
    parts.append(_END)
    return b"".join(parts)


_END = b"END:VCALENDAR\r\n"


# Serialising with icalendar costs about 0.3 ms an event; an event appears in several feeds
# (leader, team, department, organisation) and rarely changes, so its bytes are memoised.
# The key is the whole frozen FeedEvent, so a changed event is a new entry.
@lru_cache(maxsize=20_000)
def _vevent_bytes(event: FeedEvent, tz: str) -> bytes:
    return _to_ical(_vevent(event, ZoneInfo(tz)))


def _to_ical(component: Component) -> bytes:
    """The same bytes as ``component.to_ical()``, folded faster: icalendar folds a character
    at a time, which was 40 % of the time to render every feed of the demo."""
    return "".join(_fold(line) + "\r\n" for line in component.content_lines() if line).encode()


_FOLD_AT = 74  # octets of a folded line before its CRLF (icalendar folds below 75)


def _fold(line: str) -> str:
    """icalendar's fold (RFC 5545 3.1), never splitting a backslash or caret escape."""
    if line.isascii():
        if len(line) <= _FOLD_AT:
            return line
        chunks, pos = [], 0
        while len(line) - pos > _FOLD_AT:
            end = pos + _FOLD_AT
            if line[end - 1] in "\\^":
                end -= 1
            chunks.append(line[pos:end])
            pos = end
        chunks.append(line[pos:])
        return "\r\n ".join(chunks)
    folded: list[str] = []
    current: list[str] = []
    count = 0
    for char in line:
        size = len(char.encode())
        if current and count + size > _FOLD_AT:
            carry = current.pop() if len(current) > 1 and current[-1] in "\\^" else None
            folded.append("".join(current))
            current = [carry] if carry else []
            count = len(carry.encode()) if carry else 0
        current.append(char)
        count += size
    folded.append("".join(current))
    return "\r\n ".join(folded)


@lru_cache(maxsize=256)
def _vtimezone_bytes(tz: str, years: range) -> bytes:
    body: bytes = vtimezone(tz, years).to_ical()
    return body


def etag_for(body: bytes) -> str:
    """Strong ETag for a feed body: a quoted prefix of its SHA-256."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def vtimezone(tz: str, years: range) -> Timezone:
    """VTIMEZONE for `tz`, valid at least for `years`.

    Europe/London is written as two yearly RRULEs (BST from the last Sunday of March at 01:00
    GMT, GMT from the last Sunday of October at 02:00 BST) after checking that tzdata agrees
    for every year in `years`; otherwise (another zone, or a future change of UK law) icalendar
    derives explicit RDATE transitions from tzdata for those years.
    """
    if tz == "Europe/London" and all(_eu_rule_holds(ZoneInfo(tz), y, 0) for y in years):
        return _rrule_vtimezone(tz, ("GMT", 0), ("BST", 60))
    return Timezone.from_tzid(
        tz, first_date=date(years.start, 1, 1), last_date=date(years.stop, 1, 1)
    )


def _years(events: Iterable[FeedEvent]) -> range:
    """Years the VTIMEZONE must cover: those of the events, or a fixed 2020-2039 if none."""
    years = [e.start.astimezone(UTC).year for e in events]
    years += [e.end.astimezone(UTC).year for e in events]
    return range(min(years, default=2020), max(years, default=2039) + 1)


def _last_sunday(year: int, month: int) -> date:
    last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def _eu_rule_holds(zone: ZoneInfo, year: int, standard_minutes: int) -> bool:
    """True if `zone` follows the EU rule in `year`: +1 h from 01:00 UTC on the last Sunday
    of March to 01:00 UTC on the last Sunday of October, `standard_minutes` otherwise."""
    std, dst = timedelta(minutes=standard_minutes), timedelta(minutes=standard_minutes + 60)
    second = timedelta(seconds=1)
    spring = datetime.combine(_last_sunday(year, 3), _EU_CHANGE_UTC, UTC)
    autumn = datetime.combine(_last_sunday(year, 10), _EU_CHANGE_UTC, UTC)
    expected = [
        (datetime(year, 1, 1, tzinfo=UTC), std),
        (spring - second, std),
        (spring, dst),
        (autumn - second, dst),
        (autumn, std),
        (datetime(year, 12, 31, 23, 59, 59, tzinfo=UTC), std),
    ]
    return all(moment.astimezone(zone).utcoffset() == offset for moment, offset in expected)


def _rrule_vtimezone(tz: str, standard: tuple[str, int], daylight: tuple[str, int]) -> Timezone:
    """An EU-rule VTIMEZONE; DTSTART is the first onset in 1970, in the old local time."""
    (std_name, std_minutes), (dst_name, dst_minutes) = standard, daylight
    std_offset, dst_offset = timedelta(minutes=std_minutes), timedelta(minutes=dst_minutes)
    # DTSTART is the local time before the change: 01:00 GMT in spring, 02:00 BST in autumn.
    spring = datetime.combine(_last_sunday(1970, 3), _EU_CHANGE_UTC) + std_offset
    autumn = datetime.combine(_last_sunday(1970, 10), _EU_CHANGE_UTC) + dst_offset

    component = Timezone()
    component.add("TZID", tz)
    for kind, name, start, month, offset_from, offset_to in (
        (TimezoneDaylight, dst_name, spring, 3, std_offset, dst_offset),
        (TimezoneStandard, std_name, autumn, 10, dst_offset, std_offset),
    ):
        observance = kind()
        observance.add("TZNAME", name)
        observance.add("TZOFFSETFROM", offset_from)
        observance.add("TZOFFSETTO", offset_to)
        observance.add("DTSTART", start)
        observance.add("RRULE", {"FREQ": "YEARLY", "BYMONTH": month, "BYDAY": "-1SU"})
        component.add_component(observance)
    return component


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """`moment` in `zone`, or in UTC if the local wall time is ambiguous (the repeated hour
    of an autumn clock change), since DTSTART;TZID cannot say which of the two is meant."""
    local = moment.astimezone(zone)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return moment.astimezone(UTC)
    return local


def _address(name: str, email: str, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    # A double quote cannot appear in a parameter value; RFC 6868's ^' escape is not read by
    # Outlook, so use an apostrophe.
    address.params["CN"] = name.replace('"', "'")
    address.params.update(params)
    return address


def _vevent(event: FeedEvent, zone: ZoneInfo) -> Event:
    stamp = event.last_modified.astimezone(UTC)
    description = event.description
    if event.url:
        description = f"{description}\n\n" if description else ""
        description += f"Record whether this time was taken: {event.url}"

    vevent = Event()
    vevent.add("UID", event.uid)
    # Without METHOD, DTSTAMP is when the information last changed (RFC 5545 3.8.7.2).
    vevent.add("DTSTAMP", stamp)
    vevent.add("LAST-MODIFIED", stamp)
    vevent.add("SEQUENCE", event.sequence)
    vevent.add("DTSTART", _local(event.start, zone))
    vevent.add("DTEND", _local(event.end, zone))
    vevent.add("SUMMARY", event.summary)
    if description:
        vevent.add("DESCRIPTION", description)
    if event.location:
        vevent.add("LOCATION", event.location)
    vevent.add("STATUS", event.status)
    vevent.add("TRANSP", "OPAQUE")
    if event.url:
        vevent.add("URL", event.url)
    if event.categories:
        vevent.add("CATEGORIES", list(event.categories))
    if event.organizer:
        vevent.add("ORGANIZER", _address(*event.organizer))
    for name, email in event.attendees:
        vevent.add("ATTENDEE", _address(name, email, ROLE="REQ-PARTICIPANT", PARTSTAT="ACCEPTED"))
    return vevent


@lru_cache(maxsize=64)  # a nearest-name search over 147 colours; feeds use a handful
def _colour_pair(colour: str) -> tuple[str, str]:
    """(CSS3 name, "#rrggbb") for a CSS3 colour name or a "#rgb"/"#rrggbb" hex colour."""
    value = colour.strip().lower()
    if value in CSS3_COLOURS:
        return value, f"#{CSS3_COLOURS[value]}"
    match = re.fullmatch(r"#?([0-9a-f]{3}|[0-9a-f]{6})", value)
    if not match:
        raise ValueError(f"colour must be a CSS3 colour name or #rrggbb, got {colour!r}")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return _nearest_css3(digits), f"#{digits}"


def _nearest_css3(digits: str) -> str:
    """The CSS3 colour name closest to hex `digits` as the eye sees it (CIE76 distance in
    L*a*b*); ties go to the first name alphabetically."""
    target = _lab(digits)

    def distance(item: tuple[str, str]) -> tuple[float, str]:
        return sum((a - b) ** 2 for a, b in zip(_lab(item[1]), target, strict=True)), item[0]

    return min(CSS3_COLOURS.items(), key=distance)[0]


def _lab(digits: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an sRGB hex colour."""

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(digits[i : i + 2], 16) / 255) for i in (0, 2, 4))
    xyz = (
        (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
        0.2126 * r + 0.7152 * g + 0.0722 * b,
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883,
    )
    fx, fy, fz = (t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116 for t in xyz)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


# The 147 CSS3 colour keywords (W3C CSS Color Module Level 3, section 4.3), which RFC 7986
# COLOR takes, with their sRGB values.
CSS3_COLOURS: dict[str, str] = dict(
    pair.split(":")
    for pair in """
    aliceblue:f0f8ff antiquewhite:faebd7 aqua:00ffff aquamarine:7fffd4 azure:f0ffff
    beige:f5f5dc bisque:ffe4c4 black:000000 blanchedalmond:ffebcd blue:0000ff blueviolet:8a2be2
    brown:a52a2a burlywood:deb887 cadetblue:5f9ea0 chartreuse:7fff00 chocolate:d2691e
    coral:ff7f50 cornflowerblue:6495ed cornsilk:fff8dc crimson:dc143c cyan:00ffff
    darkblue:00008b darkcyan:008b8b darkgoldenrod:b8860b darkgray:a9a9a9 darkgreen:006400
    darkgrey:a9a9a9 darkkhaki:bdb76b darkmagenta:8b008b darkolivegreen:556b2f darkorange:ff8c00
    darkorchid:9932cc darkred:8b0000 darksalmon:e9967a darkseagreen:8fbc8f darkslateblue:483d8b
    darkslategray:2f4f4f darkslategrey:2f4f4f darkturquoise:00ced1 darkviolet:9400d3
    deeppink:ff1493 deepskyblue:00bfff dimgray:696969 dimgrey:696969 dodgerblue:1e90ff
    firebrick:b22222 floralwhite:fffaf0 forestgreen:228b22 fuchsia:ff00ff gainsboro:dcdcdc
    ghostwhite:f8f8ff gold:ffd700 goldenrod:daa520 gray:808080 green:008000 greenyellow:adff2f
    grey:808080 honeydew:f0fff0 hotpink:ff69b4 indianred:cd5c5c indigo:4b0082 ivory:fffff0
    khaki:f0e68c lavender:e6e6fa lavenderblush:fff0f5 lawngreen:7cfc00 lemonchiffon:fffacd
    lightblue:add8e6 lightcoral:f08080 lightcyan:e0ffff lightgoldenrodyellow:fafad2
    lightgray:d3d3d3 lightgreen:90ee90 lightgrey:d3d3d3 lightpink:ffb6c1 lightsalmon:ffa07a
    lightseagreen:20b2aa lightskyblue:87cefa lightslategray:778899 lightslategrey:778899
    lightsteelblue:b0c4de lightyellow:ffffe0 lime:00ff00 limegreen:32cd32 linen:faf0e6
    magenta:ff00ff maroon:800000 mediumaquamarine:66cdaa mediumblue:0000cd mediumorchid:ba55d3
    mediumpurple:9370db mediumseagreen:3cb371 mediumslateblue:7b68ee mediumspringgreen:00fa9a
    mediumturquoise:48d1cc mediumvioletred:c71585 midnightblue:191970 mintcream:f5fffa
    mistyrose:ffe4e1 moccasin:ffe4b5 navajowhite:ffdead navy:000080 oldlace:fdf5e6 olive:808000
    olivedrab:6b8e23 orange:ffa500 orangered:ff4500 orchid:da70d6 palegoldenrod:eee8aa
    palegreen:98fb98 paleturquoise:afeeee palevioletred:db7093 papayawhip:ffefd5
    peachpuff:ffdab9 peru:cd853f pink:ffc0cb plum:dda0dd powderblue:b0e0e6 purple:800080
    red:ff0000 rosybrown:bc8f8f royalblue:4169e1 saddlebrown:8b4513 salmon:fa8072
    sandybrown:f4a460 seagreen:2e8b57 seashell:fff5ee sienna:a0522d silver:c0c0c0
    skyblue:87ceeb slateblue:6a5acd slategray:708090 slategrey:708090 snow:fffafa
    springgreen:00ff7f steelblue:4682b4 tan:d2b48c teal:008080 thistle:d8bfd8 tomato:ff6347
    turquoise:40e0d0 violet:ee82ee wheat:f5deb3 white:ffffff whitesmoke:f5f5f5 yellow:ffff00
    yellowgreen:9acd32
""".split()
)
