"""The series report: every session of a plan side by side, volume and depth per zone across
the series, adverse events over time, sessions remaining and the next due date.

Each session's numbers are :func:`~injector.session.series.session_progress` (what
``injector session show`` prints) and the exports' depth statistics; the series' counts and
due window are :func:`~injector.session.series.series_status`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from injector.export.snapshot import load_session_record
from injector.export.zones import zone_deliveries
from injector.report.charts import per_session
from injector.report.figures import NL_PER_ML, UM_PER_MM, day, percent_of_plan
from injector.report.page import PageSize, render
from injector.session.clinical import AdverseEventView, SessionView, adverse_events
from injector.session.history import list_sessions
from injector.session.patients_plans import PatientView, PlanView, get_patient, get_plan
from injector.session.progress import PlanProgress
from injector.session.series import (
    SeriesStatus,
    planned_interval,
    series_status,
    session_progress,
)
from injector.storage.engine import Database

# Sessions that were not started hold no shots to report.
_NOT_STARTED = frozenset({"planned", "skipped"})


@dataclass(frozen=True, slots=True)
class SeriesSession:
    """One session of the series with its numbers (None: never started)."""

    view: SessionView
    progress: PlanProgress | None
    mean_depth_um: dict[int, float]
    interval_days: int | None
    planned_interval: tuple[int, int] | None
    adverse: tuple[AdverseEventView, ...]

    @property
    def interval_in_plan(self) -> bool | None:
        """Whether the days since the previous session were within the plan's window."""
        if self.interval_days is None or self.planned_interval is None:
            return None
        low, high = self.planned_interval
        return low <= self.interval_days <= high


@dataclass(frozen=True, slots=True)
class SeriesReportData:
    """A plan's series with all that its report shows."""

    plan: PlanView
    patient: PatientView
    status: SeriesStatus
    sessions: tuple[SeriesSession, ...]

    @property
    def remaining(self) -> int:
        """Sessions of the plan not yet done (a skipped one used its place)."""
        return max(0, self.status.sessions_planned - self.status.completed - self.status.skipped)


def load_series_report(db: Database, plan_id: int, *, today: date) -> SeriesReportData:
    """Read a plan's series for its report (``today`` decides only what is overdue)."""
    plan = get_plan(db, plan_id)
    patient = get_patient(db, plan.patient_identifier)
    status = series_status(db, plan_id, today=today)
    sessions: list[SeriesSession] = []
    previous: SessionView | None = None
    for view in list_sessions(db, plan_id=plan_id):
        started = view.status not in _NOT_STARTED
        progress = session_progress(db, view.id) if started else None
        depth: dict[int, float] = {}
        if started:
            for delivery in zone_deliveries(load_session_record(db, view.id)):
                if delivery.zone is not None and delivery.depth_mean_um is not None:
                    depth[delivery.zone.id] = delivery.depth_mean_um
        interval = window = None
        if started and previous is not None and previous.started_at and view.started_at:
            interval = (view.started_at.date() - previous.started_at.date()).days
            window = planned_interval(plan, previous.sequence_no or 1)
        sessions.append(
            SeriesSession(
                view=view,
                progress=progress,
                mean_depth_um=depth,
                interval_days=interval,
                planned_interval=window,
                adverse=tuple(adverse_events(db, view.id)) if started else (),
            )
        )
        if started and view.started_at is not None:
            previous = view
    return SeriesReportData(plan, patient, status, tuple(sessions))


def _charts(data: SeriesReportData) -> tuple[str, str] | None:
    done = [s for s in data.sessions if s.progress is not None]
    if not done:
        return None
    labels = [f"{s.view.sequence_no or '—'}\n{day(s.view.started_at)}" for s in done]
    volume: dict[str, list[float | None]] = {}
    depth: dict[str, list[float | None]] = {}
    for zone in data.plan.zones:
        volume[zone.name] = []
        depth[zone.name] = []
        for session in done:
            assert session.progress is not None
            progress = next((z for z in session.progress.zones if z.zone_id == zone.id), None)
            volume[zone.name].append(progress.volume_nl / NL_PER_ML if progress else None)
            mean = session.mean_depth_um.get(zone.id)
            depth[zone.name].append(mean / UM_PER_MM if mean is not None else None)
    return (
        per_session(
            labels,
            volume,
            ylabel="volume delivered (mL)",
            title="volume per zone",
            prefix="series-volume",
        ),
        per_session(
            labels,
            depth,
            ylabel="mean depth (mm)",
            title="mean depth per zone",
            prefix="series-depth",
        ),
    )


def render_series_html(
    data: SeriesReportData, *, generated_at: datetime, page_size: PageSize = PageSize.A4
) -> str:
    """The series report, a self-contained HTML page."""
    charts = _charts(data)
    events = sorted(
        ((s, e) for s in data.sessions for e in s.adverse), key=lambda pair: pair[1].onset
    )
    title = f"Plan {data.plan.id} series"
    return render(
        "series.html.j2",
        title=title,
        running=(f"{data.patient.name} ({data.patient.identifier})", title),
        page_size=page_size,
        generated_at=generated_at,
        data=data,
        plan=data.plan,
        patient=data.patient,
        status=data.status,
        charts=charts,
        adverse=events,
        percent_of_plan=percent_of_plan,
        today=day(generated_at),
    )
