"""A capture replayed through the simulator records the same shots as the original run."""

from __future__ import annotations

from pathlib import Path

from benchmarks.bench_recorder import make_capture
from injector.recorder import DatabaseStore, Recorder
from injector.storage.engine import open_database
from protocols.igp1.capture import CaptureReader, CaptureWriter, RecordKind
from simulators.faults import FaultConfig
from simulators.runner import Simulator
from tests.recorder.harness import Bench, fast_driver, recorded, wait_for


def test_replay_records_the_same_shots(tmp_path: Path) -> None:
    capture_path = tmp_path / "run.igpcap"
    capture = CaptureWriter(capture_path)
    faults = FaultConfig(noise=0.05, drop=0.05, dup=0.05)
    bench = Bench.start(tmp_path, faults, seed=21, capture=capture)
    try:
        bench.fire(200)
        bench.heartbeats(2)
        rows, _ = bench.settle()
        original, _, _ = bench.recorded()
    finally:
        bench.stop()
        capture.close()
    assert original == rows
    kinds = {r.kind for r in CaptureReader(capture_path)}
    assert {RecordKind.OPEN, RecordKind.RX, RecordKind.TX, RecordKind.CLOSE} <= kinds

    replay_dir = tmp_path / "replay"
    replay_dir.mkdir()
    sim = Simulator(replay=capture_path, speed="max", link=replay_dir / "gun")
    sim.start()
    db = open_database(str(replay_dir / "replay.db"))
    recorder = Recorder(fast_driver(str(replay_dir / "gun")), DatabaseStore(db))
    recorder.start()
    try:
        wait_for(lambda: sim.done and recorded(db)[0] == original, 20, "the replay to be recorded")
    finally:
        assert recorder.stop()
        sim.stop()
    assert recorded(db)[0] == original


def test_a_full_speed_replay_into_a_small_backlog_loses_nothing(tmp_path: Path) -> None:
    capture = tmp_path / "long.igpcap"
    make_capture(capture, 5_000)
    sim = Simulator(replay=capture, speed="max", link=tmp_path / "gun")
    sim.start()
    db = open_database(str(tmp_path / "replay.db"))
    # The reader waits for the committer once 200 events queue up: bytes wait in the port.
    recorder = Recorder(
        fast_driver(str(tmp_path / "gun")), DatabaseStore(db), max_batch=50, max_backlog=200
    )
    recorder.start()
    try:
        wait_for(lambda: recorder.status.shots == 5_000, 60, "every shot of the replay")
    finally:
        assert recorder.stop()
        sim.stop()
    rows, lost, _ = recorded(db)
    assert [r[2] for r in rows] == list(range(1, 5_001))
    assert lost == 0
