"""Four treatment rooms, each with its own gun and recorder, writing to one database at once.

PostgreSQL is the clinic's shared database; the SQLite run shows that writers on one file
queue on its lock instead of failing.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from injector.session import DeviceEventIn, DeviceEventKind, DeviceInfo, ShotIn, open_or_continue
from injector.storage import open_database
from injector.storage.tables import Shot, table_of

ROOMS = 4
SHOTS_PER_ROOM = 1500
BATCH = 25


def record_room(url: str, room: int, results: dict[int, tuple[int, int, int]]) -> None:
    """One recorder: its own connection pool, gun, session; retransmits every 10th batch."""
    db = open_database(url)  # all four migrate the fresh schema at once
    try:
        gun = DeviceInfo(f"SN-ROOM{room}", "MG-400", "2.4.1")
        live = open_or_continue(db, gun, actor=f"room {room}")
        start = datetime(2026, 3, 2, 9, tzinfo=UTC)
        shots = [
            ShotIn(
                gun.serial,
                1000 + room,
                n,
                n * 111,
                start + timedelta(milliseconds=n * 111),
                2000,
                10_000,
                0,
                5_000_000 - n,
            )
            for n in range(1, SHOTS_PER_ROOM + 1)
        ]
        new = duplicates = 0
        for index in range(0, len(shots), BATCH):
            batch = shots[index : index + BATCH]
            if index and index % (BATCH * 10) == 0:
                batch = shots[index - BATCH : index] + batch  # the gun resent a batch
            result = live.add_shots(batch)
            new += result.new
            duplicates += result.duplicates
        live.add_events([DeviceEventIn(DeviceEventKind.NOTE, start, gun.serial, 1000 + room)])
        results[room] = (live.session_id, new, duplicates)
    finally:
        db.close()


def test_four_rooms_store_every_shot_exactly_once(db_url: str) -> None:
    results: dict[int, tuple[int, int, int]] = {}
    errors: list[BaseException] = []

    def run(room: int) -> None:
        try:
            record_room(db_url, room, results)
        except BaseException as exc:  # surfaced below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(room,)) for room in range(ROOMS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(results) == list(range(ROOMS))
    assert len({session_id for session_id, _, _ in results.values()}) == ROOMS
    for _, new, duplicates in results.values():
        assert new == SHOTS_PER_ROOM
        assert duplicates > 0

    db = open_database(db_url)
    try:
        table = table_of(Shot)
        with db.begin() as conn:
            rows = conn.execute(
                select(
                    table.c.serial,
                    table.c.session_id,
                    func.count(),
                    func.count(func.distinct(table.c.shot_no)),
                    func.min(table.c.shot_no),
                    func.max(table.c.shot_no),
                ).group_by(table.c.serial, table.c.session_id)
            ).all()
    finally:
        db.close()
    assert len(rows) == ROOMS
    for serial, session_id, count, distinct, low, high in rows:
        room = int(serial.removeprefix("SN-ROOM"))
        assert session_id == results[room][0]
        assert (count, distinct, low, high) == (SHOTS_PER_ROOM, SHOTS_PER_ROOM, 1, SHOTS_PER_ROOM)
