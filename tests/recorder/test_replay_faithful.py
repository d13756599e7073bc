"""A capture recorded under faults, replayed at 1×, 10× and max into a fresh database, records
the original's shots exactly: same boot, number and values, nothing doubled, nothing under the
wrong power-up, with the original's times and link losses (issue 11)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from injector.recorder import DatabaseStore, Recorder
from injector.storage.engine import Database, open_database
from protocols.igp1 import Decoder, IdentReq, Mode
from protocols.igp1.capture import CaptureReader, CaptureWriter, RecordKind
from simulators.faults import FaultConfig
from simulators.runner import Simulator, Speed
from tests.recorder.harness import Bench, ShotRow, fast_driver, recorded, wait_for

SERIAL_TIMES = "select boot_id, shot_no, received_at from shot"


@dataclass(frozen=True)
class Original:
    """A capture and what the recorder that wrote it stored."""

    capture: Path
    rows: list[ShotRow]
    times: dict[tuple[int, int], float]
    link_losses: int
    walls: tuple[float, float]
    """The capture's first and last wall-clock times."""


def _times(db: Database) -> dict[tuple[int, int], float]:
    with db.begin() as conn:
        return {
            (int(boot), int(no)): _unix(at) for boot, no, at in conn.execute(text(SERIAL_TIMES))
        }


def _unix(at: object) -> float:
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    assert isinstance(at, datetime)
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def _link_losses(db: Database) -> int:
    with db.begin() as conn:
        return int(
            conn.execute(text("select count(*) from device_event where kind = 'link_lost'")).one()[
                0
            ]
        )


def _event_times(db: Database) -> list[tuple[str, float]]:
    """The driver's device events (not the session's own) with their times."""
    kinds = ("link_lost", "link_restored", "device_rebooted", "shots_recovered", "shots_lost")
    with db.begin() as conn:
        rows = conn.execute(text("select kind, at from device_event")).all()
    return [(kind, _unix(at)) for kind, at in rows if kind in kinds]


def _walls(path: Path) -> tuple[float, float]:
    walls = [r.wall_ns / 1e9 for r in CaptureReader(path) if r.kind is RecordKind.RX]
    return walls[0], walls[-1]


def _finish(bench: Bench, capture: CaptureWriter, path: Path) -> Original:
    bench.heartbeats(2)
    rows, _lost = bench.settle()
    got = bench.recorded()[0]
    times = _times(bench.db)
    losses = _link_losses(bench.db)
    bench.stop()
    capture.close()
    assert got == rows, "the original recording itself is incomplete"
    return Original(path, rows, times, losses, _walls(path))


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Original:
    """Noise, drops, duplicates and bit flips on the line, an unplug, and a power cycle."""
    folder = tmp_path_factory.mktemp("faulty")
    path = folder / "faulty.igpcap"
    capture = CaptureWriter(path)
    faults = FaultConfig(noise=0.05, drop=0.05, dup=0.05, bitflip=0.03)
    bench = Bench.start(folder, faults, seed=5, capture=capture)
    status = bench.recorder.status
    bench.fire(60)
    wait_for(lambda: status.shots == 60, 10, "the first shots to be stored")
    bench.sim.unplug()
    wait_for(lambda: status.link.value != "live", 10, "the link to be lost")
    bench.fire(20)  # while the cable is out: recovered after the replug
    bench.sim.replug()
    wait_for(lambda: status.shots == 80, 10, "the shots fired unplugged to be recovered")
    first_boot = bench.sim.boot_id
    bench.sim.power_cycle(off_ms=300)
    wait_for(
        lambda: status.device is not None and status.device.boot_id != first_boot,
        10,
        "the restart to be seen",
    )
    bench.sim.set_settings(mode=Mode.REPEAT, rate_spm=600)
    bench.fire(60)
    original = _finish(bench, capture, path)
    assert len({row[1] for row in original.rows}) == 2  # two power-ups
    assert original.link_losses >= 1
    return original


@pytest.fixture(scope="module")
def joined(tmp_path_factory: pytest.TempPathFactory) -> Original:
    """A recorder that joined a gun already firing, its first read a lone SOF byte."""
    folder = tmp_path_factory.mktemp("joined")
    whole = folder / "whole.igpcap"
    link = folder / "gun"
    sim = Simulator("idle", speed=20, seed=9, link=link)
    sim.start()
    sim.set_settings(mode=Mode.REPEAT, rate_spm=600, depth_um=2400, volume_nl=4_000)
    sim.swap_syringe(20_000)
    sim.press_trigger(120)
    assert sim.wait_until(lambda s: s.gun is not None and s.gun.history, 10)
    capture = CaptureWriter(whole)
    db = open_database(str(folder / "rec.db"))
    recorder = Recorder(fast_driver(str(link), capture), DatabaseStore(db))
    recorder.start()
    bench = Bench(sim, db, recorder, link)
    assert sim.wait_until(lambda s: s.gun is not None and not s.gun.trigger_busy, 20)
    original = _finish(bench, capture, whole)
    # The same capture, as a recorder whose first read returned the SOF byte alone.
    path = folder / "joined.igpcap"
    with CaptureWriter(path) as out:
        split = False
        for record in CaptureReader(whole):
            sof = record.data.find(b"\xa5")
            if record.kind is RecordKind.RX and not split and sof >= 0:
                split = True
                out.write(RecordKind.RX, record.data[: sof + 1], record.mono_ns, record.wall_ns)
                out.write(RecordKind.RX, record.data[sof + 1 :], record.mono_ns, record.wall_ns)
            else:
                out.write(record.kind, record.data, record.mono_ns, record.wall_ns)
    assert split
    return Original(path, original.rows, original.times, original.link_losses, original.walls)


def _replay(original: Original, speed: Speed, folder: Path) -> tuple[Database, Simulator]:
    sim = Simulator(replay=original.capture, speed=speed, link=folder / "gun")
    sim.start()
    db = open_database(str(folder / "replay.db"))
    driver = fast_driver(str(folder / "gun"), wall_clock=sim.replay_wall_clock)
    recorder = Recorder(driver, DatabaseStore(db))
    recorder.start()
    try:
        wait_for(
            lambda: sim.done and recorded(db)[0] == original.rows,
            60,
            f"the replay at {speed} to record the original's shots",
        )
        time.sleep(0.3)  # room for a wrong extra shot to arrive
    finally:
        assert recorder.stop()
        sim.stop()
    return db, sim


@pytest.mark.parametrize("speed", [1.0, 10.0, "max"], ids=["1x", "10x", "max"])
@pytest.mark.parametrize("which", ["faulty", "joined"])
def test_replay_records_the_original_shots_times_and_losses(
    which: str, speed: Speed, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    original: Original = request.getfixturevalue(which)
    db, sim = _replay(original, speed, tmp_path)
    rows = recorded(db)[0]
    assert rows == original.rows  # same power-up, number and values; each once
    times = _times(db)
    first, last = original.walls
    assert all(first - 1 <= at <= last + 1 for at in times.values()), "not the capture's times"
    drift = [abs(times[key] - at) for key, at in original.times.items()]
    assert statistics.median(drift) < 0.5
    assert _link_losses(db) >= original.link_losses
    for kind, at in _event_times(db):
        assert first - 1 <= at <= last + 1, f"{kind} at the replay's time, not the original's"
    # No storm: about as many IDENT_REQs as the original sent (one per opening of the port).
    asked = sum(isinstance(f.message, IdentReq) for f in sim.host_frames())
    assert asked <= _ident_requests(original.capture) + 2


def _ident_requests(path: Path) -> int:
    """IDENT_REQs the original recorder sent, as its capture holds them."""
    decoder = Decoder()
    return sum(
        isinstance(frame.message, IdentReq)
        for r in CaptureReader(path)
        if r.kind is RecordKind.TX
        for frame in decoder.feed(r.data)
    )
