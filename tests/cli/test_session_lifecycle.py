"""One lifecycle: a session that never recorded a shot ends aborted and takes no place in the
series; ``injector session end`` says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from injector.cli.main import main
from injector.session.clinical import start_session
from injector.session.series import series_status
from injector.storage.engine import open_database
from tests.cli.recording import query
from tests.session.builders import CLEAN_CHECKLIST, add_patient_and_plan


def test_ending_a_session_without_a_shot_aborts_it_and_frees_its_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clinic.db"
    db = open_database(str(path))
    try:
        plan_id = add_patient_and_plan(db)
        # Started from the checklist; the gun never connected.
        session_id = start_session(db, plan_id, CLEAN_CHECKLIST, practitioner="Dr Test")
        assert series_status(db, plan_id).label == "session 1 of 6"
    finally:
        db.close()
    code = main(["session", "end", str(session_id), "--by", "Dr Test", "--db", str(path)])
    out = capsys.readouterr().out
    assert code == 0
    assert out == (
        f"session {session_id} ended aborted, not completed: no shot was recorded in it, so it "
        "takes no place in the series\n"
    )
    assert query(path, "select status, sequence_no from treatment_session") == [("aborted", None)]
    db = open_database(str(path))
    try:
        again = start_session(db, plan_id, CLEAN_CHECKLIST, practitioner="Dr Test")
        status = series_status(db, plan_id)
    finally:
        db.close()
    # The next session is number 1 again, as the series overview says.
    assert query(path, f"select sequence_no from treatment_session where id = {again}") == [(1,)]
    assert (status.label, status.aborted) == ("session 1 of 6", 1)
