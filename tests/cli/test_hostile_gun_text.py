"""A gun whose HELLO strings hold escape sequences: the recorder's lines and the session
listing show them escaped, never send them to the terminal; the record keeps them as sent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from injector.cli.main import main
from simulators import load_scenario
from simulators.runner import Simulator
from tests.cli.recording import RecordProcess, query
from tests.recorder.harness import wait_for

MODEL = "\x1b]0;pwned\x07"  # would set the terminal's title
SERIAL = "SN\x1b[2J42"  # would clear the screen


@pytest.mark.timeout(150)
def test_escape_sequences_in_hello_are_shown_not_obeyed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "hostile.scenario"
    scenario.write_text(f"device model={MODEL} serial={SERIAL}\nwait 600s\n", encoding="utf-8")
    assert load_scenario(scenario).gun.identity.serial == SERIAL
    db, link = tmp_path / "rec.db", tmp_path / "gun"
    with Simulator(str(scenario), speed=5, seed=3, link=link) as sim:
        sim.press_trigger(3)
        # Fired before recording began: counted in the session only when asked to.
        rec = RecordProcess(
            tmp_path / "record.log", "--port", str(link), "--db", str(db), "--include-earlier"
        )
        try:
            rec.wait_for_text("gun \\x1b]0;pwned\\x07 SN\\x1b[2J42")
            wait_for(lambda: query(db, "select count(*) from shot") == [(3,)], 60, "3 shots")
            assert rec.stop() == 0
        finally:
            rec.kill()
    output = rec.text()
    assert "\x1b" not in output and "\x07" not in output
    # The record keeps what the gun said, byte for byte.
    assert query(db, "select device_serial from treatment_session") == [(SERIAL,)]
    capsys.readouterr()
    assert main(["session", "list", "--db", str(db)]) == 0
    listing = capsys.readouterr().out
    assert "\x1b" not in listing and "SN\\x1b[2J42" in listing
    assert main(["session", "show", "1", "--db", str(db)]) == 0
    shown = capsys.readouterr().out
    assert "\x1b" not in shown and "\x07" not in shown
    assert "gun SN\\x1b[2J42 \\x1b]0;pwned\\x07" in shown
    # An export read on a terminal is shown escaped; redirected, it is the record as it is.
    argv = ["-m", "injector.cli.main", "export", "--format", "csv", "--db", str(db)]
    on_terminal = pexpect.spawn(sys.executable, argv, timeout=60)
    on_terminal.expect(pexpect.EOF)
    seen = on_terminal.before.decode("utf-8")
    assert "SN\\x1b[2J42" in seen and "\x1b" not in seen
    redirected = subprocess.run([sys.executable, *argv], capture_output=True, timeout=60)
    assert SERIAL.encode() in redirected.stdout
