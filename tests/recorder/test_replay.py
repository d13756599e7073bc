"""A capture replayed through the simulator records the same shots as the original run."""

from __future__ import annotations

from pathlib import Path

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
