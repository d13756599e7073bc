"""``injector ports``: serial ports from pyserial, and the simulated guns running now."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from serial.tools import list_ports

from injector.cli.main import main


def ports_json(capsys: pytest.CaptureFixture[str]) -> dict[str, list[dict[str, object]]]:
    assert main(["ports", "--format", "json"]) == 0
    listed: dict[str, list[dict[str, object]]] = json.loads(capsys.readouterr().out)
    return listed


def start_sim(link: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "injector.cli.main", "sim", "--link", str(link), "--seed", "9"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None and "ready at" in proc.stdout.readline()
    return proc


def test_serial_ports_are_pyserials_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    listed = ports_json(capsys)
    assert [p["device"] for p in listed["serial_ports"]] == sorted(
        p.device for p in list_ports.comports()
    )
    assert listed["simulated_guns"] == []
    assert main(["ports"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("serial ports:\n")
    assert "simulated guns (injector sim):\n  none running\n" in out


def test_running_simulators_are_listed_until_they_stop_or_die(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    env = {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path)}
    stopped, killed = tmp_path / "gun-a", tmp_path / "gun-b"
    procs = [start_sim(stopped, env), start_sim(killed, env)]
    try:
        guns = ports_json(capsys)["simulated_guns"]
        assert [(g["path"], g["pid"]) for g in guns] == [
            (str(stopped), procs[0].pid),
            (str(killed), procs[1].pid),
        ]
        assert all(g["pty"] == os.readlink(g["path"]) for g in guns)  # type: ignore[arg-type]
        assert guns[0]["what"] == "scenario idle, seed 9"
        assert main(["ports"]) == 0
        assert f"{stopped}" in capsys.readouterr().out

        procs[0].send_signal(signal.SIGTERM)
        assert procs[0].wait(20) == 0
        procs[1].kill()  # no chance to say it stopped
        procs[1].wait(20)
        assert ports_json(capsys)["simulated_guns"] == []
        assert list((tmp_path / "injector" / "sims").glob("*.json")) == []
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
