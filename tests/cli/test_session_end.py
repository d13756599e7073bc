"""A session recorded headless can be ended from the command line, then signed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from injector.cli.main import main
from injector.session.audit_verify import verify_audit_trail
from injector.storage.engine import open_database
from protocols.igp1 import Mode
from simulators.runner import Simulator
from tests.cli.recording import RecordProcess, query
from tests.recorder.harness import wait_for
from tests.session.builders import pin_of


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _record_shots(tmp_path: Path, shots: int, *extra: str) -> tuple[Path, str]:
    """Record ``shots`` shots headless, stop with SIGINT; returns the database and output."""
    db, link = tmp_path / "rec.db", tmp_path / "gun"
    with Simulator("idle", speed=20, seed=7, link=link) as sim:
        sim.set_settings(mode=Mode.REPEAT, rate_spm=600, volume_nl=4_000)
        rec = RecordProcess(
            tmp_path / "record.log", "--port", str(link), "--db", str(db), "--by", "Dr Rec", *extra
        )
        try:
            rec.wait_for_text("link live")
            sim.press_trigger(shots)
            wait_for(lambda: query(db, "select count(*) from shot") == [(shots,)], 30, "the shots")
            assert rec.stop() == 0
        finally:
            rec.kill()
    return db, rec.text()


def test_record_names_the_open_session_then_session_end_and_sign(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, output = _record_shots(tmp_path, 5)
    ((session_id, status),) = query(db, "select id, status from treatment_session")
    assert status == "in_progress"
    database = open_database(str(db))
    try:
        # Signing reads Dr X's PIN, here one line of standard input.
        monkeypatch.setattr("sys.stdin", io.StringIO(pin_of(database, "Dr X") + "\n"))
    finally:
        database.close()
    last = output.strip().splitlines()[-1]
    assert last.endswith(
        f"session {session_id} stays open for this gun; end it with: "
        f"injector session end {session_id} --by NAME"
    )

    code, _, err = run(
        capsys, "session", "sign", str(session_id), "--name", "Dr X", "--db", str(db)
    )
    assert code == 2 and "end it before signing" in err

    code, out, _ = run(
        capsys,
        "session",
        "end",
        str(session_id),
        "--status",
        "aborted",
        "--by",
        "Dr X",
        "--db",
        str(db),
    )
    assert code == 0
    assert out.startswith(f"session {session_id} ended (aborted)")
    assert query(db, "select status from treatment_session") == [("aborted",)]
    assert query(db, "select actor, action from audit_entry where action = 'end'") == [
        ("Dr X", "end")
    ]

    code, _, err = run(capsys, "session", "end", str(session_id), "--by", "Dr X", "--db", str(db))
    assert code == 2
    assert err == f"injector session: session {session_id} has already ended (aborted)\n"

    code, out, _ = run(
        capsys, "session", "sign", str(session_id), "--name", "Dr X", "--db", str(db)
    )
    assert code == 0
    code, _, err = run(capsys, "session", "end", str(session_id), "--by", "Dr X", "--db", str(db))
    assert code == 2 and err.count("\n") == 1
    assert f"session {session_id} is signed by Dr X" in err

    database = open_database(str(db))
    try:
        assert verify_audit_trail(database).ok
    finally:
        database.close()


def test_record_end_flag_ends_the_session_on_a_clean_stop(tmp_path: Path) -> None:
    db, output = _record_shots(tmp_path, 3, "--end")
    ((session_id, status),) = query(db, "select id, status from treatment_session")
    assert status == "completed"
    assert f"session {session_id} ended (completed); sign it with" in output
    assert query(db, "select actor from audit_entry where action = 'end'") == [("Dr Rec",)]


def test_session_end_refuses_an_unknown_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "clinic.db")
    open_database(db).close()
    code, _, err = run(capsys, "session", "end", "42", "--by", "Dr X", "--db", db)
    assert code == 2
    assert err.startswith("injector session: there is no session 42 in sqlite:///")
    assert err.count("\n") == 1


def test_session_end_needs_by(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["session", "end", "1", "--db", str(tmp_path / "x.db")])
    assert "--by" in capsys.readouterr().err


def test_record_names_the_practitioner_on_the_session(tmp_path: Path) -> None:
    database = open_database(str(tmp_path / "rec.db"))
    try:
        pin_of(database, "Dr Ana Lee")
    finally:
        database.close()
    db, _ = _record_shots(tmp_path, 3, "--practitioner", "dr ana lee")
    ((name, linked),) = query(db, "select practitioner, practitioner_id from treatment_session")
    # The recorded practitioner, as the record spells the name; never the --by login.
    assert name == "Dr Ana Lee" and linked is not None
