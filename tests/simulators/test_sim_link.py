"""``injector sim --link``: only its own links are replaced; SIGHUP stops it like SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from injector.cli.main import main
from simulators import Simulator
from tests.simulators.conftest import connect


def sim_process(link: Path, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "injector.cli.main", "sim", "--link", str(link), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_a_regular_file_at_the_link_is_refused_and_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("the clinic's notes")
    code = main(["sim", "--link", str(notes), "--speed", "50"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        f"injector sim: --link {notes} already exists and is a file, not a link it made; the "
        "simulator only replaces its own links: give a path that does not exist\n"
    )
    assert notes.read_text() == "the clinic's notes"


def test_a_link_to_something_else_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "gun"
    link.symlink_to("/dev/null")
    assert main(["sim", "--link", str(link), "--speed", "50"]) == 2
    assert "is a link to /dev/null, not one the simulator made" in capsys.readouterr().err
    assert os.readlink(link) == "/dev/null"


def test_a_second_simulator_on_the_same_link_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "gun"
    with Simulator("idle", speed=20, link=link) as first:
        target = os.readlink(link)
        code = main(["sim", "--link", str(link), "--speed", "50"])
        err = capsys.readouterr().err
        assert code == 2
        assert f"--link {link} is in use by another simulated gun ({target})" in err
        assert os.readlink(link) == target  # the first gun keeps its hosts
        host = connect(str(link))
        host.close()
        assert first.running


def test_a_link_left_by_a_killed_simulator_is_taken_over(tmp_path: Path) -> None:
    link = tmp_path / "gun"
    proc = sim_process(link, "--speed", "50")
    try:
        assert proc.stdout is not None and "ready at" in proc.stdout.readline()
        dead = os.readlink(link)
        proc.kill()  # SIGKILL: no chance to remove the link
        proc.wait(10)
    finally:
        stop(proc)
    assert link.is_symlink() and not os.path.exists(dead)
    with Simulator("idle", speed=20, link=link) as sim:
        assert os.readlink(link) == sim.pty_name
        connect(str(link)).close()


def test_sighup_stops_the_simulator_and_removes_its_link(tmp_path: Path) -> None:
    link = tmp_path / "gun"
    proc = sim_process(link, "--speed", "50")
    try:
        assert proc.stdout is not None and "ready at" in proc.stdout.readline()
        assert link.is_symlink()
        os.kill(proc.pid, signal.SIGHUP)
        assert proc.wait(20) == 0
        assert proc.stderr is not None
        assert proc.stderr.read().strip().endswith(f"stopped; the device at {link} is gone")
        assert not link.is_symlink()
    finally:
        stop(proc)


def test_the_last_line_counts_the_shots_fired(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "gun"
    code = main(
        ["sim", "--scenario", "demo", "--speed", "5000", "--seed", "4", "--link", str(link)]
    )
    err = capsys.readouterr().err.strip()
    assert code == 0
    fired = re.fullmatch(r"scenario demo \((\d+) shots fired\) finished; .*", err)
    assert fired is not None
    with Simulator("demo", speed=5000, seed=4) as sim:
        assert sim.wait_done(60)
        assert int(fired.group(1)) == len(sim.shots()) > 0


@pytest.mark.parametrize("baud", ["2147483648", "12000001", "-1"])
def test_a_baud_rate_out_of_range_is_one_line(
    baud: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sim", "--baud", baud]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"injector sim: --baud {baud} is not a baud rate; give a whole number")


def test_an_empty_capture_is_called_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "new.igpcap"
    empty.touch()
    assert main(["sim", "--replay", str(empty)]) == 2
    assert capsys.readouterr().err == (
        f"injector sim: {empty} is empty (0 bytes): no capture was ever written to it\n"
    )
