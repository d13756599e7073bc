"""``injector export`` through ``injector.cli.main.main`` on a real database file."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

import pytest

from injector.cli.main import main
from injector.export import ExportDocument
from injector.session import DeviceInfo, open_or_continue
from injector.storage import open_database
from tests.export.recorded import Recorded, record_session


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def recorded_db(db_url: str) -> tuple[str, Recorded]:
    """A database (file path or URL) holding the recorded session."""
    db = open_database(db_url)
    try:
        recorded = record_session(db)
    finally:
        db.close()
    return db_url, recorded


def test_json_csv_and_fhir_to_stdout(
    recorded_db: tuple[str, Recorded], capsys: pytest.CaptureFixture[str]
) -> None:
    url, recorded = recorded_db
    code, out, err = run(capsys, "export", "--db", url, "--format", "json")
    assert code == 0 and err == ""
    [session] = ExportDocument.model_validate_json(out).sessions
    assert len(session.shots) == len(recorded.shots)

    code, out, _ = run(capsys, "export", "--db", url, "--format", "csv")
    assert code == 0
    assert len(list(csv.DictReader(io.StringIO(out, newline="")))) == len(recorded.shots)

    code, out, _ = run(
        capsys, "export", "--db", url, "--format", "fhir", "--session", str(recorded.session_id)
    )
    assert code == 0 and json.loads(out)["resourceType"] == "Bundle"


def test_output_file_is_private(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "clinic.sqlite3"
    db = open_database(str(path))
    recorded = record_session(db)
    db.close()
    target = tmp_path / "session.fhir.json"
    code, out, err = run(
        capsys,
        "export",
        "--db",
        str(path),
        "--session",
        str(recorded.session_id),
        "--format",
        "fhir",
        "--output",
        str(target),
        "--patient-system",
        "https://clinic.example/patients",
    )
    assert (code, out, err) == (0, "", "")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    bundle = json.loads(target.read_text(encoding="utf-8"))
    subject = bundle["entry"][0]["resource"]["subject"]["identifier"]
    assert subject == {"system": "https://clinic.example/patients", "value": "P-1"}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--format", "xml"],
            "--format: unknown format 'xml'; use one of json, csv, adverse-events-csv, fhir",
        ),
        ([], "--format: say which format to write (json, csv, adverse-events-csv, fhir)"),
        (["--format", "fhir"], "--session: a FHIR export is one session's record"),
        (["--format", "json", "--session", "seven"], "--session: 'seven' is not a session id"),
        (["--format", "json", "--session", "4242"], "--session: there is no session 4242 in "),
        (["--format", "csv", "--output", "/nonexistent/dir/x.csv"], "--output: the folder"),
        (
            ["--format", "fhir", "--session", "1", "--patient-system", "clinic numbers"],
            "--patient-system: 'clinic numbers' is not a URI",
        ),
        (
            ["--format", "fhir", "--session", "2"],
            "session: session 2 has no treatment plan and so no patient",
        ),
    ],
)
def test_bad_input_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    path = tmp_path / "clinic.sqlite3"
    db = open_database(str(path))
    assert record_session(db).session_id == 1
    # Session 2: a gun recording without a plan.
    assert open_or_continue(db, DeviceInfo("SN0099", "MG-400", "2.5.0")).session_id == 2
    db.close()
    code, out, err = run(capsys, "export", "--db", str(path), *argv)
    assert code == 2 and out == ""
    assert err.startswith(f"injector export: {message}")
    assert err.count("\n") == 1


def test_empty_missing_and_unreachable_databases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.sqlite3"
    open_database(str(empty)).close()
    code, _, err = run(capsys, "export", "--db", str(empty), "--format", "json")
    assert code == 2 and err.count("\n") == 1
    assert "holds no sessions yet; nothing to export" in err

    missing = tmp_path / "typo.sqlite3"
    code, _, err = run(capsys, "export", "--db", str(missing), "--format", "csv")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"injector export: --db: there is no database file at {missing}")
    assert not missing.exists()

    # Nothing listens on port 1: the connection is refused at once.
    unreachable = "postgresql+psycopg://nobody@127.0.0.1:1/clinic"
    code, _, err = run(capsys, "export", "--db", unreachable, "--format", "json")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("injector export: cannot open the database at ")


def test_default_database_comes_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "clinic.sqlite3"
    db = open_database(str(path))
    recorded = record_session(db)
    db.close()
    monkeypatch.setenv("INJECTOR_DB", str(path))
    code, out, _ = run(capsys, "export", "--format", "csv", "--session", str(recorded.session_id))
    assert code == 0 and out.count("\n") == 1 + len(recorded.shots)
