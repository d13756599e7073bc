"""What is stored of one power-up (boot) of a gun: the one answer to "which shots of this boot
do we hold, and which are missing", used to seed recovery (RESEND_REQ) after a restart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from injector.domain.vocabulary import DeviceEventKind
from injector.storage.engine import Database
from injector.storage.shot_sql import shot_numbers
from injector.storage.tables import DeviceEvent, Shot, table_of


@dataclass(frozen=True, slots=True)
class StoredBoot:
    """Stored shot numbers of one boot: the highest, and the numbers missing below it."""

    serial: str
    boot_id: int
    max_shot_no: int
    missing: tuple[int, ...] = field(default=())

    @property
    def count(self) -> int:
        """How many shots of this boot are stored."""
        return self.max_shot_no - len(self.missing)


def stored_boot(db: Database, serial: str, boot_id: int) -> StoredBoot:
    """What is stored of one boot of one gun (any session, or none), to ask the gun for the
    rest.

    Shots already reported lost are left out of the missing ones: asking for them again would
    only report them lost a second time.
    """
    with db.read() as conn:
        numbers = shot_numbers(conn, serial, boot_id)
        reported = _reported_lost(conn, serial, boot_id)
    return _from_numbers(serial, boot_id, numbers, reported)


def previous_boot(db: Database, serial: str, boot_id: int) -> int | None:
    """The boot of the gun's most recently stored shot other than ``boot_id``."""
    table = table_of(Shot)
    with db.read() as conn:
        found = conn.execute(
            select(table.c.boot_id)
            .where(table.c.serial == serial, table.c.boot_id != boot_id)
            .order_by(table.c.id.desc())
            .limit(1)
        ).scalar()
    return None if found is None else int(found)


def _from_numbers(
    serial: str, boot_id: int, numbers: Sequence[int], reported_lost: set[int]
) -> StoredBoot:
    if not numbers:
        return StoredBoot(serial, boot_id, 0, ())
    present = set(numbers)
    top = numbers[-1]
    missing = tuple(n for n in range(1, top) if n not in present and n not in reported_lost)
    return StoredBoot(serial, boot_id, top, missing)


def _reported_lost(conn: Connection, serial: str, boot_id: int) -> set[int]:
    table = table_of(DeviceEvent)
    details = conn.execute(
        select(table.c.detail).where(
            table.c.serial == serial,
            table.c.boot_id == boot_id,
            table.c.kind == DeviceEventKind.SHOTS_LOST.value,
        )
    ).scalars()
    lost: set[int] = set()
    for detail in details:
        for first, last in detail.get("ranges", ()):
            lost.update(range(first, last + 1))
    return lost
