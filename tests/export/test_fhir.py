"""The FHIR export: a Bundle that FHIR model libraries parse back, with the right numbers.

Two validators parse every bundle: ``fhirclient`` 4.4 (SMART on FHIR; models generated from
FHIR R4 4.0.1: element names, types, required elements, unknown elements) and
``fhir.resources.R4B`` (R4B 4.3.0, the closest to R4 that ``fhir.resources`` 8 ships; also
checks the primitive formats). The R4 check is skipped, saying so, where fhirclient is not
installed.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle as R4BBundle

from injector.domain.errors import InvalidValueError
from injector.export import ExportFormat, export_text
from injector.session import DeviceInfo, ShotIn, open_or_continue
from injector.session.clinical import plan_session
from injector.storage import Database
from tests.export.recorded import GUN, T0, record_session
from tests.session.builders import add_patient_and_plan

EXPORTED_AT = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
UCUM = "http://unitsofmeasure.org"


def export_bundle(db: Database, session_id: int) -> dict[str, Any]:
    text = export_text(db, ExportFormat.FHIR, session_id=session_id, exported_at=EXPORTED_AT)
    data = json.loads(text)
    assert isinstance(data, dict)
    return data


def validate_r4(data: dict[str, Any]) -> None:
    """Parse with the R4 (4.0.1) models of fhirclient; raises on anything not R4."""
    bundle_module = pytest.importorskip(
        "fhirclient.models.bundle",
        reason="the FHIR R4 (4.0.1) check needs fhirclient (pip install fhirclient)",
    )
    bundle = bundle_module.Bundle(data, strict=True)
    assert bundle.as_json() == data


def of_type(data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == kind]


def component(observation: dict[str, Any], code: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        c for c in observation["component"] if c["code"]["coding"][0]["code"] == code
    ]
    assert len(found) == 1
    return found[0]


def test_bundle_parses_as_r4b_and_r4(db: Database) -> None:
    recorded = record_session(db)
    data = export_bundle(db, recorded.session_id)
    parsed = R4BBundle.model_validate(data)
    assert parsed.type == "collection" and parsed.entry is not None
    assert len(parsed.entry) == len(data["entry"])
    validate_r4(data)


def test_bundle_has_the_right_resources_and_numbers(db: Database) -> None:
    recorded = record_session(db)
    data = export_bundle(db, recorded.session_id)
    kinds = Counter(e["resource"]["resourceType"] for e in data["entry"])
    # One administration and one depth observation per zone shot, the early shots included.
    assert kinds == {"Procedure": 1, "Device": 1, "MedicationAdministration": 3, "Observation": 3}
    urls = {e["fullUrl"] for e in data["entry"]}
    assert len(urls) == len(data["entry"]) and all(u.startswith("urn:uuid:") for u in urls)

    [procedure] = of_type(data, "Procedure")
    [device] = of_type(data, "Device")
    assert procedure["status"] == "completed"
    patient = {"system": "urn:x-injector:patient-identifier", "value": "P-1"}
    assert procedure["subject"] == {"type": "Patient", "identifier": patient}
    assert procedure["performedPeriod"]["start"] == "2026-11-02T09:00:00Z"
    assert procedure["usedReference"][0]["reference"] in urls
    assert (
        "recovered after a link loss: 2; lost (never received): 1" in procedure["note"][0]["text"]
    )
    assert device["serialNumber"] == GUN.serial
    assert device["deviceName"] == [{"name": GUN.model, "type": "model-name"}]
    assert device["version"][0]["value"] == GUN.firmware

    administrations = {
        (a["dosage"].get("site") or {}).get("text"): a
        for a in of_type(data, "MedicationAdministration")
    }
    assert set(administrations) == {"forehead", "cheeks", None}
    forehead = administrations["forehead"]
    assert forehead["dosage"]["dose"] == {"value": 0.2, "unit": "mL", "system": UCUM, "code": "mL"}
    assert forehead["dosage"]["method"]["coding"][0]["code"] == "nappage"
    assert forehead["dosage"]["site"]["coding"][0]["code"] == "forehead"
    assert administrations["cheeks"]["dosage"]["dose"]["value"] == 0.14
    assert administrations["cheeks"]["dosage"]["method"]["coding"][0]["code"] == "point_by_point"
    assert administrations[None]["dosage"]["dose"]["value"] == 0.02
    for administration in administrations.values():
        [medication] = administration["contained"]
        assert administration["medicationReference"]["reference"] == "#" + medication["id"]
        assert medication["batch"] == {"lotNumber": "LOT-A", "expirationDate": "2035-01-31"}
        assert medication["code"]["text"] == "Revita"
        assert administration["subject"]["identifier"] == patient
        assert administration["partOf"][0]["reference"] in urls
        assert administration["device"][0]["reference"] in urls
        assert administration["status"] == "completed"
    assert "1 shot fired without skin contact" in forehead["note"][0]["text"]

    observations = {(o.get("bodySite") or {}).get("text"): o for o in of_type(data, "Observation")}
    forehead_depth = observations["forehead"]
    assert forehead_depth["status"] == "final"
    mm = {"unit": "mm", "system": UCUM, "code": "mm"}
    assert component(forehead_depth, "depth-mean")["valueQuantity"] == {"value": 1.6, **mm}
    assert component(forehead_depth, "depth-min")["valueQuantity"]["value"] == 1.4
    assert component(forehead_depth, "depth-max")["valueQuantity"]["value"] == 1.9
    assert component(forehead_depth, "depth-target")["valueQuantity"]["value"] == 1.5
    assert component(forehead_depth, "shots-measured")["valueInteger"] == 4
    assert component(forehead_depth, "shots-outside-tolerance")["valueInteger"] == 1
    [limits] = component(forehead_depth, "depth-mean")["referenceRange"]
    assert (limits["low"]["value"], limits["high"]["value"]) == (1.2, 1.8)
    cheeks_depth = observations["cheeks"]
    assert component(cheeks_depth, "depth-mean")["valueQuantity"]["value"] == 2.667
    assert component(cheeks_depth, "shots-outside-tolerance")["valueInteger"] == 1
    assert component(observations[None], "depth-mean")["valueQuantity"]["value"] == 1.0
    assert not any(
        c["code"]["coding"][0]["code"] == "shots-outside-tolerance"
        for c in observations[None]["component"]
    )
    for observation in observations.values():
        assert observation["partOf"][0]["reference"] in urls
        assert observation["device"]["reference"] in urls


def test_same_session_same_bundle_and_in_progress_is_preliminary(db: Database) -> None:
    recorded = record_session(db, end=False)
    first = export_bundle(db, recorded.session_id)
    assert export_bundle(db, recorded.session_id) == first
    [procedure] = of_type(first, "Procedure")
    assert procedure["status"] == "in-progress" and "end" not in procedure["performedPeriod"]
    assert {o["status"] for o in of_type(first, "Observation")} == {"preliminary"}
    R4BBundle.model_validate(first)
    validate_r4(first)


def test_planned_session_has_a_procedure_and_nothing_administered(db: Database) -> None:
    plan_id = add_patient_and_plan(db)
    session_id = plan_session(db, plan_id, scheduled_at=T0, actor="Dr Test")
    data = export_bundle(db, session_id)
    [entry] = data["entry"]
    assert entry["resource"]["resourceType"] == "Procedure"
    assert entry["resource"]["status"] == "preparation"
    assert "performedPeriod" not in entry["resource"]
    R4BBundle.model_validate(data)
    validate_r4(data)


def test_session_without_plan_or_session_id_is_refused(db: Database) -> None:
    live = open_or_continue(db, DeviceInfo("SN0099", "MG-400", "2.5.0"), now=T0)
    live.add_shots([ShotIn("SN0099", 1, 1, 100, T0, 1500, 50_000, 0, 1_000_000)])
    with pytest.raises(InvalidValueError, match="no treatment plan"):
        export_text(db, ExportFormat.FHIR, session_id=live.session_id)
    with pytest.raises(InvalidValueError, match="name the session"):
        export_text(db, ExportFormat.FHIR)
