"""Files the program writes for the user (exports, reports, cut captures): one rule for all.

An output holds patient data, so it is created readable by the owner only (0600) whatever the
umask, written whole or not at all (a temporary file beside it, then renamed), and only ever
replaces a regular file: a device node, a FIFO, a directory or a symlink to one of those is
refused with one line, never replaced by a regular file.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


class OutputFileError(Exception):
    """An output path the program refuses or cannot write; the message is one line naming the
    option, the path and what to do."""


def check_output_path(path: Path, option: str = "--output") -> None:
    """Refuse ``path`` unless it is missing or a regular file, in a folder that exists."""
    directory = path.parent
    if not directory.is_dir():
        raise OutputFileError(f"{option}: the folder {directory} does not exist")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if path.is_symlink():
            raise OutputFileError(
                f"{option}: {path} is a symbolic link to nothing; name a regular file"
            ) from None
        return
    except OSError as exc:
        raise OutputFileError(f"{option}: cannot use {path}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise OutputFileError(
            f"{option}: {path} is not a regular file (a folder, device or pipe); "
            "name a file to create or replace"
        )


def write_private_file(path: Path, data: str | bytes, option: str = "--output") -> None:
    """Write ``data`` to ``path`` whole or not at all, 0600, replacing only a regular file."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with private_output(path, option) as handle:
        handle.write(payload)


@contextmanager
def private_output(path: Path, option: str = "--output") -> Iterator[BinaryIO]:
    """A binary file to stream an output into; on leaving, ``path`` is replaced by it whole.

    The same rule as :func:`write_private_file`, for outputs too large to hold in memory
    (a cut of a long capture): 0600, written beside ``path`` and renamed only when the block
    ends without an exception; on an exception nothing is left behind and ``path`` is as it
    was.
    """
    check_output_path(path, option)
    # Replace the file the link points at, not the link itself.
    target = path.resolve() if path.is_symlink() else path
    try:
        fd, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as exc:
        raise OutputFileError(
            f"{option}: cannot write in {target.parent}: {exc.strerror}"
        ) from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise OutputFileError(f"{option}: cannot write {path}: {exc.strerror}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
