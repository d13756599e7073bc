"""``injector record`` run as a real process against the simulator on a pseudo-terminal."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.recorder.harness import wait_for


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows of ``sql`` in the SQLite file ``db``; none while it is not created yet or busy."""
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []


class RecordProcess:
    """``injector record`` in a child process, its standard error in a log file."""

    def __init__(self, log: Path, *argv: str) -> None:
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "injector.cli.main", "record", *argv],
            stdin=subprocess.DEVNULL,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )

    def text(self) -> str:
        """Everything it has printed so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for_text(self, needle: str, timeout: float = 30.0) -> None:
        """Wait until ``needle`` has been printed (fails naming the output otherwise)."""
        try:
            wait_for(lambda: needle in self.text() or self.proc.poll() is not None, timeout, needle)
        except AssertionError:
            raise AssertionError(f"{needle!r} not printed; output:\n{self.text()}") from None
        assert needle in self.text(), f"{needle!r} not printed; output:\n{self.text()}"

    def stop(self, timeout: float = 30.0) -> int:
        """SIGINT, as Ctrl-C would; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        """Make sure the child is gone (after a failed test)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
