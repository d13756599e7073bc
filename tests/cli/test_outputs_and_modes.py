"""Outputs never destroy what is there, patient files are private whatever the umask, and a
database this user may not write is read, not refused.

Device nodes are made in the test's own folder (a twin of /dev/full), never the real /dev.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from injector.cli.main import main
from injector.output_files import OutputFileError, write_private_file
from injector.storage.engine import DB_ENV_VAR

BORN = ["--born", "1985-04-12"]
NOBODY = 65534


@pytest.fixture(autouse=True)
def _no_env_db(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DB_ENV_VAR, raising=False)


@pytest.fixture
def umask_zero() -> Iterator[None]:
    """Run with umask 0, the worst a clinic's machine could have."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def _one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def _recorded_db(tmp_path: Path) -> Path:
    db = tmp_path / "clinic.db"
    assert (
        main(["patient", "add", "--id", "P-1", "--name", "Jane Doe", *BORN, "--db", str(db)]) == 0
    )
    return db


def _full_twin(folder: Path) -> Path:
    """A character device like /dev/full (1, 7), in ``folder``."""
    node = folder / "full"
    os.mknod(node, 0o600 | stat.S_IFCHR, os.makedev(1, 7))
    return node


def _export(db: Path, output: Path) -> list[str]:
    return ["export", "--format", "json", "--db", str(db), "--output", str(output)]


@pytest.mark.timeout(60)
def test_export_refuses_devices_fifos_folders_and_links_to_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _recorded_db(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    node = _full_twin(out)
    fifo = out / "pipe"
    os.mkfifo(fifo)
    link_to_node = out / "link-to-full"
    link_to_node.symlink_to(node)
    link_to_fifo = out / "link-to-pipe"
    link_to_fifo.symlink_to(fifo)
    dangling = out / "dangling"
    dangling.symlink_to(out / "nowhere" / "x")
    for target in (node, fifo, link_to_node, link_to_fifo, out):
        with pytest.raises(OutputFileError, match="is not a regular file"):
            write_private_file(target, "{}")
    with pytest.raises(OutputFileError, match="symbolic link to nothing"):
        write_private_file(dangling, "{}")
    assert stat.S_ISCHR(os.stat(node).st_mode) and os.stat(node).st_rdev == os.makedev(1, 7)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert link_to_node.is_symlink() and link_to_fifo.is_symlink()
    # Through the command: one line, before any work, and the node is still a node.
    for target in (node, link_to_node, fifo):
        err = _one_line(_export(db, target), capsys)
        assert err == (
            f"injector export: --output: {target} is not a regular file (a folder, device or "
            "pipe); name a file to create or replace\n"
        )
    assert stat.S_ISCHR(os.stat(node).st_mode)


def test_export_through_a_link_to_a_regular_file_replaces_the_file(
    tmp_path: Path, umask_zero: None
) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_private_file(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


def test_sim_link_refuses_to_replace_a_regular_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keep = tmp_path / "gun"
    keep.write_text("a file someone needs")
    err = _one_line(["sim", "--link", str(keep)], capsys)
    assert err.startswith(f"injector sim: --link {keep} already exists and is a file")
    assert keep.read_text() == "a file someone needs"
    folder = tmp_path / "folder"
    folder.mkdir()
    _one_line(["sim", "--link", str(folder)], capsys)
    assert folder.is_dir()


@pytest.mark.timeout(60)
def test_record_capture_refuses_a_fifo_and_a_device_without_waiting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "capture.igpcap"
    os.mkfifo(fifo)
    node = _full_twin(tmp_path)
    for target in (fifo, node, tmp_path):
        err = _one_line(
            [
                "record",
                "--port",
                "/dev/null",
                "--capture",
                str(target),
                "--db",
                str(tmp_path / "x.db"),
            ],
            capsys,
        )
        assert err.startswith(f"injector record: cannot write the capture file {target}: ")
        assert f"--capture: {target} is not a regular file" in err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and stat.S_ISCHR(os.stat(node).st_mode)


def test_patient_files_are_0600_and_folders_0700_whatever_the_umask(
    tmp_path: Path, umask_zero: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default location: every missing folder is created, each 0700.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data" / "home"))
    assert main(["patient", "add", "--id", "P-1", "--name", "Jane Doe", *BORN]) == 0
    default = tmp_path / "data" / "home" / "injector" / "injector.sqlite3"
    assert stat.S_IMODE(default.stat().st_mode) == 0o600
    for folder in (default.parent, default.parent.parent, default.parent.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    # A given path, an export and a capture file.
    db = _recorded_db(tmp_path)
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    capture = tmp_path / "session.igpcap"
    assert (
        main(
            [
                "record",
                "--port",
                str(tmp_path / "no-gun"),
                "--capture",
                str(capture),
                "--db",
                str(db),
            ]
        )
        == 2
    )
    assert stat.S_IMODE(capture.stat().st_mode) == 0o600
    export = tmp_path / "export.json"
    write_private_file(export, "{}")
    assert stat.S_IMODE(export.stat().st_mode) == 0o600


def test_an_empty_file_given_as_db_becomes_a_private_database(
    tmp_path: Path, umask_zero: None
) -> None:
    path = tmp_path / "clinic.db"
    path.touch(mode=0o666)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666
    assert (
        main(["patient", "add", "--id", "P-1", "--name", "Jane Doe", *BORN, "--db", str(path)]) == 0
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# A database this user may not write. Root writes anything, so these run the command as
# nobody, on a copy in a folder nobody may enter.


@pytest.fixture
def nobodys_folder() -> Iterator[Path]:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv (util-linux) to run a command as another user")
    probe = _as_nobody_raw("-c", "import injector.cli.main")
    if probe.returncode != 0:
        pytest.skip(
            "another user cannot run this checkout (it lies in a folder only its owner may "
            "enter, e.g. a private temporary folder); the test runs in a shared checkout"
        )
    folder = Path(tempfile.mkdtemp(prefix="injector-ro-"))
    os.chmod(folder, 0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def _as_nobody(*argv: str) -> subprocess.CompletedProcess[str]:
    return _as_nobody_raw("-m", "injector.cli.main", *argv)


def _as_nobody_raw(*python_args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"),
            *(sys.executable, *python_args),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": "/nonexistent"},
    )


@pytest.mark.parametrize("folder_writable", [False, True], ids=["folder-ro", "folder-rw"])
def test_a_read_only_database_is_read_and_writes_are_one_line(
    tmp_path: Path, nobodys_folder: Path, folder_writable: bool
) -> None:
    source = _recorded_db(tmp_path)
    db = nobodys_folder / "clinic.db"
    shutil.copy(source, db)
    os.chown(db, NOBODY, NOBODY)
    os.chmod(db, 0o444)
    # The clinic key and the chain's anchor go with the database (docs/audit.md), its owner's.
    for suffix in (".key", ".anchor"):
        companion = source.with_name(source.name + suffix)
        if companion.exists():
            copied = db.with_name(db.name + suffix)
            shutil.copy(companion, copied)
            os.chown(copied, NOBODY, NOBODY)
    if folder_writable:
        os.chmod(nobodys_folder, 0o777)
    before = db.read_bytes()

    listed = _as_nobody("patient", "list", "--db", str(db))
    assert (listed.returncode, listed.stdout, listed.stderr) == (
        0,
        "P-1\tJane Doe\t1985-04-12\n",
        "",
    )
    verified = _as_nobody("audit", "verify", "--db", str(db))
    assert verified.returncode == 0 and verified.stdout.startswith("audit trail intact")
    assert _as_nobody("session", "list", "--db", str(db)).stdout == "no sessions\n"

    added = _as_nobody("patient", "add", "--id", "P-2", "--name", "A B", *BORN, "--db", str(db))
    assert added.returncode == 2
    assert added.stderr == (
        f"injector patient: --db: {db} is read-only for you, and this command changes the "
        "record; ask for write access, or work on a copy you may write\n"
    )
    recorded = _as_nobody("record", "--port", "/dev/null", "--db", str(db))
    assert recorded.returncode == 2
    assert recorded.stderr == (
        f"injector record: --db: {db} is read-only for you; recording needs a database you "
        "may write\n"
    )
    assert db.read_bytes() == before
