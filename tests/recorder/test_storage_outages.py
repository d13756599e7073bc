"""The database goes away while recording: a full disk, a read-only file system, a write lock
held for 30 s. The recorder says so at once, keeps reading the gun (its shots stay
recoverable), writes everything once storage is back, and nothing is lost or doubled. The
capture on the same full disk resumes after the outage without a torn record."""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from injector.storage.engine import open_database
from protocols.igp1.capture import CaptureReader, CaptureWriter, RecordKind
from tests.recorder.harness import Bench, wait_for
from tests.recorder.private_pg import PrivateServer


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs of the test's own (root only: mount needs the privilege)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()}); needs root")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(folder: Path) -> Path:
    """Fill the file system holding ``folder`` to the last byte; return the filler file."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        for size in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return filler


def _capture_records(path: Path) -> list[RecordKind]:
    return [r.kind for r in CaptureReader(path)]


def test_a_full_disk_delays_storage_and_loses_nothing(small_disk: Path, tmp_path: Path) -> None:
    db = open_database(str(small_disk / "rec.db"))
    capture = CaptureWriter(small_disk / "run.igpcap")
    bench = Bench.start(tmp_path, seed=81, db=db, capture=capture)
    filler = None
    try:
        bench.fire(50)
        bench.settle()
        assert bench.recorded()[0] == bench.expected()[0]

        filler = _fill(small_disk)
        bench.fire(200)
        # Said at once, while the gun keeps being read: every shot is held in memory.
        wait_for(lambda: bench.recorder.status.error is not None, 30, "the failure to show")
        assert "full" in (bench.recorder.status.error or "")
        ledger = bench.recorder.driver.ledger("SN0042")
        wait_for(lambda: ledger is not None and ledger.highest == 250, 30, "every shot to be read")
        assert capture.failed_records > 0

        filler.unlink()
        filler = None
        rows, lost = bench.settle(30)
        got, got_lost, _ = bench.recorded()
        assert bench.recorder.status.error is None
        bench.fire(20)  # the capture resumed after the outage
        rows, lost = bench.settle(30)
        got, got_lost, _ = bench.recorded()
    finally:
        if filler is not None:
            filler.unlink()
        bench.stop()
        capture.close()
        db.close()
    assert len(rows) == 270 and lost == 0
    assert got == rows and got_lost == 0
    kinds = _capture_records(small_disk / "run.igpcap")
    assert kinds.count(RecordKind.RX) > 0 and kinds[-1] is RecordKind.CLOSE


def _chattr(flag: str, *paths: Path) -> bool:
    done = subprocess.run(["chattr", flag, *map(str, paths)], capture_output=True, check=False)
    return done.returncode == 0


def test_a_database_made_read_only_delays_storage_and_loses_nothing(tmp_path: Path) -> None:
    # Immutable, not chmod: the test runs as root, whom modes do not stop, and an immutable
    # file refuses writes even through descriptors opened before (as the recorder's are).
    bench = Bench.start(tmp_path, seed=82)
    files = [tmp_path / "rec.db", tmp_path / "rec.db-wal"]
    frozen = False
    try:
        bench.fire(40)
        bench.settle()
        frozen = _chattr("+i", *files)
        if not frozen:
            pytest.skip("this file system has no immutable flag (chattr +i); needs root on ext4")
        bench.fire(150)
        wait_for(lambda: bench.recorder.status.error is not None, 30, "the failure to show")
        ledger = bench.recorder.driver.ledger("SN0042")
        wait_for(lambda: ledger is not None and ledger.highest == 190, 30, "every shot read")
        frozen = not _chattr("-i", *files)
        rows, lost = bench.settle(30)
        got, got_lost, _ = bench.recorded()
    finally:
        if frozen:
            _chattr("-i", *files)
        bench.stop()
    assert len(rows) == 190 and lost == 0
    assert got == rows and got_lost == 0


@pytest.mark.slow
def test_a_write_lock_held_for_30_seconds_loses_nothing(tmp_path: Path) -> None:
    # 10 shots a second of gun time, sped up 10×: 3,000 shots would pass in 30 s, more than
    # the gun's ring, so the recorder must keep reading the port while storage is locked.
    bench = Bench.start(tmp_path, seed=83, speed=10)
    blocker = sqlite3.connect(tmp_path / "rec.db", isolation_level=None, timeout=30)
    try:
        bench.fire(20)
        bench.settle()
        blocker.execute("BEGIN EXCLUSIVE")
        locked_at = time.monotonic()
        bench.sim.press_trigger(2_500)
        time.sleep(max(0.0, 30 - (time.monotonic() - locked_at)))
        ledger = bench.recorder.driver.ledger("SN0042")
        # Read while locked: the port was never left unread.
        assert ledger is not None and ledger.highest > 20 + 1_024
        blocker.execute("COMMIT")
        assert bench.sim.wait_until(lambda s: s.gun is not None and not s.gun.trigger_busy, 60)
        rows, lost = bench.settle(60)
        got, got_lost, _ = bench.recorded()
    finally:
        with contextlib.suppress(sqlite3.Error):
            blocker.execute("ROLLBACK")
        blocker.close()
        bench.stop()
    assert len(rows) == 2_520 and lost == 0
    assert got == rows and got_lost == 0


def test_errno_of_a_full_disk_is_what_the_fixture_makes(small_disk: Path) -> None:
    """The fixture really fills the disk (a guard for the tests above)."""
    filler = _fill(small_disk)
    try:
        with pytest.raises(OSError) as caught:
            fd = os.open(small_disk / "more", os.O_CREAT | os.O_WRONLY, 0o600)
            try:
                os.write(fd, b"x" * 8192)
            finally:
                os.close(fd)
        assert caught.value.errno == errno.ENOSPC
    finally:
        filler.unlink()


def test_a_postgresql_server_stopped_and_started_loses_nothing(
    tmp_path: Path, private_pg: PrivateServer
) -> None:
    server = private_pg
    db = open_database(server.url)
    bench = Bench.start(tmp_path, seed=84, db=db)
    try:
        bench.fire(40)
        bench.settle()
        server.stop()
        bench.fire(150)
        wait_for(lambda: bench.recorder.status.error is not None, 30, "the failure to show")
        ledger = bench.recorder.driver.ledger("SN0042")
        wait_for(lambda: ledger is not None and ledger.highest == 190, 30, "every shot read")
        server.start()
        rows, lost = bench.settle(60)
        got, got_lost, _ = bench.recorded()
    finally:
        bench.stop()
        db.close()
    assert len(rows) == 190 and lost == 0
    assert got == rows and got_lost == 0
