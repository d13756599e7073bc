"""Capture files: every byte exchanged with a gun, timestamped, for replay and investigation.

One module writes and reads the format, for the recorder (which writes), the simulator's
replay and the technician's tools (which read).

Format (all integers little-endian)::

    file   := header record*
    header := b"IGPCAP\\x00\\x01"                      8 bytes: magic and format version 1
    record := kind:u8 reserved:u8 length:u16 mono_ns:i64 wall_ns:i64 crc:u32 data[length]

``kind`` is :class:`RecordKind`: bytes received from the device, bytes sent to it, or a port
opened/closed marker whose data is UTF-8 text. ``mono_ns`` is a monotonic clock (for pacing a
replay), ``wall_ns`` Unix time in nanoseconds (for the record). ``crc`` is the CRC-32 of the
record header's first 20 bytes followed by ``data``, so a torn or zero-filled tail left by a
crash is recognised. The file is only ever appended to and is flushed after every record;
after a crash it reads back up to the last whole record.

What the recorder (``injector record --capture FILE``, :class:`injector.driver.Driver`) writes:
an OPEN record each time it opens the port (``"PORT at BAUD baud"``), one RX record per read
from the port (the bytes exactly as read, noise and broken frames included), one TX record
per frame it sends (IDENT_REQ, RESEND_REQ, LOCK), and a CLOSE record with the reason when the
port fails, goes silent or is closed. A file may hold several OPEN…CLOSE spans (reconnects,
or several runs appended to the same file).
"""

from __future__ import annotations

import contextlib
import enum
import os
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"IGPCAP\x00\x01"
_RECORD = struct.Struct("<BBHqqI")
_CRC_COVERS = 20  # kind, reserved, length, mono_ns, wall_ns
MAX_RECORD_DATA = 0xFFFF


class RecordKind(enum.IntEnum):
    """What a capture record holds."""

    RX = 1
    """Bytes received from the device."""
    TX = 2
    """Bytes sent to the device."""
    OPEN = 3
    """The port was opened; data is the port name."""
    CLOSE = 4
    """The port was closed or lost; data is the reason."""


_KINDS = frozenset(int(k) for k in RecordKind)


@dataclass(frozen=True, slots=True)
class CaptureRecord:
    """One record of a capture file."""

    kind: RecordKind
    mono_ns: int
    wall_ns: int
    data: bytes


class CaptureError(Exception):
    """A file that is not a capture, or that cannot be read at all."""


class CaptureWriter:
    """Appends records to a capture file; safe to call from several threads.

    Each record goes to the file in one ``write`` straight to the descriptor (no buffer to lose
    at a crash). A write that fails (a full disk, an I/O error) is cut back to the last whole
    record and raised, and the writer stays usable: once there is room again, the next record
    is appended after the last whole one, so the file never holds an unreadable record in the
    middle. ``failed_records`` counts what could not be written.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.failed_records = 0
        """Records lost to write errors (the file has a gap there, not a torn record)."""
        # A capture holds a patient's procedure, shot by shot: a new file is readable by its
        # owner only (0600), like the database and the exports. An existing file keeps its mode.
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            self._size = os.fstat(self._fd).st_size
            if self._size == 0:
                self._append(MAGIC)
            else:
                _check_magic(self.path)
        except BaseException:
            os.close(self._fd)
            self._fd = None
            raise

    def write(
        self,
        kind: RecordKind,
        data: bytes,
        mono_ns: int | None = None,
        wall_ns: int | None = None,
    ) -> None:
        """Append one record (split if ``data`` exceeds 65535 bytes); ``OSError`` if it failed."""
        mono = time.monotonic_ns() if mono_ns is None else mono_ns
        wall = time.time_ns() if wall_ns is None else wall_ns
        pieces = []
        for offset in range(0, max(len(data), 1), MAX_RECORD_DATA):
            piece = data[offset : offset + MAX_RECORD_DATA]
            head = _RECORD.pack(kind, 0, len(piece), mono, wall, 0)[:_CRC_COVERS]
            crc = zlib.crc32(piece, zlib.crc32(head))
            pieces.append(head + struct.pack("<I", crc) + piece)
        with self._lock:
            try:
                self._append(b"".join(pieces))
            except OSError:
                self.failed_records += len(pieces)
                raise

    def _append(self, blob: bytes) -> None:
        fd = self._fd
        if fd is None:
            raise ValueError(f"capture {self.path} is closed")
        done = 0
        try:
            while done < len(blob):
                done += os.write(fd, blob[done:])
        except OSError:
            if done:
                # Never leave half a record: the next one would be unreadable after it.
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, self._size)
            raise
        self._size += done

    def note(self, kind: RecordKind, text: str) -> None:
        """Append an OPEN or CLOSE marker with a short text."""
        self.write(kind, text.encode("utf-8", "replace"))

    def close(self) -> OSError | None:
        """Make the file durable on disk and close it; returns the error if syncing failed.

        Every whole record is already in the file; a failing sync (a full or failing disk at
        the end of a recording) is reported, never raised, so stopping always completes.
        """
        with self._lock:
            fd, self._fd = self._fd, None
            if fd is None:
                return None
            try:
                os.fsync(fd)
            except OSError as exc:
                return exc
            finally:
                os.close(fd)
            return None

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_magic(path: Path) -> None:
    with open(path, "rb") as f:
        magic = f.read(len(MAGIC))
    if magic != MAGIC:
        raise CaptureError(
            f"{path} is not an IGP/1 capture file (it does not start with the capture header)"
        )


class CaptureReader:
    """Reads a capture file record by record.

    A file that is not a capture raises :class:`CaptureError`. A damaged or truncated tail stops
    the iteration at the last whole record and leaves a description in :attr:`damage`, so a
    caller can replay what is good and warn about the rest.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.damage: str | None = None
        self.records_read = 0
        try:
            _check_magic(self.path)
        except OSError as exc:
            raise CaptureError(f"cannot read capture {self.path}: {exc.strerror or exc}") from None

    def __iter__(self) -> Iterator[CaptureRecord]:
        self.damage = None
        self.records_read = 0
        with open(self.path, "rb") as f:
            f.seek(len(MAGIC))
            offset = len(MAGIC)
            while True:
                head = f.read(_RECORD.size)
                if not head:
                    return
                if len(head) < _RECORD.size:
                    self.damage = f"truncated record header at byte {offset}"
                    return
                kind, _reserved, length, mono, wall, crc = _RECORD.unpack(head)
                data = f.read(length)
                if len(data) < length:
                    self.damage = f"truncated record at byte {offset}"
                    return
                intact = zlib.crc32(data, zlib.crc32(head[:_CRC_COVERS])) == crc
                if not intact or kind not in _KINDS:
                    self.damage = f"corrupt record at byte {offset}"
                    return
                self.records_read += 1
                offset += _RECORD.size + length
                yield CaptureRecord(RecordKind(kind), mono, wall, data)
