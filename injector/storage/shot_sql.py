"""SQL of the recording path: bulk shot and event inserts, shot numbers, per-zone tallies.

These functions take a :class:`~sqlalchemy.Connection` inside the caller's transaction, so the
session logic decides what one commit holds. Shots go in with one ``executemany``
of ``INSERT … ON CONFLICT (serial, boot_id, shot_no) DO NOTHING``: no ORM object per row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, select, update

from injector.domain.shots import ShotFlag, ShotIn
from injector.storage.tables import DeviceEvent, PlanZone, Shot, TreatmentSession, table_of

# Plain ints (declared once, in the domain): IntFlag arithmetic costs more than the insert
# itself on the hot path.
NO_SKIN = int(ShotFlag.NO_SKIN)
PARTIAL = int(ShotFlag.PARTIAL)
RETRANSMIT = int(ShotFlag.RETRANSMIT)

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


@dataclass(frozen=True, slots=True)
class ZoneTallyRow:
    """Aggregates of a session's stored shots for one zone (``zone_id`` None: no zone)."""

    zone_id: int | None
    shots: int
    points: int
    volume_nl: int
    air_shots: int
    air_volume_nl: int
    partial_shots: int
    depth_out_of_tolerance: int


def zone_tallies(conn: Connection, session_id: int) -> list[ZoneTallyRow]:
    """Per-zone aggregates of a session's shots, computed by the database."""
    shot = table_of(Shot)
    zone = table_of(PlanZone)
    on_skin = shot.c.flags.op("&")(NO_SKIN) == 0
    partial = shot.c.flags.op("&")(PARTIAL) != 0
    out_of_tolerance = and_(
        on_skin,
        zone.c.id.is_not(None),
        func.abs(shot.c.depth_um - zone.c.depth_um) > zone.c.depth_tolerance_um,
    )
    stmt = (
        select(
            shot.c.zone_id,
            func.count(),
            func.sum(case((on_skin, 1), else_=0)),
            func.sum(case((on_skin, shot.c.volume_nl), else_=0)),
            func.sum(case((on_skin, 0), else_=1)),
            func.sum(case((on_skin, 0), else_=shot.c.volume_nl)),
            func.sum(case((partial, 1), else_=0)),
            func.sum(case((out_of_tolerance, 1), else_=0)),
        )
        .select_from(shot.outerjoin(zone, zone.c.id == shot.c.zone_id))
        .where(shot.c.session_id == session_id)
        .group_by(shot.c.zone_id)
    )
    return [
        ZoneTallyRow(
            zone_id=row[0],
            shots=int(row[1]),
            points=int(row[2] or 0),
            volume_nl=int(row[3] or 0),
            air_shots=int(row[4] or 0),
            air_volume_nl=int(row[5] or 0),
            partial_shots=int(row[6] or 0),
            depth_out_of_tolerance=int(row[7] or 0),
        )
        for row in conn.execute(stmt)
    ]
