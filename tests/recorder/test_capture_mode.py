"""Capture files hold a patient's procedure: created readable by their owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from protocols.igp1.capture import CaptureReader, CaptureWriter, RecordKind
from simulators.runner import Simulator
from tests.cli.recording import RecordProcess


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_capture_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "run.igpcap"
    old = os.umask(0)
    try:
        with CaptureWriter(path) as writer:
            writer.note(RecordKind.OPEN, "/dev/ttyACM0")
    finally:
        os.umask(old)
    assert _mode(path) == 0o600
    assert [r.data for r in CaptureReader(path)] == [b"/dev/ttyACM0"]


def test_appending_keeps_the_file_and_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "run.igpcap"
    with CaptureWriter(path) as writer:
        writer.note(RecordKind.OPEN, "first")
    path.chmod(0o640)  # the clinic chose to share it with a group
    with CaptureWriter(path) as writer:
        writer.note(RecordKind.OPEN, "second")
    assert _mode(path) == 0o640
    assert [r.data for r in CaptureReader(path)] == [b"first", b"second"]


def test_record_capture_file_is_0600(tmp_path: Path) -> None:
    link, capture = tmp_path / "gun", tmp_path / "today.igpcap"
    with Simulator("idle", speed=20, seed=5, link=link):
        rec = RecordProcess(
            tmp_path / "rec.log",
            *("--port", str(link), "--db", str(tmp_path / "d.db"), "--capture", str(capture)),
        )
        try:
            rec.wait_for_text("link live")
            assert rec.stop() == 0
        finally:
            rec.kill()
    assert _mode(capture) == 0o600
    assert _mode(tmp_path / "d.db") == 0o600
