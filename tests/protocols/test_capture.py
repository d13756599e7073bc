"""Capture files: round trip, crash-torn tails, and files that are not captures."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocols.igp1.capture import (
    MAGIC,
    CaptureError,
    CaptureReader,
    CaptureRecord,
    CaptureWriter,
    RecordKind,
)


def write_sample(path: Path) -> list[CaptureRecord]:
    records = [
        CaptureRecord(RecordKind.OPEN, 10, 1_700_000_000_000_000_000, b"/dev/ttyACM0"),
        CaptureRecord(RecordKind.TX, 20, 1_700_000_000_000_000_010, b"\xa5\x00\x07\x80\x83\xc4"),
        CaptureRecord(RecordKind.RX, 30, 1_700_000_000_000_000_020, bytes(range(256)) * 3),
        CaptureRecord(RecordKind.CLOSE, 40, 1_700_000_000_000_000_030, b"stopped"),
    ]
    with CaptureWriter(path) as writer:
        for record in records:
            writer.write(record.kind, record.data, record.mono_ns, record.wall_ns)
    return records


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "session.igpcap"
    records = write_sample(path)
    reader = CaptureReader(path)
    assert list(reader) == records
    assert reader.damage is None
    assert path.read_bytes().startswith(MAGIC)


def test_appending_to_an_existing_capture_keeps_what_was_there(tmp_path: Path) -> None:
    path = tmp_path / "session.igpcap"
    records = write_sample(path)
    with CaptureWriter(path) as writer:
        writer.write(RecordKind.RX, b"more", 50, 60)
    assert list(CaptureReader(path)) == [*records, CaptureRecord(RecordKind.RX, 50, 60, b"more")]


@pytest.mark.parametrize("cut", [1, 10, 30])
def test_a_torn_tail_reads_up_to_the_last_whole_record(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "crashed.igpcap"
    records = write_sample(path)
    path.write_bytes(path.read_bytes()[:-cut])
    reader = CaptureReader(path)
    assert list(reader) == records[:-1]
    assert reader.damage is not None and "truncated" in reader.damage


def test_a_zero_filled_tail_is_reported_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "crashed.igpcap"
    records = write_sample(path)
    with open(path, "ab") as f:
        f.write(bytes(64))
    reader = CaptureReader(path)
    assert list(reader) == records
    assert reader.damage is not None and "corrupt record" in reader.damage


def test_not_a_capture_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(CaptureError, match="is not an IGP/1 capture file"):
        CaptureReader(path)
    with pytest.raises(CaptureError, match="cannot read capture"):
        CaptureReader(tmp_path / "missing.igpcap")
    with pytest.raises(CaptureError, match="is not an IGP/1 capture file"):
        CaptureWriter(path)
