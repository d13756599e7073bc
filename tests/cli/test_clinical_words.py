"""Words a clinician reads: session show in clinical words, checklist warnings that name the
allergy (and "none known" warns of nothing), patient search that ignores accents and case,
`plan import --check` with the import's own warnings, dates refused with "use YYYY-MM-DD",
and `injector … | head` ending quietly."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from injector.cli.main import main
from injector.domain.inputs import Checklist, PatientInput, RefusedInputError, parse
from injector.session.clinical import check_start, start_session
from injector.session.patients_plans import create_patient, find_patients, update_patient
from injector.storage import Database, open_database
from tests.session.builders import CLEAN_CHECKLIST, add_patient_and_plan, patient_data
from tui.clinic import DatabaseClinic

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "cellulite-thighs.toml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_date_typed_day_first_says_use_yyyy_mm_dd(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "c.db")
    code, _, err = run(
        capsys, "patient", "add", "--id", "P-1", "--name", "Zoë", "--born", "02/03/1984", "--db", db
    )
    assert code == 2
    assert err == (
        "injector patient: --born (date_of_birth): '02/03/1984' is not a date: "
        "use YYYY-MM-DD, e.g. 1984-03-02\n"
    )
    with pytest.raises(RefusedInputError, match="use YYYY-MM-DD"):
        parse(PatientInput, patient_data(date_of_birth="3.2.1984"))


def test_patient_search_ignores_accents_and_case(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = open_database(db_url)
    try:
        for identifier, name in [("P-1", "Zoë Müller"), ("P-2", "Zoe Martin"), ("P-3", "Ana")]:
            create_patient(
                db,
                parse(PatientInput, patient_data(identifier=identifier, name=name)),
                actor="t",
            )
        assert [p.name for p in find_patients(db, "zoe")] == ["Zoë Müller", "Zoe Martin"]
        assert [p.name for p in find_patients(db, "MULLER")] == ["Zoë Müller"]
        assert [p.name for p in find_patients(db, "  zoë  müller ")] == ["Zoë Müller"]
        clinic = DatabaseClinic(db, "t")
        assert [p.name for p in clinic.find_patients("ZOË")] == ["Zoë Müller", "Zoe Martin"]
    finally:
        db.close()
    if "postgresql" in db_url:
        return
    code, out, _ = run(capsys, "patient", "list", "muller", "--db", db_url)
    assert code == 0 and out.splitlines() == ["P-1\tZoë Müller\t1985-04-12"]


def test_checklist_warnings_name_the_allergy_and_none_known_warns_of_nothing(
    db: Database,
) -> None:
    plan_id = add_patient_and_plan(db)
    assert check_start(db, plan_id, CLEAN_CHECKLIST) == ()
    for nothing in ("none known", "None", "NKDA", " - "):
        update_patient(db, "P-1", parse(PatientInput, patient_data(allergies=nothing)), actor="t")
        assert check_start(db, plan_id, CLEAN_CHECKLIST) == (), nothing
    update_patient(
        db, "P-1", parse(PatientInput, patient_data(allergies="lidocaine, latex")), actor="t"
    )
    assert check_start(db, plan_id, CLEAN_CHECKLIST) == (
        "patient: allergy recorded: lidocaine, latex",
    )


def test_session_show_speaks_clinical_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(tmp_path / "c.db")
    db = open_database(path)
    try:
        plan_id = add_patient_and_plan(db)
        checklist = Checklist(
            nsaid_last_7_days=True,
            numbing_applied=True,
            consent_recorded=True,
            before_photos_taken=True,
        )
        session_id = start_session(
            db,
            plan_id,
            checklist,
            practitioner="Dr Test",
            acknowledged=True,
            lot_number="LOT-OLD",
            lot_expiry=date(2020, 1, 1),
            now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        )
    finally:
        db.close()
    code, out, _ = run(capsys, "session", "show", str(session_id), "--db", path)
    assert code == 0
    for field_name in ("in_progress", "lot_expiry:", "lot_number:", "nsaid_last_7_days:", "_"):
        assert field_name not in out, field_name
    assert out.startswith(f"session {session_id}: in progress,")
    assert "checklist warning acknowledged by Dr Test: Lot LOT-OLD expired on 2020-01-01" in out
    assert "Aspirin or another NSAID was taken in the last 7 days" in out
    code, out, _ = run(capsys, "session", "list", "--db", path, "--status", "in progress")
    assert "\tin progress\t" in out and "in_progress" not in out


def test_plan_import_check_prints_the_warnings_the_import_gives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    plan = tmp_path / "old-lot.toml"
    plan.write_text(text.replace("expiry = 2030-06-30", "expiry = 2020-06-30"), encoding="utf-8")
    db = str(tmp_path / "c.db")
    # The patient is already recorded, with another name: the import keeps the record.
    code, _, _ = run(
        capsys, "patient", "add", "--id", "P-0042", "--name", "Jane Roe", "--born",
        "1985-04-12", "--db", db,
    )  # fmt: skip
    assert code == 0
    code, out, checked = run(capsys, "plan", "import", "--check", str(plan), "--db", db)
    assert code == 0 and out == f"{plan}: valid, 2 warning(s)\n"
    code, out, imported = run(capsys, "plan", "import", str(plan), "--db", db)
    assert code == 0 and "plan 1 added" in out
    assert checked == imported
    assert "warning: patient: P-0042 already exists with other details" in checked
    assert "expired on 2020-06-30" in checked
    code, out, _ = run(capsys, "plan", "show", "1", "--db", db)
    assert code == 0 and "(thighs, point by point)" in out and "point_by_point" not in out
    # Checked again, it also says the plan is there already.
    code, _, again = run(capsys, "plan", "import", "--check", str(plan), "--db", db)
    assert code == 0 and "already has this plan (plan 1); importing it needs --force" in again
    # Without a database the check still gives the file's own warnings, and creates nothing.
    missing = tmp_path / "none.db"
    code, _, alone = run(capsys, "plan", "import", "--check", str(plan), "--db", str(missing))
    assert code == 0 and "expired on 2020-06-30" in alone and not missing.exists()


def test_a_listing_piped_into_head_ends_quietly(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    open_database(str(path)).close()
    now = datetime.now(UTC).isoformat(" ")
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO patient (identifier, name, date_of_birth, contact, on_anticoagulants,"
            " pregnant, allergies, contraindication_notes, created_at)"
            " VALUES (?, ?, '1980-01-01', '', 0, 0, '', '', ?)",
            [
                (f"P-{n:05d}", f"Patient number {n} with a long enough name", now)
                for n in range(4000)
            ],
        )
    # A real pipe whose reader stops after one line, as `| head -1` does.
    proc = subprocess.Popen(
        [sys.executable, "-m", "injector.cli.main", "patient", "list", "--db", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    code = proc.wait(timeout=60)
    assert first.startswith(b"P-00000\t")
    assert err == b"" and code == 0
