"""A recorder on a real SQLite file reading the simulator over a real pseudo-terminal."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from injector.driver import Driver
from injector.recorder import DatabaseStore, Recorder
from injector.session.completeness import stored_record
from injector.storage.engine import Database, open_database
from protocols.igp1 import Mode
from protocols.igp1.capture import CaptureWriter
from simulators.faults import FaultConfig
from simulators.ground_truth import ShotRow, expected_record
from simulators.runner import Simulator

SPEED = 100.0
"""Scenario time runs this much faster than real time: 10 shots/s become 1000 shots/s."""


def fast_driver(
    port: str, capture: CaptureWriter | None = None, wall_clock: Callable[[], float] = time.time
) -> Driver:
    """A driver with timeouts shortened for a fast simulator (real seconds)."""
    return Driver(
        port,
        capture=capture,
        wall_clock=wall_clock,
        silence_timeout=0.5,
        reopen_backoff=(0.02, 0.1),
        resend_backoff=(0.05, 0.2),
        ident_retry=0.1,
        stats_interval=0.2,
    )


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass
class Bench:
    """A simulator, and a recorder writing what it reads into a SQLite file."""

    sim: Simulator
    db: Database
    recorder: Recorder
    link: Path

    @classmethod
    def start(
        cls,
        folder: Path,
        faults: FaultConfig | None = None,
        *,
        seed: int = 1,
        speed: float = SPEED,
        db: Database | None = None,
        capture: CaptureWriter | None = None,
    ) -> Bench:
        """Start a gun in REPEAT mode at 10 shots/s and a recorder that has identified it."""
        link = folder / "gun"
        sim = Simulator("idle", speed=speed, seed=seed, faults=faults, link=link)
        sim.start()
        sim.set_settings(mode=Mode.REPEAT, rate_spm=600, depth_um=2400, volume_nl=4_000)
        sim.swap_syringe(20_000)  # 5000 shots before it runs dry
        database = db or open_database(str(folder / "rec.db"))
        recorder = Recorder(fast_driver(str(link), capture), DatabaseStore(database))
        recorder.start()
        wait_for(lambda: recorder.status.device is not None, 10, "the gun to identify itself")
        return cls(sim, database, recorder, link)

    def fire(self, shots: int, timeout: float = 20.0) -> None:
        """Fire ``shots`` and wait until the gun has fired them all."""
        self.sim.press_trigger(shots)
        assert self.sim.wait_until(lambda s: s.gun is not None and not s.gun.trigger_busy, timeout)

    def heartbeats(self, n: int) -> None:
        """Let ``n`` heartbeat periods of scenario time pass."""
        start = self.sim.scenario_ms
        assert self.sim.wait_until(lambda s: s.scenario_ms >= start + 1000 * n, 10)

    def expected(self) -> tuple[list[ShotRow], int]:
        """Ground truth: the shots a host can hold, and how many it must report lost."""
        truth = expected_record(self.sim)
        return truth.rows, truth.lost

    def recorded(self) -> tuple[list[ShotRow], int, int]:
        """What the database holds: shot rows, and the sessions' lost and recovered counts."""
        return recorded(self.db)

    def settle(self, timeout: float = 15.0) -> tuple[list[ShotRow], int]:
        """Wait until the database holds what the gun says it should; return the truth."""

        def done() -> bool:
            rows, lost = self.expected()
            got, got_lost, _ = self.recorded()
            return got == rows and got_lost == lost

        # On a timeout the test's own assertions show the difference.
        with contextlib.suppress(AssertionError):
            wait_for(done, timeout, "the database to match the gun")
        return self.expected()

    def stop(self) -> None:
        """Stop the recorder (committing everything) and the simulator."""
        assert self.recorder.stop()
        self.sim.stop()


def recorded(db: Database) -> tuple[list[ShotRow], int, int]:
    """What the database holds: shot rows, and the sessions' lost and recovered counts."""
    record = stored_record(db)
    return record.rows, record.lost, record.recovered


def record_process(port: Path, db: Path, capture: Path, log: Path) -> subprocess.Popen[bytes]:
    """``injector record`` as a real process, appending its output to ``log``."""
    command = [sys.executable, "-m", "injector.cli.main", "record", "--port", str(port)]
    command += ["--db", str(db), "--capture", str(capture)]
    return subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
