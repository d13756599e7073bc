"""SIGKILL the recorder mid-stream: no committed shot is lost, a restart continues the session."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

from protocols.igp1 import Mode
from protocols.igp1.capture import CaptureReader, RecordKind
from simulators.runner import Simulator
from tests.recorder.harness import record_process, wait_for


def _query(db: Path, sql: str) -> list[tuple[int, ...]]:
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # not created yet, or locked for a moment
        return []


def _shots(db: Path) -> set[tuple[int, int]]:
    return {(r[0], r[1]) for r in _query(db, "select boot_id, shot_no from shot")}


def test_sigkill_then_restart(tmp_path: Path) -> None:
    link, db, log = tmp_path / "gun", tmp_path / "rec.db", tmp_path / "record.log"
    sim = Simulator("idle", speed=40, seed=31, link=link)
    sim.start()
    first = second = None
    try:
        sim.set_settings(mode=Mode.REPEAT, rate_spm=600, volume_nl=4_000)
        sim.swap_syringe(20_000)
        first = record_process(link, db, log.with_suffix(".igpcap"), log)
        wait_for(lambda: _query(db, "select id from treatment_session") != [], 30, "a session")
        sim.press_trigger(500)  # 50 s of gun time, 1.25 s here
        wait_for(lambda: len(_shots(db)) >= 100, 30, "the first shots to be committed")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        committed = _shots(db)
        assert committed
        # The capture is readable up to its last whole record, whatever the kill interrupted.
        killed_capture = list(CaptureReader(log.with_suffix(".igpcap")))
        assert any(r.kind is RecordKind.RX for r in killed_capture)

        assert sim.wait_until(lambda s: s.gun is not None and not s.gun.trigger_busy, 30)
        fired = {(r.boot_id, r.shot.shot_no) for r in sim.shots()}
        assert len(fired) == 500
        second = record_process(link, db, log.with_suffix(".igpcap"), log)
        wait_for(lambda: _shots(db) == fired, 30, "the restart to recover every shot")
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0, log.read_text()
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        sim.stop()
    assert committed <= _shots(db) == fired
    sessions = _query(db, "select id, recovered_shots, lost_shots from treatment_session")
    assert len(sessions) == 1, sessions
    assert sessions[0][1] > 0 and sessions[0][2] == 0
    assert "stopped:" in log.read_text()
    records = list(CaptureReader(log.with_suffix(".igpcap")))
    assert [r.kind for r in records].count(RecordKind.OPEN) == 2
    assert records[-1].kind is RecordKind.CLOSE
