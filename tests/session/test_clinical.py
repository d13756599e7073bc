"""The clinical workflow: checklist, start, sign-off, amendments, adverse events, series, lots."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from injector.domain.errors import AcknowledgementRequiredError, InvalidValueError
from injector.domain.inputs import AdverseEventInput, SessionChanges
from injector.domain.vocabulary import SessionStatus
from injector.session import DeviceInfo, ShotIn, open_or_continue
from injector.session.clinical import (
    adverse_events,
    amend_session,
    check_start,
    end_session,
    plan_session,
    record_adverse_event,
    session_view,
    sign_session,
    skip_session,
    start_session,
    update_session,
)
from injector.session.patients_plans import get_plan
from injector.session.series import compare_with_previous, series_status, session_progress
from injector.session.trace import sessions_with_lot
from injector.storage import Database
from injector.storage.tables import TreatmentSession, table_of
from tests.session.builders import CLEAN_CHECKLIST, add_patient_and_plan, pin_of

GUN = DeviceInfo("SN0042", "MG-400", "2.4.1")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def session_count(db: Database) -> int:
    with db.begin() as conn:
        table = table_of(TreatmentSession)
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def done_session(db: Database, plan_id: int, at: datetime, *, shots: int = 1) -> int:
    """Start, record ``shots`` shots in the first zone, end and sign a session at ``at``.

    A session is done once something was injected: one that ended with no shot is aborted.
    """
    session_id = start_session(
        db, plan_id, CLEAN_CHECKLIST, practitioner="Dr Test", device=GUN, now=at
    )
    if shots:
        live = open_or_continue(db, GUN)
        assert live.session_id == session_id
        live.set_active_zone(live.zones[0].id, at=at)
        live.add_shots(
            [
                ShotIn(
                    GUN.serial,
                    int(at.timestamp()),
                    n,
                    n,
                    at + timedelta(seconds=n),
                    1500,
                    50_000,
                    0,
                    1_000_000,
                )
                for n in range(1, shots + 1)
            ]
        )
        live.end(actor="Dr Test", at=at + timedelta(hours=1))
    else:
        end_session(db, session_id, actor="Dr Test", now=at + timedelta(hours=1))
    sign_session(
        db, session_id, name="Dr Test", pin=pin_of(db, "Dr Test"), now=at + timedelta(hours=1)
    )
    return session_id


def test_checklist_warnings_must_be_acknowledged_and_nothing_is_stored_before(
    db: Database,
) -> None:
    plan_id = add_patient_and_plan(db)
    checklist = CLEAN_CHECKLIST.model_copy(update={"nsaid_last_7_days": True})
    warnings = check_start(db, plan_id, checklist, lot_number="LOT-B", lot_expiry=date(2020, 1, 1))
    assert [w.split(":")[0] for w in warnings] == ["nsaid_last_7_days", "lot_expiry", "lot_number"]
    with pytest.raises(AcknowledgementRequiredError) as refused:
        start_session(
            db,
            plan_id,
            checklist,
            practitioner="Dr Test",
            lot_number="LOT-B",
            lot_expiry=date(2020, 1, 1),
        )
    assert refused.value.warnings == warnings
    assert session_count(db) == 0
    session_id = start_session(
        db,
        plan_id,
        checklist,
        practitioner="Dr Test",
        lot_number="LOT-B",
        lot_expiry=date(2020, 1, 1),
        acknowledged=True,
    )
    view = session_view(db, session_id)
    assert view.checklist_warnings == warnings
    assert view.warnings_acknowledged_by == "Dr Test"
    assert view.lot_number == "LOT-B" and view.status == SessionStatus.IN_PROGRESS


def test_a_clean_checklist_starts_without_acknowledgement(db: Database) -> None:
    plan_id = add_patient_and_plan(db)
    assert check_start(db, plan_id, CLEAN_CHECKLIST) == ()
    session_id = start_session(db, plan_id, CLEAN_CHECKLIST, practitioner="Dr Test", device=GUN)
    # The recorder attaches to the session the practitioner started with this gun.
    assert open_or_continue(db, GUN).session_id == session_id


def test_the_patients_contraindications_are_warnings(db: Database) -> None:
    from injector.domain.inputs import PatientInput, parse
    from injector.session.patients_plans import create_patient
    from tests.session.builders import patient_data

    create_patient(
        db, parse(PatientInput, patient_data(pregnant=True, allergies="lidocaine")), actor="Dr Test"
    )
    plan_id = add_patient_and_plan(db)
    assert len(check_start(db, plan_id, CLEAN_CHECKLIST)) == 2


def test_a_signed_session_is_amended_never_edited(db: Database) -> None:
    plan_id = add_patient_and_plan(db)
    session_id = done_session(db, plan_id, T0, shots=3)
    with pytest.raises(InvalidValueError) as refused:
        update_session(db, session_id, SessionChanges(notes="changed"), actor="Dr Test")
    assert refused.value.field == "session_id"
    with pytest.raises(InvalidValueError) as no_reason:
        amend_session(
            db,
            session_id,
            SessionChanges(lot_number="LOT-C"),
            by="Dr Test",
            pin=pin_of(db, "Dr Test"),
            reason="",
        )
    assert no_reason.value.field == "reason"
    amend_session(
        db,
        session_id,
        SessionChanges(lot_number="LOT-C", notes="lot misread"),
        by="Dr Second",
        pin=pin_of(db, "Dr Second"),
        reason="the vial label says LOT-C",
    )
    view = session_view(db, session_id)
    assert view.lot_number == "LOT-C" and view.notes == "lot misread"
    assert view.original == {"lot_number": "LOT-A", "notes": ""}
    assert view.amendments[0].changes["lot_number"] == {"from": "LOT-A", "to": "LOT-C"}
    assert view.signed_by == "Dr Test"
    with db.begin() as conn:
        table = table_of(TreatmentSession)
        stored = conn.execute(select(table.c.lot_number).where(table.c.id == session_id)).scalar()
    assert stored == "LOT-A"
    # Traceability follows the amended lot.
    assert [u.session_id for u in sessions_with_lot(db, "LOT-C")] == [session_id]
    assert sessions_with_lot(db, "LOT-A") == []


def test_signing_needs_an_ended_session_and_happens_once(db: Database) -> None:
    plan_id = add_patient_and_plan(db)
    session_id = start_session(db, plan_id, CLEAN_CHECKLIST, practitioner="Dr Test")
    pin = pin_of(db, "Dr Test")
    with pytest.raises(InvalidValueError, match="end it before signing"):
        sign_session(db, session_id, name="Dr Test", pin=pin)
    end_session(db, session_id, actor="Dr Test")
    with pytest.raises(InvalidValueError) as no_name:
        sign_session(db, session_id, name=" ", pin=pin)
    assert no_name.value.field == "name"
    sign_session(db, session_id, name="Dr Test", pin=pin, meaning="performed")
    with pytest.raises(InvalidValueError, match="signed by Dr Test already"):
        sign_session(db, session_id, name="Dr Other", pin=pin_of(db, "Dr Other"))


def test_adverse_events_at_the_session_and_at_a_later_visit(db: Database) -> None:
    plan_id = add_patient_and_plan(db)
    session_id = done_session(db, plan_id, T0)
    record_adverse_event(
        db,
        session_id,
        AdverseEventInput(kind="bruising", severity="mild", onset=T0 + timedelta(minutes=30)),
        actor="Dr Test",
    )
    record_adverse_event(
        db,
        session_id,
        AdverseEventInput(
            kind="injection_site_bumps",
            severity="moderate",
            onset=T0 + timedelta(days=2),
            at_later_visit=True,
            notes="resolved by day 5",
        ),
        actor="Dr Test",
        now=T0 + timedelta(days=7),
    )
    events = adverse_events(db, session_id)
    assert [(e.kind, e.at_later_visit, e.lot_number) for e in events] == [
        ("bruising", False, "LOT-A"),
        ("injection_site_bumps", True, "LOT-A"),
    ]
    with pytest.raises(InvalidValueError) as early:
        record_adverse_event(
            db,
            session_id,
            AdverseEventInput(kind="pain", severity="mild", onset=T0 - timedelta(days=1)),
            actor="Dr Test",
        )
    assert early.value.field == "onset"


def test_the_series_counts_and_finds_the_next_due_date(db: Database) -> None:
    plan_id = add_patient_and_plan(db)  # 6 sessions, first 3 every 7–10 days, then 14
    status = series_status(db, plan_id, today=T0.date())
    assert status.label == "session 1 of 6" and status.next_due is None
    for week in range(3):
        done_session(db, plan_id, T0 + timedelta(days=8 * week))
    third = T0 + timedelta(days=16)
    status = series_status(db, plan_id, today=third.date())
    # After the third session the later interval (14 days) applies.
    assert status.label == "session 4 of 6"
    assert status.next_due == (third.date() + timedelta(days=14),) * 2
    late = series_status(db, plan_id, today=third.date() + timedelta(days=20))
    assert late.overdue and late.overdue_days == 6
    planned = plan_session(db, plan_id, scheduled_at=third + timedelta(days=14), actor="Desk")
    assert series_status(db, plan_id, today=third.date() + timedelta(days=15)).missed == (planned,)
    skip_session(db, planned, actor="Desk", reason="patient ill")
    status = series_status(db, plan_id, today=third.date())
    assert (status.completed, status.skipped, status.label) == (3, 1, "session 5 of 6")


def test_a_session_is_compared_with_the_previous_one(db: Database) -> None:
    plan_id = add_patient_and_plan(db)
    first = done_session(db, plan_id, T0, shots=4)
    second = done_session(db, plan_id, T0 + timedelta(days=8), shots=3)
    comparison = compare_with_previous(db, second)
    assert comparison.previous_session_id == first
    forehead = comparison.zones[0]
    assert (forehead.points, forehead.previous_points, forehead.points_delta) == (3, 4, -1)
    assert comparison.total.volume_delta_nl == -50_000
    assert compare_with_previous(db, first).previous_session_id is None
    assert session_progress(db, first).total.points == 4


def test_every_session_and_patient_of_a_lot_is_found(db: Database) -> None:
    plan_id = add_patient_and_plan(db)
    other_plan = add_patient_and_plan(db)
    a = done_session(db, plan_id, T0)
    b = done_session(db, other_plan, T0 + timedelta(days=1))
    start_session(
        db, plan_id, CLEAN_CHECKLIST, practitioner="Dr Test", lot_number="LOT-Z", acknowledged=True
    )
    uses = sessions_with_lot(db, "LOT-A")
    assert [u.session_id for u in uses] == [a, b]
    assert {u.patient_identifier for u in uses} == {"P-1"}
    assert [u.plan_id for u in uses] == [plan_id, other_plan]
    assert get_plan(db, plan_id).lot_number == "LOT-A"


def test_sessions_are_listed_by_plan_patient_and_gun(db: Database) -> None:
    from injector.session.history import list_sessions

    plan_id = add_patient_and_plan(db)
    first = done_session(db, plan_id, T0, shots=2)
    second = start_session(db, plan_id, CLEAN_CHECKLIST, practitioner="Dr Test")
    assert [s.id for s in list_sessions(db, plan_id=plan_id)] == [first, second]
    assert [s.sequence_no for s in list_sessions(db, patient_identifier="P-1")] == [1, 2]
    assert [s.id for s in list_sessions(db, device_serial=GUN.serial)] == [first]
    assert [s.id for s in list_sessions(db, status="in_progress")] == [second]
