"""The recorder's view of storage: sessions opened through the session logic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from injector.domain.vocabulary import DeviceEventKind
from injector.driver import DeviceIdentified
from injector.recorder.pipeline import RecordingSession
from injector.session import DeviceEventIn, DeviceInfo, LiveSession, open_or_continue
from injector.session.stored_boots import StoredBoot, previous_boot, stored_boot
from injector.storage.engine import Database


class DatabaseStore:
    """Opens or continues each gun's in-progress session in ``db`` (of ``plan_id`` if given).

    ``session_id`` names a planned session to start instead (as prepared before the gun
    connected); ``actor`` is recorded in the audit trail for opening or starting it.
    ``on_open`` is called on the committer thread with each session opened, before any of
    its shots are stored (a UI follows the session, or makes the zone chosen meanwhile
    active, from there). Shots the gun fired before the session opened are left out of it
    unless ``include_earlier`` (see :mod:`injector.session.session_window`).
    """

    def __init__(
        self,
        db: Database,
        plan_id: int | None = None,
        *,
        session_id: int | None = None,
        actor: str = "recorder",
        on_open: Callable[[LiveSession], None] | None = None,
        include_earlier: bool = False,
    ) -> None:
        self.db = db
        self.include_earlier = include_earlier
        self.plan_id = plan_id
        self.session_id = session_id
        self.actor = actor
        self.on_open = on_open

    def open_session(self, device: DeviceIdentified) -> LiveSession:
        """The gun's session: the one named, else its in-progress one (continued after a
        restart), else a new one.

        See :meth:`report_unrecorded_losses`, which it calls before ``on_open``.
        """
        info = DeviceInfo(serial=device.serial, model=device.model, firmware=device.firmware)
        live = open_or_continue(
            self.db,
            info,
            plan_id=self.plan_id,
            session_id=self.session_id,
            actor=self.actor,
            include_earlier=self.include_earlier,
        )
        self.report_unrecorded_losses(live, device)
        if self.on_open is not None:
            self.on_open(live)
        return live

    def report_unrecorded_losses(self, session: RecordingSession, device: DeviceIdentified) -> int:
        """Report lost, in ``session``, the gaps of the gun's previous boot; returns how many.

        If the gun restarted while nothing recorded it (the recorder was stopped or killed),
        the shots missing from its previous boot can no longer be asked for. Gaps an earlier
        run already reported are not reported again. Call it once a session is open.
        """
        previous = previous_boot(self.db, device.serial, device.boot_id)
        if previous is None:
            return 0
        gaps = self.known_shots(device.serial, previous).missing
        if gaps:
            detail = {
                "count": len(gaps),
                "ranges": [list(r) for r in _ranges(gaps)],
                "reason": "the gun restarted while nothing recorded it",
            }
            event = DeviceEventIn(
                DeviceEventKind.SHOTS_LOST, datetime.now(UTC), device.serial, previous, detail
            )
            session.add_events([event])
        return len(gaps)

    def known_shots(self, serial: str, boot_id: int) -> StoredBoot:
        """What is stored of one boot of one gun (see :func:`stored_boot`), for the driver."""
        return stored_boot(self.db, serial, boot_id)


def _ranges(numbers: Sequence[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for n in sorted(numbers):
        if out and n == out[-1][1] + 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return out
