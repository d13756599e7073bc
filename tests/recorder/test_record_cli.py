"""``injector record`` on bad input: one clear line saying what is wrong and what to try."""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from injector.cli.main import main
from injector.driver.transport import PortProblem, _explain
from simulators.runner import Simulator


@pytest.fixture
def chatter() -> Iterator[tuple[str, list[bytes]]]:
    """A pseudo-terminal whose device end repeats the bytes put in the list, every 20 ms."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    path = os.ttyname(slave)
    os.close(slave)
    payload: list[bytes] = []
    stop = threading.Event()

    def talk() -> None:
        while not stop.wait(0.02):
            for chunk in payload:
                # Writing fails while nobody has the port open; the next round tries again.
                with contextlib.suppress(OSError):
                    os.write(master, chunk)

    thread = threading.Thread(target=talk, daemon=True)
    thread.start()
    yield path, payload
    stop.set()
    thread.join()
    os.close(master)


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err, "nothing printed"
    assert not any("Traceback" in line for line in err)
    return err[-1]


def test_missing_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["record", "--port", str(tmp_path / "ttyNOPE"), "--db", str(tmp_path / "a.db")])
    assert code == 2
    line = _error_line(capsys)
    assert "ttyNOPE does not exist" in line and "plugged in" in line


def test_busy_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Simulator("idle", speed=10, link=tmp_path / "gun") as sim:
        assert sim.path is not None
        holder = serial.Serial(sim.path, exclusive=True)
        try:
            code = main(["record", "--port", sim.path, "--db", str(tmp_path / "a.db")])
        finally:
            holder.close()
    assert code == 2
    assert "is busy: another program has it open" in _error_line(capsys)


def test_permission_denied_names_the_fix(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        exc: Exception = serial.SerialException(errno.EACCES, "could not open port: denied")
    else:
        locked = tmp_path / "ttyLOCKED"
        locked.touch(mode=0o000)
        with pytest.raises(serial.SerialException) as info:
            serial.Serial(str(locked))
        exc = info.value
    error = _explain("/dev/ttyLOCKED", exc)
    assert error.problem is PortProblem.PERMISSION
    assert "dialout" in str(error)


def test_wrong_baud_rate_only_garbage(
    tmp_path: Path, chatter: tuple[str, list[bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, payload = chatter
    payload.append(bytes([0x80, 0xF8, 0x00, 0x1E, 0xFE, 0x78, 0xA5, 0x06, 0xE0, 0x98] * 4))
    code = main(["record", "--port", path, "--db", str(tmp_path / "a.db")])
    assert code == 2
    line = _error_line(capsys)
    assert "only unreadable bytes" in line and "try --baud 921600" in line


def test_device_speaking_another_protocol(
    tmp_path: Path, chatter: tuple[str, list[bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, payload = chatter
    payload.append(b"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n")
    code = main(["record", "--port", path, "--db", str(tmp_path / "a.db")])
    assert code == 2
    line = _error_line(capsys)
    assert "speaks another protocol" in line and "$GPGGA" in line


def test_unreachable_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["record", "--port", "/dev/null", "--db", "postgresql://nobody@127.0.0.1:9/x"])
    assert code == 2
    line = _error_line(capsys)
    assert "cannot open the database" in line and "pass --db" in line


def test_unwritable_capture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "record",
            "--port",
            "/dev/null",
            "--db",
            str(tmp_path / "a.db"),
            "--capture",
            str(tmp_path / "no" / "such" / "dir.igpcap"),
        ]
    )
    assert code == 2
    assert "cannot write the capture file" in _error_line(capsys)


def test_unknown_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["record", "--port", "/dev/null", "--db", str(tmp_path / "a.db"), "--plan", "999"])
    assert code == 2
    assert "there is no treatment plan 999" in _error_line(capsys)


def test_not_a_serial_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["record", "--port", "/dev/null", "--db", str(tmp_path / "a.db")])
    assert code == 2
    assert "/dev/null is not a serial port" in _error_line(capsys)
