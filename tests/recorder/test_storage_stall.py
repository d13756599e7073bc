"""A database that stalls (another writer holds it) delays commits but loses nothing, and the
port keeps being read meanwhile."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from tests.recorder.harness import Bench


def test_commits_wait_for_a_locked_database(tmp_path: Path) -> None:
    bench = Bench.start(tmp_path, seed=71)
    blocker = sqlite3.connect(tmp_path / "rec.db", isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        before = bench.recorder.status.shots
        bench.fire(100)
        time.sleep(0.5)
        # Nothing could be committed, yet every shot was read off the port.
        assert bench.recorder.status.shots == before
        ledger = bench.recorder.driver.ledger("SN0042")
        assert ledger is not None and ledger.held_count == 100
        blocker.execute("COMMIT")
        rows, _ = bench.settle()
        got, got_lost, _ = bench.recorded()
    finally:
        blocker.close()
        bench.stop()
    assert len(rows) == 100
    assert got == rows and got_lost == 0
