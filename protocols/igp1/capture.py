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
crash, or bytes overwritten anywhere, are recognised. The file is only ever appended to and is
flushed after every record.

Damage costs only the damaged records: after a record that does not check out, the reader
searches forward, byte by byte, for the next whole record (a header whose kind is known, whose
reserved byte is 0 and whose CRC matches) and carries on from there, reporting each unreadable
span as a :class:`Damage`. A writer opening a file whose last record was torn by a crash cuts
that unfinished record off (and says so) before appending, so the file stays readable to the
end; more than one record's worth of unreadable tail is refused instead.

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
import re
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

MAGIC = b"IGPCAP\x00\x01"
_RECORD = struct.Struct("<BBHqqI")
RECORD_HEADER_SIZE = _RECORD.size
"""Bytes of a record before its data."""
_CRC_COVERS = 20  # kind, reserved, length, mono_ns, wall_ns
_CRC = struct.Struct("<I")
MAX_RECORD_DATA = 0xFFFF
MAX_RECORD_SIZE = RECORD_HEADER_SIZE + MAX_RECORD_DATA
"""The largest record: an unfinished write can leave at most this many bytes."""
_BLOCK = 1 << 20
"""How much the reader reads at a time: the file is streamed, never loaded whole."""


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


_KINDS = tuple(RecordKind)
# Where a record may start: a known kind followed by the reserved byte, which is always 0.
_CANDIDATE = re.compile(b"[" + bytes([min(_KINDS), ord("-"), max(_KINDS)]) + b"]\x00")


@dataclass(frozen=True, slots=True)
class CaptureRecord:
    """One record of a capture file; ``offset`` is where it starts in the file."""

    kind: RecordKind
    mono_ns: int
    wall_ns: int
    data: bytes
    offset: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class Damage:
    """A span of a capture file that holds no whole record."""

    offset: int
    """First unreadable byte."""
    length: int
    """Bytes skipped before the next whole record (or the end of the file)."""
    reason: str
    """``truncated record header``, ``truncated record`` or ``corrupt record``."""
    at_end: bool
    """True when nothing whole follows: the tail of the file."""

    def __str__(self) -> str:
        where = "to the end of the file" if self.at_end else "before the next whole record"
        return f"{self.reason} at byte {self.offset} ({self.length:,} bytes unreadable {where})"


class CaptureError(Exception):
    """A file that is not a capture, or that cannot be read at all."""


def _check_start(path: Path, start: bytes, size: int) -> None:
    """Refuse a file that does not begin with the capture header, saying what it is instead."""
    if size == 0:
        raise CaptureError(f"{path} is empty (0 bytes): no capture was ever written to it")
    if start != MAGIC:
        raise CaptureError(
            f"{path} is not an IGP/1 capture file (it does not start with the capture header)"
        )


def _whole_record_at(buf: bytes | bytearray, pos: int) -> int:
    """The size of the whole, intact record starting at ``buf[pos]``, or 0 if there is none."""
    if len(buf) - pos < RECORD_HEADER_SIZE:
        return 0
    kind, reserved, length, _mono, _wall, crc = _RECORD.unpack_from(buf, pos)
    size: int = RECORD_HEADER_SIZE + length
    if kind not in _KINDS or reserved or len(buf) - pos < size:
        return 0
    head = zlib.crc32(memoryview(buf)[pos : pos + _CRC_COVERS])
    if zlib.crc32(memoryview(buf)[pos + RECORD_HEADER_SIZE : pos + size], head) != crc:
        return 0
    return size


def whole_end(path: str | Path) -> tuple[int, int]:
    """``(end of the last whole record, file size)``, reading only the file's tail.

    The last record is found by looking for intact records in the last two maximum record
    sizes; when none ends there, only a full read could say more, and the caller must not
    treat the tail as one unfinished write. Raises ``OSError``.
    """
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        window = min(size - len(MAGIC), 2 * MAX_RECORD_SIZE)
        if window <= 0:
            return len(MAGIC), size
        f.seek(size - window)
        tail = f.read(window)
    base = size - window
    end = len(MAGIC) if base == len(MAGIC) else base
    for match in _CANDIDATE.finditer(tail):
        found = _whole_record_at(tail, match.start())
        if found:
            end = max(end, base + match.start() + found)
    return end, size


def encode_record(kind: RecordKind, data: bytes, mono_ns: int, wall_ns: int) -> bytes:
    """The bytes of one record (several, all with the same times, if ``data`` exceeds 65535
    bytes), ready to append to a capture."""
    out = bytearray()
    for offset in range(0, max(len(data), 1), MAX_RECORD_DATA):
        piece = data[offset : offset + MAX_RECORD_DATA]
        head = _RECORD.pack(kind, 0, len(piece), mono_ns, wall_ns, 0)[:_CRC_COVERS]
        crc = zlib.crc32(piece, zlib.crc32(head))
        out += head
        out += _CRC.pack(crc)
        out += piece
    return bytes(out)


class CaptureWriter:
    """Appends records to a capture file; safe to call from several threads.

    An existing file whose last record was left unfinished by a crash (at most one record's
    worth of bytes after the last whole record) is cut back to its last whole record, and
    :attr:`repaired` says so in one line; a file with a longer unreadable tail, or that is not
    a capture, raises :class:`CaptureError` and is left untouched.

    Each record goes to the file in one ``write`` straight to the descriptor (no buffer to lose
    at a crash). A write that fails (a full disk, an I/O error) is cut back to the last whole
    record and raised, and the writer stays usable: once there is room again, the next record
    is appended after the last whole one, so the file never holds an unreadable record in the
    middle. :attr:`failed_records` counts what could not be written.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.repaired: str | None = None
        """One line saying what was cut from a torn tail before appending, if anything."""
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
                self._repair_tail(self._fd)
        except BaseException:
            os.close(self._fd)
            self._fd = None
            raise

    def _repair_tail(self, fd: int) -> None:
        with open(self.path, "rb") as f:
            start = f.read(len(MAGIC))
        _check_start(self.path, start, len(start))
        end, size = whole_end(self.path)
        torn = size - end
        if torn == 0:
            return
        if torn > MAX_RECORD_SIZE:
            raise CaptureError(
                f"{self.path} ends with {torn:,} bytes that are not whole records, more than "
                f"an unfinished write leaves; `injector capture check {self.path}` shows the "
                "damage"
            )
        os.ftruncate(fd, end)
        os.fsync(fd)
        self._size = end
        self.repaired = (
            f"{self.path}: cut off an unfinished record ({torn:,} bytes) left at its end by an "
            f"interrupted recording; appending after its last whole record at byte {end:,}"
        )

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
        blob = encode_record(kind, data, mono, wall)
        with self._lock:
            try:
                self._append(blob)
            except OSError:
                self.failed_records += 1
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


class CaptureReader:
    """Reads a capture file record by record, streaming it in blocks.

    A file that is not a capture (or is empty) raises :class:`CaptureError`. Damage anywhere
    costs only the damaged records: the reader resynchronises on the next whole record, lists
    every unreadable span in :attr:`damages` and sums them up in :attr:`damage`, so a caller
    can use what is good and warn about the rest.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.damage: str | None = None
        """One line describing the damage found by the last full iteration, or ``None``."""
        self.damages: list[Damage] = []
        """Every unreadable span found so far, in file order."""
        self.records_read = 0
        self.size = 0
        """The file's size in bytes when it was opened."""
        try:
            with open(self.path, "rb") as f:
                self.size = os.fstat(f.fileno()).st_size
                start = f.read(len(MAGIC))
        except OSError as exc:
            raise CaptureError(f"cannot read capture {self.path}: {exc.strerror or exc}") from None
        _check_start(self.path, start, self.size)

    @property
    def damaged_bytes(self) -> int:
        """Bytes of the file that belong to no whole record."""
        return sum(d.length for d in self.damages)

    def __iter__(self) -> Iterator[CaptureRecord]:
        self.damage = None
        self.damages = []
        self.records_read = 0
        try:
            with open(self.path, "rb") as f:
                f.seek(len(MAGIC))
                yield from self._records(f)
        except OSError as exc:
            raise CaptureError(f"cannot read capture {self.path}: {exc.strerror or exc}") from None
        self.damage = self._summary()

    def _summary(self) -> str | None:
        if not self.damages:
            return None
        if len(self.damages) == 1:
            return str(self.damages[0])
        return (
            f"{len(self.damages)} damaged spans, {self.damaged_bytes:,} bytes unreadable; "
            f"the first: {self.damages[0]}"
        )

    def _records(self, f: BinaryIO) -> Iterator[CaptureRecord]:
        unpack_from = _RECORD.unpack_from
        crc32 = zlib.crc32
        kinds = {int(k): k for k in RecordKind}
        header = RECORD_HEADER_SIZE
        buf = f.read(_BLOCK)
        base = len(MAGIC)  # file offset of buf[0]
        pos = 0
        eof = len(buf) < _BLOCK
        bad_at: int | None = None  # file offset where the current unreadable span began
        bad_reason = ""
        while True:
            avail = len(buf) - pos
            if avail < MAX_RECORD_SIZE and not eof:
                # Keep at least one maximal record in hand, so a record never straddles blocks.
                more = f.read(_BLOCK)
                eof = len(more) < _BLOCK
                base += pos
                buf = buf[pos:] + more
                pos = 0
                continue
            if avail == 0:
                break
            size = 0
            if avail >= header:
                kind, reserved, length, mono, wall, crc = unpack_from(buf, pos)
                size = header + length
                if kind in kinds and not reserved and size <= avail:
                    view = memoryview(buf)
                    head = crc32(view[pos : pos + _CRC_COVERS])
                    data_at = pos + header
                    if crc32(view[data_at : pos + size], head) == crc:
                        if bad_at is not None:
                            self._damaged(bad_at, base + pos - bad_at, bad_reason, False)
                            bad_at = None
                        self.records_read += 1
                        yield CaptureRecord(
                            kinds[kind], mono, wall, buf[data_at : pos + size], base + pos
                        )
                        pos += size
                        continue
            if bad_at is None:
                bad_at = base + pos
                if avail < header:
                    bad_reason = "truncated record header"
                elif size > avail and kind in kinds and not reserved:
                    bad_reason = "truncated record"
                else:
                    bad_reason = "corrupt record"
            found = _CANDIDATE.search(buf, pos + 1)
            if found is None:
                # No record can start before the last byte; keep it in case more follows.
                pos = max(pos + 1, len(buf) - 1)
                if eof:
                    pos = len(buf)
            else:
                pos = found.start()
        if bad_at is not None:
            self._damaged(bad_at, base + pos - bad_at, bad_reason, True)

    def _damaged(self, offset: int, length: int, reason: str, at_end: bool) -> None:
        if not at_end:
            # A length running past the end only looked truncated: whole records follow it.
            reason = "corrupt record"
        self.damages.append(Damage(offset, length, reason, at_end))
