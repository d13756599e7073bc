"""Traceability: every session and patient that received a given lot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from injector.storage.engine import Database
from injector.storage.tables import Patient, SessionAmendment, TreatmentPlan, TreatmentSession


@dataclass(frozen=True, slots=True)
class LotUse:
    """A session in which a lot was used, with its patient."""

    lot_number: str
    session_id: int
    status: str
    started_at: datetime | None
    plan_id: int
    patient_id: int
    patient_identifier: str
    patient_name: str
    amended: bool


def sessions_with_lot(db: Database, lot_number: str) -> list[LotUse]:
    """Every session that used ``lot_number`` (as recorded, or as amended after signing), with
    its patient, oldest first. Planned and skipped sessions used nothing and are left out."""
    with db.read_session() as session:
        # Amendments can correct the lot of a signed session; the latest value counts.
        amended_lot: dict[int, str | None] = {}
        for amendment in session.exec(
            select(SessionAmendment).order_by(col(SessionAmendment.id))
        ).all():
            change = amendment.changes.get("lot_number")
            if change is not None:
                amended_lot[amendment.session_id] = change.get("to")
        candidates = set(s for s, lot in amended_lot.items() if lot == lot_number)
        rows = session.exec(
            select(TreatmentSession, TreatmentPlan, Patient)
            .join(TreatmentPlan, col(TreatmentPlan.id) == col(TreatmentSession.plan_id))
            .join(Patient, col(Patient.id) == col(TreatmentPlan.patient_id))
            .where(
                (col(TreatmentSession.lot_number) == lot_number)
                | col(TreatmentSession.id).in_(candidates or {-1})
            )
            .where(col(TreatmentSession.status).not_in(["planned", "skipped"]))
            .order_by(col(TreatmentSession.started_at), col(TreatmentSession.id))
        ).all()
        uses: list[LotUse] = []
        for sess, plan, patient in rows:
            assert sess.id is not None and plan.id is not None and patient.id is not None
            effective = amended_lot.get(sess.id, sess.lot_number)
            if effective != lot_number:
                continue
            uses.append(
                LotUse(
                    lot_number=lot_number,
                    session_id=sess.id,
                    status=sess.status,
                    started_at=sess.started_at,
                    plan_id=plan.id,
                    patient_id=patient.id,
                    patient_identifier=patient.identifier,
                    patient_name=patient.name,
                    amended=sess.id in amended_lot,
                )
            )
        return uses
