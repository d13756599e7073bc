"""``injector record`` on a terminal: one status line rewritten in place; SIGINT stops cleanly."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pexpect

from protocols.igp1 import Mode
from simulators.runner import Simulator


def test_status_line_then_clean_stop_on_ctrl_c(tmp_path: Path) -> None:
    db = tmp_path / "rec.db"
    with Simulator("idle", speed=20, seed=41, link=tmp_path / "gun") as sim:
        sim.set_settings(mode=Mode.REPEAT, rate_spm=600, volume_nl=4_000, depth_um=2400)
        child = pexpect.spawn(
            sys.executable,
            ["-m", "injector.cli.main", "record", "--port", str(tmp_path / "gun"), "--db", str(db)],
            timeout=30,
            dimensions=(24, 200),
        )
        try:
            child.expect("link live")
            sim.press_trigger(30)
            child.expect(r"\rlink live \| shots 30 \| last 2\.\d\d mm 0\.004 mL \| lost 0")
            child.sendintr()
            child.expect("stopped: 30 shots committed")
            child.expect(pexpect.EOF)
        finally:
            child.close(force=True)
    assert child.exitstatus == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from shot").fetchone() == (30,)
