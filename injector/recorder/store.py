"""The recorder's view of storage: sessions opened through the session logic."""

from __future__ import annotations

from injector.driver import DeviceIdentified
from injector.recorder.pipeline import RecordingSession
from injector.session import DeviceInfo, KnownShots, open_or_continue
from injector.session.live import known_shots_from
from injector.storage.engine import Database
from injector.storage.recording import shot_numbers


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
        """What is stored of one boot of one gun (any session), to ask the gun for the rest."""
        with self.db.begin() as conn:
            numbers = shot_numbers(conn, serial, boot_id)
        return known_shots_from(serial, boot_id, numbers)
