"""``injector sim``: the ready line, running to the end, signals, and one-line refusals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import serial

from injector.cli.main import main
from protocols.igp1.capture import CaptureWriter, RecordKind
from tests.simulators.conftest import connect


def test_runs_a_scenario_to_its_end_and_removes_the_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "gun"
    code = main(
        ["sim", "--scenario", "demo", "--speed", "5000", "--seed", "4", "--link", str(link)]
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert len(out) == 1
    assert out[0].startswith(f"MG-400 SN0042 ready at {link} (pty /dev/pts/")
    assert out[0].endswith("scenario demo, seed 4); Ctrl-C to stop")
    assert not link.is_symlink()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--scenario", "nonesuch"], "nonesuch: no such scenario file, nor a built-in"),
        (["--speed", "fast"], "--speed fast is not a factor above 0 or 'max'"),
        (["--speed", "-2"], "--speed -2 is not a factor above 0"),
        (["--faults", "drop=7"], "--faults: 'drop=7': a probability is between 0 and 1"),
        (["--faults", "meteor@3s"], "--faults: unknown link event 'meteor'"),
        (["--baud", "-1"], "--baud -1 is not a baud rate"),
        (["--link", "/no/such/dir/gun"], "the directory /no/such/dir does not exist"),
        (["--replay", "/etc/hostname"], "is not an IGP/1 capture file"),
        (["--replay", "x.igpcap", "--faults", "drop=0.1"], "cannot be combined with --replay"),
        (["--replay", "x.igpcap", "--scenario", "demo"], "cannot be combined with --replay"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sim", *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("injector sim: ")
    assert message in err


def test_a_bad_scenario_file_names_file_line_and_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "face.scenario"
    path.write_text("set mode=single\ntrigger 3\nset depth=80mm\n")
    assert main(["sim", "--scenario", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == f"injector sim: {path}:3: depth 80 mm is outside 0.1–13 mm\n"


def test_a_damaged_capture_is_replayed_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cut.igpcap"
    with CaptureWriter(path) as writer:
        writer.write(RecordKind.RX, b"\r\nMG-400 fw 2.4.1 boot\r\n", mono_ns=0)
    with open(path, "ab") as f:
        f.write(b"\x01\x00\x40")  # a torn record header
    link = tmp_path / "g"
    received = bytearray()

    def host() -> None:
        # A replay starts when a host opens the port.
        deadline = time.monotonic() + 10
        while not link.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        port = serial.Serial(str(link), timeout=0.05)
        try:
            while len(received) < 24 and time.monotonic() < deadline:
                received.extend(port.read(64))
        except serial.SerialException:
            pass  # the replay ended and the pseudo-terminal went away
        finally:
            port.close()

    reader = threading.Thread(target=host)
    reader.start()
    code = main(["sim", "--replay", str(path), "--speed", "max", "--link", str(link)])
    reader.join(10)
    captured = capsys.readouterr()
    assert code == 0
    assert bytes(received) == b"\r\nMG-400 fw 2.4.1 boot\r\n"
    assert "warning:" in captured.err and "truncated record header" in captured.err
    assert captured.out.startswith(f"replaying {path} at {tmp_path / 'g'}")


def test_sigterm_stops_the_command_cleanly(tmp_path: Path) -> None:
    link = tmp_path / "gun"
    proc = subprocess.Popen(
        [sys.executable, "-m", "injector.cli.main", "sim", "--link", str(link), "--speed", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "ready at" in line and "Ctrl-C to stop" in line
        host = connect(str(link))  # a real gun behind the link
        host.close()
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(10) == 0
        assert not link.is_symlink()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
