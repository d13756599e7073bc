"""``injector patient`` and ``injector plan`` on a real database file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from injector.cli.main import main
from tests.session.test_records import documented_example


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "clinic.sqlite3")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


ZONE = "name=forehead,area=forehead,technique=nappage,depth=1.5,tolerance=0.3,volume=0.02,points=40"


def test_patient_add_and_list(db_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "patient",
        "add",
        "--db",
        db_path,
        "--id",
        "P-7",
        "--name",
        "Ann Example",
        "--born",
        "1990-02-03",
        "--pregnant",
        "--by",
        "Dr Test",
    )
    assert code == 0 and "patient P-7 added" in out
    code, out, _ = run(capsys, "patient", "list", "--db", db_path)
    assert out.strip() == "P-7\tAnn Example\t1990-02-03\t[pregnant]"


def test_patient_refusals_name_the_option(db_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys,
        "patient",
        "add",
        "--db",
        db_path,
        "--id",
        "P-7",
        "--name",
        "A",
        "--born",
        "03/02/1990",
    )
    assert code == 2 and err.startswith("injector patient: --born (date_of_birth): ")
    assert err.count("\n") == 1
    run(
        capsys,
        "patient",
        "add",
        "--db",
        db_path,
        "--id",
        "P-7",
        "--name",
        "A",
        "--born",
        "1990-02-03",
    )
    code, _, err = run(
        capsys,
        "patient",
        "add",
        "--db",
        db_path,
        "--id",
        "P-7",
        "--name",
        "B",
        "--born",
        "1990-02-03",
    )
    assert code == 2 and "--id (identifier): a patient with identifier P-7 already exists" in err


def test_plan_add_show_and_refusals(db_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(
        capsys,
        "patient",
        "add",
        "--db",
        db_path,
        "--id",
        "P-7",
        "--name",
        "A",
        "--born",
        "1990-02-03",
    )
    base = [
        "plan",
        "add",
        "--db",
        db_path,
        "--patient",
        "P-7",
        "--indication",
        "wrinkles_and_lines",
        "--product",
        "Revita",
        "--lot",
        "L1",
        "--expiry",
        "2020-01-01",
    ]
    code, out, err = run(capsys, *base, "--sessions", "5", "--then", "14", "--zone", ZONE)
    assert code == 0 and out.strip() == "plan 1 added for patient P-7"
    assert err.strip() == "warning: --expiry: lot L1 expired on 2020-01-01"
    code, _, err = run(capsys, *base, "--sessions", "0", "--zone", ZONE.replace("1.5", "40"))
    assert code == 2
    assert "--sessions: must be at least 3" in err
    assert "--zone 1 depth=: must be at most 12" in err
    code, _, err = run(capsys, *base, "--sessions", "5", "--zone", ZONE.replace("1.5", "0"))
    assert code == 2 and "--zone 1 depth=: must be at least 0.1" in err
    code, _, err = run(capsys, *base, "--sessions", "5", "--zone", ZONE + ",colour=red")
    assert code == 2 and "unknown key 'colour'" in err
    code, out, _ = run(capsys, "plan", "show", "--db", db_path, "1")
    assert code == 0
    assert "session 1 of 5" in out
    assert "forehead (forehead, nappage): 1.5 ± 0.3 mm, 40 × 0.02 mL, max 0.8 mL" in out
    code, _, err = run(capsys, "plan", "show", "--db", db_path, "9")
    assert code == 2 and "there is no treatment plan 9" in err


def test_plan_import(db_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "plan.toml"
    good.write_text(documented_example(), encoding="utf-8")
    code, out, _ = run(capsys, "plan", "import", "--check", str(good), "--db", db_path)
    assert code == 0 and out.strip() == f"{good}: valid"
    code, out, _ = run(capsys, "plan", "import", str(good), "--db", db_path)
    assert code == 0 and "patient P-0042 added" in out and "plan 1 added" in out
    bad = tmp_path / "bad.toml"
    bad.write_text(re.sub(r"depth_mm = 4\.0", "depth_mm = 0.0", documented_example(), count=1))
    code, _, err = run(capsys, "plan", "import", str(bad), "--db", db_path)
    assert code == 2 and "plan.zones[0].depth_mm: must be at least 0.1" in err
    code, out, _ = run(capsys, "patient", "list", "--db", db_path)
    assert out.count("\n") == 1  # the refused file added nothing


def test_an_unreachable_database_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys,
        "patient",
        "list",
        "--db",
        "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2",
    )
    assert code == 2 and err.count("\n") == 1 and "cannot open the database" in err


def test_session_commands(
    db_path: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    from datetime import UTC, datetime

    from injector.session import DeviceInfo, ShotFlag, ShotIn, open_or_continue
    from injector.session.clinical import end_session, start_session
    from injector.storage import open_database
    from tests.session.builders import CLEAN_CHECKLIST, add_patient_and_plan, pin_of

    db = open_database(db_path)
    try:
        plan_id = add_patient_and_plan(db)
        # Signing and amending read the practitioner's PIN, here one line of standard input.
        pins = io.StringIO(f"{pin_of(db, 'Dr Test')}\n{pin_of(db, 'Dr Second')}\n")
        monkeypatch.setattr("sys.stdin", pins)
        gun = DeviceInfo("SN0042", "MG-400", "2.4.1")
        session_id = start_session(db, plan_id, CLEAN_CHECKLIST, practitioner="Dr Test", device=gun)
        # The gun fired (into the air: the totals stay 0); a session that ended with no shot
        # at all would be aborted.
        now = datetime.now(UTC)
        air = int(ShotFlag.NO_SKIN)
        open_or_continue(db, gun).add_shots(
            [ShotIn(gun.serial, 7, 1, 1, now, 1500, 50_000, air, 1_000_000)]
        )
        end_session(db, session_id, actor="Dr Test")
    finally:
        db.close()
    sid = str(session_id)
    code, out, _ = run(capsys, "session", "list", "--db", db_path, "--patient", "P-1")
    header, first = out.splitlines()[:2]
    assert code == 0 and header == "id\tplan\tn\tstatus\tstarted\tpractitioner\tgun\tlot"
    assert first.startswith(f"{sid}\tplan {plan_id}\t#1\tcompleted\t")
    code, _, err = run(
        capsys,
        "session",
        "amend",
        sid,
        "--db",
        db_path,
        "--reason",
        "typo",
        "--set",
        "notes=x",
        "--by",
        "Dr Test",
    )
    assert code == 2 and "is not signed" in err
    code, out, _ = run(capsys, "session", "sign", sid, "--db", db_path, "--name", "Dr Test")
    assert code == 0
    code, _, err = run(
        capsys,
        "session",
        "amend",
        sid,
        "--db",
        db_path,
        "--reason",
        "vial",
        "--set",
        "lot_expiry=someday",
        "--by",
        "Dr Second",
    )
    assert code == 2 and err.startswith("injector session: lot_expiry: ")
    code, out, _ = run(
        capsys,
        "session",
        "amend",
        sid,
        "--db",
        db_path,
        "--reason",
        "vial label",
        "--set",
        "lot_number=LOT-B",
        "--by",
        "Dr Second",
    )
    assert code == 0
    onset = datetime.now(UTC).isoformat()
    code, out, _ = run(
        capsys,
        "session",
        "adverse",
        sid,
        "--db",
        db_path,
        "--kind",
        "redness",
        "--severity",
        "mild",
        "--onset",
        onset,
    )
    assert code == 0
    code, _, err = run(
        capsys,
        "session",
        "adverse",
        sid,
        "--db",
        db_path,
        "--kind",
        "hiccups",
        "--severity",
        "mild",
        "--onset",
        onset,
    )
    assert code == 2 and err.startswith("injector session: kind: ")
    code, out, _ = run(capsys, "session", "show", sid, "--db", db_path)
    assert code == 0
    assert "signed by Dr Test" in out
    assert "amended by Dr Second" in out and "lot number 'LOT-A' → 'LOT-B'" in out
    assert "adverse event: redness, mild" in out
    assert "total: 0/8, 0 mL/0.4 mL" in out
    code, out, _ = run(capsys, "session", "lot", "LOT-B", "--db", db_path)
    assert code == 0 and f"session {sid}" in out and "patient P-1" in out and "(lot amended)" in out
    code, out, _ = run(capsys, "audit", "verify", "--db", db_path)
    assert code == 0
