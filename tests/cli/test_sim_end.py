"""``injector sim`` says when and why it ended, in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from injector.cli.main import main


def test_the_end_of_the_scenario_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "gun"
    code = main(
        ["sim", "--scenario", "demo", "--speed", "5000", "--seed", "4", "--link", str(link)]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert "ready at" in captured.out
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("scenario demo (")
    assert lines[0].endswith(f"shots fired) finished; the device at {link} is gone")
