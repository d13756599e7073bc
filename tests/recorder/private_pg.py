"""A PostgreSQL server of the test's own, on a free port, that the test may stop and start.

Never the shared server: a test that stops a database starts its own. Needs the server's
binaries (initdb, pg_ctl) and, as root, the ``postgres`` system user to run them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PrivateServer:
    """One initialised cluster in ``folder``, listening on 127.0.0.1:``port``."""

    bin: Path
    folder: Path
    port: int

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of its ``postgres`` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(
            command, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=60
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        # -l: the server's output goes to a file, not to pipes this process would wait on.
        log = str(self.folder / "server.log")
        self._run(
            "pg_ctl", "-D", str(self.folder / "data"), "-o", options, "-l", log, "-w", "start"
        )

    def stop(self) -> None:
        """Stop the server at once (connections are cut, as in a crash of the server)."""
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")


@pytest.fixture
def private_pg() -> Iterator[PrivateServer]:
    """Initialise and start a cluster of the test's own; stop and delete it afterwards.

    Its folder is made outside pytest's (root-only) temporary folders, so that the
    ``postgres`` user the server must run as can reach it.
    """
    binaries = _binaries()
    if binaries is None:
        pytest.skip("PostgreSQL's server binaries (pg_ctl, initdb) are not installed")
    folder = Path(tempfile.mkdtemp(prefix="injector-test-pg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        server = PrivateServer(binaries, folder, _free_port())
        try:
            server._run("initdb", "-D", str(folder / "data"), "-A", "trust", "-U", "postgres")
        except (subprocess.CalledProcessError, LookupError, OSError) as exc:
            pytest.skip(f"cannot initialise a private PostgreSQL server here: {exc}")
        server.start()
        try:
            yield server
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):
                server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
