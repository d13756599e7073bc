"""The capture tools on a long capture: ``capture dump --format json`` and ``capture info``.

A capture of 1,000,000 frames (the decoder benchmark's mix, 1 % garbage) is written as a
recorder writes one: an RX record per read of 20-80 bytes (so frames straddle records), a TX
record now and then, OPEN first and CLOSE last. Each command runs as its own process (its work
timed inside the process after its imports; the start-up is timed apart), output to /dev/null.
Times are CPU seconds (``process_time``): on a shared two-core machine the wall clock measures
the neighbours as much as the code. Frames per second are the capture's frames over that time,
median of the runs, and the peak RSS is the process's own high-water mark (``VmHWM``; a
forked child's ``ru_maxrss`` starts from its parent's). Memory is flat when the
peak on this capture matches the peak on one ten times shorter. The decoding alone (the same
read path, nothing formatted) is timed in this process for comparison: a dump bound by the
decoder runs close to it.
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_decoder import make_stream
from benchmarks.rows import Row
from protocols.igp1 import IdentReq
from protocols.igp1.capture import MAGIC, CaptureReader, RecordKind, encode_record
from protocols.igp1.capture_frames import CaptureFrames


def write_capture(path: Path, frames: int, seed: int = 11) -> int:
    """A capture of ``frames`` items as a recorder would write it; returns the frames in it."""
    stream, valid = make_stream(frames)
    rng = random.Random(seed)
    mono, wall = 1_000_000_000, 1_795_600_800_000_000_000
    ident = IdentReq().encode(0)
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(encode_record(RecordKind.OPEN, b"/dev/ttyACM0 at 921600 baud", mono, wall))
        pos = 0
        records = 0
        while pos < len(stream):
            size = rng.randrange(20, 80)
            mono += size * 11_000  # about a 921,600-baud line
            wall += size * 11_000
            f.write(encode_record(RecordKind.RX, stream[pos : pos + size], mono, wall))
            pos += size
            records += 1
            if records % 5000 == 0:
                f.write(encode_record(RecordKind.TX, ident, mono, wall))
                valid += 1
        f.write(encode_record(RecordKind.CLOSE, b"stopped", mono, wall))
    return valid


_TIMED = (
    "import os, sys, time\n"
    "from injector.cli.main import build_parser, main\n"
    "build_parser()  # imports every subcommand, as start-up does\n"
    "sys.stdout = open(os.devnull, 'w')\n"
    "start = time.process_time()\n"
    "code = main(sys.argv[1:])\n"
    "sys.stdout.flush()\n"
    "seconds = time.process_time() - start\n"
    "peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "print(seconds, int(peak) / 1024, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _run(argv: list[str]) -> tuple[float, float]:
    """CPU seconds one ``injector`` command takes once started, and its peak RSS (MiB).

    The command runs in its own process with its output to /dev/null; the time is taken inside
    it, after the imports, so it measures the command's work and not Python's start-up.
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", _TIMED, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    if proc.wait() != 0:
        raise RuntimeError(f"injector {' '.join(argv)} failed: {err}")
    seconds, peak = err.strip().splitlines()[-1].split()
    return float(seconds), float(peak)


def _startup() -> float:
    """Wall seconds to start ``injector`` (Python and every subcommand's imports)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "injector.cli.main", "--version"], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - start


def _decode_only(path: Path) -> float:
    start = time.process_time()
    frames = 0
    for item in CaptureFrames(CaptureReader(path)):
        frames += len(item.frames)
    return frames / (time.process_time() - start)


def run(quick: bool = False) -> list[Row]:
    """Median frames per second of dump --format json and info, with their peak memory."""
    total = 100_000 if quick else 1_000_000
    repeats = 1 if quick else 3
    with tempfile.TemporaryDirectory() as folder:
        long_path, short_path = Path(folder) / "long.igpcap", Path(folder) / "short.igpcap"
        frames = write_capture(long_path, total)
        write_capture(short_path, total // 10)
        size_mb = long_path.stat().st_size / 1e6
        decode = statistics.median(_decode_only(long_path) for _ in range(repeats))
        startup = statistics.median(_startup() for _ in range(repeats))
        rows = []
        for label, argv in (
            ("capture dump --format json", ("dump", "--format", "json")),
            ("capture info", ("info",)),
        ):
            runs = [_run(["capture", *argv, str(long_path)]) for _ in range(repeats)]
            seconds = statistics.median(s for s, _ in runs)
            peak = max(p for _, p in runs)
            _s, short_peak = _run(["capture", *argv, str(short_path)])
            rate = frames / seconds
            rows.append(
                Row(
                    f"{label}, {frames:,}-frame capture ({size_mb:.0f} MB)",
                    rate,
                    "frames/CPU s",
                    "flat memory",
                    f"{seconds:.1f} CPU s after a {startup:.1f} s start-up; peak RSS {peak:.0f} MB "
                    f"({short_peak:.0f} MB on a capture 10× shorter); {rate / decode:.0%} of "
                    f"decoding alone ({decode:,.0f} frames/s)",
                )
            )
    return rows
