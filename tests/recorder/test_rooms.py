"""Four rooms: four `injector record` processes, each reading its own gun, one shared database.

The clinic's shared database is PostgreSQL (the run there needs INJECTOR_TEST_PG_URL); the
SQLite run shows that four recording processes on one file queue on its lock instead of failing.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from injector.storage import open_database
from injector.storage.tables import Shot
from protocols.igp1 import Mode
from simulators.runner import Simulator
from tests.recorder.harness import wait_for

ROOMS = 4
RECORD = [sys.executable, "-m", "injector.cli.main", "record"]
SHOTS = 300


def _stored(url: str) -> list[tuple[str, int, int, int, int]]:
    db = open_database(url)
    try:
        with db.read() as conn:
            rows = conn.execute(
                select(Shot.serial, Shot.boot_id, Shot.shot_no, Shot.depth_um, Shot.volume_nl)  # type: ignore[call-overload]
            ).all()
        return [tuple(r) for r in rows]
    finally:
        db.close()


def test_four_recorders_share_one_database(db_url: str, tmp_path: Path) -> None:
    open_database(db_url).close()  # migrate once, as the clinic's first start would
    guns: list[Simulator] = []
    recorders: list[subprocess.Popen[bytes]] = []
    try:
        for room in range(1, ROOMS + 1):
            scenario = tmp_path / f"room{room}.scenario"
            scenario.write_text(f"device serial=SN-ROOM{room}\nwait forever\n")
            gun = Simulator(scenario, speed=40, seed=room, link=tmp_path / f"gun{room}")
            gun.start()
            gun.set_settings(mode=Mode.REPEAT, rate_spm=540, volume_nl=4_000)
            gun.swap_syringe(20_000)
            guns.append(gun)
            recorders.append(
                subprocess.Popen(
                    [*RECORD, "--port", str(gun.path), "--db", db_url],
                    stdin=subprocess.DEVNULL,
                    stdout=(tmp_path / f"room{room}.log").open("wb"),
                    stderr=subprocess.STDOUT,
                )
            )
        wait_for(lambda: all(g.host_connected for g in guns), 60, "four recorders on their guns")
        for gun in guns:
            gun.press_trigger(SHOTS)
        wait_for(lambda: len(_stored(db_url)) >= ROOMS * SHOTS, 90, "every room's shots")
        for recorder in recorders:
            recorder.send_signal(signal.SIGTERM)
        codes = [recorder.wait(30) for recorder in recorders]
        logs = [(tmp_path / f"room{n}.log").read_text() for n in range(1, ROOMS + 1)]
        assert codes == [0] * ROOMS, logs
        stored = _stored(db_url)
        fired = {
            (r.serial, r.boot_id, r.shot.shot_no): (r.shot.depth_um, r.shot.volume_nl)
            for gun in guns
            for r in gun.shots()
        }
    finally:
        for recorder in recorders:
            if recorder.poll() is None:
                recorder.kill()
        for gun in guns:
            gun.stop()
    identities = [(s, b, n) for s, b, n, _d, _v in stored]
    assert len(identities) == len(set(identities)), "a shot stored twice"
    assert {(s, b, n): (d, v) for s, b, n, d, v in stored} == fired
    assert Counter(s for s, *_ in stored) == {f"SN-ROOM{n}": SHOTS for n in range(1, ROOMS + 1)}
