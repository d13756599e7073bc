"""The reader never waits on the database, and the recorder never holds more read but
uncommitted shots than the gun can resend (issue 13)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from injector.driver import ShotReceived, StoredShots
from injector.recorder import DatabaseStore, Recorder
from injector.storage.engine import open_database
from protocols.igp1 import Mode
from protocols.igp1.device_limits import SHOT_HISTORY
from simulators.runner import Simulator
from tests.recorder.harness import Bench, fast_driver, wait_for


class StalledStore(DatabaseStore):
    """The real store, whose look-up of stored shots hangs until the test lets it go (a
    database whose lock another program holds through a reboot of the gun)."""

    released = threading.Event()
    asked = threading.Event()

    def known_shots(self, serial: str, boot_id: int) -> StoredShots | None:
        self.asked.set()
        self.released.wait(60)
        return super().known_shots(serial, boot_id)


def test_a_stalled_lookup_of_stored_shots_does_not_stop_the_reader(tmp_path: Path) -> None:
    link = tmp_path / "gun"
    with Simulator("idle", speed=100, seed=73, link=link) as sim:
        sim.set_settings(mode=Mode.REPEAT, rate_spm=600, depth_um=2400, volume_nl=4_000)
        db = open_database(str(tmp_path / "rec.db"))
        store = StalledStore(db)
        driver = fast_driver(str(link))
        recorder = Recorder(driver, store)
        published: list[ShotReceived] = []
        driver.subscribe(lambda e: published.append(e) if isinstance(e, ShotReceived) else None)
        recorder.start()
        try:
            assert store.asked.wait(10)
            sim.press_trigger(50)
            # The look-up never returns while the gun fires: the shots are read and published
            # all the same (once the driver stops waiting for storage's answer).
            wait_for(lambda: len({e.shot_no for e in published}) == 50, 30, "the shots")
        finally:
            store.released.set()
        wait_for(lambda: recorder.status.shots == 50, 30, "the shots to be committed")
        assert recorder.stop()
        db.close()


def test_uncommitted_shots_stay_within_the_gun_history(tmp_path: Path) -> None:
    bench = Bench.start(tmp_path, seed=74)
    blocker = sqlite3.connect(tmp_path / "rec.db", isolation_level=None)
    peak = 0
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        bench.sim.press_trigger(3_000)
        deadline = time.monotonic() + 60
        while bench.sim.gun is not None and bench.sim.gun.trigger_busy:
            peak = max(peak, bench.recorder.uncommitted_shots)
            assert time.monotonic() < deadline, "the gun never finished firing"
            time.sleep(0.005)
        ledger = bench.recorder.driver.ledger("SN0042")
        assert ledger is not None and ledger.held_count >= SHOT_HISTORY  # it did fill up
        blocker.execute("COMMIT")
        rows, lost = bench.settle(30)
        got, got_lost, _ = bench.recorded()
    finally:
        blocker.close()
        bench.stop()
    assert peak <= SHOT_HISTORY
    assert got == rows and got_lost == lost
    assert len(rows) + lost == 3_000
