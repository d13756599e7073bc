"""Fifty SIGKILLs of ``injector record`` at random moments of a fast session, each followed by a
restart: every shot the gun still held ends up stored exactly once, SQLite's integrity check
and ``injector audit verify`` pass, and the capture reads to its last whole record."""

from __future__ import annotations

import contextlib
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from injector.session.completeness import stored_record
from injector.storage.engine import open_database
from protocols.igp1 import Mode
from protocols.igp1.capture import CaptureReader, RecordKind
from simulators.ground_truth import expected_record
from simulators.runner import Simulator
from tests.recorder.harness import record_process, wait_for

KILLS = 50


def _stored_keys(db: Path) -> set[tuple[int, int]]:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return {(r[0], r[1]) for r in conn.execute("select boot_id, shot_no from shot")}
    except sqlite3.OperationalError:  # not created yet
        return set()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_fifty_sigkills_lose_and_double_nothing(tmp_path: Path) -> None:
    link, db = tmp_path / "gun", tmp_path / "rec.sqlite3"
    capture, log = tmp_path / "run.igpcap", tmp_path / "record.log"
    rng = random.Random(50)
    # 200 shots a second, fired in bursts of at most 300 while a recorder is talking to the gun:
    # whatever is fired while no recorder listens stays inside the gun's 1,024-shot ring, so
    # every shot is recoverable and must end up stored.
    sim = Simulator("idle", speed=20, seed=50, link=link)
    sim.start()
    proc: subprocess.Popen[bytes] | None = None
    try:
        sim.set_settings(mode=Mode.REPEAT, rate_spm=600, volume_nl=1_000)
        sim.swap_syringe(20_000)
        spoke = 0
        for _ in range(KILLS):
            heard = len(sim.host_frames())
            proc = record_process(link, db, capture, log)
            if rng.random() < 0.2:
                # Killed while starting: importing, opening the database or the port.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(rng.uniform(0.05, 1.0))
            else:
                # Killed while identifying, recovering, recording or committing.
                wait_for(lambda h=heard: len(sim.host_frames()) > h, 60, "the recorder to speak")
                spoke += 1
                sim.press_trigger(rng.randint(50, 300))
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(rng.uniform(0.0, 1.5))
            assert proc.poll() is None, log.read_text()[-2000:]
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        assert sim.wait_until(lambda s: s.gun is not None and not s.gun.trigger_busy, 30)

        truth = expected_record(sim)
        assert truth.unrecoverable == 0, "the gun fired more than its ring while nobody listened"
        proc = record_process(link, db, capture, log)
        wanted = {(row[1], row[2]) for row in truth.rows}
        wait_for(lambda: _stored_keys(db) == wanted, 90, "the last restart to recover every shot")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, log.read_text()[-2000:]
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        sim.stop()

    database = open_database(str(db))
    try:
        record = stored_record(database)
    finally:
        database.close()
    assert record.duplicates == 0
    assert record.rows == truth.rows  # same shots, same values, each once

    with sqlite3.connect(db) as conn:
        assert conn.execute("pragma integrity_check").fetchall() == [("ok",)]
    verify = subprocess.run(
        [sys.executable, "-m", "injector.cli.main", "audit", "verify", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr

    records = list(CaptureReader(capture))
    # Every run that reached the gun left its OPEN, the last one its CLOSE: the capture reads
    # past every torn tail a kill left, to its last whole record.
    assert sum(r.kind is RecordKind.OPEN for r in records) >= spoke + 1
    assert records[-1].kind is RecordKind.CLOSE
