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
from sqlmodel import col, select

from injector.domain.errors import InvalidValueError
from injector.domain.shots import DeviceEventIn, ShotIn
from injector.domain.vocabulary import AlertKind, DeviceEventKind, SessionStatus
from injector.session.lifecycle import (
    SESSION,
    DeviceInfo,
    SessionEnding,
    continue_ended_session,
    end_session_row,
    open_session_of_gun,
    session_row,
    upsert_device,
)
from injector.session.numbers import ShotNumbers
from injector.session.plan_against_actual import (
    ZonePlan,
    build_progress,
    tallies_from_db,
    zone_plans,
)
from injector.session.practitioners import confirm_pin, refused_pins_audited
from injector.session.progress import BatchResult, PlanAlert, PlanLock, PlanProgress, Tally
from injector.session.session_window import (
    EarlierShots,
    earlier_event,
    earlier_left_out,
    fired_before,
    take_into_session,
)
from injector.storage.audit_chain import append_audit, update_audited
from injector.storage.engine import Database
from injector.storage.shot_sql import (
    add_shot_counters,
    insert_device_events,
    insert_shots,
    lowest_session_shot_no,
    shot_numbers,
)
from injector.storage.tables import (
    DeviceEvent,
    TreatmentPlan,
    TreatmentSession,
    ZoneActivation,
    table_of,
)

# A limit is identified by its kind and zone (None for the session-wide limit).
LimitKey = tuple[str, int | None]


def _now() -> datetime:
    return datetime.now(UTC)


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
    earlier: list[ShotIn]
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
        opened_at: datetime | None = None,
        include_earlier: bool = False,
        earlier: EarlierShots | None = None,
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
        self._floor: dict[int, int | None] = {}
        """Per boot, the lowest shot number the session holds: a shot numbered above it was
        fired after one of the session's own, so it is never an earlier shot."""
        self._ended = False
        self._opened_at = opened_at
        """Shots the gun fired before this are not the session's (see session_window)."""
        self._include_earlier = include_earlier
        self._earlier = earlier or EarlierShots()

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
            update_audited(
                session,
                session_row(session, self.session_id),
                {"active_zone_id": zone_id},
                actor=actor,
                action="activate_zone",
                entity=SESSION,
                at=when,
                payload={"zone_id": zone_id, "at": when},
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
            self._earlier = self._earlier.plus(outcome.earlier)
            return outcome.result

    def _roll_over(self) -> None:
        """Continue in a new in-progress session after this one ended (audited)."""
        when = _now()
        active = self._activation_zones[-1] if self._activation_zones else None
        with self._db.session() as session:
            old = session_row(session, self.session_id)
            row = continue_ended_session(session, old, active, f"recorder {self.serial}", when)
            assert row.id is not None
            if active is not None:
                session.add(ZoneActivation(session_id=row.id, zone_id=active, at=when))
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
        # The continuation takes every shot that still arrives: they were fired in the
        # session that ended under them, not before a session the practitioner opened.
        self._opened_at = None
        self._earlier = EarlierShots()
        self._floor = {}

    def _after_own_shot(self, conn: Connection, shot: ShotIn) -> bool:
        # The gun's clock is only an estimate (a fast simulator or a drifting clock puts a
        # resent shot far in the past); its shot counter is not: a number above one of the
        # session's own shots was fired during the session.
        if shot.boot_id not in self._floor:
            self._floor[shot.boot_id] = lowest_session_shot_no(conn, self.session_id, shot.boot_id)
        floor = self._floor[shot.boot_id]
        return floor is not None and shot.shot_no > floor

    def _add_shots(self, conn: Connection, shots: Sequence[ShotIn]) -> _Outcome:
        fresh: list[ShotIn] = []
        zone_ids: list[int | None] = []
        earlier: list[ShotIn] = []
        batch: dict[int | None, Tally] = {}
        seen: set[tuple[int, int]] = set()
        opened = self._opened_at
        for shot in shots:
            key = (shot.boot_id, shot.shot_no)
            if key in seen or shot.shot_no in self._known_numbers(conn, shot.boot_id):
                continue
            seen.add(key)
            fired = shot.device_time or shot.received_at
            if (
                not self._include_earlier
                and fired_before(shot, opened)
                and not self._after_own_shot(conn, shot)
            ):
                earlier.append(shot)
                continue
            if opened is not None and shot.retransmitted and fired < opened:
                # A resent shot the session owns (or an earlier one included, record
                # --include-earlier) goes to the zone active when it opened: the gun's clock,
                # projected back from a later heartbeat, may put it before.
                fired = opened
            zone_id = self._zone_at(fired)
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
            floor = self._floor.get(shot.boot_id)
            self._floor[shot.boot_id] = shot.shot_no if floor is None else min(floor, shot.shot_no)
        inserted = insert_shots(conn, self.session_id, fresh, zone_ids)
        left_out = 0
        if earlier:
            # Kept, as shots of the gun with no session; the session says how many.
            left_out = insert_shots(conn, None, earlier, [None] * len(earlier))
            insert_device_events(
                conn,
                [earlier_event(self.session_id, self.serial, earlier, at=_now(), included=False)],
            )
        elif self._include_earlier and opened is not None:
            taken = [s for s in fresh if fired_before(s, opened)]
            if taken:
                insert_device_events(
                    conn,
                    [earlier_event(self.session_id, self.serial, taken, at=_now(), included=True)],
                )
        new_tallies = {zone: Tally() for zone in set(self._tallies) | set(batch)}
        forget_boots: set[int] = set()
        if inserted == len(fresh) and left_out == len(earlier):
            for zone, tally in new_tallies.items():
                if zone in self._tallies:
                    tally.add(self._tallies[zone])
                if zone in batch:
                    tally.add(batch[zone])
        else:
            # Another writer stored some of these shots first (two recorders on one gun): the
            # database is the truth, so take the tally from it rather than guess.
            new_tallies = tallies_from_db(conn, self.session_id)
            forget_boots = {shot.boot_id for shot in [*fresh, *earlier]}
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
                duplicates=len(shots) - inserted - left_out,
                left_out=left_out,
                alerts=tuple(alerts),
                lock_requested=lock,
            ),
            tallies=new_tallies,
            fresh=[*fresh, *earlier],
            earlier=earlier,
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

    # -- shots fired before the session opened ---------------------------------------------

    def earlier_shots(self) -> EarlierShots:
        """Shots the gun fired before this session opened, left out of it so far."""
        with self._lock:
            return self._earlier

    def include_earlier(
        self, zone_id: int | None, *, by: str, reason: str, at: datetime | None = None
    ) -> int:
        """Take the shots fired before the session opened into it, to ``zone_id``; returns
        how many. Recorded with who and why (audited) and counted in the tally from now on."""
        if not by.strip():
            raise InvalidValueError("by", "including earlier shots needs the practitioner's name")
        if not reason.strip():
            raise InvalidValueError("reason", "including earlier shots needs a reason")
        if zone_id is not None and zone_id not in self._zones:
            raise InvalidValueError(
                "zone_id", f"zone {zone_id} is not a zone of plan {self.plan_id}"
            )
        when = at or _now()
        with self._lock:
            earlier = self._earlier
            if not earlier:
                return 0
            with self._db.begin() as conn:
                moved = take_into_session(
                    conn,
                    self.session_id,
                    self.serial,
                    earlier,
                    zone_id,
                    at=when,
                    by=by,
                    reason=reason,
                )
                append_audit(
                    conn,
                    actor=by,
                    action="include_earlier_shots",
                    entity=SESSION,
                    entity_id=self.session_id,
                    payload={
                        "shots": moved,
                        "volume_nl": earlier.volume_nl,
                        "zone_id": zone_id,
                        "reason": reason,
                    },
                    at=when,
                )
                tallies = tallies_from_db(conn, self.session_id)
            self._tallies = tallies
            self._earlier = EarlierShots()
            return moved

    def leave_out_earlier(self, *, by: str, reason: str, at: datetime | None = None) -> None:
        """Confirm that the shots fired before the session opened stay out of it (audited).

        They stay stored as shots of the gun with no session; the session keeps saying how
        many were left out.
        """
        if not by.strip():
            raise InvalidValueError("by", "leaving earlier shots out needs the practitioner's name")
        when = at or _now()
        with self._lock, self._db.begin() as conn:
            earlier = self._earlier
            append_audit(
                conn,
                actor=by,
                action="leave_out_earlier_shots",
                entity=SESSION,
                entity_id=self.session_id,
                payload={"shots": earlier.count, "volume_nl": earlier.volume_nl, "reason": reason},
                at=when,
            )

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
    ) -> SessionEnding:
        """End the session (see :func:`~injector.session.lifecycle.end_session_row`); it
        records no more shots. Returns how it ended: with no shot, aborted."""
        when = at or _now()
        with self._lock, self._db.session() as session:
            ending = end_session_row(
                session, session_row(session, self.session_id), status=status, actor=actor, at=when
            )
            self._ended = True
            return ending


def open_or_continue(
    db: Database,
    device: DeviceInfo,
    plan_id: int | None = None,
    session_id: int | None = None,
    *,
    actor: str = "recorder",
    now: datetime | None = None,
    include_earlier: bool = False,
) -> LiveSession:
    """The live session for a gun: the given one, else the gun's most recent in-progress
    session (a restart continues it), else a new in-progress session (of ``plan_id`` if given).

    A planned session given by ``session_id`` is started. Refuses (naming the field) a session
    that has ended or is recording with another gun, and a ``plan_id`` that differs from the
    session being continued. Creating or starting a session is audited with ``actor``.

    Shots the gun fired before the session opened are left out of it (stored with no session;
    see :mod:`~injector.session.session_window`) unless ``include_earlier``.
    """
    when = now or _now()
    with db.session() as session:
        device_row = upsert_device(session, device, when, actor)
        row = open_session_of_gun(session, device, device_row, plan_id, session_id, actor, when)
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
            opened_at=row.started_at,
            include_earlier=include_earlier,
            earlier=earlier_left_out(session.connection(), sid),
            last_override=last_override,
        )
