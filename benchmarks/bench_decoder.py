"""Decoder throughput: 1,000,000 mixed frames (mostly SHOT and HEARTBEAT, 1 % garbage).

Fed in 4 KiB chunks and byte by byte, on one core (this process, one thread), timed in CPU
seconds (``process_time``: on a shared machine the wall clock measures the neighbours as much
as the code). Each figure is the median of several runs; the byte-by-byte run uses a slice of
the stream, since it is bounded by per-call overhead rather than by the stream's length.

Side by side, in the same run: pymavlink's pure-Python ``parse_buffer`` (a well-known peer
parser) on a MAVLink 2 stream of the same mix and frame sizes (SCALED_PRESSURE frames are 26
bytes like SHOT, HEARTBEAT 21 like ours 22, 1 % garbage led by a start byte). pymavlink is
optional (``pip install -e '.[bench]'``); without it the row says so.
"""

from __future__ import annotations

import random
import statistics
import time

from benchmarks.rows import Row
from protocols.igp1 import Decoder, Fault, Heartbeat, Settings, Shot


def make_stream(frames: int, seed: int = 7) -> tuple[bytes, int]:
    """A stream of ``frames`` items, 1 % of them garbage blobs; returns it and the frame count."""
    rng = random.Random(seed)
    parts: list[bytes] = []
    valid = 0
    seq = 0
    shot_no = 0
    for i in range(frames):
        r = rng.random()
        if r < 0.01:
            # Garbage that sometimes starts like a frame, the hard case for resynchronisation.
            blob = bytearray(rng.randbytes(rng.randrange(4, 40)))
            if rng.random() < 0.5:
                blob[0] = 0xA5
            parts.append(bytes(blob))
            continue
        if r < 0.80:
            shot_no += 1
            msg: Shot | Heartbeat | Settings | Fault = Shot(
                shot_no, i * 111, 2400 + rng.randrange(-80, 80), 0, 50_000, 2_000_000
            )
        elif r < 0.98:
            msg = Heartbeat(i * 111, shot_no, 1, 80, 0, 2_000_000)
        elif r < 0.99:
            msg = Settings(i * 111, 0, 2500, 50_000, 0, 2500)
        else:
            msg = Fault(i * 111, 1, 1, 15)
        parts.append(msg.encode(seq))
        seq = (seq + 1) & 0xFF
        valid += 1
    return b"".join(parts), valid


def _decode_chunks(stream: bytes, chunk: int) -> tuple[float, int]:
    decoder = Decoder()
    start = time.process_time()
    count = 0
    for offset in range(0, len(stream), chunk):
        count += len(decoder.feed(stream[offset : offset + chunk]))
    return time.process_time() - start, count


def make_mavlink_stream(frames: int, seed: int = 7) -> tuple[bytes, int] | None:
    """The same mix as :func:`make_stream` in MAVLink 2 frames, or ``None`` without pymavlink."""
    try:
        from pymavlink.dialects.v20 import common as mavlink  # type: ignore[import-untyped]
    except ImportError:
        return None
    rng = random.Random(seed)
    encoder = mavlink.MAVLink(None, srcSystem=1, srcComponent=1)
    parts: list[bytes] = []
    valid = 0
    for i in range(frames):
        r = rng.random()
        if r < 0.01:
            blob = bytearray(rng.randbytes(rng.randrange(4, 40)))
            if rng.random() < 0.5:
                blob[0] = 0xFD  # MAVLink 2's start byte
            parts.append(bytes(blob))
            continue
        if r < 0.80:
            msg = mavlink.MAVLink_scaled_pressure_message(i * 111, 1013.25, 0.5, 2150)
        elif r < 0.98:
            msg = mavlink.MAVLink_heartbeat_message(2, 3, 81, 0, 4, 3)
        else:
            msg = mavlink.MAVLink_sys_status_message(1, 1, 1, 500, 11000, -1, 90, 0, 0, 0, 0, 0, 0)
        parts.append(msg.pack(encoder))
        valid += 1
    return b"".join(parts), valid


def _mavlink_chunks(stream: bytes, chunk: int) -> tuple[float, int]:
    from pymavlink.dialects.v20 import common as mavlink

    parser = mavlink.MAVLink(None)
    parser.robust_parsing = True  # count bad data instead of raising, as our decoder does
    start = time.process_time()
    count = 0
    for offset in range(0, len(stream), chunk):
        out = parser.parse_buffer(stream[offset : offset + chunk])
        if out:
            count += len(out)
    return time.process_time() - start, count


def _peer_row(total: int, repeats: int, ours: float) -> Row:
    made = make_mavlink_stream(total)
    name = f"pymavlink parse_buffer, {total:,} MAVLink 2 frames of the same mix, 4 KiB chunks"
    if made is None:
        return Row(
            name, 0, "frames/CPU s", "", "pymavlink is not installed: pip install -e '.[bench]'"
        )
    import pymavlink  # type: ignore[import-untyped]

    stream, _valid = made
    rates = []
    decoded = 0
    for _ in range(repeats):
        seconds, decoded = _mavlink_chunks(stream, 4096)
        rates.append(decoded / seconds)
    theirs = statistics.median(rates)
    version = getattr(pymavlink, "__version__", "?")
    note = f"pymavlink {version}; {decoded:,} frames decoded; ours {ours / theirs:.1f}× faster"
    return Row(name, theirs, "frames/CPU s", "", f"{note} in the same run")


def run(quick: bool = False) -> list[Row]:
    """Median frames per second in 4 KiB chunks and byte by byte."""
    total = 100_000 if quick else 1_000_000
    stream, _valid = make_stream(total)
    repeats = 3 if quick else 5
    chunked = []
    decoded = 0
    for _ in range(repeats):
        seconds, decoded = _decode_chunks(stream, 4096)
        chunked.append(decoded / seconds)
    head = stream[: len(stream) // (20 if quick else 10)]
    bytewise = []
    for _ in range(3):
        seconds, count = _decode_chunks(head, 1)
        bytewise.append(count / seconds)
    chunked_median = statistics.median(chunked)
    bytewise_median = statistics.median(bytewise)
    return [
        Row(
            f"decoder, {total:,} mixed frames, 4 KiB chunks",
            chunked_median,
            "frames/CPU s",
            "≥ 1,000,000",
            f"{decoded:,} frames decoded",
        ),
        Row(
            "decoder, same stream byte by byte",
            bytewise_median,
            "frames/CPU s",
            "",
            f"{chunked_median / bytewise_median:.1f}× slower than 4 KiB chunks",
        ),
        _peer_row(total, repeats, chunked_median),
    ]
