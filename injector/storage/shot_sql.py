"""SQL of the recording path: bulk shot and event inserts, shot numbers, shots grouped for
the session logic's tally.

These functions take a :class:`~sqlalchemy.Connection` inside the caller's transaction, so the
session logic decides what one commit holds. Shots go in with one ``executemany``
of ``INSERT … ON CONFLICT (serial, boot_id, shot_no) DO NOTHING``: no ORM object per row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from injector.domain.shots import ShotIn
from injector.storage.tables import DeviceEvent, PlanZone, Shot, TreatmentSession, table_of

# Plain ints: IntFlag arithmetic costs more than the insert itself on the hot path.
RETRANSMIT = 0x08

SHOT_IDENTITY = ("serial", "boot_id", "shot_no")


SHOT_COLUMNS = (
    "session_id",
    "zone_id",
    "serial",
    "boot_id",
    "shot_no",
    "uptime_ms",
    "received_at",
    "device_time",
    "depth_um",
    "volume_nl",
    "flags",
    "syringe_remaining_nl",
    "retransmitted",
)


def _shot_insert_sql(dialect: str) -> str:
    marker = "%s" if dialect == "postgresql" else "?"
    return (
        f"INSERT INTO shot ({', '.join(SHOT_COLUMNS)}) "
        f"VALUES ({', '.join([marker] * len(SHOT_COLUMNS))}) "
        f"ON CONFLICT ({', '.join(SHOT_IDENTITY)}) DO NOTHING"
    )


def _sqlite_time(value: datetime | None) -> str | None:
    # The text form SQLAlchemy's SQLite DateTime reads back, always with microseconds.
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def insert_shots(
    conn: Connection,
    session_id: int | None,
    shots: Sequence[ShotIn],
    zone_ids: Sequence[int | None],
) -> int:
    """Insert shots of one session (or of none: fired before any session opened), each with
    its zone, skipping any already stored (same serial, boot_id, shot_no); returns how many
    were new.

    This is the hot path of a replay: one driver-level ``executemany`` of plain tuples, with
    SQLAlchemy's per-value type processing bypassed (datetimes are converted here). Both
    sqlite3 and psycopg report the summed row count of an ``executemany``.
    """
    if not shots:
        return 0
    if conn.dialect.name == "sqlite":
        time: Callable[[datetime | None], datetime | str | None] = _sqlite_time
    else:
        time = _identity
    rows = [
        (
            session_id,
            zone_id,
            s.serial,
            s.boot_id,
            s.shot_no,
            s.uptime_ms,
            time(s.received_at),
            time(s.device_time),
            s.depth_um,
            s.volume_nl,
            s.flags,
            s.syringe_remaining_nl,
            s.retransmitted or bool(s.flags & RETRANSMIT),
        )
        for s, zone_id in zip(shots, zone_ids, strict=True)
    ]
    result = conn.exec_driver_sql(_shot_insert_sql(conn.dialect.name), rows)
    return max(result.rowcount, 0)


def _identity(value: datetime | None) -> datetime | None:
    return value


def insert_device_events(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert device event rows (dicts keyed by :class:`DeviceEvent` column names)."""
    if rows:
        conn.execute(table_of(DeviceEvent).insert(), list(rows))


def add_shot_counters(conn: Connection, session_id: int, recovered: int, lost: int) -> None:
    """Add to a session's recovered and lost shot counters."""
    if recovered == 0 and lost == 0:
        return
    table = table_of(TreatmentSession)
    conn.execute(
        update(table)
        .where(table.c.id == session_id)
        .values(
            recovered_shots=table.c.recovered_shots + recovered,
            lost_shots=table.c.lost_shots + lost,
        )
    )


def shot_numbers(conn: Connection, serial: str, boot_id: int) -> list[int]:
    """Every stored shot number of one boot of one gun, ascending."""
    table = table_of(Shot)
    return list(
        conn.execute(
            select(table.c.shot_no)
            .where(table.c.serial == serial, table.c.boot_id == boot_id)
            .order_by(table.c.shot_no)
        ).scalars()
    )


def lowest_session_shot_no(conn: Connection, session_id: int, boot_id: int) -> int | None:
    """The lowest shot number of one boot the session holds (None if it holds none)."""
    table = table_of(Shot)
    value = conn.execute(
        select(func.min(table.c.shot_no)).where(
            table.c.session_id == session_id, table.c.boot_id == boot_id
        )
    ).scalar()
    return None if value is None else int(value)


@dataclass(frozen=True, slots=True)
class ShotGroup:
    """``count`` stored shots of one session and zone with the same flags and depth: their
    volumes' sum, smallest and largest.

    The zone's planned depth and tolerance come along (None: no zone). What each group counts
    for is the session logic's rule, not this module's: it only groups.
    """

    zone_id: int | None
    zone_depth_um: int | None
    zone_tolerance_um: int | None
    flags: int
    depth_um: int
    count: int
    volume_nl: int
    volume_min_nl: int
    volume_max_nl: int


def _grouped(conn: Connection, session_id: int, *, by_volume: bool) -> list[tuple[Any, ...]]:
    shot = table_of(Shot)
    zone = table_of(PlanZone)
    keys = [
        shot.c.zone_id,
        zone.c.depth_um,
        zone.c.depth_tolerance_um,
        shot.c.flags,
        shot.c.depth_um,
    ]
    if by_volume:
        keys.append(shot.c.volume_nl)
    stmt = (
        select(
            *keys[:5],
            func.count(),
            func.sum(shot.c.volume_nl),
            func.min(shot.c.volume_nl),
            func.max(shot.c.volume_nl),
        )
        .select_from(shot.outerjoin(zone, zone.c.id == shot.c.zone_id))
        .where(shot.c.session_id == session_id)
        .group_by(*keys)
    )
    return [tuple(row) for row in conn.execute(stmt)]


def _group(row: tuple[Any, ...]) -> ShotGroup:
    return ShotGroup(
        zone_id=row[0],
        zone_depth_um=row[1],
        zone_tolerance_um=row[2],
        flags=int(row[3]),
        depth_um=int(row[4]),
        count=int(row[5]),
        volume_nl=int(row[6] or 0),
        volume_min_nl=int(row[7] or 0),
        volume_max_nl=int(row[8] or 0),
    )


def shot_groups(conn: Connection, session_id: int) -> list[ShotGroup]:
    """A session's shots grouped by zone, flags and depth, counted by the database.

    A session's shots repeat a few settings, so this returns far fewer rows than shots.
    """
    return [_group(row) for row in _grouped(conn, session_id, by_volume=False)]


def shot_groups_by_volume(conn: Connection, session_id: int) -> list[ShotGroup]:
    """The same groups split by volume as well (each group's volumes then are one value)."""
    return [_group(row) for row in _grouped(conn, session_id, by_volume=True)]
