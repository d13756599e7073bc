"""The clinic's records as the screens need them, through the session logic (never SQL).

:class:`Clinic` is what the screens call: find and edit patients and plans, prepare a session
with its checklist, review and sign a session, record adverse events. Each call is short and
the screens run it off the UI thread (``asyncio.to_thread``) so a slow database never freezes
the screen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

from injector.domain.errors import InvalidValueError
from injector.domain.inputs import (
    AdverseEventInput,
    Checklist,
    PatientInput,
    PlanInput,
    SeriesInput,
    SolutionInput,
    ZoneInput,
    parse,
)
from injector.domain.shot_rules import shot_kind
from injector.domain.vocabulary import (
    AnatomicalSite,
    BodyArea,
    Indication,
    SessionStatus,
    Technique,
)
from injector.report.files import ReportKind, write_report
from injector.session import (
    PlanProgress,
    clinical,
    history,
    patients_plans,
    practitioners,
    series,
)
from injector.session.history import DeviceEventView, ShotView
from injector.session.patients_plans import PatientView, PlanView
from injector.storage.engine import Database
from protocols.igp1 import FaultCode
from tui.state import (
    ChecklistView,
    LiveZone,
    PatientDetail,
    PatientRow,
    PlanRow,
    SessionRow,
    SessionSummary,
    ZoneOutcome,
    ml,
    mm,
)


@dataclass(frozen=True, slots=True)
class OpenSessionView:
    """A session left in progress (the TUI quit, the laptop crashed, ``record`` left it open)."""

    session_id: int
    plan_id: int
    title: str
    started_at: datetime | None
    shots: int
    active_zone: str | None
    gun: str | None


class Clinic(Protocol):
    """The records side of the UI."""

    actor: str
    """Who is using the terminal (recorded in the audit trail)."""

    def today(self) -> date:
        """Today's date where the clinic is (for due dates and overdue)."""
        ...

    def find_patients(self, query: str) -> list[PatientRow]:
        """Patients whose name or identifier contains ``query`` (all when empty)."""
        ...

    def patient_detail(self, identifier: str) -> PatientDetail:
        """A patient with plans, series state and past sessions."""
        ...

    def remember_progress(self, progress: PlanProgress) -> None:
        """The final tally of a session just recorded, for its review."""
        ...

    def patient_input(self, identifier: str) -> PatientInput:
        """The patient as the form edits it."""
        ...

    def save_patient(self, data: PatientInput, identifier: str | None) -> str:
        """Create (``identifier`` None) or update a patient; returns its (new) identifier."""
        ...

    def plan_input(self, plan_id: int) -> PlanInput:
        """The plan as the form edits it."""
        ...

    def plan_zone_ids(self, plan_id: int) -> tuple[int, ...]:
        """The ids of the plan's zones, in plan order (what the form's zone rows edit)."""
        ...

    def save_plan(
        self, data: PlanInput, plan_id: int | None, zone_ids: Sequence[int | None] | None = None
    ) -> int:
        """Create (``plan_id`` None) or update a plan with its zones; returns its id.

        ``zone_ids`` (an update only): the stored zone each of ``data.zones`` edits, None
        for a new one; stored zones not named are removed (refused once a zone was used).
        """
        ...

    def plan_zones(self, plan_id: int) -> tuple[LiveZone, ...]:
        """The plan's zones, keys 1–9 in plan order, nothing done yet."""
        ...

    def next_session(self, plan_id: int) -> ChecklistView:
        """What the before-session screen shows for the plan's next session."""
        ...

    def checklist_warnings(
        self,
        plan_id: int,
        answers: Checklist,
        lot: str | None = None,
        expiry: date | None = None,
    ) -> tuple[str, ...]:
        """Warnings these answers raise (NSAIDs in the last 7 days, lot expired or changed).

        ``lot`` and ``expiry`` are the lot in the syringe when it is not the plan's.
        """
        ...

    def prepare_session(
        self,
        plan_id: int,
        answers: Checklist,
        acknowledged: bool,
        lot: str | None = None,
        expiry: date | None = None,
        *,
        practitioner: str,
    ) -> tuple[int, str]:
        """Create the planned session with its checklist, performed by ``practitioner``;
        returns (session id, title).

        Raises :class:`~injector.domain.errors.AcknowledgementRequiredError` when warnings
        need acknowledging and ``acknowledged`` is False.
        """
        ...

    def open_session(self, plan_id: int | None = None) -> OpenSessionView | None:
        """The plan's session still in progress (any plan's, without ``plan_id``), if any."""
        ...

    def finish_open_session(self, session_id: int, *, abort: bool) -> str:
        """End (or abort) a session left open; returns the line that says how it ended."""
        ...

    def practitioners(self) -> tuple[str, ...]:
        """The recorded practitioners' printed names, for choosing who performs or signs."""
        ...

    def add_practitioner(self, name: str, role: str, pin: str) -> str:
        """Record a practitioner with a PIN (kept as a salted hash); returns the printed name."""
        ...

    def session_summary(self, session_id: int) -> SessionSummary:
        """Plan against actual, deviations, adverse events, sign-off, next due date."""
        ...

    def abort_session(self, session_id: int) -> None:
        """End an in-progress session that nothing records any more, as aborted."""
        ...

    def sign_session(self, session_id: int, signed_by: str, pin: str, meaning: str) -> None:
        """Sign the session record as ``signed_by``, confirmed by their PIN; it is not edited
        afterwards."""
        ...

    def record_adverse_event(self, session_id: int, kind: str, severity: str, notes: str) -> None:
        """A side effect against the session (and its lot)."""
        ...

    def write_report(self, kind: ReportKind, record_id: int) -> Path:
        """Write a session's (or a plan's series) report as HTML; returns where it went.

        Raises :class:`~injector.output_files.OutputFileError` (one line) when it cannot be written.
        """
        ...


def _zone_views(plan: PlanView) -> tuple[LiveZone, ...]:
    return tuple(
        LiveZone(
            zone_id=z.id,
            key=i + 1,
            name=z.name,
            technique=z.technique,
            depth_um=z.depth_um,
            tolerance_um=z.depth_tolerance_um,
            points_planned=z.points,
            volume_planned_nl=z.points * z.volume_per_point_nl,
            max_volume_nl=z.max_volume_nl,
        )
        for i, z in enumerate(plan.zones[:9])
    )


def _patient_input(p: PatientView) -> PatientInput:
    return PatientInput(
        identifier=p.identifier,
        name=p.name,
        date_of_birth=p.date_of_birth,
        contact=p.contact,
        on_anticoagulants=p.on_anticoagulants,
        pregnant=p.pregnant,
        allergies=p.allergies,
        contraindication_notes=p.contraindication_notes,
    )


def _plan_input(plan: PlanView) -> PlanInput:
    return PlanInput(
        patient=plan.patient_identifier,
        indication=Indication(plan.indication),
        indication_area=plan.indication_area,
        solution=SolutionInput(
            product_name=plan.product_name,
            components=list(plan.components),
            manufacturer=plan.manufacturer,
            lot_number=plan.lot_number,
            expiry=plan.lot_expiry,
        ),
        series=SeriesInput(
            sessions=plan.sessions_planned,
            initial_sessions=plan.initial_sessions,
            initial_interval_days=plan.initial_interval_days,
            later_interval_days=plan.later_interval_days,
        ),
        zones=[
            ZoneInput(
                name=z.name,
                body_area=BodyArea(z.body_area),
                technique=Technique(z.technique),
                depth_mm=z.depth_um / 1000,
                tolerance_mm=z.depth_tolerance_um / 1000,
                volume_per_point_ml=z.volume_per_point_nl / 1_000_000,
                points=z.points,
                max_volume_ml=z.max_volume_nl / 1_000_000,
                site=AnatomicalSite(z.site) if z.site else None,
            )
            for z in plan.zones
        ],
        max_session_volume_ml=(
            None if plan.max_session_volume_nl is None else plan.max_session_volume_nl / 1e6
        ),
        lock_at_limit=plan.lock_at_limit,
        notes=plan.notes,
    )


def _patient_notes(p: PatientView) -> tuple[str, ...]:
    notes = []
    if p.on_anticoagulants:
        notes.append("takes anticoagulants")
    if p.pregnant:
        notes.append("pregnant")
    allergies = clinical.recorded_allergies(p.allergies)
    if allergies:
        notes.append(f"allergies: {allergies}")
    if p.contraindication_notes.strip():
        notes.append(p.contraindication_notes)
    return tuple(notes)


EVENT_LINES = 30
"""The review lists the last events only; the full list is in the record and its exports."""
_FAULT_NAMES = {code.value: code.name.lower().replace("_", " ") for code in FaultCode}


def _mean_depths(shots: Iterable[ShotView]) -> dict[int | None, int]:
    """Mean depth of the shots with skin contact, per zone (None: no zone)."""
    sums: dict[int | None, list[int]] = {}
    for shot in shots:
        if shot_kind(shot.flags, shot.depth_um, shot.volume_nl).on_skin:
            total = sums.setdefault(shot.zone_id, [0, 0])
            total[0] += shot.depth_um
            total[1] += 1
    return {zone: round(t[0] / t[1]) for zone, t in sums.items() if t[1]}


def _event_line(e: DeviceEventView) -> str | None:
    detail = e.detail
    kind = e.kind
    if kind in ("fault_raised", "fault_cleared"):
        name = _FAULT_NAMES.get(int(detail.get("code", 0)), f"fault {detail.get('code')}")
        text = f"fault {name}" + (" cleared" if kind == "fault_cleared" else "")
    elif kind in ("shots_recovered", "shots_lost"):
        count = detail.get("count", "?")
        shots = "shot" if count == 1 else "shots"
        text = f"{count} {shots} {kind.removeprefix('shots_')}"
    elif kind in ("locked", "unlocked"):
        text = f"gun {kind} ({str(detail.get('reason', '')).lower().replace('_', ' ')})"
    elif kind == "lock_override":
        text = f"plan limit overridden by {detail.get('by', '?')}: {detail.get('reason', '')}"
    elif kind == "note":
        if "text" not in detail:
            return None  # the session logic's own notes (limits reached) show as deviations
        text = f"note: {detail['text']}"
    elif kind == "settings_changed":
        return None
    else:
        text = kind.replace("_", " ")
    return f"{e.at.astimezone().strftime('%H:%M:%S')} {text}"


def _summed(events: Iterable[DeviceEventView]) -> list[DeviceEventView]:
    # Recovered (or lost) shots are stored read by read: consecutive ones make one line with
    # the total, at the first one's time.
    out: list[DeviceEventView] = []
    for e in events:
        last = out[-1] if out else None
        if (
            last is not None
            and e.kind in ("shots_recovered", "shots_lost")
            and last.kind == e.kind
            and isinstance(last.detail.get("count"), int)
            and isinstance(e.detail.get("count"), int)
        ):
            total = last.detail["count"] + e.detail["count"]
            out[-1] = replace(last, detail={**last.detail, "count": total})
        else:
            out.append(e)
    return out


def event_lines(events: Iterable[DeviceEventView]) -> tuple[str, ...]:
    """The review's lines of gun and link events and notes, oldest first, bounded."""
    lines = [line for line in map(_event_line, _summed(events)) if line is not None]
    if len(lines) > EVENT_LINES:
        lines = [f"… {len(lines) - EVENT_LINES} earlier events", *lines[-EVENT_LINES:]]
    return tuple(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def deviations(progress: PlanProgress, zones: tuple[LiveZone, ...]) -> tuple[str, ...]:
    """Where the session departed from the plan, one line each, for the review."""
    found: list[str] = []
    planned = {z.zone_id: z for z in zones}
    for zp in progress.zones:
        if zp.zone_id is None:
            if zp.shots:
                found.append(f"{_count(zp.shots, 'shot')} fired with no zone active")
            continue
        label = zp.name
        if zp.points < zp.points_planned:
            found.append(f"{label}: {zp.points} of {zp.points_planned} points (fewer than planned)")
        elif zp.points > zp.points_planned:
            found.append(f"{label}: {zp.points} of {zp.points_planned} points (more than planned)")
        if zp.max_volume_reached:
            found.append(f"{label}: maximum volume reached ({ml(zp.volume_nl)} mL)")
        if zp.depth_out_of_tolerance:
            zone = planned.get(zp.zone_id)
            band = f" (plan {mm(zone.depth_um)} ± {mm(zone.tolerance_um)} mm)" if zone else ""
            found.append(
                f"{label}: {_count(zp.depth_out_of_tolerance, 'shot')} outside the depth band{band}"
            )
        if zp.partial_shots:
            found.append(f"{label}: {_count(zp.partial_shots, 'partial shot')}")
    total = progress.total
    if total.max_volume_reached:
        found.append(f"session: maximum volume reached ({ml(total.volume_nl)} mL)")
    if total.air_shots:
        found.append(f"{_count(total.air_shots, 'air shot')} (no skin contact)")
    if total.implausible_shots:
        found.append(
            f"{_count(total.implausible_shots, 'shot')} with values no gun can report "
            "(kept in the record, not in the dose)"
        )
    if progress.lost_shots:
        found.append(
            f"{_count(progress.lost_shots, 'shot')} lost on the link (fired, not recorded)"
        )
    if progress.recovered_shots:
        found.append(f"{_count(progress.recovered_shots, 'shot')} recovered after link problems")
    return tuple(found)


class DatabaseClinic:
    """:class:`Clinic` on the session logic's record functions and one open database."""

    def __init__(self, db: Database, actor: str, today: Callable[[], date] | None = None) -> None:
        self.db = db
        self.actor = actor
        self._today = today or date.today
        self._progress: dict[int, PlanProgress] = {}

    def today(self) -> date:
        """Today's date (a fixed one in tests)."""
        return self._today()

    def find_patients(self, query: str) -> list[PatientRow]:
        """Patients whose name or identifier contains ``query`` (accents and case aside)."""
        return [
            PatientRow(p.id, p.identifier, p.name, p.date_of_birth)
            for p in patients_plans.find_patients(self.db, query)
        ]

    def patient_detail(self, identifier: str) -> PatientDetail:
        """The patient and each plan's series and sessions."""
        p = patients_plans.get_patient(self.db, identifier)
        plans = tuple(
            self._plan_row(plan) for plan in patients_plans.plans_of_patient(self.db, identifier)
        )
        return PatientDetail(
            PatientRow(p.id, p.identifier, p.name, p.date_of_birth), _patient_notes(p), plans
        )

    def _plan_row(self, plan: PlanView) -> PlanRow:
        status = series.series_status(self.db, plan.id, today=self.today())
        due = status.next_due
        return PlanRow(
            plan_id=plan.id,
            indication=plan.indication.replace("_", " "),
            product_name=plan.product_name,
            lot_number=plan.lot_number,
            sessions_done=status.completed + status.skipped,
            sessions_planned=plan.sessions_planned,
            next_due=due[0] if due else None,
            due_until=due[1] if due else None,
            overdue=status.overdue,
            zones=tuple(z.name for z in plan.zones),
            sessions=tuple(self._session_row(entry) for entry in reversed(status.sessions)),
        )

    def _session_row(self, entry: series.SeriesEntry) -> SessionRow:
        progress = series.session_progress(self.db, entry.session_id)
        view = clinical.session_view(self.db, entry.session_id)
        return SessionRow(
            session_id=entry.session_id,
            sequence_no=entry.sequence_no,
            status=entry.status,
            started_at=entry.started_at,
            shots=progress.total.shots,
            volume_nl=progress.total.volume_nl,
            signed=view.signed,
        )

    def patient_input(self, identifier: str) -> PatientInput:
        """The stored patient as the form's input model."""
        return _patient_input(patients_plans.get_patient(self.db, identifier))

    def save_patient(self, data: PatientInput, identifier: str | None) -> str:
        """Create, or update (audited; the identifier may change too)."""
        if identifier is None:
            patients_plans.create_patient(self.db, data, actor=self.actor)
        else:
            patients_plans.update_patient(self.db, identifier, data, actor=self.actor)
        return data.identifier

    def plan_input(self, plan_id: int) -> PlanInput:
        """The stored plan as the form's input model."""
        return _plan_input(patients_plans.get_plan(self.db, plan_id))

    def plan_zone_ids(self, plan_id: int) -> tuple[int, ...]:
        """The ids of the plan's zones, in plan order."""
        return tuple(z.id for z in patients_plans.get_plan(self.db, plan_id).zones)

    def save_plan(
        self, data: PlanInput, plan_id: int | None, zone_ids: Sequence[int | None] | None = None
    ) -> int:
        """Create, or update the plan and its zones (audited)."""
        if plan_id is None:
            return patients_plans.create_plan(self.db, data, actor=self.actor).plan_id
        return patients_plans.update_plan(
            self.db, plan_id, data, actor=self.actor, zone_ids=zone_ids
        ).plan_id

    def plan_zones(self, plan_id: int) -> tuple[LiveZone, ...]:
        """The plan's zones for the live view."""
        return _zone_views(patients_plans.get_plan(self.db, plan_id))

    def next_session(self, plan_id: int) -> ChecklistView:
        """Title, lot and expiry of the plan's next session."""
        plan = patients_plans.get_plan(self.db, plan_id)
        patient = self._patient_name(plan.patient_identifier)
        status = series.series_status(self.db, plan_id, today=self.today())
        done = status.next_sequence_no
        indication = plan.indication.replace("_", " ")
        title = f"{patient} · {indication} · session {done or 'extra'} of {plan.sessions_planned}"
        if status.overdue_days:
            # Late is shown, not asked about; too early is a warning to acknowledge.
            days = "day" if status.overdue_days == 1 else "days"
            title += f" · overdue by {status.overdue_days} {days}"
        return ChecklistView(title, plan.lot_number, plan.lot_expiry)

    def _patient_name(self, identifier: str) -> str:
        return patients_plans.get_patient(self.db, identifier).name

    def checklist_warnings(
        self,
        plan_id: int,
        answers: Checklist,
        lot: str | None = None,
        expiry: date | None = None,
    ) -> tuple[str, ...]:
        """The warnings the session logic finds for these answers and this lot."""
        return clinical.check_start(
            self.db, plan_id, answers, lot_number=lot, lot_expiry=expiry, today=self.today()
        )

    def prepare_session(
        self,
        plan_id: int,
        answers: Checklist,
        acknowledged: bool,
        lot: str | None = None,
        expiry: date | None = None,
        *,
        practitioner: str,
    ) -> tuple[int, str]:
        """Start the plan's next session (the gun binds to it when it connects)."""
        if not practitioner.strip():
            raise InvalidValueError("practitioner", "choose who performs the session")
        session_id = clinical.start_session(
            self.db,
            plan_id,
            answers,
            practitioner=practitioner,
            acknowledged=acknowledged,
            lot_number=lot,
            lot_expiry=expiry,
        )
        view = clinical.session_view(self.db, session_id)
        plan = patients_plans.get_plan(self.db, plan_id)
        title = (
            f"{self._patient_name(plan.patient_identifier)} · session {view.sequence_no} "
            f"of {plan.sessions_planned}"
        )
        return session_id, title

    def remember_progress(self, progress: PlanProgress) -> None:
        """Keep the live session's final tally for its review (no re-reading of shots)."""
        self._progress[progress.session_id] = progress

    def session_summary(self, session_id: int) -> SessionSummary:
        """The review of a session: per zone, deviations, adverse events, sign-off."""
        view = clinical.session_view(self.db, session_id)
        plan = patients_plans.get_plan(self.db, view.plan_id) if view.plan_id is not None else None
        zones = _zone_views(plan) if plan is not None else ()
        progress = self._progress.get(session_id) or series.session_progress(self.db, session_id)
        outcomes: list[ZoneOutcome] = []
        found: list[str] = []
        total_shots = total_volume = 0
        means = _mean_depths(history.session_shots(self.db, session_id))
        if progress is not None:
            planned = {z.zone_id: z for z in zones}
            for zp in progress.zones:
                zone = planned.get(zp.zone_id) if zp.zone_id is not None else None
                outcomes.append(
                    ZoneOutcome(
                        name=zp.name,
                        points_planned=zp.points_planned,
                        points_done=zp.points,
                        volume_planned_nl=zp.volume_planned_nl,
                        volume_done_nl=zp.volume_nl,
                        depth_planned_um=zone.depth_um if zone else 0,
                        depth_mean_um=means.get(zp.zone_id),
                        out_of_band=zp.depth_out_of_tolerance,
                    )
                )
            found.extend(deviations(progress, zones))
            total_shots, total_volume = progress.total.shots, progress.total.volume_nl
        found.extend(f"checklist: {clinical.warning_text(w)}" for w in view.checklist_warnings)
        adverse = tuple(
            f"{a.onset.astimezone().strftime('%H:%M')} {a.kind.replace('_', ' ')} "
            f"({a.severity}){': ' + a.notes if a.notes else ''}"
            for a in clinical.adverse_events(self.db, session_id)
        )
        title = f"session {view.sequence_no or view.id}"
        if plan is not None:
            title = (
                f"{self._patient_name(plan.patient_identifier)} · session {view.sequence_no} "
                f"of {plan.sessions_planned}"
            )
        next_due = None
        next_session = ""
        completed = 0
        if plan is not None:
            status = series.series_status(self.db, plan.id, today=self.today())
            next_due = status.next_due[0] if status.next_due else None
            next_session, completed = status.label, status.completed
        return SessionSummary(
            session_id=session_id,
            title=title,
            zones=tuple(outcomes),
            total_shots=total_shots,
            total_volume_nl=total_volume,
            deviations=tuple(found),
            adverse_events=adverse,
            events=event_lines(history.session_device_events(self.db, session_id)),
            next_due=next_due,
            next_session=next_session,
            sessions_completed=completed,
            signed_by=view.signed_by,
            signed_at=view.signed_at,
            signature_meaning=view.signature_meaning,
            practitioner=view.practitioner,
        )

    def open_session(self, plan_id: int | None = None) -> OpenSessionView | None:
        """The plan's session still in progress (any plan's, without ``plan_id``), if any."""
        found = [
            s
            for s in history.list_sessions(
                self.db, plan_id=plan_id, status=SessionStatus.IN_PROGRESS.value
            )
            if s.plan_id is not None
        ]
        if not found:
            return None
        view = found[-1]
        assert view.plan_id is not None
        plan = patients_plans.get_plan(self.db, view.plan_id)
        progress = series.session_progress(self.db, view.id)
        changes = history.zone_changes(self.db, view.id)
        active = changes[-1].zone_id if changes else None
        zone = next((z.name for z in plan.zones if z.id == active), None)
        return OpenSessionView(
            session_id=view.id,
            plan_id=view.plan_id,
            title=(
                f"{self._patient_name(plan.patient_identifier)} · session "
                f"{view.sequence_no or '—'} of {plan.sessions_planned}"
            ),
            started_at=view.started_at,
            shots=progress.total.shots,
            active_zone=zone,
            gun=view.device_serial,
        )

    def finish_open_session(self, session_id: int, *, abort: bool) -> str:
        """End (or abort) a session left open; returns the line that says how it ended."""
        status = SessionStatus.ABORTED if abort else SessionStatus.COMPLETED
        ending = clinical.end_session(self.db, session_id, actor=self.actor, status=status)
        if ending.why:
            return f"Session {session_id} ended aborted: {ending.why}."
        return f"Session {session_id} ended ({ending.status.value})."

    def abort_session(self, session_id: int) -> None:
        """End a left-over in-progress session as aborted (audited with this actor)."""
        clinical.end_session(self.db, session_id, actor=self.actor, status=SessionStatus.ABORTED)

    def sign_session(self, session_id: int, signed_by: str, pin: str, meaning: str) -> None:
        """Sign through the session logic (it refuses a wrong PIN or a second signature)."""
        clinical.sign_session(self.db, session_id, name=signed_by, pin=pin, meaning=meaning)

    def practitioners(self) -> tuple[str, ...]:
        """The recorded practitioners still active, by name."""
        return tuple(p.name for p in practitioners.list_practitioners(self.db) if p.active)

    def add_practitioner(self, name: str, role: str, pin: str) -> str:
        """Record a practitioner (audited with this terminal's user)."""
        return practitioners.add_practitioner(self.db, name, pin, role=role, actor=self.actor).name

    def record_adverse_event(self, session_id: int, kind: str, severity: str, notes: str) -> None:
        """Record a side effect seen now."""
        event = parse(
            AdverseEventInput,
            {"kind": kind, "severity": severity, "onset": datetime.now(UTC), "notes": notes},
        )
        clinical.record_adverse_event(self.db, session_id, event, actor=self.actor)

    def write_report(self, kind: ReportKind, record_id: int) -> Path:
        """The same report ``injector report`` writes, under its default name in the folder
        the TUI was started from."""
        return write_report(self.db, kind, record_id, folder=Path.cwd())
