"""A plan limit that asks for a lock: the recorder locks the gun (LOCK, reason PLAN_LIMIT)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from injector.recorder import DatabaseStore, Recorder
from injector.storage.engine import open_database
from protocols.igp1 import Mode
from simulators.runner import Simulator
from tests.recorder.harness import fast_driver, wait_for
from tests.session.builders import add_patient_and_plan


def test_plan_limit_locks_the_gun(tmp_path: Path) -> None:
    db = open_database(str(tmp_path / "rec.db"))
    plan_id = add_patient_and_plan(db, max_session_volume_ml=0.2, lock_at_limit=True)
    with Simulator("idle", speed=10, seed=51, link=tmp_path / "gun") as sim:
        sim.set_settings(mode=Mode.REPEAT, rate_spm=600, volume_nl=4_000)
        sim.swap_syringe(20_000)
        recorder = Recorder(fast_driver(str(tmp_path / "gun")), DatabaseStore(db, plan_id))
        recorder.start()
        try:
            wait_for(lambda: recorder.status.device is not None, 10, "the gun")
            sim.press_trigger(200)  # 0.8 mL asked for; the plan allows 0.2 mL (50 shots)
            wait_for(lambda: sim.locked, 20, "the gun to be locked")
            assert sim.wait_until(lambda s: s.gun is not None and not s.gun.trigger_busy, 10)
            fired = len(sim.shots())
            wait_for(lambda: recorder.status.shots == fired, 10, "every shot fired to be stored")
        finally:
            assert recorder.stop()
    assert 50 <= fired < 200
    with db.begin() as conn:
        events = conn.execute(text("select kind, detail from device_event")).all()
    assert any(kind == "locked" and "PLAN_LIMIT" in str(detail) for kind, detail in events)


def test_one_lock_and_one_locked_event_when_shots_outrun_the_lock(tmp_path: Path) -> None:
    # At 1000 shots/s many shots fired before the LOCK took effect arrive after the limit;
    # they must not send a second LOCK nor store a second "locked" event.
    db = open_database(str(tmp_path / "rec.db"))
    plan_id = add_patient_and_plan(db, max_session_volume_ml=0.2, lock_at_limit=True)
    with Simulator("idle", speed=100, seed=52, link=tmp_path / "gun") as sim:
        sim.set_settings(mode=Mode.REPEAT, rate_spm=600, volume_nl=4_000)
        sim.swap_syringe(20_000)
        recorder = Recorder(fast_driver(str(tmp_path / "gun")), DatabaseStore(db, plan_id))
        recorder.start()
        try:
            wait_for(lambda: recorder.status.device is not None, 10, "the gun")
            sim.press_trigger(400)
            wait_for(lambda: sim.locked, 20, "the gun to be locked")
            assert sim.wait_until(lambda s: s.gun is not None and not s.gun.trigger_busy, 10)
            fired = len(sim.shots())
            wait_for(lambda: recorder.status.shots == fired, 10, "every shot fired to be stored")
            wait_for(lambda: recorder.status.lock_reason is not None, 10, "the lock to show")
            assert recorder.status.lock_reason == "PLAN_LIMIT"
        finally:
            assert recorder.stop()
    with db.begin() as conn:
        kinds = conn.execute(text("select kind from device_event where kind like '%locked'"))
        assert [k for (k,) in kinds] == ["locked"]
