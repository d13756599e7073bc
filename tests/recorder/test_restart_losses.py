"""A gun that restarted while nothing recorded it: the old boot's gaps are reported lost once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from injector.recorder import DatabaseStore, Recorder
from injector.session import DeviceInfo, ShotIn, open_or_continue
from injector.storage.engine import Database, open_database
from simulators.runner import Simulator
from tests.recorder.harness import fast_driver, recorded, wait_for

OLD_BOOT = 0x0BADB007


def test_gaps_of_the_previous_boot_are_reported_lost_once(tmp_path: Path) -> None:
    db = open_database(str(tmp_path / "rec.db"))
    # An earlier run stored shots 1..10 of an earlier boot but for 4 and 7..8, then died.
    live = open_or_continue(db, DeviceInfo("SN0042", "MG-400", "2.4.1"))
    now = datetime.now(UTC)
    live.add_shots(
        [
            ShotIn("SN0042", OLD_BOOT, n, 1000 * n, now, 2400, 4_000, 0, 1_000_000)
            for n in range(1, 11)
            if n not in (4, 7, 8)
        ]
    )
    with Simulator("idle", speed=20, seed=61, link=tmp_path / "gun"):
        for _run in range(2):  # a second run must not count them again
            record_until_identified(tmp_path / "gun", db)
            assert recorded(db)[1] == 3


def record_until_identified(port: Path, db: Database) -> None:
    """Run a recorder until the gun has identified itself, then stop it (all committed)."""
    recorder = Recorder(fast_driver(str(port)), DatabaseStore(db))
    recorder.start()
    try:
        wait_for(lambda: recorder.status.device is not None, 10, "the gun")
    finally:
        assert recorder.stop()
