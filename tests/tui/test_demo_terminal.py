"""``injector demo`` in a real pseudo-terminal: it starts, shots arrive, ``q q`` quits cleanly.

pexpect gives the program a terminal of its own, so this runs the same with ``CI=true`` and no
terminal on the test's side.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pexpect

from injector.session import series
from injector.session.patients_plans import plans_of_patient
from injector.storage import open_database
from tui.demo_records import DEMO_PATIENT

# The forehead zone of the demo plan has 90 points: its counter "n/90" moves as shots land.
FOREHEAD_COUNTER = re.compile(r"\b([1-9]\d{0,2})/90\b")


def test_demo_shows_shots_and_quits_with_q_twice(tmp_path: Path) -> None:
    db_path = tmp_path / "demo.sqlite3"
    env = {
        **os.environ,
        "INJECTOR_DB": str(db_path),
        "TERM": "xterm-256color",
        "COLUMNS": "120",
        "LINES": "40",
    }
    child = pexpect.spawn(
        sys.executable,
        ["-m", "injector.cli.main", "demo", "--speed", "20"],
        env=env,
        dimensions=(40, 120),
        encoding="utf-8",
        codec_errors="replace",
        timeout=60,
    )
    try:
        child.expect("Demo Patient")
        child.expect(FOREHEAD_COUNTER)
        first = int(child.match.group(1))
        # Keep reading until a later count shows: shots keep arriving on the screen.
        while True:
            child.expect(FOREHEAD_COUNTER)
            if int(child.match.group(1)) > first:
                break
        # One q only warns (a stray key must not stop a procedure); the second quits.
        child.send("q")
        child.expect("Press q again")
        child.send("q")
        child.expect(pexpect.EOF, timeout=30)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, child.before

    # What the screen showed was committed: the demo session holds its shots.
    db = open_database(str(db_path))
    try:
        (plan,) = plans_of_patient(db, DEMO_PATIENT)
        (entry,) = series.series_status(db, plan.id).sessions
        progress = series.session_progress(db, entry.session_id)
        assert progress.total.shots > first
        # The demo moves through the plan's zones with the gun: the forehead got its shots.
        forehead = next(z for z in progress.zones if z.name == "Forehead")
        assert forehead.points >= first
    finally:
        db.close()
