"""``injector record`` says port problems once, in the user's terms."""

from __future__ import annotations

from pathlib import Path

import pytest

from injector.cli.main import main
from injector.cli.record import plain_reason
from simulators.runner import Simulator
from tests.cli.recording import RecordProcess

PYSERIAL_GONE = (
    "port failed: device reports readiness to read but returned no data "
    "(device disconnected or multiple access on port?)"
)


def test_a_folder_as_port_is_one_clean_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["record", "--port", str(tmp_path), "--db", str(tmp_path / "a.db")])
    assert code == 2
    err = capsys.readouterr().err
    assert err == (
        f"injector record: cannot open port {tmp_path}: it is a folder, not a serial device; "
        "check --port (ls /dev/ttyACM* /dev/ttyUSB*)\n"
    )
    assert "Errno" not in err


def test_pyserial_wording_is_translated() -> None:
    assert plain_reason(PYSERIAL_GONE, "/dev/ttyACM0") == (
        "gun disconnected from /dev/ttyACM0; waiting for it to come back"
    )
    doubled = (
        "cannot open port /dev/ttyS9: [Errno 5] could not open port /dev/ttyS9: "
        "[Errno 5] Input/output error: '/dev/ttyS9'"
    )
    assert plain_reason(doubled, "/dev/ttyS9") == (
        "cannot open port /dev/ttyS9: Input/output error"
    )


def test_unplugged_gun_is_reported_as_disconnected(tmp_path: Path) -> None:
    link = tmp_path / "gun"
    with Simulator("idle", speed=20, seed=3, link=link) as sim:
        rec = RecordProcess(tmp_path / "rec.log", "--port", str(link), "--db", str(tmp_path / "d"))
        try:
            rec.wait_for_text("link live")
            sim.unplug()
            rec.wait_for_text("link lost: ")
            sim.replug()
            assert rec.stop() == 0
        finally:
            rec.kill()
    lost = [line for line in rec.text().splitlines() if "link lost: " in line]
    assert lost and all("readiness to read" not in line for line in lost)
    assert f"link lost: gun disconnected from {link}; waiting for it to come back" in lost[0]


def test_no_gun_answering_gets_a_hint(tmp_path: Path) -> None:
    rec = RecordProcess(tmp_path / "rec.log", "--port", "loop://", "--db", str(tmp_path / "d"))
    try:
        rec.wait_for_text("no answer from a gun on loop://")
        assert rec.stop() == 0
    finally:
        rec.kill()
    hint = next(line for line in rec.text().splitlines() if "no answer from a gun" in line)
    assert "switched on" in hint and "--port" in hint and "115200 baud" in hint
