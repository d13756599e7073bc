"""A mistyped ``--db`` is refused in one line; it never becomes a new, empty record."""

from __future__ import annotations

from pathlib import Path

import pytest

from injector.cli.main import main
from injector.storage.engine import DB_ENV_VAR


@pytest.fixture(autouse=True)
def _no_env_db(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DB_ENV_VAR, raising=False)


@pytest.mark.parametrize(
    "argv",
    [
        ["patient", "list"],
        ["patient", "add", "--id", "P-1", "--name", "A B", "--born", "1990-01-02"],
        ["session", "list"],
        ["plan", "show", "1"],
        ["audit", "verify"],
        ["export", "--format", "json"],
        ["record", "--port", "/dev/null"],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_a_missing_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    path = tmp_path / "nonexistent" / "dir" / "x.db"
    assert main([*argv, "--db", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"injector {argv[0]}: --db: folder {path.parent} does not exist; "
        "create it first or check the path\n"
    )
    assert not (tmp_path / "nonexistent").exists()


@pytest.mark.parametrize(
    "argv",
    [["patient", "list"], ["session", "show", "1"], ["audit", "verify"], ["plan", "show", "1"]],
    ids=lambda argv: " ".join(argv),
)
def test_reading_commands_refuse_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    path = tmp_path / "typo.db"
    assert main([*argv, "--db", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"injector {argv[0]}: --db: there is no database file at {path}; check the path or "
        "pass --db with the clinic's database\n"
    )
    assert not path.exists()


def test_the_environment_variable_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "nope" / "x.db"
    monkeypatch.setenv(DB_ENV_VAR, str(path))
    assert main(["patient", "list"]) == 2
    assert capsys.readouterr().err.startswith(
        f"injector patient: ${DB_ENV_VAR}: folder {path.parent} does not exist"
    )


def test_writing_commands_create_a_new_file_in_an_existing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "new.db"
    argv = ["patient", "add", "--id", "P-1", "--name", "A B", "--born", "1990-01-02"]
    assert main([*argv, "--db", str(path)]) == 0
    assert main(["patient", "list", "--db", str(path)]) == 0
    assert "P-1\tA B\t1990-01-02" in capsys.readouterr().out
