"""A session's window: which of a gun's shots a session owns.

A session owns the shots fired after it opened, plus those of its own window that the link
missed and the gun still holds (they come back through RESEND_REQ with their firing time). Per
gun and boot, the gun's shot counter when the session opened is its low-water mark: the shots
at or below it were fired before (priming, a test into the air, shots before Start was
pressed). They are never silently attributed: they are stored as shots of the gun with no
session, and an ``earlier_shots`` device event of the session says how many, how much and from
when, so the practitioner can include them (to a zone) or leave them out, with who and why in
the audit trail.

Only shots the gun sends again (answering RESEND_REQ) can be that old; for them the gun's own
clock (``device_time``) says when they were fired. A shot sent as it was fired arrived while
the session was open and belongs to it (the device clock of a replay at full speed runs far
ahead of the wall clock, so it is not asked about those).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from injector.domain.inputs import NL_PER_ML
from injector.domain.shots import ShotIn
from injector.domain.vocabulary import DeviceEventKind
from injector.storage.engine import Database
from injector.storage.tables import DeviceEvent, Shot, table_of


@dataclass(frozen=True, slots=True)
class EarlierShots:
    """Shots a gun fired before the session opened, kept out of it until included.

    ``low_water`` maps each boot to the highest shot number fired before the session opened.
    """

    count: int = 0
    volume_nl: int = 0
    first_at: datetime | None = None
    low_water: tuple[tuple[int, int], ...] = ()

    def __bool__(self) -> bool:
        return self.count > 0

    def plus(self, shots: Sequence[ShotIn]) -> EarlierShots:
        """These counts with ``shots`` (all fired before the session opened) added."""
        if not shots:
            return self
        marks = dict(self.low_water)
        for shot in shots:
            marks[shot.boot_id] = max(marks.get(shot.boot_id, 0), shot.shot_no)
        times = [s.device_time for s in shots if s.device_time is not None]
        if self.first_at is not None:
            times.append(self.first_at)
        return EarlierShots(
            self.count + len(shots),
            self.volume_nl + sum(s.volume_nl for s in shots),
            min(times) if times else None,
            tuple(sorted(marks.items())),
        )


def earlier_summary(earlier: EarlierShots) -> str:
    """ "N shots (x mL) were fired before this session opened, from HH:MM" (local time)."""
    since = f", from {earlier.first_at.astimezone():%H:%M}" if earlier.first_at else ""
    shots, were = ("shot", "was") if earlier.count == 1 else ("shots", "were")
    return (
        f"{earlier.count} {shots} ({earlier.volume_nl / NL_PER_ML:g} mL) {were} fired before this "
        f"session opened{since}"
    )


def fired_before(shot: ShotIn, opened_at: datetime | None) -> bool:
    """True if the gun fired ``shot`` before the session opened at ``opened_at``.

    Only a shot the gun sent again (in answer to RESEND_REQ) can be that old: one it sent as it
    fired reached a host that was listening, so it belongs to the open session. For a resent
    shot the gun's own clock says when it was fired.
    """
    return (
        opened_at is not None
        and shot.retransmitted
        and shot.device_time is not None
        and shot.device_time < opened_at
    )


def earlier_event(
    session_id: int, serial: str, shots: Sequence[ShotIn], *, at: datetime, included: bool
) -> dict[str, Any]:
    """The ``earlier_shots`` device event row recording ``shots`` left out of (or, with
    ``included``, taken into) a session."""
    counted = EarlierShots().plus(shots)
    return {
        "session_id": session_id,
        "serial": serial,
        "boot_id": None,
        "kind": DeviceEventKind.EARLIER_SHOTS.value,
        "at": at,
        "detail": _detail(counted, included=included),
    }


def _detail(counted: EarlierShots, *, included: bool, **extra: Any) -> dict[str, Any]:
    return {
        "count": counted.count,
        "volume_nl": counted.volume_nl,
        "first_at": counted.first_at.isoformat() if counted.first_at else None,
        "low_water": [list(mark) for mark in counted.low_water],
        "included": included,
        **extra,
    }


def earlier_left_out(conn: Connection, session_id: int) -> EarlierShots:
    """The shots fired before ``session_id`` opened that are still left out of it."""
    table = table_of(DeviceEvent)
    details = conn.execute(
        select(table.c.detail)
        .where(
            table.c.session_id == session_id,
            table.c.kind == DeviceEventKind.EARLIER_SHOTS.value,
        )
        .order_by(table.c.id)
    ).scalars()
    return fold_earlier(details)


def fold_earlier(details: Iterable[Mapping[str, Any]]) -> EarlierShots:
    """What is still left out after a session's ``earlier_shots`` event details, in order."""
    count = volume = 0
    first: datetime | None = None
    marks: dict[int, int] = {}
    for detail in details:
        if detail.get("included"):
            # Including takes every shot left out so far: the count starts again.
            count, volume, first, marks = 0, 0, None, {}
            continue
        count += int(detail["count"])
        volume += int(detail["volume_nl"])
        if detail.get("first_at"):
            at = datetime.fromisoformat(detail["first_at"])
            first = at if first is None else min(first, at)
        for boot, mark in detail.get("low_water", ()):
            marks[int(boot)] = max(marks.get(int(boot), 0), int(mark))
    return EarlierShots(count, volume, first, tuple(sorted(marks.items())))


def earlier_shots_of(db: Database, session_id: int) -> EarlierShots:
    """:func:`earlier_left_out` in a read transaction of its own."""
    with db.read() as conn:
        return earlier_left_out(conn, session_id)


def take_into_session(
    conn: Connection,
    session_id: int,
    serial: str,
    earlier: EarlierShots,
    zone_id: int | None,
    *,
    at: datetime,
    by: str,
    reason: str,
) -> int:
    """Move the left-out shots of ``earlier`` into the session, to ``zone_id``; returns how
    many moved. Records the ``earlier_shots`` event (included, who, why)."""
    table = table_of(Shot)
    result = conn.execute(
        update(table)
        .where(
            table.c.session_id.is_(None),
            table.c.serial == serial,
            or_(*_at_or_below(table, earlier.low_water)),
        )
        .values(session_id=session_id, zone_id=zone_id)
    )
    moved = int(result.rowcount or 0)
    events = table_of(DeviceEvent)
    conn.execute(
        events.insert().values(
            session_id=session_id,
            serial=serial,
            boot_id=None,
            kind=DeviceEventKind.EARLIER_SHOTS.value,
            at=at,
            detail=_detail(
                earlier, included=True, moved=moved, zone_id=zone_id, by=by, reason=reason
            ),
        )
    )
    return moved


def _at_or_below(table: Any, marks: Iterable[tuple[int, int]]) -> list[Any]:
    return [and_(table.c.boot_id == boot, table.c.shot_no <= mark) for boot, mark in marks] or [
        table.c.id.is_(None)
    ]
