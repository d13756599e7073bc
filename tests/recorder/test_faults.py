"""Every recoverable shot exactly once, and the lost count exact, whatever the line does.

The gun is the simulator on a real pseudo-terminal opened by pyserial; the database a real
SQLite file. The truth is the simulator's record of every shot it fired and of every frame it
put on the line (delivered, dropped, flushed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from injector.recorder import DatabaseStore, Recorder
from injector.storage.engine import Database
from simulators.faults import FaultConfig
from tests.recorder.harness import Bench, fast_driver, wait_for

LINE_FAULTS = {
    "noise": FaultConfig(noise=0.2),
    "bitflip": FaultConfig(bitflip=0.1),
    "drop": FaultConfig(drop=0.1),
    "dup": FaultConfig(dup=0.2),
}


@pytest.mark.parametrize("kind", sorted(LINE_FAULTS))
def test_line_fault(tmp_path: Path, kind: str) -> None:
    bench = Bench.start(tmp_path, LINE_FAULTS[kind], seed=11)
    try:
        bench.fire(300)
        bench.heartbeats(2)
        rows, lost = bench.settle()
        got, got_lost, recovered = bench.recorded()
    finally:
        bench.stop()
    assert len(rows) == 300
    assert got == rows
    assert got_lost == lost == 0
    if kind in ("bitflip", "drop"):
        assert recovered > 0


def test_drops_and_duplicates_on_each_database(tmp_path: Path, db: Database) -> None:
    bench = Bench.start(tmp_path, FaultConfig(drop=0.1, dup=0.1), seed=16, db=db)
    try:
        bench.fire(200)
        bench.heartbeats(2)
        rows, _ = bench.settle()
        got, got_lost, _ = bench.recorded()
    finally:
        bench.stop()
    assert len(rows) == 200
    assert got == rows
    assert got_lost == 0


def test_unplug_replug(tmp_path: Path) -> None:
    bench = Bench.start(tmp_path, seed=12)
    try:
        bench.fire(100)
        bench.settle()  # see test_everything_at_once_at_high_speed
        bench.sim.unplug()
        bench.fire(50)  # fired while the cable is out: asked for after the replug
        bench.sim.replug()
        bench.fire(100)
        bench.heartbeats(2)
        rows, lost = bench.settle()
        got, got_lost, recovered = bench.recorded()
    finally:
        bench.stop()
    assert len(rows) == 250
    assert got == rows
    assert got_lost == lost == 0
    assert recovered >= 50


def test_unplugged_longer_than_the_gun_remembers(tmp_path: Path) -> None:
    bench = Bench.start(tmp_path, seed=13)
    try:
        bench.fire(10)
        bench.settle()  # see test_everything_at_once_at_high_speed
        bench.sim.unplug()
        bench.fire(1100)  # the gun keeps its last 1024: the first 76 are gone
        bench.sim.replug()
        bench.heartbeats(2)
        rows, lost = bench.settle()
        got, got_lost, _ = bench.recorded()
        # A restart in the same boot asks again for what is missing, not for what it already
        # reported lost: the count stays.
        assert bench.recorder.stop()
        again = Recorder(fast_driver(str(bench.link)), DatabaseStore(bench.db))
        bench.recorder = again
        again.start()
        wait_for(lambda: again.status.device is not None, 10, "the gun")
        bench.heartbeats(3)
        after = bench.recorded()
    finally:
        bench.stop()
    assert lost == 1100 - 1024
    assert got == rows
    assert got_lost == lost
    assert after == (got, got_lost, after[2])


def test_power_cycle(tmp_path: Path) -> None:
    bench = Bench.start(tmp_path, seed=14)
    try:
        bench.fire(100)
        first_boot = bench.sim.boot_id
        bench.sim.power_cycle(off_ms=1000)
        bench.sim.wait_until(lambda s: s.boot_id not in (0, first_boot), 10)
        bench.heartbeats(1)
        bench.fire(100)
        bench.heartbeats(2)
        rows, lost = bench.settle()
        got, got_lost, _ = bench.recorded()
    finally:
        bench.stop()
    assert len({r[1] for r in rows}) == 2
    assert got == rows
    assert got_lost == lost


def test_everything_at_once_at_high_speed(tmp_path: Path) -> None:
    faults = FaultConfig(noise=0.05, bitflip=0.05, drop=0.05, dup=0.05)
    bench = Bench.start(tmp_path, faults, seed=15, speed=300)
    try:
        bench.fire(400)
        # Unplug on a quiet line: bytes of a retransmission still in the pseudo-terminal when
        # it goes away count as delivered in the simulator's truth, though no host read them.
        bench.settle()
        bench.sim.unplug()
        bench.fire(30)
        bench.sim.replug()
        bench.fire(200)
        # Power off in the middle of a burst: shots dropped just before may be lost for good.
        bench.sim.press_trigger(200)
        bench.sim.wait_until(lambda s: s.gun is not None and s.gun.last_shot_no >= 150, 10)
        bench.sim.power_cycle(off_ms=500)
        bench.heartbeats(2)
        bench.fire(300)
        bench.heartbeats(3)
        rows, lost = bench.settle(20)
        got, got_lost, _ = bench.recorded()
    finally:
        bench.stop()
    assert got == rows
    assert got_lost == lost
    assert got == rows
    assert got_lost == lost
