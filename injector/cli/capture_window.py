"""``--from`` / ``--to`` of ``injector capture``: a window of a capture by time or device uptime.

A bound is one of:

- a date and time, ``2026-11-25T10:00:05`` (or with a space, fractions of a second and a
  ``Z`` or ``+01:00`` offset; without an offset it is UTC, as ``dump`` prints times);
- a time of day, ``10:00:05``: that time (UTC) on the day of the capture's first record;
- an offset from the capture's first record, ``+90``, ``+90s``, ``+1m30s``, ``+250ms``;
- a device uptime, ``up:61000`` (milliseconds, the unit of the protocol's ``uptime_ms``) or
  ``up:61s``, ``up:1h2m``. Uptime starts again at every power-up, so an uptime window selects
  that stretch of every boot in the capture.

``--from`` is inclusive and ``--to`` exclusive, so consecutive windows never share a frame.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from injector.cli.errors import UserError

_DURATION = re.compile(
    r"^(?:(?P<h>\d+(?:\.\d*)?)h)?(?:(?P<m>\d+(?:\.\d*)?)m(?!s))?"
    r"(?:(?P<s>\d+(?:\.\d*)?)s)?(?:(?P<ms>\d+(?:\.\d*)?)ms)?$"
)
_NS = {"h": 3_600_000_000_000, "m": 60_000_000_000, "s": 1_000_000_000, "ms": 1_000_000}
HELP = (
    "a date and time (2026-11-25T10:00:05, UTC unless it says), a time of day (10:00:05), "
    "an offset from the start (+90s, +1m30s) or a device uptime (up:61000 in ms, up:61s)"
)


class BoundKind(enum.Enum):
    """What a bound is measured against."""

    WALL = "wall"
    """Unix time in nanoseconds."""
    TIME_OF_DAY = "time of day"
    """Nanoseconds after midnight UTC of the capture's first day."""
    OFFSET = "offset"
    """Nanoseconds after the capture's first record."""
    UPTIME = "uptime"
    """Device uptime in milliseconds."""


@dataclass(frozen=True, slots=True)
class Bound:
    """One end of a window, as given on the command line."""

    kind: BoundKind
    value: int
    text: str


def _duration_ns(text: str, bare_unit_ns: int) -> int | None:
    if re.fullmatch(r"\d+(\.\d*)?", text):
        return round(float(text) * bare_unit_ns)
    match = _DURATION.match(text)
    if match is None or not any(match.groupdict().values()):
        return None
    return round(sum(float(v) * _NS[k] for k, v in match.groupdict().items() if v))


def parse_bound(text: str, option: str) -> Bound:
    """A ``--from``/``--to`` value; raises :class:`UserError` naming what is accepted."""
    raw = text.strip()
    value: int | None = None
    if raw.lower().startswith("up:"):
        ns = _duration_ns(raw[3:].strip(), 1_000_000)
        if ns is not None:
            return Bound(BoundKind.UPTIME, ns // 1_000_000, raw)
    elif raw.startswith("+"):
        value = _duration_ns(raw[1:], 1_000_000_000)
        if value is not None:
            return Bound(BoundKind.OFFSET, value, raw)
    elif re.fullmatch(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?", raw):
        try:
            of_day = time.fromisoformat(raw if raw.count(":") == 2 else raw + ":00")
        except ValueError:
            pass
        else:
            value = (
                of_day.hour * 3600 + of_day.minute * 60 + of_day.second
            ) * 1_000_000_000 + of_day.microsecond * 1000
            return Bound(BoundKind.TIME_OF_DAY, value, raw)
    else:
        try:
            moment = datetime.fromisoformat(raw.replace("z", "Z"))
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
            return Bound(BoundKind.WALL, delta // timedelta(microseconds=1) * 1000, raw)
    raise UserError(f"{option} {text!r} is not a time: give {HELP}")


class Window:
    """Which moments of a capture a command looks at; both ends optional."""

    def __init__(self, start: Bound | None, stop: Bound | None) -> None:
        if (
            start is not None
            and stop is not None
            and start.kind is stop.kind
            and start.value >= stop.value
        ):
            raise UserError(
                f"--from {start.text} is not before --to {stop.text}; give an earlier --from"
            )
        self.start = start
        self.stop = stop
        self._first_wall: int | None = None
        self._midnight = 0
        self.needs_uptime = any(b is not None and b.kind is BoundKind.UPTIME for b in (start, stop))
        """True when a bound is an uptime: moments whose uptime is unknown are outside."""

    @property
    def everything(self) -> bool:
        """True when no bound was given."""
        return self.start is None and self.stop is None

    def _position(self, bound: Bound, wall_ns: int, uptime_ms: int | None) -> int | None:
        """The moment measured as ``bound`` is, or ``None`` if unknown."""
        kind = bound.kind
        if kind is BoundKind.WALL:
            return wall_ns
        if kind is BoundKind.UPTIME:
            return uptime_ms
        if self._first_wall is None:
            self._first_wall = wall_ns
            day = datetime.fromtimestamp(wall_ns / 1e9, UTC).date()
            midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
            self._midnight = int(midnight.timestamp()) * 1_000_000_000
        if kind is BoundKind.OFFSET:
            return wall_ns - self._first_wall
        return wall_ns - self._midnight

    def start_at(self, first_wall_ns: int) -> None:
        """Measure offsets and times of day from the capture's first record."""
        if self._first_wall is None:
            self._position(Bound(BoundKind.OFFSET, 0, ""), first_wall_ns, None)

    def contains(self, wall_ns: int, uptime_ms: int | None) -> bool:
        """True if the moment (wall clock, device uptime) is inside the window."""
        for bound, inside_if_after in ((self.start, True), (self.stop, False)):
            if bound is None:
                continue
            at = self._position(bound, wall_ns, uptime_ms)
            if at is None:
                return False
            if inside_if_after != (at >= bound.value):
                return False
        return True
