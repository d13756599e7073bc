"""``injector capture``: read a capture file without writing a script.

``info`` says what a capture holds (gun, boots, time span, frames per message, decoder
statistics, opens and closes, damage); ``dump`` prints every frame and record, one line each,
as text, JSON Lines or CSV; ``check`` verifies the whole file and answers with its exit status
(0 intact, 1 damaged, 2 unreadable); ``cut`` writes a window of it as a new capture that
replays. Every subcommand streams the file: memory stays flat however long the capture is.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from serial import SerialException

from injector.cli.capture_dump import FORMATS, Clock, DumpFormat
from injector.cli.capture_info import render_info, summary_json
from injector.cli.capture_window import HELP as WINDOW_HELP
from injector.cli.capture_window import Window, parse_bound
from injector.cli.errors import UserError
from injector.driver.transport import PortError, open_port
from injector.output_files import check_output_path, private_output
from protocols.igp1.capture import (
    MAGIC,
    CaptureError,
    CaptureReader,
    CaptureRecord,
    RecordKind,
    encode_record,
)
from protocols.igp1.capture_frames import CaptureFrames, DeviceClock
from protocols.igp1.capture_summary import summarise
from protocols.igp1.messages import CATALOGUE, Heartbeat, Hello, Settings

MARKERS = ("OPEN", "CLOSE", "GARBAGE", "DAMAGE", "UNKNOWN")
"""Line types of ``dump`` besides the catalogue's messages."""
_FLUSH_LINES = 4096


def register(subparsers: Any) -> None:
    """Add ``capture`` and its subcommands."""
    parser = subparsers.add_parser(
        "capture",
        help="read a capture file: info, dump, check, cut",
        description="Read a capture file (written by `injector record --capture`): what it "
        "holds, every frame, its integrity, or a window of it as a new capture.",
    )
    sub = parser.add_subparsers(dest="capture_command", metavar="SUBCOMMAND", required=True)

    info = sub.add_parser("info", help="what a capture holds", description=_doc(_info))
    info.add_argument("capture", metavar="CAPTURE")
    info.add_argument("--format", choices=("text", "json"), default="text")
    info.set_defaults(handler=_info)

    dump = sub.add_parser(
        "dump", help="every frame and record, one line each", description=_doc(_dump)
    )
    dump.add_argument("capture", metavar="CAPTURE", nargs="?", help="the capture file")
    dump.add_argument(
        "--port",
        metavar="PORT",
        help="instead of a file, decode a live serial port (path or pyserial URL) until Ctrl-C, "
        "only listening",
    )
    dump.add_argument("--baud", type=int, default=115200, metavar="N", help="with --port")
    names = ", ".join([*(cls.NAME for cls in CATALOGUE.values()), *MARKERS])
    dump.add_argument(
        "--type", metavar="T,T", help=f"only these line types, comma-separated: {names}"
    )
    _window_options(dump)
    dump.add_argument("--raw", action="store_true", help="add each frame's bytes in hex")
    dump.add_argument("--format", choices=tuple(FORMATS), default="text")
    dump.set_defaults(handler=_dump)

    check = sub.add_parser(
        "check", help="verify the whole file (exit 0 intact, 1 damaged)", description=_doc(_check)
    )
    check.add_argument("capture", metavar="CAPTURE")
    check.set_defaults(handler=_check)

    cut = sub.add_parser(
        "cut", help="write a window of a capture as a new capture", description=_doc(_cut)
    )
    cut.add_argument("capture", metavar="CAPTURE")
    cut.add_argument("output", metavar="OUT", help="the new capture file")
    _window_options(cut)
    cut.set_defaults(handler=_cut)


def _doc(handler: Any) -> str:
    return str(handler.__doc__).split("\n\n")[0].replace("\n", " ")


def _window_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="start", metavar="WHEN", help=f"start here (inclusive): {WINDOW_HELP}"
    )
    parser.add_argument("--to", dest="stop", metavar="WHEN", help="end here (exclusive)")


def _window(args: argparse.Namespace) -> Window:
    start = parse_bound(args.start, "--from") if args.start else None
    stop = parse_bound(args.stop, "--to") if args.stop else None
    return Window(start, stop)


def _reader(path: str) -> CaptureReader:
    try:
        return CaptureReader(path)
    except CaptureError as exc:
        raise UserError(str(exc)) from None


@contextmanager
def _reading(path: str) -> Iterator[None]:
    """Turn a read failure in the middle of a capture into one line."""
    try:
        yield
    except CaptureError as exc:
        raise UserError(str(exc)) from None


@contextmanager
def _quiet_pipe() -> Iterator[None]:
    """``dump | head``: when the reader goes away, stop quietly, as ``cat`` would."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit; point it at nothing.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _info(args: argparse.Namespace) -> int:
    """Say what a capture holds: the gun and its boots, the time span, frames per message type
    in each direction, the decoder's statistics, opens and closes, and any damage.

    Reads the whole file once, streaming."""
    reader = _reader(args.capture)
    with _reading(args.capture):
        summary = summarise(reader)
    with _quiet_pipe():
        if args.format == "json":
            sys.stdout.write(json.dumps(summary_json(summary), indent=2) + "\n")
        else:
            sys.stdout.write(render_info(summary))
    return 0


def _types(text: str | None) -> frozenset[str] | None:
    if not text:
        return None
    known = {cls.NAME for cls in CATALOGUE.values()} | set(MARKERS)
    wanted = frozenset(t.strip().upper() for t in text.split(",") if t.strip())
    unknown = sorted(wanted - known)
    if unknown or not wanted:
        raise UserError(
            f"--type {text}: {', '.join(unknown) or 'nothing'} is not a line type; "
            f"choose from {', '.join(sorted(known))}"
        )
    return wanted


def _dump(args: argparse.Namespace) -> int:
    """Print every frame (both directions) and record of a capture, one line each.

    Each line has the capture time, the device uptime and the decoded fields by the
    protocol's names and units, enumerations by name and number; --format json or csv gives
    one object or row per line for machines. Ends quietly when its reader does (| head)."""
    types = _types(args.type)
    window = _window(args)
    fmt = FORMATS[args.format](args.raw)
    if (args.capture is None) == (args.port is None):
        raise UserError("dump needs a CAPTURE file or --port PORT (one of them)")
    if args.port is not None:
        records = _live_records(args.port, args.baud)
        with _quiet_pipe():
            try:
                stream = CaptureFrames(records, keep_raw=args.raw)
                _write_dump(stream, fmt, types, window, sys.stdout, live=True)
            except KeyboardInterrupt:
                sys.stdout.flush()
        return 0
    reader = _reader(args.capture)
    with _reading(args.capture), _quiet_pipe():
        _write_dump(CaptureFrames(reader, keep_raw=args.raw), fmt, types, window, sys.stdout)
    return 0


def _live_records(port: str, baud: int) -> Iterator[CaptureRecord]:
    """A live port read as capture records: the same read path as a file (as mavutil does).

    Only listens: nothing is sent to the gun, so it shows the traffic as it is (open the port
    while no recorder has it; the port is opened exclusively).
    """
    if not 0 < baud <= 12_000_000:
        raise UserError(f"--baud {baud} is not a baud rate; try --baud 115200")
    try:
        handle = open_port(port, baud, read_timeout=0.1)
    except PortError as exc:
        raise UserError(str(exc)) from None
    try:
        yield CaptureRecord(
            RecordKind.OPEN, time.monotonic_ns(), time.time_ns(), f"{port} at {baud} baud".encode()
        )
        while True:
            try:
                data = handle.read(4096)
            except (OSError, SerialException) as exc:
                reason = f"the port failed: {exc}"
                now = time.monotonic_ns(), time.time_ns()
                yield CaptureRecord(RecordKind.CLOSE, *now, reason.encode())
                return
            if data:
                yield CaptureRecord(RecordKind.RX, time.monotonic_ns(), time.time_ns(), data)
    finally:
        handle.close()


def _write_dump(
    stream: CaptureFrames,
    fmt: DumpFormat,
    types: frozenset[str] | None,
    window: Window,
    out: TextIO,
    live: bool = False,
) -> None:
    """Write the dump's lines; ``live`` writes each record's lines as soon as they are made."""
    lines: list[str] = [fmt.begin()]
    append = lines.append
    frame_line = fmt.frame
    clock = DeviceClock()
    see = clock.see
    uptime_at = clock.at
    every_type = types is None
    shown = types or frozenset()
    every_moment = window.everything
    wanted_cls: dict[type, bool] = {}
    first_wall: int | None = None
    wall = mono = 0
    stamp = ""
    raws: list[bytes] = []
    for item in stream:
        record = item.record
        if record is not None:
            wall, mono = record.wall_ns, record.mono_ns
            if first_wall is None:
                first_wall = wall
                window.start_at(wall)
        elif first_wall is None:
            continue
        stamp = fmt.stamp(wall, wall - first_wall)
        for damage in item.damage:
            if (every_type or "DAMAGE" in shown) and (
                every_moment or window.contains(wall, clock.at(mono))
            ):
                lines.append(fmt.damage(stamp, damage))
        if record is not None and item.direction is None:
            kind = record.kind.name
            if record.kind is RecordKind.OPEN:
                clock.forget()
            if (every_type or kind in shown) and (
                every_moment or window.contains(wall, clock.at(mono))
            ):
                lines.append(fmt.marker(stamp, kind, record.data.decode("utf-8", "replace")))
        if item.frames:
            assert item.direction is not None  # frames come from RX or TX records
            direction = item.direction.name
            rx = item.direction is RecordKind.RX
            raws = item.raws
            for index, (seq, message) in enumerate(item.frames):
                own = see(message, mono) if rx else None
                uptime = own if own is not None else uptime_at(mono)
                if not every_type:
                    cls = type(message)
                    wanted = wanted_cls.get(cls)
                    if wanted is None:
                        name = getattr(cls, "NAME", "UNKNOWN")
                        wanted = wanted_cls[cls] = name in shown
                    if not wanted:
                        continue
                if not every_moment and not window.contains(wall, uptime):
                    continue
                raw = raws[index] if raws else None
                append(frame_line(stamp, direction, seq, message, uptime, own is not None, raw))
        if (
            item.garbage
            and item.direction is not None
            and (every_type or "GARBAGE" in shown)
            and (every_moment or window.contains(wall, clock.at(mono)))
        ):
            lines.append(fmt.garbage(stamp, item.direction.name, item.garbage))
        if live or len(lines) >= _FLUSH_LINES:
            out.write("".join(lines))
            lines.clear()
            if live:
                out.flush()
    out.write("".join(lines))


def _check(args: argparse.Namespace) -> int:
    """Verify every record of a capture; exit 0 if the file is intact, 1 if it is damaged
    (each unreadable span is named), 2 if it cannot be read or is not a capture.

    Checks the file's own integrity (record CRCs), not the gun's line: noise on the serial
    line is part of what was recorded (see `info`)."""
    reader = _reader(args.capture)
    records = 0
    first = last = None
    with _reading(args.capture):
        for record in reader:
            records += 1
            if first is None:
                first = record.wall_ns
            last = record.wall_ns
    span = ""
    if first is not None and last is not None:
        clock = Clock()
        span = f", {clock.iso(first)} to {clock.iso(last)}"
    with _quiet_pipe():
        if not reader.damages:
            print(f"{args.capture}: intact: {records:,} records, {reader.size:,} bytes{span}")
            return 0
        shown = reader.damages[:20]
        for damage in shown:
            print(f"{args.capture}: {damage}")
        if len(reader.damages) > len(shown):
            print(f"{args.capture}: … and {len(reader.damages) - len(shown)} more damaged spans")
        print(
            f"{args.capture}: damaged: {len(reader.damages)} unreadable span"
            f"{'s' if len(reader.damages) != 1 else ''}, {reader.damaged_bytes:,} bytes; "
            f"{records:,} whole records readable{span}"
        )
    return 1


def _cut(args: argparse.Namespace) -> int:
    """Write the records of a window of a capture (--from, --to) to OUT, a new capture that
    replays.

    A frame that straddles the window's start is kept whole and one cut off by its end is left
    out. When the window starts after the gun identified itself, the cut opens with the port's
    last OPEN record and one RX record holding the last HELLO, SETTINGS and HEARTBEAT frames as
    they were received, both at the window's first moment, so a replay knows which gun and
    boot it is."""
    if not (args.start or args.stop):
        raise UserError("cut needs --from, --to or both; the whole capture is the file itself")
    window = _window(args)
    reader = _reader(args.capture)
    output = Path(args.output)
    check_output_path(output, "OUT")
    if output.exists() and os.path.samefile(output, args.capture):
        raise UserError(f"OUT {output} is the capture being cut; name a new file")
    with _reading(args.capture), private_output(output, "OUT") as handle:
        handle.write(MAGIC)
        written, frames = _write_cut(CaptureFrames(reader, keep_raw=True), window, handle.write)
        if not written:
            raise UserError(
                f"no record of {args.capture} falls between --from {args.start or 'the start'} "
                f"and --to {args.stop or 'the end'}; nothing written (see `injector capture "
                "info` for its time span)"
            )
    print(f"wrote {written:,} records ({frames:,} frames) of {args.capture} to {output}")
    return 0


def _write_cut(stream: CaptureFrames, window: Window, write: Any) -> tuple[int, int]:
    """Copy the records inside ``window``; returns (records written, frames they complete)."""
    clock = DeviceClock()
    identity: dict[type, bytes] = {}  # the gun's last HELLO, SETTINGS, HEARTBEAT frames
    last_open: CaptureRecord | None = None
    held_rx = b""  # bytes of a frame in progress, while outside the window
    hold: CaptureRecord | None = None  # the last record copied waits, to trim a cut-off frame
    hold_trim = 0
    first_wall: int | None = None
    inside = opened = False
    written = frames_in = 0

    def put(record: CaptureRecord, trim: int = 0) -> None:
        nonlocal written
        data = record.data[: len(record.data) - trim] if trim else record.data
        write(encode_record(record.kind, data, record.mono_ns, record.wall_ns))
        written += 1

    for item in stream:
        record = item.record
        if record is None:
            continue
        if first_wall is None:
            first_wall = record.wall_ns
            window.start_at(first_wall)
        if record.kind is RecordKind.OPEN:
            clock.forget()
            last_open = record
            identity.clear()
            held_rx = b""
        rx = item.direction is RecordKind.RX
        if rx:
            for _seq, message in item.frames:
                clock.see(message, record.mono_ns)
        now_inside = window.contains(record.wall_ns, clock.at(record.mono_ns))
        if now_inside:
            if not opened:
                # The gun's identity, so that a replay of the cut knows which gun and boot
                # (unless the window starts with the gun saying it).
                opened = True
                if last_open is not None and last_open is not record:
                    at = record.mono_ns, record.wall_ns
                    put(CaptureRecord(RecordKind.OPEN, *at, last_open.data))
                context = b"".join(identity.get(c, b"") for c in (Hello, Settings, Heartbeat))
                says_hello = any(isinstance(m, Hello) for _s, m in item.frames)
                if context and not (rx and says_hello):
                    put(CaptureRecord(RecordKind.RX, record.mono_ns, record.wall_ns, context))
            if rx and held_rx and not inside:
                # Keep whole the frame that straddles the window's start.
                record = CaptureRecord(
                    record.kind, record.mono_ns, record.wall_ns, held_rx + record.data
                )
            if hold is not None:
                put(hold)
            hold, hold_trim = record, (stream.rx.pending if rx else 0)
            frames_in += len(item.frames)
        elif inside and hold is not None:
            # Leave out the frame the window's end cuts off.
            put(hold, min(hold_trim, len(hold.data)))
            hold = None
        inside = now_inside
        if rx:
            held_rx = b"" if inside else stream.rx.held()
            for (_seq, message), raw in zip(item.frames, item.raws, strict=True):
                if isinstance(message, Hello):
                    identity.clear()
                if isinstance(message, Hello | Settings | Heartbeat):
                    identity[type(message)] = raw
    if hold is not None:
        put(hold, min(hold_trim, len(hold.data)))
    return written, frames_in
