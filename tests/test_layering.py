"""The layering of docs/ARCHITECTURE.md holds: the import contracts in .importlinter are kept,
and the commands that draw no screen never load Textual."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the contracts name the top-level packages of the checkout
    assert lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True) == 0


# Each command run for real (against an empty database, or failing at once on a missing port),
# so that what its handler imports is loaded too, not only its module.
_COMMANDS = [
    ["patient", "list"],
    ["plan", "show", "1"],
    ["session", "list"],
    ["session", "end", "1", "--by", "Dr X"],
    ["audit", "verify"],
    ["export", "--format", "json", "--output", "{tmp}/s.json"],
    ["record", "--port", "{tmp}/no-such-port"],
    ["sim", "--help"],
]

_PROBE = """
import json, sys
from injector.cli.main import main
from injector.storage.engine import open_database
open_database(sys.argv[2]).close()
for argv in json.loads(sys.argv[1]):
    try:
        main(argv)
    except SystemExit:
        pass
print(json.dumps(sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))))
"""


def test_commands_other_than_tui_and_demo_do_not_load_textual(tmp_path: Path) -> None:
    db = str(tmp_path / "clinic.db")
    runs = []
    for argv in _COMMANDS:
        args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
        runs.append(args if args[-1] == "--help" else [*args, "--db", db])
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(runs), db],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == [], f"these commands loaded Textual: {loaded[:5]}"
    # The commands did run, not stop at argument parsing: each refusal names its command.
    for command in ("plan", "session", "record"):
        assert f"injector {command}: " in done.stderr


def test_the_tui_command_does_load_textual_when_it_draws() -> None:
    # The probe above would pass vacuously if Textual were never importable from here.
    done = subprocess.run(
        [sys.executable, "-c", "import tui.app, sys; print('textual' in sys.modules)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.strip() == "True"
