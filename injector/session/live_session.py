"""The live side of a session: attributing shots to zones, tallying, limits and locks.

A :class:`LiveSession` belongs to one gun (serial) and one session row. It keeps the
plan-against-actual tally in memory and writes through storage, one transaction per call, so
the recorder decides how many shots one commit holds. Restarting on the same database and gun
continues the same in-progress session with its tally, zone history, reached limits and
overrides rebuilt from what is stored.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from injector.domain.errors import InvalidValueError
from injector.domain.shot_rules import same_kind_between
from injector.domain.shots import DeviceEventIn, ShotIn
from injector.domain.vocabulary import AlertKind, DeviceEventKind, SessionStatus
from injector.session.numbers import ShotNumbers
from injector.session.practitioners import confirm_pin, refused_pins_audited
from injector.session.progress import (
    BatchResult,
    DepthBand,
    KnownShots,
    PlanAlert,
    PlanLock,
    PlanProgress,
    Tally,
    ZoneProgress,
)
from injector.storage.audit_chain import add_created, append_audit
from injector.storage.engine import Database
from injector.storage.errors import RecordNotFoundError
from injector.storage.shot_sql import (
    add_shot_counters,
    insert_device_events,
    insert_shots,
    shot_groups,
    shot_groups_by_volume,
    shot_numbers,
)
from injector.storage.tables import (
    Device,
    DeviceEvent,
    PlanZone,
    TreatmentPlan,
    TreatmentSession,
    ZoneActivation,
    table_of,
)

# A limit is identified by its kind and zone (None for the session-wide limit).
LimitKey = tuple[str, int | None]
ENDED_STATUSES = frozenset({SessionStatus.COMPLETED, SessionStatus.ABORTED, SessionStatus.SKIPPED})


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """A gun as it introduced itself (HELLO): serial, model and firmware version."""

    serial: str
    model: str
    firmware: str


@dataclass(frozen=True, slots=True)
class ZonePlan:
    """What the plan says about one zone, as the live session needs it."""

    id: int
    position: int
    name: str
    depth_um: int
    depth_tolerance_um: int
    volume_per_point_nl: int
    points: int
    max_volume_nl: int

    @property
    def band(self) -> DepthBand:
        """The zone's planned depth and tolerance."""
        return DepthBand(self.depth_um, self.depth_tolerance_um)


def _now() -> datetime:
    return datetime.now(UTC)


def upsert_device(session: Session, device: DeviceInfo, now: datetime, actor: str) -> Device:
    """The gun's row, created or brought up to date (model, firmware); changes are audited."""
    row = session.exec(select(Device).where(col(Device.serial) == device.serial)).first()
    changes: dict[str, Any] = {}
    if row is None:
        row = Device(
            serial=device.serial,
            model=device.model,
            firmware=device.firmware,
            first_seen_at=now,
            last_seen_at=now,
        )
        changes = {"serial": device.serial, "model": device.model, "firmware": device.firmware}
    else:
        # A firmware update is a change of the record (which gun fired the shots); a new
        # sighting alone is not worth an audit entry.
        for name in ("model", "firmware"):
            if getattr(row, name) != getattr(device, name):
                changes[name] = {"from": getattr(row, name), "to": getattr(device, name)}
                setattr(row, name, getattr(device, name))
        row.last_seen_at = now
    session.add(row)
    session.flush()
    assert row.id is not None
    if changes:
        append_audit(
            session.connection(),
            actor=actor,
            action="create" if "serial" in changes else "update",
            entity="device",
            entity_id=row.id,
            payload=changes,
            at=now,
        )
    return row


def next_sequence_no(session: Session, plan_id: int) -> int:
    """The place in the series of the next session of a plan (1 for the first)."""
    numbers = session.exec(
        select(TreatmentSession.sequence_no).where(col(TreatmentSession.plan_id) == plan_id)
    ).all()
    return max((n for n in numbers if n is not None), default=0) + 1


def _load_or_create_row(
    session: Session,
    device: DeviceInfo,
    device_row: Device,
    plan_id: int | None,
    session_id: int | None,
    actor: str,
    now: datetime,
) -> TreatmentSession:
    if session_id is not None:
        row = session.get(TreatmentSession, session_id)
        if row is None:
            raise RecordNotFoundError(f"session_id: there is no session {session_id}")
        if row.status in ENDED_STATUSES or row.signed_at is not None:
            raise InvalidValueError(
                "session_id", f"session {session_id} is {row.status}; it cannot record shots"
            )
        if row.status == SessionStatus.IN_PROGRESS and row.device_serial not in (
            None,
            device.serial,
        ):
            raise InvalidValueError(
                "session_id",
                f"session {session_id} is recording with gun {row.device_serial}, "
                f"not {device.serial}",
            )
        if plan_id is not None and row.plan_id != plan_id:
            raise InvalidValueError(
                "plan_id", f"session {session_id} belongs to plan {row.plan_id}, not {plan_id}"
            )
        changes: dict[str, Any] = {}
        if row.status == SessionStatus.PLANNED:
            changes = {"status": SessionStatus.IN_PROGRESS.value, "started_at": now}
        if row.device_serial != device.serial:
            changes |= {
                "device_serial": device.serial,
                "device_model": device.model,
                "device_firmware": device.firmware,
            }
        if changes:
            for key, value in changes.items():
                setattr(row, key, value)
            row.device_id = device_row.id
            session.add(row)
            session.flush()
            append_audit(
                session.connection(),
                actor=actor,
                action="start",
                entity="session",
                entity_id=session_id,
                payload=changes,
                at=now,
            )
        return row

    running = session.exec(
        select(TreatmentSession)
        .where(
            col(TreatmentSession.device_serial) == device.serial,
            col(TreatmentSession.status) == SessionStatus.IN_PROGRESS.value,
        )
        .order_by(col(TreatmentSession.started_at).desc(), col(TreatmentSession.id).desc())
    ).first()
    if running is not None:
        if plan_id is not None and running.plan_id != plan_id:
            raise InvalidValueError(
                "plan_id",
                f"gun {device.serial} is still recording session {running.id} of plan "
                f"{running.plan_id}; end that session first",
            )
        return running

    plan = None
    if plan_id is not None:
        plan = session.get(TreatmentPlan, plan_id)
        if plan is None:
            raise RecordNotFoundError(f"plan_id: there is no plan {plan_id}")
    row = TreatmentSession(
        plan_id=plan_id,
        sequence_no=next_sequence_no(session, plan_id) if plan_id is not None else None,
        status=SessionStatus.IN_PROGRESS.value,
        started_at=now,
        practitioner="",
        device_id=device_row.id,
        device_serial=device.serial,
        device_model=device.model,
        device_firmware=device.firmware,
        lot_number=plan.lot_number if plan else None,
        lot_expiry=plan.lot_expiry if plan else None,
        created_at=now,
    )
    add_created(session, row, actor=actor, entity="session", at=now)
    return row


class _SessionEndedElsewhere(Exception):
    """The session row is no longer in progress (rolls the write back)."""


def _in_progress(conn: Connection, session_id: int) -> bool:
    table = table_of(TreatmentSession)
    status = conn.execute(
        sa_select(table.c.status).where(table.c.id == session_id)
    ).scalar_one_or_none()
    return status == SessionStatus.IN_PROGRESS.value


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a batch changes in memory, applied only after its transaction commits."""

    result: BatchResult
    tallies: dict[int | None, Tally]
    fresh: list[ShotIn]
    forget_boots: set[int]
    reached: set[LimitKey]


class LiveSession:
    """One gun recording one session: attribution, tally, limits, locks. Thread-safe.

    Build it with :func:`open_or_continue`; every method writes in one transaction of its own.
    """

    def __init__(
        self,
        db: Database,
        *,
        session_id: int,
        serial: str,
        plan_id: int | None,
        zones: Sequence[ZonePlan],
        max_session_volume_nl: int | None,
        lock_at_limit: bool,
        activations: Iterable[tuple[datetime, int | None]],
        tallies: dict[int | None, Tally],
        recovered_shots: int,
        lost_shots: int,
        reached: set[LimitKey],
        overridden: set[LimitKey],
        last_override: tuple[str, datetime] | None = None,
    ) -> None:
        self._db = db
        self._lock = threading.RLock()
        self.session_id = session_id
        self.serial = serial
        self.plan_id = plan_id
        self._zones = {zone.id: zone for zone in sorted(zones, key=lambda z: z.position)}
        self._bands = {zone.id: zone.band for zone in zones}
        self._max_session_volume_nl = max_session_volume_nl
        self._lock_at_limit = lock_at_limit
        ordered = sorted(activations, key=lambda a: a[0])
        self._activation_times = [at for at, _ in ordered]
        self._activation_zones = [zone for _, zone in ordered]
        self._tallies = tallies
        self._recovered = recovered_shots
        self._lost = lost_shots
        self._reached = reached
        self._overridden = overridden
        self._override = last_override
        self._known: dict[int, ShotNumbers] = {}
        self._ended = False

    # -- zones -------------------------------------------------------------------------------

    @property
    def zones(self) -> tuple[ZonePlan, ...]:
        """The plan's zones, in plan order."""
        return tuple(self._zones.values())

    @property
    def active_zone_id(self) -> int | None:
        """The zone shots are attributed to now (None: no zone chosen)."""
        with self._lock:
            return self._activation_zones[-1] if self._activation_zones else None

    def zone_at(self, at: datetime) -> int | None:
        """The zone that was active at ``at``."""
        with self._lock:
            return self._zone_at(at)

    def _zone_at(self, at: datetime) -> int | None:
        index = bisect.bisect_right(self._activation_times, at) - 1
        return self._activation_zones[index] if index >= 0 else None

    def set_active_zone(
        self, zone_id: int | None, *, at: datetime | None = None, actor: str = "recorder"
    ) -> None:
        """Make ``zone_id`` the active zone from ``at`` (default now); recorded and audited.

        Shots are attributed by the time they were fired (``device_time``, else
        ``received_at``), so shots still in flight when the zone changes land in the right one.
        """
        if zone_id is not None and zone_id not in self._zones:
            raise InvalidValueError(
                "zone_id", f"zone {zone_id} is not a zone of plan {self.plan_id}"
            )
        when = at or _now()
        with self._lock, self._db.session() as session:
            if self._ended:
                raise InvalidValueError("session_id", f"session {self.session_id} has ended")
            session.add(ZoneActivation(session_id=self.session_id, zone_id=zone_id, at=when))
            row = session.get(TreatmentSession, self.session_id)
            assert row is not None
            row.active_zone_id = zone_id
            session.add(row)
            append_audit(
                session.connection(),
                actor=actor,
                action="activate_zone",
                entity="session",
                entity_id=self.session_id,
                payload={"zone_id": zone_id, "at": when},
                at=when,
            )
            index = bisect.bisect_right(self._activation_times, when)
            self._activation_times.insert(index, when)
            self._activation_zones.insert(index, zone_id)

    # -- shots -------------------------------------------------------------------------------

    def _known_numbers(self, conn: Connection, boot_id: int) -> ShotNumbers:
        known = self._known.get(boot_id)
        if known is None:
            known = ShotNumbers(shot_numbers(conn, self.serial, boot_id))
            self._known[boot_id] = known
        return known

    def add_shots(self, shots: Sequence[ShotIn]) -> BatchResult:
        """Store a batch of shots in one transaction, each attributed to its zone.

        Shots already stored (same serial, boot_id, shot_no) count as duplicates and change
        nothing. Returns the counts, the plan limits this batch reached and whether the gun
        should be locked (PLAN_LIMIT). A shot of another gun is refused (field ``serial``) and
        then nothing of the batch is stored. Shots that arrive after the session ended (here
        or elsewhere) start a new in-progress session of the same plan and gun, which
        :attr:`session_id` then names: a shot is never refused for that.
        """
        for shot in shots:
            if shot.serial != self.serial:
                raise InvalidValueError(
                    "serial", f"shot of gun {shot.serial} given to the session of {self.serial}"
                )
            if shot.received_at.tzinfo is None:
                raise InvalidValueError("received_at", "must be a timezone-aware UTC datetime")
            if shot.device_time is not None and shot.device_time.tzinfo is None:
                raise InvalidValueError("device_time", "must be a timezone-aware UTC datetime")
        with self._lock:
            if self._ended:
                self._roll_over()
            try:
                with self._db.begin() as conn:
                    if not _in_progress(conn, self.session_id):
                        raise _SessionEndedElsewhere
                    outcome = self._add_shots(conn, shots)
            except _SessionEndedElsewhere:
                # Ended from another screen or room while the gun still fires: the shots
                # are kept, in a new session, rather than refused or added to an ended one.
                self._roll_over()
                with self._db.begin() as conn:
                    outcome = self._add_shots(conn, shots)
            # Only once the transaction has committed does the in-memory state move, so a
            # failed commit leaves the tally matching the database.
            self._tallies = outcome.tallies
            for shot in outcome.fresh:
                known = self._known.get(shot.boot_id)
                if known is not None:
                    known.add(shot.shot_no)
            for boot_id in outcome.forget_boots:
                self._known.pop(boot_id, None)
            self._reached |= outcome.reached
            return outcome.result

    def _roll_over(self) -> None:
        """Continue in a new in-progress session after this one ended (audited)."""
        when = _now()
        active = self._activation_zones[-1] if self._activation_zones else None
        with self._db.session() as session:
            old = session.get(TreatmentSession, self.session_id)
            assert old is not None
            row = TreatmentSession(
                plan_id=old.plan_id,
                sequence_no=(
                    next_sequence_no(session, old.plan_id) if old.plan_id is not None else None
                ),
                status=SessionStatus.IN_PROGRESS.value,
                started_at=when,
                practitioner=old.practitioner,
                device_id=old.device_id,
                device_serial=old.device_serial,
                device_model=old.device_model,
                device_firmware=old.device_firmware,
                lot_number=old.lot_number,
                lot_expiry=old.lot_expiry,
                active_zone_id=active,
                notes=f"continues session {old.id}, which ended while the gun still fired",
                created_at=when,
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            if active is not None:
                session.add(ZoneActivation(session_id=row.id, zone_id=active, at=when))
            append_audit(
                session.connection(),
                actor=f"recorder {self.serial}",
                action="create",
                entity="session",
                entity_id=row.id,
                payload={**row.model_dump(exclude={"id"}), "continues_session": old.id},
                at=when,
            )
            new_id = row.id
        self.session_id = new_id
        self._activation_times = [when] if active is not None else []
        self._activation_zones = [active] if active is not None else []
        self._tallies = {}
        self._recovered = self._lost = 0
        self._reached = set()
        self._overridden = set()
        self._override = None
        self._ended = False

    def _add_shots(self, conn: Connection, shots: Sequence[ShotIn]) -> _Outcome:
        fresh: list[ShotIn] = []
        zone_ids: list[int | None] = []
        batch: dict[int | None, Tally] = {}
        seen: set[tuple[int, int]] = set()
        for shot in shots:
            key = (shot.boot_id, shot.shot_no)
            if key in seen or shot.shot_no in self._known_numbers(conn, shot.boot_id):
                continue
            seen.add(key)
            zone_id = self._zone_at(shot.device_time or shot.received_at)
            tally = batch.get(zone_id)
            if tally is None:
                tally = batch[zone_id] = Tally()
            tally.add_shot(
                shot.flags,
                shot.depth_um,
                shot.volume_nl,
                self._bands.get(zone_id) if zone_id else None,
            )
            fresh.append(shot)
            zone_ids.append(zone_id)
        inserted = insert_shots(conn, self.session_id, fresh, zone_ids)
        new_tallies = {zone: Tally() for zone in set(self._tallies) | set(batch)}
        forget_boots: set[int] = set()
        if inserted == len(fresh):
            for zone, tally in new_tallies.items():
                if zone in self._tallies:
                    tally.add(self._tallies[zone])
                if zone in batch:
                    tally.add(batch[zone])
        else:
            # Another writer stored some of these shots first (two recorders on one gun): the
            # database is the truth, so take the tally from it rather than guess.
            new_tallies = tallies_from_db(conn, self.session_id)
            forget_boots = {shot.boot_id for shot in fresh}
        alerts = self._check_limits(new_tallies, batch.keys())
        if alerts:
            insert_device_events(
                conn,
                [
                    {
                        "session_id": self.session_id,
                        "serial": self.serial,
                        "boot_id": None,
                        "kind": DeviceEventKind.NOTE.value,
                        "at": _now(),
                        "detail": {
                            "alert": alert.kind.value,
                            "zone_id": alert.zone_id,
                            "volume_nl": alert.volume_nl,
                            "limit_nl": alert.limit_nl,
                            "lock": alert.lock,
                        },
                    }
                    for alert in alerts
                ],
            )
        reached = {(a.kind.value, a.zone_id) for a in alerts}
        lock = self._lock_wanted(self._reached | reached, batch.keys()) if inserted else False
        return _Outcome(
            result=BatchResult(
                new=inserted,
                duplicates=len(shots) - inserted,
                alerts=tuple(alerts),
                lock_requested=lock,
            ),
            tallies=new_tallies,
            fresh=fresh,
            forget_boots=forget_boots,
            reached=reached,
        )

    def _check_limits(
        self, tallies: dict[int | None, Tally], touched: Iterable[int | None]
    ) -> list[PlanAlert]:
        alerts: list[PlanAlert] = []
        for zone_id in touched:
            zone = self._zones.get(zone_id) if zone_id is not None else None
            if zone is None or (AlertKind.ZONE_MAX_VOLUME.value, zone_id) in self._reached:
                continue
            volume = tallies[zone_id].volume_nl
            if volume >= zone.max_volume_nl:
                alerts.append(
                    PlanAlert(
                        AlertKind.ZONE_MAX_VOLUME,
                        zone_id,
                        volume,
                        zone.max_volume_nl,
                        self._lock_at_limit,
                    )
                )
        limit = self._max_session_volume_nl
        if limit is not None and (AlertKind.SESSION_MAX_VOLUME.value, None) not in self._reached:
            total = sum(t.volume_nl for t in tallies.values())
            if total >= limit:
                alerts.append(
                    PlanAlert(AlertKind.SESSION_MAX_VOLUME, None, total, limit, self._lock_at_limit)
                )
        return alerts

    def _lock_wanted(self, reached: set[LimitKey], touched: Iterable[int | None]) -> bool:
        if not self._lock_at_limit:
            return False
        touched_zones = set(touched)
        for kind, zone_id in reached - self._overridden:
            if kind == AlertKind.SESSION_MAX_VOLUME.value or zone_id in touched_zones:
                return True
        return False

    # -- limits ------------------------------------------------------------------------------

    def limits_reached(self) -> frozenset[LimitKey]:
        """Every limit reached so far, as (alert kind, zone id or None)."""
        with self._lock:
            return frozenset(self._reached)

    def lock_pending(self) -> bool:
        """True while a reached limit asks for a lock and has not been overridden."""
        with self._lock:
            return self._lock_at_limit and bool(self._reached - self._overridden)

    def plan_lock(self) -> PlanLock:
        """What is true of the plan-limit lock now (one answer for banner and gun panel)."""
        with self._lock:
            by, at = self._override if self._override is not None else (None, None)
            return PlanLock(self.lock_pending(), by, at)

    def override_lock(
        self, *, by: str, pin: str, reason: str, at: datetime | None = None
    ) -> PlanLock:
        """The practitioner ``by``, confirmed by their PIN, overrides every limit reached so
        far, with a reason; recorded and audited (a wrong PIN too, and then nothing changes).

        The recorder may then unlock the gun. A limit reached later locks again. Returns the
        lock's state after the override.
        """
        if not by.strip():
            raise InvalidValueError("by", "an override needs the practitioner's name")
        if not reason.strip():
            raise InvalidValueError("reason", "an override needs a reason")
        when = at or _now()
        with self._lock, refused_pins_audited(self._db):
            limits = sorted(self._reached - self._overridden, key=lambda k: (k[0], k[1] or 0))
            with self._db.begin() as conn:
                person = confirm_pin(conn, by, pin, purpose="plan-limit override", at=when)
                detail = {
                    "limits": [list(k) for k in limits],
                    "by": person.name,
                    "practitioner_id": person.id,
                    "reason": reason,
                }
                insert_device_events(
                    conn,
                    [
                        {
                            "session_id": self.session_id,
                            "serial": self.serial,
                            "boot_id": None,
                            "kind": DeviceEventKind.LOCK_OVERRIDE.value,
                            "at": when,
                            "detail": detail,
                        }
                    ],
                )
                append_audit(
                    conn,
                    actor=person.name,
                    action="override_lock",
                    entity="session",
                    entity_id=self.session_id,
                    payload=detail,
                    at=when,
                )
            self._overridden |= set(limits)
            self._override = (person.name, when)
            return self.plan_lock()

    # -- events ------------------------------------------------------------------------------

    def add_events(self, events: Sequence[DeviceEventIn]) -> None:
        """Store device events in one transaction; counts recovered and lost shots.

        ``shots_recovered`` and ``shots_lost`` events carry ``detail["count"]``. After
        :meth:`end` events are still stored, in the gun's log but outside the session.
        """
        rows: list[dict[str, Any]] = []
        recovered = lost = 0
        for event in events:
            if event.serial != self.serial:
                raise InvalidValueError(
                    "serial", f"event of gun {event.serial} given to the session of {self.serial}"
                )
            if event.at.tzinfo is None:
                raise InvalidValueError("at", "must be a timezone-aware UTC datetime")
            kind = DeviceEventKind(event.kind)
            count = int(event.detail.get("count", 0) or 0)
            if kind == DeviceEventKind.SHOTS_RECOVERED:
                recovered += count
            elif kind == DeviceEventKind.SHOTS_LOST:
                lost += count
            rows.append(
                {
                    "session_id": self.session_id,
                    "serial": event.serial,
                    "boot_id": event.boot_id,
                    "kind": kind.value,
                    "at": event.at,
                    "detail": dict(event.detail),
                }
            )
        with self._lock, self._db.begin() as conn:
            if self._ended or not _in_progress(conn, self.session_id):
                # The gun keeps talking after the session ended: keep its events in the
                # device log, but not in (or counted against) a session that may be signed.
                for row in rows:
                    row["session_id"] = None
                recovered = lost = 0
            insert_device_events(conn, rows)
            add_shot_counters(conn, self.session_id, recovered, lost)
        with self._lock:
            self._recovered += recovered
            self._lost += lost

    def known_shot_numbers(self, serial: str, boot_id: int) -> KnownShots:
        """The highest stored shot number of a boot and the numbers missing below it, so a
        restarted recorder can ask the gun (RESEND_REQ) for what it missed."""
        with self._db.read() as conn:
            numbers = shot_numbers(conn, serial, boot_id)
        return known_shots_from(serial, boot_id, numbers)

    # -- progress and end --------------------------------------------------------------------

    def progress(self) -> PlanProgress:
        """Plan against actual now, per zone and in total (from memory; no database access)."""
        with self._lock:
            return build_progress(
                self.session_id,
                tuple(self._zones.values()),
                self._tallies,
                self._max_session_volume_nl,
                self._recovered,
                self._lost,
            )

    def end(
        self,
        *,
        actor: str,
        status: SessionStatus = SessionStatus.COMPLETED,
        at: datetime | None = None,
    ) -> None:
        """End the session (completed or aborted); it records no more shots. Audited."""
        if status not in (SessionStatus.COMPLETED, SessionStatus.ABORTED):
            raise InvalidValueError("status", "a session ends as completed or aborted")
        when = at or _now()
        with self._lock, self._db.session() as session:
            row = session.get(TreatmentSession, self.session_id)
            assert row is not None
            if row.status != SessionStatus.IN_PROGRESS:
                raise InvalidValueError(
                    "status", f"session {self.session_id} is {row.status}, not in progress"
                )
            row.status = status.value
            row.ended_at = when
            session.add(row)
            append_audit(
                session.connection(),
                actor=actor,
                action="end",
                entity="session",
                entity_id=self.session_id,
                payload={"status": status.value, "ended_at": when},
                at=when,
            )
            self._ended = True


def known_shots_from(serial: str, boot_id: int, numbers: Sequence[int]) -> KnownShots:
    """:class:`KnownShots` from the ascending stored shot numbers of one boot."""
    if not numbers:
        return KnownShots(serial, boot_id, 0, ())
    present = set(numbers)
    top = numbers[-1]
    return KnownShots(serial, boot_id, top, tuple(n for n in range(1, top) if n not in present))


def tallies_from_db(conn: Connection, session_id: int) -> dict[int | None, Tally]:
    """Per-zone tallies of a session's stored shots, counted by the same rule as the live
    tally (:meth:`Tally.add_shot`): the database groups shots of equal flags and depth, the
    rule counts each group (split by volume only where a volume could change its kind)."""
    tallies: dict[int | None, Tally] = {}
    groups = shot_groups(conn, session_id)
    if not all(
        same_kind_between(g.flags, g.depth_um, g.volume_min_nl, g.volume_max_nl) for g in groups
    ):
        groups = shot_groups_by_volume(conn, session_id)
    for group in groups:
        tally = tallies.get(group.zone_id)
        if tally is None:
            tally = tallies[group.zone_id] = Tally()
        band = (
            DepthBand(group.zone_depth_um, group.zone_tolerance_um)
            if group.zone_depth_um is not None and group.zone_tolerance_um is not None
            else None
        )
        tally.add_shots_alike(
            group.flags, group.depth_um, group.volume_min_nl, group.count, group.volume_nl, band
        )
    return tallies


def build_progress(
    session_id: int,
    zones: Sequence[ZonePlan],
    tallies: dict[int | None, Tally],
    max_session_volume_nl: int | None,
    recovered: int,
    lost: int,
) -> PlanProgress:
    """Assemble :class:`PlanProgress` from a plan's zones and per-zone tallies."""
    out: list[ZoneProgress] = []
    for zone in zones:
        tally = tallies.get(zone.id, Tally())
        out.append(
            _zone_progress(
                zone.id,
                zone.name,
                zone.points,
                zone.points * zone.volume_per_point_nl,
                zone.max_volume_nl,
                tally,
            )
        )
    unzoned = tallies.get(None)
    if unzoned is not None and unzoned.shots:
        out.append(_zone_progress(None, "(no zone)", 0, 0, None, unzoned))
    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    return PlanProgress(
        session_id=session_id,
        zones=tuple(out),
        total=_zone_progress(
            None,
            "total",
            sum(z.points for z in zones),
            sum(z.points * z.volume_per_point_nl for z in zones),
            max_session_volume_nl,
            total,
        ),
        recovered_shots=recovered,
        lost_shots=lost,
    )


def _zone_progress(
    zone_id: int | None,
    name: str,
    points_planned: int,
    volume_planned_nl: int,
    max_volume_nl: int | None,
    tally: Tally,
) -> ZoneProgress:
    return ZoneProgress(
        zone_id=zone_id,
        name=name,
        points_planned=points_planned,
        points=tally.points,
        volume_planned_nl=volume_planned_nl,
        volume_nl=tally.volume_nl,
        max_volume_nl=max_volume_nl,
        depth_out_of_tolerance=tally.depth_out_of_tolerance,
        air_shots=tally.air_shots,
        air_volume_nl=tally.air_volume_nl,
        partial_shots=tally.partial_shots,
        shots=tally.shots,
        implausible_shots=tally.implausible_shots,
    )


def zone_plans(session: Session, plan_id: int | None) -> list[ZonePlan]:
    """The zones of a plan as :class:`ZonePlan` (none without a plan)."""
    if plan_id is None:
        return []
    rows = session.exec(
        select(PlanZone).where(col(PlanZone.plan_id) == plan_id).order_by(col(PlanZone.position))
    ).all()
    return [
        ZonePlan(
            id=row.id or 0,
            position=row.position,
            name=row.name,
            depth_um=row.depth_um,
            depth_tolerance_um=row.depth_tolerance_um,
            volume_per_point_nl=row.volume_per_point_nl,
            points=row.points,
            max_volume_nl=row.max_volume_nl,
        )
        for row in rows
    ]


def open_or_continue(
    db: Database,
    device: DeviceInfo,
    plan_id: int | None = None,
    session_id: int | None = None,
    *,
    actor: str = "recorder",
    now: datetime | None = None,
) -> LiveSession:
    """The live session for a gun: the given one, else the gun's most recent in-progress
    session (a restart continues it), else a new in-progress session (of ``plan_id`` if given).

    A planned session given by ``session_id`` is started. Refuses (naming the field) a session
    that has ended or is recording with another gun, and a ``plan_id`` that differs from the
    session being continued. Creating or starting a session is audited with ``actor``.
    """
    when = now or _now()
    with db.session() as session:
        device_row = upsert_device(session, device, when, actor)
        row = _load_or_create_row(session, device, device_row, plan_id, session_id, actor, when)
        assert row.id is not None
        sid = row.id
        plan = session.get(TreatmentPlan, row.plan_id) if row.plan_id is not None else None
        zones = zone_plans(session, row.plan_id)
        activations = [
            (a.at, a.zone_id)
            for a in session.exec(
                select(ZoneActivation).where(col(ZoneActivation.session_id) == sid)
            ).all()
        ]
        tallies = tallies_from_db(session.connection(), sid)
        reached: set[LimitKey] = set()
        overridden: set[LimitKey] = set()
        last_override: tuple[str, datetime] | None = None
        events = session.exec(
            select(DeviceEvent).where(
                col(DeviceEvent.session_id) == sid,
                col(DeviceEvent.kind).in_(
                    [DeviceEventKind.NOTE.value, DeviceEventKind.LOCK_OVERRIDE.value]
                ),
            )
        ).all()
        for event in events:
            if event.kind == DeviceEventKind.NOTE.value and "alert" in event.detail:
                reached.add((str(event.detail["alert"]), event.detail.get("zone_id")))
            elif event.kind == DeviceEventKind.LOCK_OVERRIDE.value:
                overridden |= {(str(k), z) for k, z in event.detail.get("limits", [])}
                if last_override is None or event.at >= last_override[1]:
                    last_override = (str(event.detail.get("by", "?")), event.at)
        return LiveSession(
            db,
            session_id=sid,
            serial=device.serial,
            plan_id=row.plan_id,
            zones=zones,
            max_session_volume_nl=plan.max_session_volume_nl if plan else None,
            lock_at_limit=plan.lock_at_limit if plan else False,
            activations=activations,
            tallies=tallies,
            recovered_shots=row.recovered_shots,
            lost_shots=row.lost_shots,
            reached=reached,
            overridden=overridden,
            last_override=last_override,
        )
