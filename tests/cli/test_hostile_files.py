"""Hostile scenario and capture files given to ``injector sim``: one line each, never a hang
on a FIFO, never an endless read of a device, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from injector.cli.main import main
from protocols.igp1.capture import MAGIC
from simulators import ScenarioError, load_scenario
from simulators.scenario import MAX_SCENARIO_BYTES


def _sim_says(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["sim", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("injector sim: ")
    return err.removeprefix("injector sim: ").rstrip("\n")


@pytest.mark.timeout(60)
def test_scenario_files_that_are_no_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zero = tmp_path / "zero.scenario"
    zero.symlink_to("/dev/zero")
    fifo = tmp_path / "pipe.scenario"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.scenario"
    folder.mkdir()
    for path in (zero, fifo, folder):
        with pytest.raises(ScenarioError, match="not a regular file"):
            load_scenario(path)
        assert _sim_says(["--scenario", str(path)], capsys) == (
            f"{path}: cannot read scenario: not a regular file (a folder, device or pipe)"
        )


def test_scenario_files_too_large_or_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.scenario"
    with big.open("wb") as handle:
        handle.truncate(MAX_SCENARIO_BYTES * 5)
    assert _sim_says(["--scenario", str(big)], capsys) == (
        f"{big}: cannot read scenario: larger than 1000 kB; a scenario is a short text"
    )
    latin = tmp_path / "latin.scenario"
    latin.write_bytes(b"wait 1s\n# caf\xe9\n")
    assert _sim_says(["--scenario", str(latin)], capsys) == (
        f"{latin}:2: cannot read scenario: it is not UTF-8 text; save it as UTF-8"
    )


@pytest.mark.parametrize(
    ("step", "reason"),
    [
        ("trigger 99999999999", "99999999999 shots in one step is more than 100000"),
        (
            "device serial=ABCDEFGHIJKLMNOPQ",
            "'ABCDEFGHIJKLMNOPQ' is not 1–16 plain ASCII characters",
        ),
        ("set depth=65.5mm", "depth 65.5 mm is outside 0.1–13 mm"),
        ("set rate=999999", "rate 999999/min is above the gun's 600/min"),
        ("faults noise=nan", "probability nan is not between 0 and 1"),
        ("device battery=150", "battery 150% is outside 0–100%"),
        ("wait 1e400s", "'1e400s' is not a duration (like 500ms, 2s or 1.5min)"),
        ("loop", "loop needs a trigger or wait step before it to take time"),
    ],
)
def test_scenario_steps_with_absurd_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], step: str, reason: str
) -> None:
    path = tmp_path / "absurd.scenario"
    path.write_text(step + "\n", encoding="utf-8")
    assert _sim_says(["--scenario", str(path)], capsys) == f"{path}:1: {reason}"


@pytest.mark.timeout(60)
def test_capture_files_that_are_no_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zero = tmp_path / "zero.igpcap"
    zero.symlink_to("/dev/zero")
    fifo = tmp_path / "pipe.igpcap"
    os.mkfifo(fifo)
    for path in (zero, fifo, tmp_path):
        assert _sim_says(["--replay", str(path)], capsys) == (
            f"--replay {path} is not a regular file (a folder, device or pipe); name a file"
        )


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "is empty (0 bytes)"),
        (b"IGPCAP", "is not an IGP/1 capture file"),
        (b"hello world\n" * 10, "is not an IGP/1 capture file"),
        (MAGIC, "the capture holds no bytes from the device to replay"),
        (MAGIC + bytes(range(256)) * 8, "the capture holds no bytes from the device to replay"),
    ],
    ids=["empty", "short-magic", "text", "header-only", "header-then-garbage"],
)
def test_capture_files_that_are_no_captures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, says: str
) -> None:
    path = tmp_path / "hostile.igpcap"
    path.write_bytes(content)
    assert says in _sim_says(["--replay", str(path), "--link", str(tmp_path / "gun")], capsys)
    assert not (tmp_path / "gun").exists()
