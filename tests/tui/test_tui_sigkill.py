"""SIGKILL of the TUI during a live session: what was committed stays, once, the database and
the audit trail check out, and the next TUI offers the session that was left open."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pexpect

FOREHEAD_COUNTER = re.compile(r"\b([1-9]\d{0,2})/90\b")


def _spawn(args: list[str], db: Path) -> pexpect.spawn:
    env = {
        **os.environ,
        "INJECTOR_DB": str(db),
        "TERM": "xterm-256color",
        "COLUMNS": "120",
        "LINES": "40",
    }
    return pexpect.spawn(
        sys.executable,
        ["-m", "injector.cli.main", *args],
        env=env,
        dimensions=(40, 120),
        encoding="utf-8",
        codec_errors="replace",
        timeout=90,
    )


def _shot_keys(db: Path) -> list[tuple[int, int]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("select boot_id, shot_no from shot").fetchall()


def test_a_killed_tui_loses_nothing_committed_and_offers_the_open_session(tmp_path: Path) -> None:
    db = tmp_path / "clinic.sqlite3"
    child = _spawn(["demo", "--speed", "20"], db)
    try:
        child.expect(FOREHEAD_COUNTER)
        # Shots are landing on the screen, so commits are under way: kill it mid-stream.
        while int(child.match.group(1)) < 10:
            child.expect(FOREHEAD_COUNTER)
        child.kill(signal.SIGKILL)
        child.expect(pexpect.EOF, timeout=30)
    finally:
        child.close(force=True)
    assert child.signalstatus == signal.SIGKILL

    keys = _shot_keys(db)
    assert keys and len(keys) == len(set(keys))  # what was committed is there, once
    with sqlite3.connect(db) as conn:
        assert conn.execute("pragma integrity_check").fetchall() == [("ok",)]
        (open_sessions,) = conn.execute(
            "select count(*) from treatment_session where status = 'in_progress'"
        ).fetchone()
    assert open_sessions == 1
    verify = subprocess.run(
        [sys.executable, "-m", "injector.cli.main", "audit", "verify", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr

    # The next TUI on this database says the session was left open, and how to go on.
    again = _spawn(["tui", "--db", str(db)], db)
    try:
        again.expect("left open")
        again.send("q")
        again.send("q")
        again.expect(pexpect.EOF, timeout=30)
    finally:
        again.close(force=True)
    assert sorted(_shot_keys(db)) == sorted(keys)  # opening the TUI changed no shot
