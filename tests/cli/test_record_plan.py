"""``injector record --plan --zone``: zone limits apply, and a plan-limit lock is announced."""

from __future__ import annotations

import sys
from pathlib import Path

import pexpect
import pytest

from injector.cli.main import main
from injector.cli.record import _show_notices, _StatusLine
from injector.driver import LockChanged
from injector.storage.engine import open_database
from protocols.igp1 import LockReason, Mode
from simulators.runner import Simulator
from tests.cli.recording import RecordProcess, query
from tests.recorder.harness import wait_for
from tests.session.builders import add_patient_and_plan


def _plan(db: Path) -> int:
    database = open_database(str(db))
    try:
        # cheeks: 4 points of 0.05 mL, so at most 0.2 mL: 50 shots of 0.004 mL.
        return add_patient_and_plan(database, lock_at_limit=True)
    finally:
        database.close()


def test_zone_by_name_applies_its_limit_and_the_lock_is_announced(tmp_path: Path) -> None:
    db, link = tmp_path / "rec.db", tmp_path / "gun"
    plan_id = _plan(db)
    with Simulator("idle", speed=20, seed=9, link=link) as sim:
        sim.set_settings(mode=Mode.REPEAT, rate_spm=600, volume_nl=4_000)
        sim.swap_syringe(20_000)
        rec = RecordProcess(
            tmp_path / "record.log",
            *("--port", str(link), "--db", str(db), "--plan", str(plan_id), "--zone", "Cheeks"),
        )
        try:
            rec.wait_for_text("link live")
            sim.press_trigger(200)
            rec.wait_for_text("gun LOCKED: a plan limit was reached")
            assert sim.locked
            assert sim.wait_until(lambda s: s.gun is not None and not s.gun.trigger_busy, 10)
            fired = len(sim.shots())
            wait_for(lambda: query(db, "select count(*) from shot") == [(fired,)], 20, "shots")
            assert rec.stop() == 0
        finally:
            rec.kill()
    output = rec.text()
    assert "zone 2. cheeks active: its limits apply" in output
    assert "plan limit reached: 0.2 mL given, the maximum of zone cheeks is 0.2 mL" in output
    assert output.count("gun LOCKED") == 1
    assert 50 <= fired < 200
    zones = query(
        db,
        "select z.name, count(*) from shot s join plan_zone z on z.id = s.zone_id group by z.name",
    )
    assert zones == [("cheeks", fired)]
    assert query(db, "select count(*) from device_event where kind = 'locked'") == [(1,)]


def test_locked_shows_on_the_terminal_status_line(tmp_path: Path) -> None:
    db, link = tmp_path / "rec.db", tmp_path / "gun"
    plan_id = _plan(db)
    with Simulator("idle", speed=20, seed=10, link=link) as sim:
        sim.set_settings(mode=Mode.REPEAT, rate_spm=600, volume_nl=4_000)
        sim.swap_syringe(20_000)
        argv = ["record", "--port", str(link), "--db", str(db), "--plan", str(plan_id)]
        child = pexpect.spawn(
            sys.executable,
            ["-m", "injector.cli.main", *argv, "--zone", "2"],
            timeout=30,
            dimensions=(24, 250),
        )
        try:
            child.expect("link live")
            sim.press_trigger(200)
            child.expect("gun LOCKED")
            child.expect(r"\rlink live \| shots \d+ .*\| LOCKED \(PLAN_LIMIT\)")
            child.sendintr()
            child.expect("stopped: ")
            child.expect(pexpect.EOF)
        finally:
            child.close(force=True)
    assert child.exitstatus == 0


def test_unlock_is_announced(capsys: pytest.CaptureFixture[str]) -> None:
    import queue

    notices: queue.SimpleQueue[object] = queue.SimpleQueue()
    notices.put(LockChanged(False, int(LockReason.MANUAL), True, 0.0))
    notices.put(LockChanged(True, int(LockReason.PLAN_LIMIT), False, 0.0))
    _show_notices(notices, _StatusLine(sys.stderr, False), {})  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert "gun unlocked: the trigger fires again" in err
    assert "the gun did not acknowledge LOCK (PLAN_LIMIT); it may still fire" in err


def test_zone_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "rec.db"
    plan_id = _plan(db)
    argv = ["record", "--port", "/dev/null", "--db", str(db)]
    assert main([*argv, "--zone", "1"]) == 2
    assert capsys.readouterr().err == (
        "injector record: --zone: a zone belongs to a plan; give --plan ID as well\n"
    )
    assert main([*argv, "--plan", str(plan_id), "--zone", "chin"]) == 2
    assert capsys.readouterr().err == (
        f"injector record: --zone: plan {plan_id} has no zone 'chin'; "
        "its zones are 1 (forehead), 2 (cheeks)\n"
    )
