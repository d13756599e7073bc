"""Patients, plans and plan files: creation, refusals naming the field, warnings."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from injector.domain.errors import InvalidValueError
from injector.domain.inputs import PatientInput, PlanInput, RefusedInputError, parse
from injector.domain.planfile import parse_plan_text
from injector.session.patients_plans import create_patient, create_plan, get_plan, list_patients
from injector.session.plan_import import import_plan, import_plan_file
from injector.storage import Database
from tests.session.builders import add_patient_and_plan, patient_data, plan_data

DOC = Path(__file__).resolve().parents[2] / "docs" / "plan-format.md"


def refused_fields(data: dict[str, object]) -> dict[str, str]:
    with pytest.raises(RefusedInputError) as refused:
        parse(PlanInput, data)
    return dict(refused.value.problems)


def zone(**overrides: object) -> dict[str, object]:
    return {**plan_data()["zones"][0], **overrides}


@pytest.mark.parametrize("depth", [0, 40, -1])
def test_an_impossible_depth_is_refused_naming_the_zone(depth: float) -> None:
    problems = refused_fields(plan_data(zones=[zone(depth_mm=depth)]))
    assert list(problems) == ["zones[0].depth_mm"]
    assert "must be" in problems["zones[0].depth_mm"]


@pytest.mark.parametrize("sessions", [0, 2, 16])
def test_a_session_count_outside_3_to_15_is_refused(sessions: int) -> None:
    problems = refused_fields(plan_data(series={"sessions": sessions}))
    assert list(problems) == ["series.sessions"]


def test_every_problem_is_named_at_once() -> None:
    problems = refused_fields(
        plan_data(
            indication="tattoo removal",
            series={"sessions": 5, "initial_interval_days": [10, 7]},
            zones=[zone(body_area="elbow"), zone(name="x", volume_per_point_ml=0, colour="red")],
        )
    )
    assert set(problems) == {
        "indication",
        "series.initial_interval_days",
        "zones[0].body_area",
        "zones[1].volume_per_point_ml",
        "zones[1].colour",
    }
    assert problems["zones[1].colour"] == "is not a known field"


def test_model_level_problems_name_the_field_they_mean() -> None:
    problems = refused_fields(plan_data(zones=[zone(depth_mm=1.0, tolerance_mm=1.5)]))
    assert list(problems) == ["zones[0].tolerance_mm"]
    problems = refused_fields(plan_data(indication="fat_reduction"))
    assert list(problems) == ["indication_area"]
    problems = refused_fields(plan_data(zones=[zone(), zone()]))
    assert list(problems) == ["zones"]


def test_an_expired_lot_and_an_unusual_depth_are_warnings(db: Database) -> None:
    create_patient(db, parse(PatientInput, patient_data()), actor="Dr Test")
    data = plan_data(zones=[zone(depth_mm=6.0)])
    data["solution"] = {**data["solution"], "expiry": "2020-01-01"}
    created = create_plan(db, parse(PlanInput, data), actor="Dr Test")
    assert [w.split(":")[0] for w in created.warnings] == ["solution.expiry", "zones[0].depth_mm"]
    plan = get_plan(db, created.plan_id)
    assert plan.lot_expiry == date(2020, 1, 1)
    assert plan.zones[0].depth_um == 6000


def test_a_plan_is_stored_in_storage_units(db: Database) -> None:
    plan = get_plan(db, add_patient_and_plan(db))
    assert plan.components == ("hyaluronic acid", "vitamin C")
    assert plan.initial_interval_days == (7, 10) and plan.later_interval_days == 14
    forehead = plan.zones[0]
    assert (forehead.depth_um, forehead.depth_tolerance_um) == (1500, 300)
    assert (forehead.volume_per_point_nl, forehead.max_volume_nl) == (50_000, 200_000)


def test_a_duplicate_patient_is_refused_and_the_first_is_unchanged(db: Database) -> None:
    create_patient(db, parse(PatientInput, patient_data()), actor="Dr Test")
    with pytest.raises(InvalidValueError) as refused:
        create_patient(db, parse(PatientInput, patient_data(name="Someone Else")), actor="X")
    assert refused.value.field == "identifier"
    assert [(p.identifier, p.name) for p in list_patients(db)] == [("P-1", "Jane Doe")]


def test_a_plan_for_an_unknown_patient_is_refused(db: Database) -> None:
    with pytest.raises(InvalidValueError) as refused:
        create_plan(db, parse(PlanInput, plan_data(patient="P-404")), actor="Dr Test")
    assert refused.value.field == "patient"


def documented_example() -> str:
    match = re.search(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert match is not None
    return match.group(1)


def test_the_documented_example_imports(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(documented_example(), encoding="utf-8")
    imported = import_plan_file(db, path, actor="Dr Test")
    assert imported.patient_created and imported.warnings == ()
    plan = get_plan(db, imported.plan.plan_id)
    assert plan.patient_identifier == "P-0042"
    assert [z.name for z in plan.zones] == ["left thigh, lateral", "right thigh, lateral"]
    assert plan.lock_at_limit and plan.max_session_volume_nl == 6_000_000
    # Importing again keeps the patient and adds a second plan.
    again = import_plan_file(db, path, actor="Dr Test")
    assert not again.patient_created and again.patient_id == imported.patient_id


def test_json_plan_files_have_the_same_structure(db: Database, tmp_path: Path) -> None:
    import tomllib

    path = tmp_path / "plan.json"
    path.write_text(json.dumps(tomllib.loads(documented_example()), default=str))
    assert import_plan_file(db, path, actor="Dr Test").patient_created


def test_plan_file_problems_are_named_by_their_path_in_the_file() -> None:
    text = documented_example().replace("depth_mm = 4.0", "depth_mm = 40.0", 1)
    text = text.replace("sessions = 8", "sessions = 0")
    with pytest.raises(RefusedInputError) as refused:
        parse_plan_text(text, suffix=".toml")
    assert set(dict(refused.value.problems)) == {
        "plan.series.sessions",
        "plan.zones[0].depth_mm",
    }
    with pytest.raises(InvalidValueError, match="format"):
        parse_plan_text('format = "other"\n', suffix=".toml")
    with pytest.raises(InvalidValueError, match="not valid TOML") as syntax:
        parse_plan_text("format = \n", suffix=".toml")
    assert syntax.value.field == "file"


def test_an_import_that_fails_records_nothing(db: Database) -> None:
    plan_file = parse_plan_text(documented_example(), suffix=".toml")
    broken = plan_file.model_copy(
        update={"plan": plan_file.plan.model_copy(update={"patient": "P-other"})}
    )
    with pytest.raises(InvalidValueError):
        import_plan(db, broken, actor="Dr Test")
    assert list_patients(db) == []
