"""The series: session n of N, the next due date, overdue and skipped sessions, progress of a
stored session and the comparison with the previous session of the same plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, col, select

from injector.domain.vocabulary import SessionStatus
from injector.session.patients_plans import PlanView, load_plan
from injector.session.plan_against_actual import build_progress, tallies_from_db, zone_plans
from injector.session.progress import PlanProgress, ZoneAgainstPlan
from injector.storage.engine import Database
from injector.storage.errors import RecordNotFoundError
from injector.storage.tables import TreatmentPlan, TreatmentSession

DONE = frozenset({SessionStatus.COMPLETED.value})


@dataclass(frozen=True, slots=True)
class SeriesEntry:
    """One session of the series as the overview shows it."""

    session_id: int
    sequence_no: int | None
    status: str
    scheduled_at: datetime | None
    started_at: datetime | None


@dataclass(frozen=True, slots=True)
class SeriesStatus:
    """Where a plan's series stands on ``today``.

    ``next_due`` is the window (earliest, latest) for session ``next_sequence_no``, counted
    from the last session done; None before the first session and once the series is done.
    ``overdue`` is True when ``today`` is past the window's end. ``missed`` lists planned
    sessions whose scheduled day has passed without them being started (recalls).
    """

    plan_id: int
    sessions_planned: int
    completed: int
    skipped: int
    aborted: int
    next_sequence_no: int | None
    next_due: tuple[date, date] | None
    overdue: bool
    overdue_days: int
    sessions: tuple[SeriesEntry, ...]
    missed: tuple[int, ...] = ()

    @property
    def label(self) -> str:
        """``session n of N`` for the next session, or ``series complete``."""
        if self.next_sequence_no is None:
            return "series complete"
        return f"session {self.next_sequence_no} of {self.sessions_planned}"


def interval_after(plan: TreatmentPlan, sequence_no: int) -> tuple[int, int]:
    """Days (shortest, longest) between session ``sequence_no`` and the next one."""
    return _interval(
        plan.initial_sessions,
        (plan.initial_interval_min_days, plan.initial_interval_max_days),
        plan.later_interval_days,
        sequence_no,
    )


def planned_interval(plan: PlanView, sequence_no: int) -> tuple[int, int]:
    """:func:`interval_after` for a plan as read through :class:`PlanView`."""
    return _interval(
        plan.initial_sessions, plan.initial_interval_days, plan.later_interval_days, sequence_no
    )


def _interval(
    initial_sessions: int, initial: tuple[int, int], later: int | None, sequence_no: int
) -> tuple[int, int]:
    if sequence_no < initial_sessions or later is None:
        return initial
    return later, later


def last_completed(session: Session, plan_id: int) -> TreatmentSession | None:
    """The plan's most recent completed session (the one intervals count from)."""
    done = [
        r for r in _plan_sessions(session, plan_id) if r.status in DONE and r.started_at is not None
    ]
    return max(done, key=lambda r: r.started_at or datetime.min.replace(tzinfo=UTC), default=None)


def too_early_warning(session: Session, plan: TreatmentPlan, day: date) -> str | None:
    """The checklist warning when ``day`` is earlier than the plan's shortest interval after
    its last completed session (None when it is not)."""
    assert plan.id is not None
    last = last_completed(session, plan.id)
    if last is None or last.started_at is None:
        return None
    shortest, _ = interval_after(plan, last.sequence_no or 1)
    since = (day - last.started_at.date()).days
    if since >= shortest:
        return None
    return (
        f"interval: only {since} days since the last completed session "
        f"({last.started_at.date().isoformat()}); the plan asks for at least {shortest} days "
        "between sessions"
    )


def series_status(db: Database, plan_id: int, *, today: date | None = None) -> SeriesStatus:
    """The series of a plan: counts, the next session and its due window, overdue or not."""
    day = today or datetime.now(UTC).date()
    with db.read_session() as session:
        plan = session.get(TreatmentPlan, plan_id)
        if plan is None:
            raise RecordNotFoundError(f"plan: there is no treatment plan {plan_id}")
        rows = _plan_sessions(session, plan_id)
        entries = tuple(
            SeriesEntry(r.id or 0, r.sequence_no, r.status, r.scheduled_at, r.started_at)
            for r in rows
        )
        completed = sum(1 for r in rows if r.status in DONE)
        skipped = sum(1 for r in rows if r.status == SessionStatus.SKIPPED)
        aborted = sum(1 for r in rows if r.status == SessionStatus.ABORTED)
        # A skipped session still uses its place in the series: the next one is the one after.
        used = completed + skipped
        done = [r for r in rows if r.status in DONE and r.started_at is not None]
        next_no: int | None = used + 1 if used < plan.sessions_planned else None
        window: tuple[date, date] | None = None
        if next_no is not None and done:
            last = done[-1]
            assert last.started_at is not None
            shortest, longest = interval_after(plan, last.sequence_no or completed)
            base = last.started_at.date()
            window = (base + timedelta(days=shortest), base + timedelta(days=longest))
        overdue_days = (day - window[1]).days if window and day > window[1] else 0
        missed = tuple(
            r.id
            for r in rows
            if r.id is not None
            and r.status == SessionStatus.PLANNED
            and r.scheduled_at is not None
            and r.scheduled_at.date() < day
        )
        return SeriesStatus(
            plan_id=plan_id,
            sessions_planned=plan.sessions_planned,
            completed=completed,
            skipped=skipped,
            aborted=aborted,
            next_sequence_no=next_no,
            next_due=window,
            overdue=overdue_days > 0,
            overdue_days=overdue_days,
            sessions=entries,
            missed=missed,
        )


def _plan_sessions(session: Session, plan_id: int) -> list[TreatmentSession]:
    return list(
        session.exec(
            select(TreatmentSession)
            .where(col(TreatmentSession.plan_id) == plan_id)
            .order_by(col(TreatmentSession.sequence_no), col(TreatmentSession.id))
        ).all()
    )


def session_progress(db: Database, session_id: int) -> PlanProgress:
    """Plan against actual of a stored session, computed by the database (any status)."""
    with db.read_session() as session:
        return _session_progress(session, session_id)


def _session_progress(session: Session, session_id: int) -> PlanProgress:
    row = session.get(TreatmentSession, session_id)
    if row is None:
        raise RecordNotFoundError(f"session: there is no session {session_id}")
    plan = load_plan(session, row.plan_id) if row.plan_id is not None else None
    return build_progress(
        session_id,
        zone_plans(session, row.plan_id),
        tallies_from_db(session.connection(), session_id),
        plan.max_session_volume_nl if plan else None,
        row.recovered_shots,
        row.lost_shots,
    )


@dataclass(frozen=True, slots=True)
class ZoneComparison:
    """One zone in this session against the previous one (deltas are this − previous)."""

    zone_id: int | None
    name: str
    points: int
    previous_points: int
    volume_nl: int
    previous_volume_nl: int
    depth_out_of_tolerance: int
    previous_depth_out_of_tolerance: int

    @property
    def points_delta(self) -> int:
        """Points in this session minus points in the previous one."""
        return self.points - self.previous_points

    @property
    def volume_delta_nl(self) -> int:
        """Volume in this session minus volume in the previous one."""
        return self.volume_nl - self.previous_volume_nl


@dataclass(frozen=True, slots=True)
class SessionComparison:
    """A session against the previous completed session of the same plan (None if first)."""

    session_id: int
    previous_session_id: int | None
    zones: tuple[ZoneComparison, ...]
    total: ZoneComparison


def compare_with_previous(db: Database, session_id: int) -> SessionComparison:
    """Compare a session, per zone and in total, with the previous *completed* session of its
    plan (an aborted one is no measure of what the next should be)."""
    with db.read_session() as session:
        row = session.get(TreatmentSession, session_id)
        if row is None:
            raise RecordNotFoundError(f"session: there is no session {session_id}")
        current = _session_progress(session, session_id)
        previous_id: int | None = None
        if row.plan_id is not None and row.sequence_no is not None:
            earlier = [
                r
                for r in _plan_sessions(session, row.plan_id)
                if r.sequence_no is not None
                and r.sequence_no < row.sequence_no
                and r.status == SessionStatus.COMPLETED
            ]
            if earlier:
                previous_id = earlier[-1].id
        previous = _session_progress(session, previous_id) if previous_id is not None else None
    before = {z.zone_id: z for z in previous.zones} if previous else {}
    return SessionComparison(
        session_id=session_id,
        previous_session_id=previous_id,
        zones=tuple(_compare(z, before.get(z.zone_id)) for z in current.zones),
        total=_compare(current.total, previous.total if previous else None),
    )


def _compare(now: ZoneAgainstPlan, before: ZoneAgainstPlan | None) -> ZoneComparison:
    return ZoneComparison(
        zone_id=now.zone_id,
        name=now.name,
        points=now.points,
        previous_points=before.points if before else 0,
        volume_nl=now.volume_nl,
        previous_volume_nl=before.volume_nl if before else 0,
        depth_out_of_tolerance=now.depth_out_of_tolerance,
        previous_depth_out_of_tolerance=before.depth_out_of_tolerance if before else 0,
    )
