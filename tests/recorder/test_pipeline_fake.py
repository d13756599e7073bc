"""Recorder against the test device on a pty and a real SQLite file."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from injector.driver import Driver
from injector.recorder import Commit, DatabaseStore, Recorder
from injector.storage.engine import open_database
from tests.driver.fakegun import FakeGun


def test_records_every_shot_once(tmp_path: Path) -> None:
    gun = FakeGun()
    db = open_database(str(tmp_path / "rec.db"))
    commits: list[Commit] = []
    driver = Driver(gun.path, silence_timeout=0.6, resend_backoff=(0.05, 0.2), ident_retry=0.2)
    rec = Recorder(driver, DatabaseStore(db))
    rec.subscribe(commits.append)
    rec.start()
    deadline = time.monotonic() + 5
    while rec.status.device is None and time.monotonic() < deadline:
        time.sleep(0.01)
    gun.fire(50)
    gun.drop = 5
    gun.fire(50)
    while rec.status.shots < 100 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert rec.stop()
    gun.close()
    with db.begin() as conn:
        rows = conn.execute(text("select shot_no, depth_um from shot order by shot_no")).all()
    assert [r[0] for r in rows] == list(range(1, 101))
    assert sum(c.new for c in commits) == 100
