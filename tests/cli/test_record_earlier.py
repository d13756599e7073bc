"""``injector record`` on a gun that has already fired: the session holds only what was fired
after it opened; the earlier shots are kept with no session unless ``--include-earlier``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from injector.cli.main import main
from injector.storage.engine import open_database
from protocols.igp1 import Mode
from simulators.runner import Simulator
from tests.cli.recording import RecordProcess, query
from tests.recorder.harness import wait_for
from tests.session.builders import add_patient_and_plan


def _record(tmp_path: Path, before: int, during: int, *extra: str) -> tuple[Path, str, int]:
    """Fire ``before`` shots with nothing listening, then record ``during`` more."""
    db, link = tmp_path / "rec.db", tmp_path / "gun"
    database = open_database(str(db))
    try:
        plan_id = add_patient_and_plan(database)
    finally:
        database.close()
    with Simulator("idle", speed=20, seed=11, link=link) as sim:
        sim.set_settings(mode=Mode.REPEAT, rate_spm=600, volume_nl=4_000)
        sim.press_trigger(before)
        assert sim.wait_until(lambda s: len(s.shots()) == before, 20)
        rec = RecordProcess(
            tmp_path / "record.log",
            *("--port", str(link), "--db", str(db), "--plan", str(plan_id), "--zone", "2"),
            *extra,
        )
        try:
            rec.wait_for_text("link live")
            # The gun still holds the earlier shots: the driver recovers them (RESEND_REQ).
            wait_for(lambda: query(db, "select count(*) from shot") == [(before,)], 30, "recovery")
            sim.press_trigger(during)
            total = before + during
            wait_for(lambda: query(db, "select count(*) from shot") == [(total,)], 30, "shots")
            assert rec.stop() == 0
        finally:
            rec.kill()
    return db, rec.text(), plan_id


def test_shots_fired_before_record_started_are_kept_outside_the_session(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, output, _ = _record(tmp_path, 12, 5)
    ((session_id,),) = query(db, "select id from treatment_session")
    assert query(db, "select session_id, count(*) from shot group by session_id order by 1") == [
        (None, 12),
        (session_id, 5),
    ]
    # Left out: in no zone, and not counted against the zone's maximum.
    assert query(db, "select count(*) from shot where session_id is null and zone_id is null") == [
        (12,)
    ]
    assert (
        f"session {session_id}: 12 shots (0.048 mL) were fired before this session opened, from "
    ) in output
    assert "left out (kept as shots of gun SN0042 with no session)" in output
    # Said as they came in, too (the recovery may bring them in more than one commit).
    told = re.findall(r"(\d+) shots fired before this session opened were left out of it", output)
    assert sum(int(n) for n in told) == 12
    assert main(["session", "show", str(session_id), "--db", str(db)]) == 0
    shown = capsys.readouterr().out
    assert "12 shots (0.048 mL) were fired before this session opened, from " in shown
    assert "left out of it, kept as shots of gun SN0042 with no session" in shown
    assert "    total: 5/" in shown  # the session's own shots only
    assert main(["export", "--format", "json", "--session", str(session_id), "--db", str(db)]) == 0
    (exported,) = json.loads(capsys.readouterr().out)["sessions"]
    assert exported["counts"]["shots"] == 5
    assert exported["counts"]["earlier_shots_left_out"] == 12


def test_include_earlier_counts_them_in_the_session(tmp_path: Path) -> None:
    db, output, _ = _record(tmp_path, 12, 5, "--include-earlier")
    ((session_id,),) = query(db, "select id from treatment_session")
    assert query(db, "select session_id, count(*) from shot group by session_id") == [
        (session_id, 17)
    ]
    assert query(
        db,
        "select z.name, count(*) from shot s join plan_zone z on z.id = s.zone_id group by z.name",
    ) == [("cheeks", 17)]
    assert "fired before this session opened" not in output
