"""Damage anywhere in a capture costs only the damaged records; a torn tail is repaired."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.igp1.capture import (
    MAGIC,
    MAX_RECORD_SIZE,
    RECORD_HEADER_SIZE,
    CaptureError,
    CaptureReader,
    CaptureRecord,
    CaptureWriter,
    RecordKind,
)


def write_many(path: Path, count: int, seed: int = 1) -> list[CaptureRecord]:
    """``count`` records of every kind and of sizes from 0 to a few hundred bytes."""
    rng = random.Random(seed)
    records = []
    with CaptureWriter(path) as writer:
        for i in range(count):
            kind = rng.choice(list(RecordKind))
            data = rng.randbytes(rng.randrange(0, 300))
            writer.write(kind, data, 1_000 + i, 1_700_000_000_000_000_000 + i)
            records.append(CaptureRecord(kind, 1_000 + i, 1_700_000_000_000_000_000 + i, data))
    return records


def offsets(path: Path) -> list[int]:
    return [r.offset for r in CaptureReader(path)]


def test_a_64_byte_overwrite_in_the_middle_costs_only_the_records_it_touches(
    tmp_path: Path,
) -> None:
    path = tmp_path / "run.igpcap"
    records = write_many(path, 400)
    starts = offsets(path)
    raw = bytearray(path.read_bytes())
    at = len(raw) // 2
    raw[at : at + 64] = random.Random(9).randbytes(64)
    path.write_bytes(raw)

    ends = [*starts[1:], len(raw)]
    touched = {
        i for i, (s, e) in enumerate(zip(starts, ends, strict=True)) if s < at + 64 and e > at
    }
    reader = CaptureReader(path)
    got = list(reader)
    assert got == [r for i, r in enumerate(records) if i not in touched]
    assert 1 <= len(touched) <= 4
    assert len(reader.damages) == 1
    damage = reader.damages[0]
    assert damage.offset == starts[min(touched)]
    assert damage.offset + damage.length == starts[max(touched) + 1]
    assert not damage.at_end
    assert reader.damage is not None and reader.damage.startswith("corrupt record at byte")


def test_a_corrupt_length_that_runs_past_the_end_is_skipped_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "run.igpcap"
    records = write_many(path, 50)
    starts = offsets(path)
    raw = bytearray(path.read_bytes())
    raw[starts[10] + 2 : starts[10] + 4] = b"\xff\xff"  # LEN of record 10 claims 65535 bytes
    path.write_bytes(raw)
    reader = CaptureReader(path)
    assert list(reader) == records[:10] + records[11:]
    assert [(d.offset, d.reason) for d in reader.damages] == [(starts[10], "corrupt record")]


def test_several_damaged_places_are_each_reported(tmp_path: Path) -> None:
    path = tmp_path / "run.igpcap"
    records = write_many(path, 300)
    starts = offsets(path)
    raw = bytearray(path.read_bytes())
    for index in (20, 150, 151, 280):
        raw[starts[index] + RECORD_HEADER_SIZE - 1] ^= 0x40  # a bit of the stored CRC
    path.write_bytes(raw)
    reader = CaptureReader(path)
    kept = [r for i, r in enumerate(records) if i not in (20, 150, 151, 280)]
    assert list(reader) == kept
    assert [d.offset for d in reader.damages] == [starts[20], starts[150], starts[280]]
    assert reader.damage is not None and reader.damage.startswith("3 damaged spans")


def test_a_zero_filled_hole_in_the_middle_is_crossed(tmp_path: Path) -> None:
    path = tmp_path / "run.igpcap"
    records = write_many(path, 100)
    raw = path.read_bytes()
    middle = offsets(path)[50]
    path.write_bytes(raw[:middle] + bytes(5000) + raw[middle:])
    reader = CaptureReader(path)
    assert list(reader) == records
    assert [(d.offset, d.length) for d in reader.damages] == [(middle, 5000)]


def test_a_large_capture_is_read_across_blocks(tmp_path: Path) -> None:
    """Records straddling the reader's 1 MiB blocks, and damage right at a block edge."""
    path = tmp_path / "run.igpcap"
    records = write_many(path, 15_000, seed=3)
    raw = bytearray(path.read_bytes())
    assert len(raw) > 2 * (1 << 20)
    raw[(1 << 20) - 10 : (1 << 20) + 10] = bytes(20)
    path.write_bytes(raw)
    reader = CaptureReader(path)
    got = list(reader)
    assert len(reader.damages) == 1
    assert len(records) - 3 <= len(got) < len(records)
    assert all(r in records for r in got[-100:])


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    spots=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 200)), min_size=1, max_size=4),
)
def test_random_damage_loses_only_records_it_overlaps(
    tmp_path_factory: pytest.TempPathFactory, seed: int, spots: list[tuple[int, int]]
) -> None:
    path = tmp_path_factory.mktemp("cap") / "run.igpcap"
    records = write_many(path, 120, seed=seed)
    starts = offsets(path)
    raw = bytearray(path.read_bytes())
    ends = [*starts[1:], len(raw)]
    rng = random.Random(seed)
    hit: set[int] = set()
    for where, length in spots:
        at = len(MAGIC) + where % (len(raw) - len(MAGIC))
        stop = min(len(raw), at + length)
        raw[at:stop] = rng.randbytes(stop - at)
        hit |= {i for i, (s, e) in enumerate(zip(starts, ends, strict=True)) if s < stop and e > at}
    path.write_bytes(raw)
    got = list(CaptureReader(path))
    # Every record the damage did not touch is read back, in order; nothing is invented.
    untouched = [r for i, r in enumerate(records) if i not in hit]
    assert [r for r in got if r in untouched] == untouched
    assert all(r in records for r in got)


def test_an_empty_file_is_called_empty(tmp_path: Path) -> None:
    path = tmp_path / "new.igpcap"
    path.touch()
    with pytest.raises(CaptureError, match=r"is empty \(0 bytes\)"):
        CaptureReader(path)


# --- appending to a file whose tail was torn by a crash ----------------------------------------


@pytest.mark.parametrize("cut", [1, RECORD_HEADER_SIZE - 3, RECORD_HEADER_SIZE + 5])
def test_a_writer_cuts_a_torn_tail_back_and_says_so(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "run.igpcap"
    records = write_many(path, 30)
    last = offsets(path)[-1]
    path.write_bytes(path.read_bytes()[: last + cut])
    with CaptureWriter(path) as writer:
        assert writer.repaired is not None
        assert f"({cut:,} bytes)" in writer.repaired
        assert f"at byte {last:,}" in writer.repaired
        writer.write(RecordKind.OPEN, b"/dev/ttyACM0", 5, 6)
    reader = CaptureReader(path)
    assert list(reader) == [*records[:-1], CaptureRecord(RecordKind.OPEN, 5, 6, b"/dev/ttyACM0")]
    assert reader.damage is None


def test_a_writer_leaves_a_whole_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "run.igpcap"
    write_many(path, 30)
    before = path.read_bytes()
    with CaptureWriter(path) as writer:
        assert writer.repaired is None
    assert path.read_bytes() == before


def test_a_writer_refuses_a_tail_longer_than_one_unfinished_record(tmp_path: Path) -> None:
    path = tmp_path / "run.igpcap"
    write_many(path, 30)
    with open(path, "ab") as f:
        f.write(bytes(MAX_RECORD_SIZE + 1))
    before = path.read_bytes()
    with pytest.raises(CaptureError, match="bytes that are not whole records"):
        CaptureWriter(path)
    assert path.read_bytes() == before


def test_a_writer_refuses_an_empty_or_foreign_file(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a capture")
    with pytest.raises(CaptureError, match="is not an IGP/1 capture file"):
        CaptureWriter(text)
    assert text.read_text() == "hello, this is not a capture"
