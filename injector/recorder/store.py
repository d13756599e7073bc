"""The recorder's view of storage: sessions opened through the session logic."""

from __future__ import annotations

from sqlalchemy import Connection, select

from injector.domain.vocabulary import DeviceEventKind
from injector.driver import DeviceIdentified
from injector.recorder.pipeline import RecordingSession
from injector.session import DeviceInfo, KnownShots, open_or_continue
from injector.session.live import known_shots_from
from injector.storage.engine import Database
from injector.storage.recording import shot_numbers
from injector.storage.tables import DeviceEvent, table_of


class DatabaseStore:
    """Opens or continues each gun's in-progress session in ``db`` (of ``plan_id`` if given)."""

    def __init__(self, db: Database, plan_id: int | None = None) -> None:
        self.db = db
        self.plan_id = plan_id

    def open_session(self, device: DeviceIdentified) -> RecordingSession:
        """The gun's in-progress session, continued after a restart, else a new one."""
        info = DeviceInfo(serial=device.serial, model=device.model, firmware=device.firmware)
        return open_or_continue(self.db, info, plan_id=self.plan_id)

    def known_shots(self, serial: str, boot_id: int) -> KnownShots:
        """What is stored of one boot of one gun (any session), to ask the gun for the rest.

        Shots an earlier run already reported lost are left out of the missing ones: asking
        for them again would only report them lost a second time.
        """
        with self.db.begin() as conn:
            numbers = shot_numbers(conn, serial, boot_id)
            reported = _reported_lost(conn, serial, boot_id)
        known = known_shots_from(serial, boot_id, numbers)
        if not reported:
            return known
        missing = tuple(n for n in known.missing if n not in reported)
        return KnownShots(serial, boot_id, known.max_shot_no, missing)


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
