"""A session recorded through the real session API, and the figures the exports must show.

Patient P-1, plan with zones forehead (1.5 mm ± 0.3, nappage) and cheeks (2.5 mm ± 0.5, point
by point), gun SN0042. One shot before any zone was chosen, five on the forehead (one in the
air), a reboot, three on the cheeks (one partial, one before the gun's clock was known),
link events with 2 shots recovered and 1 lost; then the session ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from injector.domain.shots import DeviceEventIn, ShotFlag, ShotIn
from injector.domain.vocabulary import DeviceEventKind
from injector.session import DeviceInfo, open_or_continue
from injector.session.clinical import start_session
from injector.session.patients_plans import get_plan
from injector.storage import Database
from tests.session.builders import CLEAN_CHECKLIST, add_patient_and_plan

GUN = DeviceInfo("SN0042", "MG-400", "2.4.1")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NO_SKIN = int(ShotFlag.NO_SKIN)
PARTIAL = int(ShotFlag.PARTIAL)


@dataclass(frozen=True)
class Recorded:
    """What was recorded: ids, and the shots and events as given to the session API."""

    session_id: int
    plan_id: int
    zone_ids: dict[str, int]
    shots: list[ShotIn]
    zone_of_shot: dict[tuple[int, int], str | None]
    events: list[DeviceEventIn]


def _shot(
    boot_id: int,
    shot_no: int,
    seconds: float,
    depth_um: int,
    volume_nl: int,
    *,
    flags: int = 0,
    clock_known: bool = True,
) -> ShotIn:
    fired = T0 + timedelta(seconds=seconds)
    return ShotIn(
        serial=GUN.serial,
        boot_id=boot_id,
        shot_no=shot_no,
        uptime_ms=int(seconds * 1000) + 5_000,
        received_at=fired + timedelta(milliseconds=40),
        depth_um=depth_um,
        volume_nl=volume_nl,
        flags=flags,
        syringe_remaining_nl=5_000_000 - shot_no * 50_000,
        device_time=fired if clock_known else None,
    )


def record_session(db: Database, *, end: bool = True) -> Recorded:
    """Record the session described in this module through the session API."""
    plan_id = add_patient_and_plan(db)
    zones = {zone.name: zone.id for zone in get_plan(db, plan_id).zones}
    session_id = start_session(
        db, plan_id, CLEAN_CHECKLIST, practitioner="Dr Test", device=GUN, now=T0
    )
    live = open_or_continue(db, GUN, session_id=session_id, now=T0)
    early = [_shot(7, 1, 2, 1000, 20_000)]
    forehead = [
        _shot(7, 2, 10, 1400, 50_000),
        _shot(7, 3, 20, 1500, 50_000),
        _shot(7, 4, 30, 1900, 50_000),
        _shot(7, 5, 40, 1600, 50_000),
        _shot(7, 6, 45, 0, 10_000, flags=NO_SKIN),
    ]
    cheeks = [
        _shot(8, 1, 70, 2500, 50_000),
        _shot(8, 2, 80, 2400, 40_000, flags=PARTIAL),
        _shot(8, 3, 95, 3100, 50_000, clock_known=False),
    ]
    live.add_shots(early)
    live.set_active_zone(zones["forehead"], at=T0 + timedelta(seconds=5), actor="Dr Test")
    live.add_shots(forehead)
    events = [
        DeviceEventIn(DeviceEventKind.LINK_LOST, T0 + timedelta(seconds=50), GUN.serial, 7),
        DeviceEventIn(DeviceEventKind.DEVICE_REBOOTED, T0 + timedelta(seconds=55), GUN.serial, 8),
        DeviceEventIn(DeviceEventKind.LINK_RESTORED, T0 + timedelta(seconds=56), GUN.serial, 8),
        DeviceEventIn(
            DeviceEventKind.SHOTS_RECOVERED,
            T0 + timedelta(seconds=57),
            GUN.serial,
            7,
            {"count": 2},
        ),
        DeviceEventIn(
            DeviceEventKind.SHOTS_LOST, T0 + timedelta(seconds=58), GUN.serial, 7, {"count": 1}
        ),
    ]
    live.add_events(events)
    live.set_active_zone(zones["cheeks"], at=T0 + timedelta(seconds=60), actor="Dr Test")
    live.add_shots(cheeks)
    if end:
        live.end(actor="Dr Test", at=T0 + timedelta(seconds=120))
    zone_of_shot: dict[tuple[int, int], str | None] = {(7, 1): None}
    zone_of_shot |= {(s.boot_id, s.shot_no): "forehead" for s in forehead}
    zone_of_shot |= {(s.boot_id, s.shot_no): "cheeks" for s in cheeks}
    return Recorded(
        session_id=session_id,
        plan_id=plan_id,
        zone_ids=zones,
        shots=early + forehead + cheeks,
        zone_of_shot=zone_of_shot,
        events=events,
    )
