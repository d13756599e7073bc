"""Decoder throughput: 1,000,000 mixed frames (mostly SHOT and HEARTBEAT, 1 % garbage).

Fed in 4 KiB chunks and byte by byte, on one core (this process, one thread). Each figure is
the median of several runs; the byte-by-byte run uses a slice of the stream, since it is
bounded by per-call overhead rather than by the stream's length.
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
    start = time.perf_counter()
    count = 0
    for offset in range(0, len(stream), chunk):
        count += len(decoder.feed(stream[offset : offset + chunk]))
    return time.perf_counter() - start, count


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
            "frames/s",
            "≥ 500,000",
            f"{decoded:,} frames decoded",
        ),
        Row(
            "decoder, same stream byte by byte",
            bytewise_median,
            "frames/s",
            "",
            f"{chunked_median / bytewise_median:.1f}× slower than 4 KiB chunks",
        ),
    ]
