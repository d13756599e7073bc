"""The chain anchor: the audit chain's length and head, kept beside the clinic key.

An editor of the database can delete the newest entries (or all of them) and leave a chain
that still links up. The anchor file, outside the database, remembers how long the chain was
and what its last entry's hash was; ``injector audit verify`` then finds the missing tail.

The anchor only ever moves forward along the same chain: it is advanced to a new head only
while the entry it names is still in the database with the same hash, so a rewritten chain
never overwrites the evidence. It may lag behind the database (it names only committed
entries, and a killed program leaves its last transaction unanchored), never run ahead.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ANCHOR_VERSION = 1


@dataclass(frozen=True, slots=True)
class ChainAnchor:
    """How many entries the chain had, and the id and hash of the last of them."""

    entries: int
    head_id: int | None
    head_hash: str
    key_id: str

    def describe(self) -> str:
        """One line to print in reports and sign-offs: length and the head's hash prefix."""
        return f"audit chain of {self.entries} entries, head {self.head_hash[:16]}"


class AnchorError(Exception):
    """The anchor file exists but cannot be read as an anchor."""


def read_anchor(path: Path) -> ChainAnchor | None:
    """The anchor stored at ``path`` (None if there is no file); :class:`AnchorError` if bad."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AnchorError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
        return ChainAnchor(
            entries=int(data["entries"]),
            head_id=None if data["head_id"] is None else int(data["head_id"]),
            head_hash=str(data["head_hash"]),
            key_id=str(data["key_id"]),
        )
    except (ValueError, KeyError, TypeError):
        raise AnchorError(f"{path} is not an audit chain anchor") from None


def advance_anchor(path: Path, step: Callable[[ChainAnchor | None], ChainAnchor | None]) -> bool:
    """Replace the anchor at ``path`` with ``step(current)``; returns whether it changed.

    ``step`` runs while a lock file keeps other programs sharing the anchor out; it returns
    None to leave the anchor as it is (the chain no longer holds the anchored head, or has not
    grown). The new text replaces the old atomically. An unreadable anchor is left alone.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    lock_fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        try:
            current = read_anchor(path)
        except AnchorError:
            # Torn by a power cut (it is not fsynced) or spoilt: start it again, as for a
            # missing one; verification has already been able to report it.
            current = None
        anchor = step(current)
        if anchor is None or (current is not None and anchor.entries <= current.entries):
            return False
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        try:
            # No fsync: this runs inside the writer's transaction, and an anchor that lags
            # after a power cut is tolerated; the rename keeps it whole for a killed program.
            os.write(fd, json.dumps({"version": ANCHOR_VERSION, **asdict(anchor)}).encode())
        finally:
            os.close(fd)
        os.replace(temporary, path)
        return True
    finally:
        os.close(lock_fd)
