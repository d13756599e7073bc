"""Starting and stopping simulators: links, threads, file descriptors, misuse, pacing."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from protocols.igp1 import Heartbeat, Mode, Shot
from simulators import Simulator
from simulators.pty_port import LinkRefused
from tests.simulators.conftest import connect


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _settled() -> tuple[int, int]:
    """Threads and descriptors once what earlier tests in this process started has wound down
    (a test process shared with other tests, e.g. a parallel worker, still closes their ports)."""
    last = (threading.active_count(), _open_fds())
    for _ in range(50):
        time.sleep(0.2)
        now = (threading.active_count(), _open_fds())
        if now == last:
            return now
        last = now
    return last


def test_many_simulators_start_and_stop_without_leaking(tmp_path: Path) -> None:
    threads, fds = _settled()
    for i in range(8):
        with Simulator("demo", speed=100, seed=i, link=tmp_path / f"gun{i}") as sim:
            host = connect(str(sim.path))
            host.close()
        assert not sim.running
        assert not (tmp_path / f"gun{i}").is_symlink()
    assert threading.active_count() == threads
    # Nothing of the eight simulators stays open. In a process shared with other tests (a
    # parallel worker) their leftovers may still be closing, so the count can only fall.
    assert _open_fds() <= fds


def test_the_link_is_made_only_where_nothing_else_is(tmp_path: Path) -> None:
    link = tmp_path / "gun"
    link.write_text("stale")
    # Someone's file is not the simulator's to replace (it used to be deleted).
    with pytest.raises(LinkRefused, match="already exists and is a file"):
        Simulator(link=link).start()
    assert link.read_text() == "stale"
    link.unlink()
    with Simulator(link=link) as first:
        assert os.readlink(link) == first.pty_name
        # A second gun on a live gun's link is refused (it used to take the link over).
        with pytest.raises(LinkRefused, match="in use by another simulated gun"):
            Simulator(link=link).start()
        assert os.readlink(link) == first.pty_name
        # A link someone else re-pointed meanwhile is left alone when the first gun stops.
        with Simulator() as second:
            repointed = tmp_path / ".gun.new"
            os.symlink(second.pty_name, repointed)
            os.replace(repointed, link)
            first.stop()
            assert os.readlink(link) == second.pty_name


def test_without_a_link_the_path_is_the_pseudo_terminal() -> None:
    with Simulator(speed=50) as sim:
        assert sim.path == sim.pty_name
        assert sim.path is not None and sim.path.startswith("/dev/pts/")
        sim.unplug()
        assert sim.path is None
        sim.replug()
        assert sim.path is not None and os.path.exists(sim.path)


def test_misuse_is_refused_clearly(tmp_path: Path) -> None:
    sim = Simulator(speed=50)
    with pytest.raises(RuntimeError, match="not running"):
        sim.press_trigger(1)
    sim.start()
    try:
        with pytest.raises(RuntimeError, match="already started"):
            sim.start()
        with pytest.raises(ValueError, match="depth 80 mm is outside"):
            sim.set_settings(depth_um=80_000)
        with pytest.raises(ValueError, match="rate 10000/min is outside"):
            sim.set_settings(mode=Mode.REPEAT, rate_spm=10_000)
        with pytest.raises(ValueError, match="at least one shot"):
            sim.press_trigger(0)
    finally:
        sim.stop()
    sim.stop()  # twice is fine
    with pytest.raises(ValueError, match="speed"):
        Simulator(speed=0)
    with pytest.raises(ValueError, match="speed"):
        Simulator(speed="fast")  # type: ignore[arg-type]


def test_speed_one_is_paced_like_a_115200_baud_line(link: Path) -> None:
    with Simulator(speed=1, seed=2, link=link) as sim:
        assert sim.baud == 115_200
        host = connect(str(sim.path))
        sim.set_settings(mode=Mode.REPEAT, rate_spm=540, volume_nl=1_000)
        sim.press_trigger(2)
        host.wait_for(lambda fs: host.count(Shot) == 2)
        assert host.count(Heartbeat) >= 1
        host.close()
    with Simulator(speed=10, link=link) as fast, Simulator(speed=1, baud=0) as unpaced:
        assert fast.baud == 0 and unpaced.baud == 0
