"""The recording path end to end: simulator → pseudo-terminal → driver → recorder → SQLite.

Three figures (issue 4):

- latency from the simulator writing a SHOT frame to the shot being committed, at 10 shots per
  second on a 115200-baud-paced line (p50 and p99); the simulator runs in this process so its
  writes can be timestamped on the same clock;
- sustained ingest with the ``stress`` scenario at ``--speed max`` (the pseudo-terminal's full
  speed; the simulator in its own process): shots per second, shots lost, peak RSS and RSS
  growth after warm-up;
- a capture of 100,000 shots replayed by ``injector sim --replay … --speed max`` into a fresh
  SQLite file: shots per second from the first commit to the last.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.rows import Row
from injector.driver import Driver
from injector.recorder import Commit, DatabaseStore, Recorder
from injector.storage.engine import open_database
from protocols.igp1 import Decoder, Heartbeat, Hello, Mode, Settings, Shot
from protocols.igp1.capture import CaptureWriter, RecordKind
from simulators.runner import Simulator

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE / 1e6


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- latency -----------------------------------------------------------------------------------


def latency(shots: int) -> tuple[float, float, int]:
    """p50 and p99 in ms from the SHOT frame's write to its commit, and the sample count."""
    with tempfile.TemporaryDirectory() as folder:
        sim = Simulator("idle", speed=1, seed=5, link=Path(folder) / "gun")
        sim.start()
        written: list[tuple[int, bytes]] = []
        port = sim._port  # benchmark instrumentation: timestamp each write of the simulator
        write = port.write

        def timed_write(data: bytes | memoryview) -> int:
            n = write(data)
            written.append((time.monotonic_ns(), bytes(data[:n])))
            return n

        port.write = timed_write  # type: ignore[method-assign]
        committed: dict[int, int] = {}

        def on_commit(commit: Commit) -> None:
            for shot in commit.shots:
                committed.setdefault(shot.shot_no, commit.committed_ns)

        db = open_database(str(Path(folder) / "latency.db"))
        recorder = Recorder(Driver(str(Path(folder) / "gun")), DatabaseStore(db))
        recorder.subscribe(on_commit)
        recorder.start()
        try:
            _wait(lambda: recorder.status.device is not None, 10)
            sim.set_settings(mode=Mode.REPEAT, rate_spm=600, volume_nl=4_000)
            sim.swap_syringe(20_000)
            sim.press_trigger(shots)
            _wait(lambda: len(committed) >= shots, shots / 10 + 10)
        finally:
            recorder.stop()
            sim.stop()
            db.close()
    decoder = Decoder()
    sent: dict[int, int] = {}
    for at_ns, data in written:
        for frame in decoder.feed(data):
            if isinstance(frame.message, Shot):
                sent.setdefault(frame.message.shot_no, at_ns)
    samples = [(committed[n] - sent[n]) / 1e6 for n in sent if n in committed]
    return statistics.median(samples), _percentile(samples, 0.99), len(samples)


# --- subprocess simulator ----------------------------------------------------------------------


@contextmanager
def _sim_process(*args: str) -> Iterator[subprocess.Popen[str]]:
    """``injector sim ARGS`` in a process of its own (two cores: one for the gun, one for
    the recorder), once its link exists."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "injector.cli.main", "sim", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        if not proc.stdout.readline():
            raise RuntimeError("the simulator did not start")
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(10)


# --- sustained ingest --------------------------------------------------------------------------


def _cpu_seconds(pid: int | None = None) -> float:
    with open(f"/proc/{pid or 'self'}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Ingest:
    """What a sustained run measured."""

    rate: float
    """Shots committed per second."""
    lost: int
    peak_rss_mb: float
    rss_growth_mb: float
    wait_p99_ms: float
    wait_max_ms: float
    """Per commit, the wait of its oldest shot, from the read off the port to the commit."""
    note: str


def sustained(seconds: float, speed: float | str = "max") -> Ingest:
    """The ``stress`` scenario (9 shots/s of gun time) run ``speed`` times faster for
    ``seconds``, the simulator in its own process, recorded into a fresh SQLite file."""
    with tempfile.TemporaryDirectory() as folder:
        link = Path(folder) / "gun"
        db = open_database(str(Path(folder) / "ingest.db"))
        driver = Driver(str(link))
        recorder = Recorder(driver, DatabaseStore(db))
        waits: list[float] = []

        def on_commit(commit: Commit) -> None:
            if commit.shots:
                oldest = min(shot.received_ns for shot in commit.shots)
                waits.append((commit.committed_ns - oldest) / 1e6)

        recorder.subscribe(on_commit)
        with _sim_process(
            "--scenario", "stress", "--speed", str(speed), "--link", str(link)
        ) as sim:
            recorder.start()
            _wait(lambda: recorder.status.device is not None, 10)
            warm = time.monotonic() + min(5.0, seconds / 4)
            _wait(lambda: time.monotonic() >= warm, seconds)
            start, start_shots = time.monotonic(), recorder.status.shots
            waits.clear()
            cpu_self, cpu_sim = _cpu_seconds(), _cpu_seconds(sim.pid)
            rss_start = peak = _rss_mb()
            while time.monotonic() - start < seconds:
                time.sleep(0.5)
                peak = max(peak, _rss_mb())
            elapsed = time.monotonic() - start
            total = recorder.status.shots
            note = (
                f"recorder {100 * (_cpu_seconds() - cpu_self) / elapsed:.0f} % of a core, "
                f"simulator {100 * (_cpu_seconds(sim.pid) - cpu_sim) / elapsed:.0f} %"
            )
            rss_end = _rss_mb()
            ledger = driver.ledger("SN0042")
            assert ledger is not None
            _wait(lambda: ledger.missing_count == 0, 10)
        recorder.stop()
        db.close()
    return Ingest(
        rate=(total - start_shots) / elapsed,
        # Shots the driver gave up on, and shots it received that were not committed.
        lost=ledger.lost_count + ledger.held_count - recorder.status.shots,
        peak_rss_mb=peak,
        rss_growth_mb=rss_end - rss_start,
        wait_p99_ms=_percentile(waits, 0.99),
        wait_max_ms=max(waits),
        note=f"{note}; {total:,} shots stored",
    )


# --- replay ------------------------------------------------------------------------------------


def make_capture(path: Path, shots: int) -> None:
    """A capture of one session of ``shots`` shots (a heartbeat every 10) at 9 shots/s."""
    serial, boot = "SN0042", 0x5EED1234
    seq = 0
    t0 = time.monotonic_ns()
    wall0 = time.time_ns()

    def frame(msg: Hello | Settings | Heartbeat | Shot) -> bytes:
        nonlocal seq
        data = msg.encode(seq)
        seq = (seq + 1) & 0xFF
        return data

    with CaptureWriter(path) as capture:
        capture.write(RecordKind.OPEN, b"/dev/ttyACM0 at 115200 baud", t0, wall0)
        head = frame(Hello(1, 2, 4, 1, boot, "MG-400", serial))
        head += frame(Settings(120, 1, 2400, 4_000, 540, 20_000))
        head += frame(Heartbeat(130, 0, 1, 87, 0, 20_000_000))
        capture.write(RecordKind.RX, head, t0, wall0)
        chunk = bytearray()
        for n in range(1, shots + 1):
            uptime = 1_000 + n * 111
            chunk += frame(
                Shot(n, uptime, 2400 - n % 50, 0, 4_000, 20_000_000 - 4_000 * (n % 5_000))
            )
            if n % 10 == 0:
                chunk += frame(Heartbeat(uptime, n, 2, 87, 0, 20_000_000 - 4_000 * (n % 5_000)))
                at = uptime * 1_000_000
                capture.write(RecordKind.RX, bytes(chunk), t0 + at, wall0 + at)
                chunk.clear()
        if chunk:
            capture.write(RecordKind.RX, bytes(chunk), t0 + uptime * 1_000_000, wall0)
        capture.write(RecordKind.CLOSE, b"end", t0 + uptime * 1_000_000, wall0)


def replay(shots: int) -> float:
    """Shots per second recording a ``shots``-shot capture replayed at --speed max."""
    with tempfile.TemporaryDirectory() as folder:
        cap = Path(folder) / "session.igpcap"
        make_capture(cap, shots)
        link = Path(folder) / "gun"
        db = open_database(str(Path(folder) / "replay.db"))
        firsts: list[int] = []
        done = threading.Event()
        recorder = Recorder(Driver(str(link)), DatabaseStore(db))

        def on_commit(commit: Commit) -> None:
            if commit.new and not firsts:
                firsts.append(commit.committed_ns)
            if recorder.status.shots >= shots:
                done.set()

        recorder.subscribe(on_commit)
        with _sim_process("--replay", str(cap), "--speed", "max", "--link", str(link)):
            recorder.start()
            done.wait(shots / 1000 + 60)
            end = time.monotonic_ns()
        recorder.stop()
        db.close()
    if not done.is_set():
        raise RuntimeError(f"replay recorded only {recorder.status.shots} of {shots} shots")
    return shots / ((end - firsts[0]) / 1e9)


def _wait(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError("benchmark timed out")
        time.sleep(0.01)


def run(quick: bool = False) -> list[Row]:
    """Latency at 10 shots/s, waits at a full 115200-baud line, sustained ingest at full
    speed, replay of a 100k-shot capture."""
    lat_shots = 30 if quick else 300
    p50, p99, n = latency(lat_shots)
    line = sustained(3.0 if quick else 20.0, speed=48)  # 9 × 48 = 432 shots/s
    ingest_s = 5.0 if quick else 60.0
    full = sustained(ingest_s)
    replay_shots = 10_000 if quick else 100_000
    replays = [replay(replay_shots) for _ in range(1 if quick else 3)]
    return [
        Row("recorder: SHOT write → commit, p50 at 10 shots/s", p50, "ms", "< 5", f"{n} shots"),
        Row("recorder: SHOT write → commit, p99 at 10 shots/s", p99, "ms", "< 15", f"{n} shots"),
        Row(
            f"recorder: read → commit, max wait at {line.rate:.0f} shots/s (a full 115200 line)",
            line.wait_max_ms,
            "ms",
            "≤ 20",
            f"p99 {line.wait_p99_ms:.1f} ms; lost {line.lost}",
        ),
        Row(
            f"recorder: sustained ingest, stress at --speed max, {ingest_s:g} s",
            full.rate,
            "shots/s",
            "zero loss, flat memory",
            f"lost {full.lost}; peak RSS {full.peak_rss_mb:.0f} MB, "
            f"+{full.rss_growth_mb:.1f} MB after warm-up; read → commit p99 "
            f"{full.wait_p99_ms:.1f} ms, max {full.wait_max_ms:.1f} ms; {full.note}",
        ),
        Row(
            f"recorder: {replay_shots:,}-shot capture replayed at --speed max into new SQLite",
            statistics.median(replays),
            "shots/s",
            "≥ 50,000",
            f"median of {len(replays)}" if len(replays) > 1 else "one run",
        ),
    ]
