"""Smaller wording of the command line: each message says what the user typed and what to do."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from injector.cli.main import main
from injector.session.clinical import sign_session
from injector.storage.engine import open_database
from tests.export.recorded import record_session
from tests.session.builders import pin_of

ZONE = "name=f,technique=nappage,depth=1.5,tolerance=0.3,volume=abc,points=40"
EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "cellulite-thighs.toml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def signed_db(tmp_path: Path) -> tuple[str, int]:
    """A database holding one recorded, ended and signed session."""
    path = str(tmp_path / "clinic.db")
    db = open_database(path)
    try:
        recorded = record_session(db)
        sign_session(db, recorded.session_id, name="Dr Test", pin=pin_of(db, "Dr Test"))
    finally:
        db.close()
    return path, recorded.session_id


def test_export_usage_shows_format_as_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    usage = capsys.readouterr().out.split("\n\n")[0]
    assert usage.startswith("usage: injector export --format {json,csv,adverse-events-csv,fhir} ")
    assert "[--format" not in usage


def test_session_list_has_a_header(
    signed_db: tuple[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    path, session_id = signed_db
    code, out, _ = run(capsys, "session", "list", "--db", path)
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == "id\tplan\tn\tstatus\tstarted\tpractitioner\tgun\tlot"
    assert lines[1].startswith(f"{session_id}\t")


def test_plan_add_refusals_name_the_options_and_zone_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "c.db")
    run(
        capsys, "patient", "add", "--db", db, "--id", "P-1", "--name", "A B", "--born", "1990-01-02"
    )
    base = ["plan", "add", "--db", db, "--patient", "P-1", "--indication", "wrinkles_and_lines"]
    base += ["--product", "X", "--lot", "L", "--expiry", "2030-01-01"]
    code, _, err = run(capsys, *base, "--sessions", "40", "--interval", "7-x", "--zone", ZONE)
    assert code == 2
    assert err == (
        "injector plan: --sessions: must be at most 15 (got 40); --interval: is not a whole "
        "number; --zone 1 area=: is required; --zone 1 volume=: is not a number\n"
    )
    assert "body_area" not in err and "volume_per_point_ml" not in err


def test_amend_lists_the_fields_it_takes(
    signed_db: tuple[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    path, session_id = signed_db
    code, _, err = run(
        capsys,
        "session",
        "amend",
        str(session_id),
        "--db",
        path,
        "--reason",
        "x",
        "--set",
        "depth=3",
        "--by",
        "Dr Test",
    )
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("injector session: --set: 'depth' is not a field of a session; ")
    assert "lot_number" in err and "notes" in err


def test_a_broken_plan_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "thighs.toml"
    bad.write_text('format = "injector-plan/1"\n[plan\n', encoding="utf-8")
    code, _, err = run(capsys, "plan", "import", str(bad), "--check")
    assert code == 2
    assert err.startswith(f"injector plan: {bad}: not valid TOML: ")


def test_importing_the_same_plan_twice_needs_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "c.db")
    assert run(capsys, "plan", "import", str(EXAMPLE), "--db", db)[0] == 0
    code, _, err = run(capsys, "plan", "import", str(EXAMPLE), "--db", db)
    assert code == 2
    assert err == (
        f"injector plan: {EXAMPLE}: patient P-0042 already has this plan (plan 1); it was "
        "imported before. Pass --force to add a second copy\n"
    )
    code, out, err = run(capsys, "plan", "import", str(EXAMPLE), "--db", db, "--force")
    assert code == 0 and "plan 2 added" in out
    assert "warning: plan 2 is a copy of plan 1 (--force)" in err


def test_audit_verify_says_what_differs(
    signed_db: tuple[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    path, session_id = signed_db
    with sqlite3.connect(path) as conn:
        conn.execute(
            "update shot set depth_um = depth_um + 100 where id = (select min(id) from shot)"
        )
    code, out, _ = run(capsys, "audit", "verify", "--db", path)
    assert code == 1
    assert f"the values of shots of session {session_id} changed after it was signed" in out
    assert "SHA-256 digest differs" in out
    with sqlite3.connect(path) as conn:
        conn.execute("delete from shot where id = (select max(id) from shot)")
    code, out, _ = run(capsys, "audit", "verify", "--db", path)
    assert code == 1
    assert f"shots of session {session_id} were added or removed after it was signed" in out
