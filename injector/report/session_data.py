"""Everything a session report shows, read through the session layer's own read functions.

The tables' numbers are the ones ``injector session show`` prints: plan against actual comes
from :func:`~injector.session.series.session_progress`, the previous session from
:func:`~injector.session.series.compare_with_previous`, depth statistics from the exports'
:func:`~injector.export.zones.zone_deliveries`. Nothing here counts shots into a tally again.
"""

from __future__ import annotations

from dataclasses import dataclass

from injector.export.snapshot import SessionRecord, load_session_record
from injector.export.zones import ZoneDelivery, zone_deliveries
from injector.session.clinical import AdverseEventView, adverse_events
from injector.session.history import ZoneChange, zone_changes
from injector.session.patients_plans import PatientView, get_patient
from injector.session.progress import PlanProgress, ZoneAgainstPlan
from injector.session.series import (
    SessionComparison,
    compare_with_previous,
    session_progress,
)
from injector.session.signoff import SignOffRecord, sign_off_record
from injector.storage.engine import Database


@dataclass(frozen=True, slots=True)
class SessionReportData:
    """One session with all that its report shows (``patient`` None without a plan)."""

    record: SessionRecord
    patient: PatientView | None
    progress: PlanProgress
    deliveries: tuple[ZoneDelivery, ...]
    comparison: SessionComparison
    adverse: tuple[AdverseEventView, ...]
    zone_changes: tuple[ZoneChange, ...]
    sign_off: SignOffRecord | None
    previous_deliveries: tuple[ZoneDelivery, ...] = ()
    """Depth statistics of the previous completed session of the plan (none if first)."""

    def delivery(self, zone_id: int | None) -> ZoneDelivery | None:
        """Depth statistics of a zone's shots (None: the zone received none)."""
        for delivery in self.deliveries:
            key = delivery.zone.id if delivery.zone is not None else None
            if key == zone_id:
                return delivery
        return None

    def previous_mean_depth_um(self, zone_id: int | None) -> float | None:
        """Mean depth of a zone's skin-contact shots in the previous session."""
        for delivery in self.previous_deliveries:
            key = delivery.zone.id if delivery.zone is not None else None
            if key == zone_id:
                return delivery.depth_mean_um
        return None

    def zone_progress(self, zone_id: int | None) -> ZoneAgainstPlan | None:
        """Plan against actual of one zone (``zone_id`` None: shots with no zone)."""
        return next((z for z in self.progress.zones if z.zone_id == zone_id), None)


def load_session_report(db: Database, session_id: int) -> SessionReportData:
    """Read one session for its report; :class:`~injector.storage.errors.RecordNotFoundError`
    if there is no such session."""
    record = load_session_record(db, session_id)
    plan = record.plan
    patient = get_patient(db, plan.patient_identifier) if plan is not None else None
    comparison = compare_with_previous(db, session_id)
    previous = comparison.previous_session_id
    return SessionReportData(
        record=record,
        patient=patient,
        progress=session_progress(db, session_id),
        deliveries=tuple(zone_deliveries(record)),
        comparison=comparison,
        adverse=tuple(adverse_events(db, session_id)),
        zone_changes=tuple(zone_changes(db, session_id)),
        sign_off=sign_off_record(db, session_id),
        previous_deliveries=(
            tuple(zone_deliveries(load_session_record(db, previous)))
            if previous is not None
            else ()
        ),
    )
