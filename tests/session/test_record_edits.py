"""Editing patients and plans: audited with old and new values, refusals change nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from injector.domain.errors import InvalidValueError
from injector.domain.inputs import PatientInput, PlanInput, parse
from injector.session import DeviceInfo, ShotIn, open_or_continue
from injector.session.audit_verify import verify_audit_trail
from injector.session.clinical import end_session
from injector.session.patients_plans import (
    create_patient,
    get_patient,
    get_plan,
    list_patients,
    plans_of_patient,
    update_patient,
    update_plan,
)
from injector.storage import Database
from injector.storage.tables import AuditEntry, table_of
from tests.session.builders import add_patient_and_plan, patient_data, plan_data

GUN = DeviceInfo("SN0042", "MG-400", "2.4.1")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def updates(db: Database, entity: str) -> list[dict[str, Any]]:
    """The payloads of the audit trail's update entries for ``entity``, oldest first."""
    table = table_of(AuditEntry)
    with db.read() as conn:
        rows = conn.execute(
            select(table.c.payload)
            .where(table.c.action == "update", table.c.entity == entity)
            .order_by(table.c.id)
        ).scalars()
        return [json.loads(row) for row in rows]


def audit_count(db: Database) -> int:
    with db.read() as conn:
        return len(conn.execute(select(table_of(AuditEntry).c.id)).all())


def plan_input(**overrides: Any) -> PlanInput:
    return parse(PlanInput, plan_data(**overrides))


def zone(index: int, **overrides: Any) -> dict[str, Any]:
    return {**plan_data()["zones"][index], **overrides}


def fire_in_zone(db: Database, plan_id: int, zone_id: int, count: int, *, end: bool) -> int:
    """Record ``count`` shots in ``zone_id`` in a session of the plan; returns its id."""
    live = open_or_continue(db, GUN, plan_id)
    live.set_active_zone(zone_id, at=T0)
    live.add_shots(
        [
            ShotIn(GUN.serial, 7, n, 1000 * n, T0 + timedelta(seconds=n), 1500, 50_000, 0, 10**6)
            for n in range(1, count + 1)
        ]
    )
    if end:
        end_session(db, live.session_id, actor="Dr Test")
    return live.session_id


def test_a_patient_edit_is_audited_with_old_and_new_values(db: Database) -> None:
    plan_id = add_patient_and_plan(db)
    edited = parse(PatientInput, patient_data(name="Jane Roe", pregnant=True))
    update_patient(db, "P-1", edited, actor="Dr Edit")
    patient = get_patient(db, "P-1")
    assert (patient.name, patient.pregnant) == ("Jane Roe", True)
    assert updates(db, "patient") == [
        {
            "old": {"name": "Jane Doe", "pregnant": False},
            "new": {"name": "Jane Roe", "pregnant": True},
        }
    ]
    assert get_plan(db, plan_id).patient_identifier == "P-1"
    assert verify_audit_trail(db).ok


def test_a_new_identifier_keeps_the_patients_plans(db: Database) -> None:
    plan_id = add_patient_and_plan(db)
    update_patient(db, "P-1", parse(PatientInput, patient_data(identifier="P-9")), actor="Dr E")
    assert [p.identifier for p in list_patients(db)] == ["P-9"]
    assert [p.id for p in plans_of_patient(db, "P-9")] == [plan_id]
    assert get_plan(db, plan_id).patient_identifier == "P-9"
    assert updates(db, "patient") == [{"old": {"identifier": "P-1"}, "new": {"identifier": "P-9"}}]
    assert verify_audit_trail(db).ok


def test_an_identifier_in_use_is_refused_and_nothing_changes(db: Database) -> None:
    add_patient_and_plan(db)
    create_patient(db, parse(PatientInput, patient_data(identifier="P-2")), actor="Dr Test")
    before = audit_count(db)
    taken = parse(PatientInput, patient_data(identifier="P-2", name="Changed Name"))
    with pytest.raises(InvalidValueError) as refused:
        update_patient(db, "P-1", taken, actor="Dr E")
    assert refused.value.field == "identifier"
    assert get_patient(db, "P-1").name == "Jane Doe"
    assert audit_count(db) == before


def test_an_edit_that_changes_nothing_writes_nothing(db: Database) -> None:
    plan_id = add_patient_and_plan(db)
    before = audit_count(db)
    update_patient(db, "P-1", parse(PatientInput, patient_data()), actor="Dr E")
    update_plan(db, plan_id, plan_input(), actor="Dr E")
    assert audit_count(db) == before


def test_a_plan_edit_retunes_renames_adds_and_removes_zones(db: Database) -> None:
    plan_id = add_patient_and_plan(db)
    forehead, cheeks = (z.id for z in get_plan(db, plan_id).zones)
    data = plan_data(
        zones=[
            zone(1, name="both cheeks", depth_mm=2.0),
            zone(0, name="neck", body_area="neck", depth_mm=6.0),
        ]
    )
    data["solution"] = {**data["solution"], "lot_number": "LOT-B", "expiry": "2020-01-01"}
    saved = update_plan(
        db, plan_id, parse(PlanInput, data), actor="Dr Edit", zone_ids=[cheeks, None]
    )
    assert saved.plan_id == plan_id
    assert [w.split(":")[0] for w in saved.warnings] == ["solution.expiry", "zones[1].depth_mm"]
    plan = get_plan(db, plan_id)
    assert plan.lot_number == "LOT-B"
    assert [(z.name, z.position, z.depth_um) for z in plan.zones] == [
        ("both cheeks", 0, 2000),
        ("neck", 1, 6000),
    ]
    assert plan.zones[0].id == cheeks and plan.zones[1].id not in (forehead, cheeks)
    [entry] = updates(db, "plan")
    assert entry["old"]["lot_number"] == "LOT-A" and entry["new"]["lot_number"] == "LOT-B"
    assert [(z["id"], z["name"]) for z in entry["old"]["zones"]] == [
        (forehead, "forehead"),
        (cheeks, "cheeks"),
    ]
    assert [(z["id"], z["name"]) for z in entry["new"]["zones"]] == [
        (cheeks, "both cheeks"),
        (plan.zones[1].id, "neck"),
    ]
    assert "product_name" not in entry["new"]
    assert verify_audit_trail(db).ok


def test_zones_are_matched_by_position_when_no_ids_are_given(db: Database) -> None:
    plan_id = add_patient_and_plan(db)
    forehead, _ = (z.id for z in get_plan(db, plan_id).zones)
    update_plan(db, plan_id, plan_input(zones=[zone(0, name="brow")]), actor="Dr E")
    assert [(z.id, z.name) for z in get_plan(db, plan_id).zones] == [(forehead, "brow")]


def test_a_zone_with_shots_cannot_be_removed_but_can_be_retuned(db: Database) -> None:
    plan_id = add_patient_and_plan(db)
    forehead, cheeks = (z.id for z in get_plan(db, plan_id).zones)
    fire_in_zone(db, plan_id, cheeks, 3, end=True)
    before = audit_count(db)
    with pytest.raises(InvalidValueError) as refused:
        update_plan(db, plan_id, plan_input(zones=[zone(0)]), actor="Dr E")
    assert refused.value.field == "zones"
    assert "cheeks" in refused.value.reason and "3 shot" in refused.value.reason
    assert [z.id for z in get_plan(db, plan_id).zones] == [forehead, cheeks]
    assert audit_count(db) == before

    update_plan(
        db, plan_id, plan_input(zones=[zone(0), zone(1, name="cheekbones", points=8)]), actor="E"
    )
    assert [(z.id, z.name, z.points) for z in get_plan(db, plan_id).zones][1] == (
        cheeks,
        "cheekbones",
        8,
    )
    assert verify_audit_trail(db).ok


def test_no_zone_is_removed_while_a_session_of_the_plan_records(db: Database) -> None:
    plan_id = add_patient_and_plan(db)
    forehead, _ = (z.id for z in get_plan(db, plan_id).zones)
    fire_in_zone(db, plan_id, forehead, 1, end=False)
    with pytest.raises(InvalidValueError) as refused:
        update_plan(db, plan_id, plan_input(zones=[zone(0)]), actor="Dr E")
    assert refused.value.field == "zones" and "in progress" in refused.value.reason
    assert len(get_plan(db, plan_id).zones) == 2


def test_a_refused_plan_edit_changes_nothing(db: Database) -> None:
    plan_id = add_patient_and_plan(db)
    create_patient(db, parse(PatientInput, patient_data(identifier="P-2")), actor="Dr Test")
    before = (get_plan(db, plan_id), audit_count(db))
    with pytest.raises(InvalidValueError) as refused:
        update_plan(db, plan_id, plan_input(patient="P-2", notes="moved"), actor="Dr E")
    assert refused.value.field == "patient"
    with pytest.raises(InvalidValueError) as refused:
        update_plan(db, plan_id, plan_input(notes="x"), actor="Dr E", zone_ids=[10_000, None])
    assert refused.value.field == "zones[0]"
    assert (get_plan(db, plan_id), audit_count(db)) == before
