"""Wrong and extreme arguments: each is one clear line, never a traceback, never SQL, never a
hang. Ids, baud rates and speed factors are bounded by one argument type each."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy.exc import DataError

from injector.cli import patient as patient_cli
from injector.cli.arguments import MAX_RECORD_ID
from injector.cli.main import DEBUG_ENV_VAR, EXIT_SOFTWARE, main
from injector.cli.terminal_text import terminal_safe
from injector.storage.engine import DB_ENV_VAR
from simulators import Simulator
from simulators.runner import MAX_SPEED

BORN = ["--born", "1985-04-12"]


@pytest.fixture(autouse=True)
def _no_env_db(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DB_ENV_VAR, raising=False)
    monkeypatch.delenv(DEBUG_ENV_VAR, raising=False)


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The error line argparse prints for ``argv`` (exit 2); no traceback, no SQL."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "SELECT" not in err
    return err.strip().splitlines()[-1]


def _one_line(argv: list[str], capsys: pytest.CaptureFixture[str], code: int = 2) -> str:
    """What ``main(argv)`` prints on standard error: one line, the given exit code."""
    assert main(argv) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err and "SELECT" not in err and "[SQL" not in err
    return err


ID_COMMANDS = [
    ["session", "show", "{id}"],
    ["session", "end", "{id}", "--by", "Dr A"],
    ["session", "sign", "{id}", "--name", "Dr A"],
    ["session", "amend", "{id}", "--reason", "typo", "--set", "notes=x"],
    ["session", "adverse", "{id}", "--kind", "pain", "--severity", "mild", "--onset", "now"],
    ["session", "list", "--plan", "{id}"],
    ["plan", "show", "{id}"],
    ["record", "--port", "/dev/null", "--plan", "{id}"],
]


@pytest.mark.parametrize("argv", ID_COMMANDS, ids=lambda a: " ".join(a[:2]))
@pytest.mark.parametrize("value", [str(2**63), str(2**31), "0", "-1", "1e3", "seven"])
def test_an_id_out_of_range_is_refused_before_any_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], value: str
) -> None:
    db = tmp_path / "x.db"
    line = _usage_error([a.replace("{id}", value) for a in argv] + ["--db", str(db)], capsys)
    assert "is not an id" in line
    assert not db.exists()


def test_the_largest_id_is_looked_up_and_not_found(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["patient", "add", "--id", "P-1", "--name", "A B", *BORN, "--db", db_url]) == 0
    capsys.readouterr()
    top = str(MAX_RECORD_ID)
    assert "there is no session" in _one_line(["session", "show", top, "--db", db_url], capsys)
    assert "no treatment plan" in _one_line(["plan", "show", top, "--db", db_url], capsys)
    assert "there is no session" in _one_line(
        ["export", "--format", "json", "--session", top, "--db", db_url], capsys
    )
    err = _one_line(["export", "--format", "json", "--session", str(2**31), "--db", db_url], capsys)
    assert err.startswith("injector export: --session: 2147483648 is not a session id")


@pytest.mark.parametrize("baud", ["4000000000", "2147483648", "0", "-1", "49", "fast", "1e5"])
def test_record_refuses_a_baud_rate_out_of_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], baud: str
) -> None:
    line = _usage_error(
        ["record", "--port", "/dev/null", "--baud", baud, "--db", str(tmp_path / "x.db")], capsys
    )
    assert line.endswith(
        f"argument --baud: {baud} is not a baud rate; give a whole number from 50 to 12000000 "
        "(the gun uses 115200 or 921600)"
    )


@pytest.mark.parametrize("baud", ["4000000000", "2147483648", "-1", "fast"])
def test_sim_refuses_a_baud_rate_out_of_range(
    capsys: pytest.CaptureFixture[str], baud: str
) -> None:
    err = _one_line(["sim", "--baud", baud], capsys)
    assert err.startswith(f"injector sim: --baud {baud} is not a baud rate; give a whole number")


@pytest.mark.parametrize("speed", ["1e6", "10001", "inf", "nan", "0", "-3"])
def test_sim_and_demo_refuse_a_speed_out_of_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], speed: str
) -> None:
    err = _one_line(["sim", "--speed", speed], capsys)
    assert err.startswith(f"injector sim: --speed {speed} is ")
    line = _usage_error(["demo", "--speed", speed, "--db", str(tmp_path / "x.db")], capsys)
    assert f"argument --speed: {speed} is " in line
    assert not (tmp_path / "x.db").exists()
    if speed == "1e6":
        assert "above the fastest factor, 10000; use 'max'" in err


def test_the_simulator_itself_refuses_a_speed_above_its_fastest() -> None:
    with pytest.raises(ValueError, match="above the fastest factor"):
        Simulator("idle", speed=MAX_SPEED * 10)
    with Simulator("idle", speed=MAX_SPEED) as sim, pytest.raises(ValueError):
        sim.set_speed(1e6)


@pytest.mark.timeout(120)
def test_sim_at_its_fastest_factor_stops_on_sigterm(tmp_path: Path) -> None:
    link = tmp_path / "gun"
    proc = subprocess.Popen(
        [sys.executable, "-m", "injector.cli.main", "sim", "--speed", "10000", "--link", str(link)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert "ready at" in proc.stdout.readline()
        proc.send_signal(signal.SIGTERM)
        # Generous: the machine is shared; the point is that it ends at all.
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not link.exists()


def test_terminal_safe_shows_control_characters_instead_of_sending_them() -> None:
    assert terminal_safe("MG\x1b]0;owned\x07-400") == "MG\\x1b]0;owned\\x07-400"
    assert terminal_safe("a\x9bb\rc\nd\u202ee") == "a\\x9bb\\x0dc\\x0ad\\u202ee"
    assert terminal_safe("col\tcol", keep="\t") == "col\tcol"
    assert terminal_safe("Zoë Ñúñez 李") == "Zoë Ñúñez 李"


def test_a_name_with_an_escape_sequence_is_refused_at_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "x.db"
    err = _one_line(
        ["patient", "add", "--id", "P-1", "--name", "Jane\x1b[2J Doe", *BORN, "--db", str(db)],
        capsys,
    )
    assert err == ("injector patient: name: holds control characters (U+001B); type plain text\n")
    err = _one_line(
        [
            "patient",
            "add",
            "--id",
            "P-1",
            "--name",
            "A B",
            *BORN,
            "--by",
            "Dr\x1b]0;x\x07",
            "--db",
            str(db),
        ],
        capsys,
    )
    assert err.startswith("injector patient: --by: holds control characters (U+001B, U+0007)")


def _one_patient(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A database file holding one patient, P-1."""
    db = tmp_path / "x.db"
    assert main(["patient", "add", "--id", "P-1", "--name", "A B", *BORN, "--db", str(db)]) == 0
    capsys.readouterr()
    return db


def test_names_already_in_the_record_reach_the_terminal_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _one_patient(tmp_path, capsys)
    # As another program (or an older version) might have written it.
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE patient SET name = ? WHERE identifier = 'P-1'", ("X\x1b]2;pwn\x07Y",))
    assert main(["patient", "list", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert out == "P-1\tX\\x1b]2;pwn\\x07Y\t1985-04-12\n"


def test_an_unexpected_error_is_one_line_without_its_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _one_patient(tmp_path, capsys)

    def broken(*_args: object) -> None:
        raise RuntimeError("Jane Doe, born 1985-04-12, allergic to lidocaine")

    monkeypatch.setattr(patient_cli, "find_patients", broken)
    err = _one_line(["patient", "list", "--db", str(db)], capsys, code=EXIT_SOFTWARE)
    assert "Jane" not in err and "lidocaine" not in err
    assert err.startswith("injector patient: unexpected error (RuntimeError at test_bad_input.py:")
    assert f"{DEBUG_ENV_VAR}=1" in err
    # On the clinic's own machine, the traceback is there for the asking.
    monkeypatch.setenv(DEBUG_ENV_VAR, "1")
    with pytest.raises(RuntimeError, match="Jane Doe"):
        main(["patient", "list", "--db", str(db)])


def test_a_database_error_is_one_line_without_the_statement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _one_patient(tmp_path, capsys)

    def refused(*_args: object) -> None:
        raise DataError(
            "SELECT patient.name FROM patient WHERE patient.name = %(name)s",
            {"name": "Jane Doe"},
            ValueError('value "Jane Doe" is out of range'),
        )

    monkeypatch.setattr(patient_cli, "find_patients", refused)
    err = _one_line(["patient", "list", "--db", str(db)], capsys, code=EXIT_SOFTWARE)
    assert "Jane" not in err and "patient.name" not in err
    assert err.startswith("injector patient: the database refused the request (ValueError at ")


# --db: every way of naming the wrong thing is one line, and changes nothing.


def test_db_at_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["patient", "list"], ["patient", "add", "--id", "P", "--name", "A", *BORN]):
        err = _one_line([*argv, "--db", str(tmp_path)], capsys)
        assert err == (
            f"injector patient: --db: {tmp_path} is a folder; name a database file "
            f"(e.g. {tmp_path / 'injector.sqlite3'})\n"
        )


@pytest.mark.parametrize(
    "content",
    [b"hello, this is a text file\n", bytes(range(256)) * 40],
    ids=["text", "binary"],
)
def test_db_at_a_file_that_is_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    for argv in (["patient", "list"], ["patient", "add", "--id", "P", "--name", "A", *BORN]):
        err = _one_line([*argv, "--db", str(path)], capsys)
        assert err.startswith(f"injector patient: cannot open the database at sqlite:///{path}: ")
        assert "file is not a database" in err
    assert path.read_bytes() == content


def test_db_at_another_programs_sqlite_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "places.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    before = path.read_bytes()
    err = _one_line(
        ["patient", "add", "--id", "P", "--name", "A", *BORN, "--db", str(path)], capsys
    )
    assert "holds another program's tables (moz_places), not an injector record" in err
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://user@localhost/clinic", "unsupported database 'mysql'"),
        ("foo://bar/baz", "unsupported database 'foo'"),
        (
            "postgresql+psycopg://postgres@no-such-host.invalid:5432/clinic",
            "failed to resolve host 'no-such-host.invalid'",
        ),
        ("postgresql+psycopg://postgres@127.0.0.1:9/clinic", "Connection refused"),
        ("sqlite://", "an in-memory SQLite database cannot be shared"),
    ],
)
def test_db_url_of_an_unknown_scheme_or_host(
    capsys: pytest.CaptureFixture[str], url: str, expected: str
) -> None:
    err = _one_line(["patient", "list", "--db", url], capsys)
    assert err.startswith("injector patient: ") and expected in err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["session", "show", "42"], "injector session: session: there is no session 42\n"),
        (["session", "end", "42", "--by", "Dr A"], "injector session: there is no session 42 in "),
        (["session", "sign", "42", "--name", "Dr A"], "injector session: session: there is no "),
        (
            ["session", "amend", "42", "--reason", "typo", "--set", "notes=x", "--by", "Dr X"],
            "injector session: session: there is no session 42\n",
        ),
        (
            [
                "session",
                "adverse",
                "42",
                "--kind",
                "pain",
                "--severity",
                "mild",
                "--onset",
                "2026-01-01T10:00+00:00",
            ],
            "injector session: session: there is no session 42\n",
        ),
        (["plan", "show", "42"], "injector plan: plan: there is no treatment plan 42\n"),
        (["export", "--format", "csv", "--session", "42"], "injector export: --session: there is "),
        (["record", "--port", "/dev/null", "--plan", "42"], "injector record: there is no "),
        (
            [
                "plan",
                "add",
                "--patient",
                "NOPE",
                "--indication",
                "cellulite",
                "--product",
                "X",
                "--lot",
                "L",
                "--expiry",
                "2035-01-01",
                "--sessions",
                "4",
                "--zone",
                "name=z,area=thighs,technique=nappage,depth=2,volume=0.05,points=4",
            ],
            "injector plan: --patient: there is no patient with identifier NOPE\n",
        ),
    ],
    ids=lambda v: " ".join(v[:2]) if isinstance(v, list) else "",
)
def test_ids_that_do_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    db = _one_patient(tmp_path, capsys)
    assert _one_line([*argv, "--db", str(db)], capsys).startswith(says)


@pytest.mark.parametrize(
    "argv",
    [
        ["patient", "add", "--id", "P-1", "--born", "1985-04-12"],
        ["plan", "add", "--patient", "P-1"],
        ["plan", "import"],
        ["plan", "show"],
        ["session", "show"],
        ["session", "end", "1"],
        ["session", "sign", "1"],
        ["session", "amend", "1"],
        ["session", "adverse", "1", "--kind", "pain"],
        ["session", "lot"],
        ["record"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_missing_arguments_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    line = _usage_error([*argv, "--db", str(tmp_path / "x.db")], capsys)
    assert "the following arguments are required" in line
    assert not (tmp_path / "x.db").exists()


def test_export_without_a_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = _one_patient(tmp_path, capsys)
    assert _one_line(["export", "--db", str(db)], capsys) == (
        "injector export: --format: say which format to write "
        "(json, csv, adverse-events-csv, fhir)\n"
    )


ZONE = "name=z,area=thighs,technique=nappage,depth=2,volume=0.05,points=4"
PLAN_ADD = [
    *("plan", "add", "--patient", "P-1", "--indication", "cellulite", "--product", "X"),
    *("--lot", "L", "--expiry", "2035-01-01", "--sessions", "4"),
]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (
            [*PLAN_ADD, "--zone", ZONE, "--max-session-ml", "nan"],
            "--max-session-ml: must be a finite number (got NaN)",
        ),
        (
            [*PLAN_ADD, "--zone", ZONE.replace("depth=2", "depth=inf")],
            '--zone 1 depth=: must be a finite number (got "inf")',
        ),
        (
            [*PLAN_ADD, "--zone", ZONE.replace("points=4", "points=" + "9" * 5000)],
            "--zone 1 points=: is far too large a number",
        ),
        (
            ["patient", "add", "--id", "P-2", "--name", "a" * 300, *BORN],
            "name: is longer than 200 characters",
        ),
        (
            ["patient", "add", "--id", " ", "--name", "A", *BORN],
            "--id (identifier): required",
        ),
        (
            ["session", "adverse", "1", "--kind", "pain", "--severity", "mild", "--onset", "soon"],
            "onset: 'soon' is not a time: use YYYY-MM-DDTHH:MM with its zone",
        ),
    ],
    ids=["nan-volume", "inf-depth", "5000-digit-points", "long-name", "blank-id", "bad-onset"],
)
def test_option_values_are_refused_in_plain_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    db = _one_patient(tmp_path, capsys)
    err = _one_line([*argv, "--db", str(db)], capsys)
    assert err.startswith(f"injector {argv[0]}: {says}")


def test_an_unknown_session_status_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _one_patient(tmp_path, capsys)
    line = _one_line(["session", "list", "--status", "garbage", "--db", str(db)], capsys)
    assert "'garbage' is not a session status" in line and "in progress" in line


def test_a_thread_that_dies_says_so_in_one_line_without_its_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _one_patient(tmp_path, capsys)

    def crash() -> None:
        raise RuntimeError("notes of Jane Doe: allergic to lidocaine")

    def listed_with_a_dying_thread(*_args: object) -> list[object]:
        worker = threading.Thread(target=crash, name="worker")
        worker.start()
        worker.join()
        return []

    monkeypatch.setattr(patient_cli, "find_patients", listed_with_a_dying_thread)
    assert main(["patient", "list", "--db", str(db)]) == 0
    err = capsys.readouterr().err
    assert "Jane" not in err and "lidocaine" not in err and "Traceback" not in err
    assert err.startswith("injector patient: worker stopped: unexpected error (RuntimeError at ")
    assert err.count("\n") == 1


@pytest.mark.timeout(60)
def test_db_at_a_fifo_or_a_link_to_a_device(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "clinic.db"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.db"
    zero.symlink_to("/dev/zero")
    for path in (fifo, zero):
        for argv in (["patient", "list"], ["patient", "add", "--id", "P", "--name", "A", *BORN]):
            assert _one_line([*argv, "--db", str(path)], capsys) == (
                f"injector patient: --db: {path} is not a regular file (a device or pipe); "
                "name a database file\n"
            )
