"""``record --capture`` onto a capture whose tail a crash tore: repaired in one line, or refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from injector.cli.main import main
from protocols.igp1.capture import MAX_RECORD_SIZE, CaptureReader, CaptureWriter, RecordKind
from simulators.runner import Simulator
from tests.cli.recording import RecordProcess


def _torn_capture(path: Path) -> None:
    with CaptureWriter(path) as writer:
        writer.note(RecordKind.OPEN, "/dev/ttyACM0 at 115200 baud")
        writer.write(RecordKind.RX, b"\xa5" * 40)
    path.write_bytes(path.read_bytes()[:-7])  # the crash tore the last record


def test_recording_onto_a_torn_capture_cuts_the_unfinished_record_and_appends(
    tmp_path: Path,
) -> None:
    link, capture = tmp_path / "gun", tmp_path / "today.igpcap"
    _torn_capture(capture)
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
    lines = [line for line in rec.text().splitlines() if "unfinished record" in line]
    assert lines == [
        f"injector record: {capture}: cut off an unfinished record (57 bytes) left at its end by "
        "an interrupted recording; appending after its last whole record at byte 59"
    ]
    reader = CaptureReader(capture)
    kinds = [r.kind for r in reader]
    assert reader.damage is None
    assert kinds[:2] == [RecordKind.OPEN, RecordKind.OPEN]
    assert RecordKind.RX in kinds


def test_recording_onto_a_capture_with_a_long_unreadable_tail_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "today.igpcap"
    _torn_capture(capture)
    with open(capture, "ab") as f:
        f.write(bytes(MAX_RECORD_SIZE))
    before = capture.read_bytes()
    code = main(["record", "--port", "/dev/null", "--db", str(tmp_path / "d.db"),
                 "--capture", str(capture)])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert "bytes that are not whole records" in err[0]
    assert err[0].endswith("give a new file name to --capture")
    assert capture.read_bytes() == before
