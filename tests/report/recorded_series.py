"""A plan's series recorded through the real session API from the seeded gun model.

The MG-400 device model of ``simulators.gun`` fires every shot (its depth scatter and its shot
numbers come from a ``random.Random`` with a fixed seed), so the same seed records the same
shots. Patient P-1 has a face plan with five placed zones and one without a site. Session 1
is completed and signed; session 2 (the one the tests report on) has acknowledged checklist
warnings, a zone change, a lock, a fault and a link loss, an air shot, a partial shot, ends,
is signed, amended and gets an adverse event.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from injector.domain.inputs import AdverseEventInput, Checklist, SessionChanges
from injector.domain.shots import DeviceEventIn, ShotIn
from injector.domain.vocabulary import AdverseEventKind, DeviceEventKind, Severity
from injector.session import DeviceInfo, open_or_continue
from injector.session.clinical import (
    amend_session,
    record_adverse_event,
    sign_session,
    start_session,
)
from injector.session.patients_plans import get_plan
from injector.storage import Database
from protocols.igp1 import Mode
from simulators.gun import Gun, GunConfig, GunIdentity, GunSettings
from tests.session.builders import CLEAN_CHECKLIST, add_patient_and_plan, pin_of

SEED = 20261102
GUN = DeviceInfo("SN0042", "MG-400", "2.4.1")
DAY1 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=8)


def _zone(name: str, depth: float, points: int, site: str | None) -> dict[str, Any]:
    zone: dict[str, Any] = {
        "name": name,
        "body_area": "other",
        "technique": "point_by_point",
        "depth_mm": depth,
        "tolerance_mm": 0.3,
        "volume_per_point_ml": 0.02,
        "points": points,
    }
    return zone | ({"site": site} if site else {})


ZONES = [
    _zone("forehead", 1.5, 12, "forehead"),
    _zone("frown line", 1.0, 4, "glabella"),
    _zone("left crow's feet", 1.2, 6, "crows_feet_left"),
    _zone("left cheek", 2.0, 10, "cheek_left"),
    _zone("right cheek", 2.0, 10, "cheek_right"),
    _zone("jawline touch-up", 2.5, 5, None),
]


@dataclass(frozen=True)
class RecordedSeries:
    """Ids of what was recorded."""

    plan_id: int
    first_session_id: int
    session_id: int
    zone_ids: dict[str, int]


class GunShots:
    """The seeded gun model, fired zone by zone; its shots as the session API takes them."""

    def __init__(self, seed: int, start: datetime) -> None:
        identity = GunIdentity(GUN.model or "MG-400", GUN.serial, (2, 4, 1))
        config = GunConfig(identity=identity, settings=GunSettings(Mode.SINGLE), syringe_ul=20_000)
        self.gun = Gun(config, random.Random(seed))
        self.start = start
        self.gun.power_on()
        self.gun.advance_to(2_000)
        self._taken = 0

    def at(self) -> datetime:
        """The wall time of the gun's scenario clock."""
        return self.start + timedelta(milliseconds=self.gun.now)

    def fire(
        self, count: int, depth_um: int, volume_nl: int, *, no_skin: bool = False
    ) -> list[ShotIn]:
        """Fire ``count`` shots at a setting, 4 s apart; returns them."""
        self.gun.set_settings(depth_um=depth_um, volume_nl=volume_nl)
        if self.gun.syringe_remaining_nl < count * volume_nl:
            # A fresh syringe for the zone, as a practitioner would put in.
            self.gun.swap_syringe()
        for _ in range(count):
            self.gun.press_trigger(1, no_skin=no_skin)
            self.gun.advance_to(self.gun.now + 4_000)
        fresh = self.gun.history[self._taken :]
        self._taken = len(self.gun.history)
        return [
            ShotIn(
                serial=record.serial,
                boot_id=record.boot_id,
                shot_no=record.shot.shot_no,
                uptime_ms=record.shot.uptime_ms,
                received_at=self.start + timedelta(milliseconds=record.at_ms + 30),
                depth_um=record.shot.depth_um,
                volume_nl=record.shot.volume_nl,
                flags=record.shot.flags,
                syringe_remaining_nl=record.shot.syringe_remaining_nl,
                device_time=self.start + timedelta(milliseconds=record.at_ms),
            )
            for record in fresh
        ]


def _session(
    db: Database,
    plan_id: int,
    zones: dict[str, int],
    start: datetime,
    seed: int,
    *,
    per_zone: dict[str, int],
    checklist: Checklist = CLEAN_CHECKLIST,
    incidents: bool = False,
) -> int:
    session_id = start_session(
        db,
        plan_id,
        checklist,
        practitioner="Dr Test",
        device=GUN,
        now=start,
        acknowledged=True,
    )
    live = open_or_continue(db, GUN, session_id=session_id, now=start)
    gun = GunShots(seed, start)
    for zone in ZONES:
        name = zone["name"]
        count = per_zone.get(name, 0)
        if not count:
            continue
        live.set_active_zone(zones[name], at=gun.at(), actor="Dr Test")
        depth = round(zone["depth_mm"] * 1000)
        volume = round(zone["volume_per_point_ml"] * 1_000_000)
        if incidents and name == "forehead":
            live.add_shots(gun.fire(count - 2, depth, volume))
            # Two shots far too deep, then one in the air.
            live.add_shots(gun.fire(2, depth + 700, volume))
            live.add_shots(gun.fire(1, depth, volume, no_skin=True))
            continue
        live.add_shots(gun.fire(count, depth, volume))
        if incidents and name == "frown line":
            boot = gun.gun.boot_id
            live.add_events(
                [
                    DeviceEventIn(
                        DeviceEventKind.FAULT_RAISED,
                        gun.at(),
                        GUN.serial,
                        boot,
                        {"code": "NEEDLE_JAM"},
                    ),
                    DeviceEventIn(
                        DeviceEventKind.FAULT_CLEARED,
                        gun.at() + timedelta(seconds=20),
                        GUN.serial,
                        boot,
                        {"code": "NEEDLE_JAM"},
                    ),
                    DeviceEventIn(
                        DeviceEventKind.LINK_LOST,
                        gun.at() + timedelta(seconds=30),
                        GUN.serial,
                        boot,
                    ),
                    DeviceEventIn(
                        DeviceEventKind.LINK_RESTORED,
                        gun.at() + timedelta(seconds=34),
                        GUN.serial,
                        boot,
                    ),
                    DeviceEventIn(
                        DeviceEventKind.LOCKED,
                        gun.at() + timedelta(seconds=40),
                        GUN.serial,
                        boot,
                        {"reason": "MANUAL"},
                    ),
                    DeviceEventIn(
                        DeviceEventKind.UNLOCKED, gun.at() + timedelta(seconds=50), GUN.serial, boot
                    ),
                ]
            )
            gun.gun.advance_to(gun.gun.now + 60_000)
    live.end(actor="Dr Test", at=gun.at() + timedelta(seconds=30))
    sign_session(
        db,
        session_id,
        name="Dr Test",
        pin=pin_of(db, "Dr Test"),
        now=gun.at() + timedelta(minutes=2),
    )
    return session_id


def record_series(
    db: Database, *, seed: int = SEED, shots_per_zone: int | None = None
) -> RecordedSeries:
    """Record two sessions of the face plan (``shots_per_zone`` overrides the planned points,
    e.g. for a long session in the benchmark)."""
    plan_id = add_patient_and_plan(db, zones=ZONES, indication="wrinkles_and_lines")
    zones = {zone.name: zone.id for zone in get_plan(db, plan_id).zones}

    def counts(scale: float) -> dict[str, int]:
        if shots_per_zone is not None:
            return {z["name"]: shots_per_zone for z in ZONES}
        return {z["name"]: max(1, round(z["points"] * scale)) for z in ZONES}

    first = _session(db, plan_id, zones, DAY1, seed, per_zone=counts(0.8))
    warned = Checklist(
        nsaid_last_7_days=True,
        numbing_applied=True,
        consent_recorded=True,
        before_photos_taken=False,
    )
    # Three points more than planned on the left cheek: over plan on the map.
    extra = {"left cheek": 13} if shots_per_zone is None else {}
    second = _session(
        db,
        plan_id,
        zones,
        DAY2,
        seed + 1,
        per_zone=counts(1.0) | extra,
        checklist=warned,
        incidents=True,
    )
    after = DAY2 + timedelta(hours=2)
    amend_session(
        db,
        second,
        SessionChanges(notes="Patient tolerated well; ice applied."),
        by="Dr Test",
        pin=pin_of(db, "Dr Test"),
        reason="notes added after the session",
        now=after,
    )
    record_adverse_event(
        db,
        second,
        AdverseEventInput(
            kind=AdverseEventKind.BRUISING,
            severity=Severity.MILD,
            onset=DAY2 + timedelta(hours=1),
            notes="small bruise, left cheek",
        ),
        actor="Dr Test",
        now=after,
    )
    return RecordedSeries(plan_id, first, second, zones)
