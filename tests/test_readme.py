"""The README's commands and examples stay true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from injector.cli.main import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_the_example_plan_file_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "clinic.sqlite3"
    example = ROOT / "docs" / "examples" / "cellulite-thighs.toml"
    assert main(["plan", "import", "--check", "--db", str(db), str(example)]) == 0
    assert main(["plan", "import", "--db", str(db), str(example)]) == 0
    capsys.readouterr()
    assert main(["plan", "show", "1", "--db", str(db)]) == 0
    assert "left thigh, lateral" in capsys.readouterr().out


def test_every_subcommand_the_readme_names_exists() -> None:
    commands = set(re.findall(r"^injector (\w+)", README, flags=re.MULTILINE))
    commands |= set(re.findall(r"; injector (\w+)", README))
    parser = build_parser()
    known = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert commands and commands <= known, commands - known
