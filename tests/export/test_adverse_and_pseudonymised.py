"""Adverse events and fault names in every export, and pseudonymised exports.

A real session recorded through the session API, an adverse event recorded against it and a
gun fault raised during it; exported as JSON, CSV and FHIR (parsed back by both FHIR model
libraries), plain and pseudonymised, from Python and through ``injector export``.
"""

from __future__ import annotations

import csv
import io
import json
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle as R4BBundle

from injector.cli.main import main
from injector.domain.inputs import AdverseEventInput, PatientInput, parse
from injector.domain.shots import DeviceEventIn
from injector.domain.vocabulary import DeviceEventKind
from injector.export import ExportDocument, ExportFormat, export_text
from injector.export.pseudonymise import age_band, clinic_key
from injector.session import open_or_continue
from injector.session.clinical import record_adverse_event
from injector.session.patients_plans import create_patient
from injector.storage import Database, open_database
from tests.export.recorded import GUN, T0, Recorded, record_session
from tests.export.test_fhir import of_type, validate_r4
from tests.session.builders import patient_data

EXPORTED_AT = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
NOTES = "Swelling left of the brow; Jane called at 18:00"
CONTACT = "jane.doe@example.org, +33 6 12 34 56 78"


def record_day(db: Database) -> tuple[Recorded, int]:
    """The recorded session with a fault during it and an adverse event after it."""
    create_patient(db, parse(PatientInput, patient_data(contact=CONTACT)), actor="Dr Test")
    recorded = record_session(db, end=False)
    live = open_or_continue(db, GUN, session_id=recorded.session_id, now=T0)
    fault_at = T0 + timedelta(seconds=65)
    live.add_events(
        [
            DeviceEventIn(DeviceEventKind.FAULT_RAISED, fault_at, GUN.serial, 8, {"code": 3}),
            DeviceEventIn(
                DeviceEventKind.FAULT_CLEARED,
                fault_at + timedelta(seconds=5),
                GUN.serial,
                8,
                {"code": 3},
            ),
        ]
    )
    live.end(actor="Dr Test", at=T0 + timedelta(seconds=120))
    adverse_id = record_adverse_event(
        db,
        recorded.session_id,
        parse(
            AdverseEventInput,
            {
                "kind": "swelling",
                "severity": "moderate",
                "onset": (T0 + timedelta(hours=2)).isoformat(),
                "notes": NOTES,
            },
        ),
        actor="Dr Test",
        now=T0 + timedelta(hours=3),
    )
    return recorded, adverse_id


def export(db: Database, fmt: ExportFormat, session_id: int | None = None, **kw: Any) -> str:
    return export_text(db, fmt, session_id=session_id, exported_at=EXPORTED_AT, **kw)


def test_json_has_adverse_events_and_fault_names(db: Database) -> None:
    _, adverse_id = record_day(db)
    [session] = ExportDocument.model_validate_json(export(db, ExportFormat.JSON)).sessions
    [adverse] = session.adverse_events
    assert adverse.model_dump() == {
        "id": adverse_id,
        "kind": "swelling",
        "severity": "moderate",
        "onset": T0 + timedelta(hours=2),
        "description": NOTES,
        "recorded_by": "Dr Test",
        "recorded_at": T0 + timedelta(hours=3),
        "at_later_visit": False,
        "lot_number": "LOT-A",
    }
    faults = [(e.kind, e.detail["code"], e.fault) for e in session.events if e.fault]
    assert faults == [("fault_raised", 3, "motor stall"), ("fault_cleared", 3, "motor stall")]
    assert all(e.fault is None for e in session.events if not e.kind.startswith("fault"))
    assert session.patient_identifier == "P-1" and session.patient_age_band is None


def test_adverse_events_have_a_csv_file_of_their_own(db: Database) -> None:
    recorded, _ = record_day(db)
    rows = list(csv.DictReader(io.StringIO(export(db, ExportFormat.ADVERSE_EVENTS_CSV))))
    assert rows == [
        {
            "session_id": str(recorded.session_id),
            "patient_identifier": "P-1",
            "lot_number": "LOT-A",
            "kind": "swelling",
            "severity": "moderate",
            "onset": "2026-11-02T11:00:00Z",
            "at_later_visit": "no",
            "description": NOTES,
            "recorded_by": "Dr Test",
            "recorded_at": "2026-11-02T12:00:00Z",
        }
    ]
    shots = list(csv.DictReader(io.StringIO(export(db, ExportFormat.CSV))))
    assert len(shots) == len(recorded.shots)  # the shots file is unchanged


def test_fhir_adverse_event_names_the_administrations_and_lot(db: Database) -> None:
    recorded, adverse_id = record_day(db)
    data = json.loads(export(db, ExportFormat.FHIR, recorded.session_id))
    R4BBundle.model_validate(data)
    validate_r4(data)
    [adverse] = of_type(data, "AdverseEvent")
    administrations = {
        e["fullUrl"]: e["resource"]
        for e in data["entry"]
        if e["resource"]["resourceType"] == "MedicationAdministration"
    }
    assert adverse["actuality"] == "actual"
    assert adverse["identifier"]["value"] == str(adverse_id)
    assert adverse["event"]["coding"][0]["code"] == "swelling"
    assert adverse["event"]["text"] == NOTES
    assert adverse["severity"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/adverse-event-severity",
        "code": "moderate",
        "display": "Moderate",
    }
    assert adverse["date"] == "2026-11-02T11:00:00Z"
    assert adverse["recordedDate"] == "2026-11-02T12:00:00Z"
    assert adverse["recorder"] == {"display": "Dr Test"}
    assert adverse["subject"]["identifier"]["value"] == "P-1"
    suspects = [s["instance"] for s in adverse["suspectEntity"]]
    assert {s["reference"] for s in suspects} == set(administrations)
    assert all(s["type"] == "MedicationAdministration" for s in suspects)
    assert all(s["display"].startswith("Revita, lot LOT-A (") for s in suspects)
    for administration in administrations.values():
        assert administration["contained"][0]["batch"]["lotNumber"] == "LOT-A"
    [procedure] = of_type(data, "Procedure")
    notes = " ".join(n["text"] for n in procedure["note"])
    assert "Gun faults raised: motor stall (code 3) at 2026-11-02T09:01:05+00:00." in notes


def test_pseudonymised_json_has_no_patient_data_and_a_stable_pseudonym(db: Database) -> None:
    record_day(db)
    text = export(db, ExportFormat.JSON, pseudonymise=True)
    for secret in ('"P-1"', "Jane", "Doe", "1985", CONTACT, "jane.doe", NOTES, "18:00"):
        assert secret not in text, secret
    document = ExportDocument.model_validate_json(text)
    assert document.pseudonymised
    [session] = document.sessions
    pseudonym = clinic_key(db).pseudonym("P-1")
    assert session.patient_identifier == pseudonym and pseudonym.startswith("P-")
    assert session.patient_age_band == "40-49"  # born 1985-04-12, treated 2026-11-02
    assert session.adverse_events[0].description == ""
    assert session.notes == ""
    # The same patient, the same pseudonym, export after export.
    again = ExportDocument.model_validate_json(export(db, ExportFormat.JSON, pseudonymise=True))
    assert again.sessions[0].patient_identifier == pseudonym
    with_notes = export(db, ExportFormat.JSON, pseudonymise=True, include_notes=True)
    assert NOTES in with_notes and "Jane Doe" not in with_notes


def test_pseudonymised_fhir_and_csv(db: Database) -> None:
    recorded, _ = record_day(db)
    pseudonym = clinic_key(db).pseudonym("P-1")
    data = json.loads(export(db, ExportFormat.FHIR, recorded.session_id, pseudonymise=True))
    R4BBundle.model_validate(data)
    validate_r4(data)
    subjects = {
        json.dumps(e["resource"]["subject"], sort_keys=True)
        for e in data["entry"]
        if "subject" in e["resource"]
    }
    assert subjects == {
        json.dumps(
            {
                "identifier": {"system": "urn:x-injector:patient-pseudonym", "value": pseudonym},
                "type": "Patient",
            },
            sort_keys=True,
        )
    }
    [adverse] = of_type(data, "AdverseEvent")
    assert adverse["event"]["text"] == "swelling"
    assert NOTES not in json.dumps(data)
    [row] = csv.DictReader(
        io.StringIO(export(db, ExportFormat.ADVERSE_EVENTS_CSV, pseudonymise=True))
    )
    assert row["patient_identifier"] == pseudonym and row["description"] == ""


def test_pseudonyms_differ_between_clinics_and_patients(tmp_path: Path) -> None:
    keys = []
    for name in ("a", "b"):
        db = open_database(str(tmp_path / f"{name}.sqlite3"))
        try:
            keys.append(clinic_key(db))
        finally:
            db.close()
    assert keys[0].pseudonym("P-1") != keys[1].pseudonym("P-1")
    assert keys[0].pseudonym("P-1") != keys[0].pseudonym("P-2")
    assert keys[0].pseudonym("P-1") == keys[0].pseudonym("P-1")


@pytest.mark.parametrize(
    ("born", "band"),
    [
        (date(2010, 11, 3), "under 18"),
        (date(2008, 11, 2), "18-29"),
        (date(1997, 11, 3), "18-29"),
        (date(1996, 11, 2), "30-39"),
        (date(1985, 4, 12), "40-49"),
        (date(1936, 11, 2), "90 or older"),
    ],
)
def test_age_bands(born: date, band: str) -> None:
    assert age_band(born, date(2026, 11, 2)) == band


def test_cli_pseudonymised_adverse_events_to_a_private_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clinic.sqlite3"
    db = open_database(str(path))
    try:
        record_day(db)
        pseudonym = clinic_key(db).pseudonym("P-1")
    finally:
        db.close()
    out = tmp_path / "adverse.csv"
    argv = ["export", "--db", str(path), "--format", "adverse-events-csv", "--output", str(out)]
    assert main([*argv, "--pseudonymise"]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    [row] = csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))
    assert row["patient_identifier"] == pseudonym and row["description"] == ""
    assert main([*argv, "--pseudonymise", "--include-notes"]) == 0
    [row] = csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))
    assert row["description"] == NOTES
    capsys.readouterr()
    assert main(["export", "--db", str(path), "--format", "json", "--include-notes"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "use it with --pseudonymise" in err
