"""``injector record``: record a gun headless until SIGINT or SIGTERM.

On a terminal one status line is rewritten in place; otherwise plain log lines are printed, one
per change of link or device and one a second while the figures move. A plan limit reached, and
the gun locked or unlocked, each get a line; the status line shows LOCKED while it is.

With ``--plan`` the shots count against the zone ``--zone`` names for the whole run; changing
zones during a session needs the TUI. The session stays open when recording stops (the next
run on the same gun continues it) unless ``--end`` ends it on a clean stop.
"""

from __future__ import annotations

import argparse
import contextlib
import queue
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TextIO, assert_never

from injector.cli.arguments import baud_rate, record_id
from injector.cli.db_options import actor, add_actor_argument
from injector.cli.errors import UserError
from injector.cli.terminal_text import terminal_safe
from injector.domain.errors import InvalidValueError
from injector.domain.inputs import NL_PER_ML
from injector.driver import (
    DecoderStatistics,
    DeviceAnomaly,
    DeviceIdentified,
    DeviceRebooted,
    DriverEvent,
    FaultChanged,
    LinkChanged,
    LockChanged,
    PortError,
    SettingsChanged,
    ShotReceived,
    ShotsLost,
    ShotsRecovered,
    Status,
    UnrecognisedData,
)
from injector.output_files import OutputFileError, check_output_path
from injector.recorder import Commit, Recorder, RecorderStatus, Recording
from injector.session import LiveSession, PlanAlert, SessionStatus
from injector.session.clinical import name_practitioner
from injector.session.patients_plans import ZoneView, get_plan
from injector.session.practitioners import find_practitioner
from injector.session.session_window import earlier_summary
from injector.storage.engine import Database, DatabaseLocationError, open_database
from injector.storage.errors import StorageError
from injector.storage.tables import TreatmentPlan
from protocols.igp1 import LockReason
from protocols.igp1.capture import CaptureError, CaptureWriter

DEFAULT_BAUD = 115200
NO_GUN_HINT_AFTER = 5.0
"""Seconds without a gun answering before ``record`` says what to check."""


def register(subparsers: Any) -> None:
    """Add the ``record`` subcommand."""
    parser = subparsers.add_parser(
        "record",
        help="record a gun headless until Ctrl-C or SIGTERM",
        description="Record every shot of the gun on PORT into the database until SIGINT or "
        "SIGTERM, then stop with everything committed.",
    )
    parser.add_argument("--port", required=True, help="serial device path or pyserial URL")
    parser.add_argument(
        "--baud", type=baud_rate, default=DEFAULT_BAUD, help=f"baud rate (default {DEFAULT_BAUD})"
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="SQLite file path or database URL (default: $INJECTOR_DB, else a file in the user "
        "data directory)",
    )
    parser.add_argument("--capture", metavar="FILE", help="append every byte exchanged to FILE")
    parser.add_argument(
        "--plan", type=record_id, metavar="ID", help="record against treatment plan ID"
    )
    parser.add_argument(
        "--zone",
        metavar="N|NAME",
        help="with --plan: the zone being treated (its number in 'injector plan show', or its "
        "name), so that its limits apply; without it shots count against no zone. Changing "
        "zones during a session needs the TUI (injector tui)",
    )
    parser.add_argument(
        "--wait", action="store_true", help="wait for the port to appear instead of failing"
    )
    parser.add_argument(
        "--end",
        action="store_true",
        help="end the session (completed) on a clean stop, ready to sign; by default it stays "
        "open and the next record of this gun continues it",
    )
    parser.add_argument(
        "--include-earlier",
        action="store_true",
        help="also count, in the session, the shots the gun fired before the session opened "
        "(priming, tests into the air); by default they are kept as shots of the gun with no "
        "session and left out of it",
    )
    parser.add_argument(
        "--practitioner",
        metavar="NAME",
        help="who performs the session (a practitioner added with 'injector practitioner "
        "add'); stored on the session and shown in every export",
    )
    add_actor_argument(parser)
    parser.set_defaults(handler=run)


def _practitioner(db: Database, name: str) -> str:
    """The recorded practitioner's printed name, refused with one line when not recorded."""
    try:
        return find_practitioner(db, name).name
    except InvalidValueError as exc:
        db.close()
        raise UserError(f"--practitioner: {exc.reason}") from None


def run(args: argparse.Namespace) -> int:
    """Record until told to stop; returns the exit code."""
    who = actor(args)
    if args.zone is not None and args.plan is None:
        raise UserError("--zone: a zone belongs to a plan; give --plan ID as well")
    db = _open_database(args.db, args.plan)
    zone = _zone(db, args.plan, args.zone) if args.zone is not None else None
    performer = _practitioner(db, args.practitioner) if args.practitioner else None
    capture = _open_capture(args.capture)

    def on_open(live: LiveSession) -> None:
        if performer is not None:
            with contextlib.suppress(InvalidValueError):  # signed meanwhile: keep recording
                name_practitioner(db, live.session_id, performer, actor=who)

    recording = Recording(
        db,
        args.port,
        actor=who,
        baud=args.baud,
        plan_id=args.plan,
        capture=capture,
        wait_for_port=args.wait,
        include_earlier=args.include_earlier,
        on_open=on_open if performer is not None else None,
    )
    if zone is not None:
        # Applied when the gun opens its session, from now on.
        recording.choose_zone(zone.id)
    recorder = recording.recorder
    notices: queue.SimpleQueue[DriverEvent | PlanAlert | _LeftOut] = queue.SimpleQueue()
    recording.subscribe_events(lambda e: notices.put(e) if isinstance(e, _NOTICES) else None)

    def on_commit(commit: Commit) -> None:
        for alert in commit.alerts:
            notices.put(alert)
        if commit.left_out:
            notices.put(_LeftOut(commit.left_out))

    recording.subscribe_commits(on_commit)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {
        s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    out = sys.stderr
    line = _StatusLine(out, out.isatty())
    try:
        try:
            recording.start()
        except PortError as exc:
            raise UserError(plain_reason(str(exc), exc.port)) from None
        line.log(f"recording {args.port} at {args.baud} baud into {db.display_url}")
        if zone is not None:
            line.log(f"zone {zone.position + 1}. {zone.name} active: its limits apply")
        names = {z.id: z.name for z in _plan_zones(db, args.plan)}
        problem = _watch(recorder, notices, stop, line, names)
    finally:
        committed = recording.stop()
        line.done()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        capture_error = capture.close() if capture is not None else None
        endings = _earlier_lines(recording) + _finish_sessions(recording, args.end and committed)
        db.close()
    status = recorder.status
    if problem is not None and status.shots == 0:
        raise UserError(problem)
    summary = (
        f"stopped: {status.shots} shots committed, {status.recovered} recovered, {status.lost} lost"
    )
    if capture_error is not None and capture is not None:
        line.log(f"the capture {capture.path} may be incomplete on disk: {capture_error.strerror}")
    if not committed:
        kept = "they are in the capture file and " if capture is not None else ""
        raise UserError(
            f"stopped: {status.shots} shots committed; {status.unstored_shots} shots read could "
            f"not be stored ({status.error}); {kept}the gun keeps its last 1,024 shots: run "
            "record again once the database is back to fetch them",
            exit_code=1,
        )
    line.log(summary)
    for ending in endings:
        line.log(ending)
    return 0


def _earlier_lines(recording: Recording) -> list[str]:
    """One line per session that left out shots fired before it opened."""
    lines = []
    for live in recording.sessions:
        earlier = live.earlier_shots()
        if earlier:
            lines.append(
                f"session {live.session_id}: {earlier_summary(earlier)}; they were left out "
                f"(kept as shots of gun {live.serial} with no session); record with "
                "--include-earlier to count them in the session"
            )
    return lines


def _finish_sessions(recording: Recording, end: bool) -> list[str]:
    """End the sessions recorded into (``--end``), or say how to end them; one line each."""
    if not end:
        return [
            f"session {live.session_id} stays open for this gun; end it with: "
            f"injector session end {live.session_id} --by NAME"
            for live in recording.sessions
        ]
    lines = []
    for ended in recording.end():
        session_id = ended.session_id
        if ended.ending is not None:
            if ended.ending.status is SessionStatus.COMPLETED:
                lines.append(
                    f"session {session_id} ended (completed); sign it with: "
                    f"injector session sign {session_id} --name NAME"
                )
            else:
                lines.append(f"session {session_id} ended aborted: {ended.ending.why}")
        elif isinstance(ended.error, InvalidValueError):
            lines.append(f"session {session_id} not ended: {ended.error.reason}")
        else:
            # The shots are committed; only the ending failed, and it can be done later.
            lines.append(
                f"session {session_id} not ended ({type(ended.error).__name__}); end it with: "
                f"injector session end {session_id} --by NAME"
            )
    return lines


@dataclass(frozen=True, slots=True)
class _LeftOut:
    """A commit stored shots fired before their session opened, with no session."""

    shots: int


_NOTICES = (
    LinkChanged,
    DeviceIdentified,
    DeviceRebooted,
    LockChanged,
    ShotsLost,
    UnrecognisedData,
)


def _watch(
    recorder: Recorder,
    notices: queue.SimpleQueue[DriverEvent | PlanAlert | _LeftOut],
    stop: threading.Event,
    line: _StatusLine,
    zone_names: dict[int, str],
) -> str | None:
    """Show progress until ``stop``; returns a problem that should end the run, if any."""
    identified = False
    last_plain = ""
    next_plain = 0.0
    hint_at: float | None = time.monotonic() + NO_GUN_HINT_AFTER
    while not stop.wait(0.1):
        problem = _show_notices(notices, line, zone_names)
        if problem is not None and not identified:
            return problem
        identified = identified or recorder.status.device is not None
        if identified:
            hint_at = None
        elif hint_at is not None and time.monotonic() >= hint_at:
            hint_at = None
            line.log(_no_gun_hint(recorder))
        text = _status_text(recorder.status)
        if line.tty:
            line.show(text)
        elif text != last_plain and time.monotonic() >= next_plain:
            last_plain, next_plain = text, time.monotonic() + 1.0
            line.log(text)
    _show_notices(notices, line, zone_names)
    return None


def _no_gun_hint(recorder: Recorder) -> str:
    driver = recorder.driver
    return (
        f"no answer from a gun on {driver.port} after {NO_GUN_HINT_AFTER:g} s: check that the "
        f"gun is switched on and connected, that --port names it, and that it is set to "
        f"{driver.baud} baud (--baud); seen so far: {driver.seen_without_frame()}; still trying"
    )


def _show_notices(
    notices: queue.SimpleQueue[DriverEvent | PlanAlert | _LeftOut],
    line: _StatusLine,
    zone_names: dict[int, str],
) -> str | None:
    """Log what the driver reported; returns the problem unreadable data points to, if any."""
    problem = None
    while not notices.empty():
        event = notices.get()
        match event:
            case PlanAlert():
                line.log(_explain_alert(event, zone_names))
            case _LeftOut():
                line.log(
                    f"{event.shots} shots fired before this session opened were left out of it "
                    "(kept as shots of the gun with no session; --include-earlier counts them)"
                )
            case LockChanged():
                line.log(_explain_lock(event))
            case DeviceIdentified():
                line.log(
                    f"gun {event.model} {event.serial} firmware {event.firmware} "
                    f"boot {event.boot_id:08x}"
                )
            case LinkChanged():
                line.log(f"link {event.state.value}: {plain_reason(event.reason, event.port)}")
            case DeviceRebooted():
                line.log(f"gun {event.serial} restarted (boot {event.new_boot_id:08x})")
            case ShotsLost():
                if event.count > 0:
                    line.log(
                        f"{event.count} shots of boot {event.boot_id:08x} lost: {event.reason}"
                    )
            case UnrecognisedData():
                problem = _explain_garbage(event)
            case DeviceAnomaly():
                line.log(f"gun {event.serial} sent something inconsistent: {event.detail}")
            case (
                ShotReceived()
                | SettingsChanged()
                | FaultChanged()
                | Status()
                | ShotsRecovered()
                | DecoderStatistics()
            ):
                pass  # the status line shows their figures
            case _:
                assert_never(event)
    return problem


def plain_reason(text: str, port: str) -> str:
    """pyserial's wording of a port problem, said once and in the user's terms."""
    if "returned no data" in text and "disconnected" in text:
        # pyserial's "device reports readiness to read but returned no data (device
        # disconnected or multiple access on port?)": on a USB gun, the cable or the power.
        return f"gun disconnected from {port}; waiting for it to come back"
    if "Is a directory" in text:
        return (
            f"cannot open port {port}: it is a folder, not a serial device; check --port "
            "(ls /dev/ttyACM* /dev/ttyUSB*)"
        )
    # "[Errno 5] could not open port X: [Errno 5] Input/output error: 'X'" says it twice.
    text = _ERRNO.sub("", text).replace(f"could not open port {port}: ", "")
    return text.replace(f": {port!r}", "")


_ERRNO = re.compile(r"\[Errno \d+\] ")


def _explain_alert(alert: PlanAlert, zone_names: dict[int, str]) -> str:
    where = (
        "the session's maximum"
        if alert.zone_id is None
        else f"the maximum of zone {zone_names.get(alert.zone_id, alert.zone_id)}"
    )
    then = "; the gun will be locked" if alert.lock else ""
    return (
        f"plan limit reached: {alert.volume_nl / NL_PER_ML:g} mL given, {where} is "
        f"{alert.limit_nl / NL_PER_ML:g} mL{then}"
    )


def _explain_lock(event: LockChanged) -> str:
    reason = LockReason(event.reason).name
    if not event.acknowledged:
        verb = "LOCK" if event.locked else "unlock"
        return f"the gun did not acknowledge {verb} ({reason}); it may still fire"
    if not event.locked:
        return "gun unlocked: the trigger fires again"
    if reason == LockReason.PLAN_LIMIT.name:
        return (
            "gun LOCKED: a plan limit was reached; the trigger stays locked until the "
            "practitioner overrides it in the TUI (injector tui)"
        )
    return f"gun LOCKED ({reason})"


def _explain_garbage(event: UnrecognisedData) -> str:
    if event.looks_like_text:
        sample = event.sample[:40].decode("ascii", "replace").strip()
        return (
            f"the device on {event.port} speaks another protocol (it sent text such as "
            f"{sample!r}), not IGP/1: check that --port names the injector gun"
        )
    other = 921600 if event.baud != 921600 else 115200
    return (
        f"only unreadable bytes arrive on {event.port} at {event.baud} baud "
        f"({event.garbage_bytes} bytes, no valid frame): the gun may be set to another rate; "
        f"try --baud {other}"
    )


def _status_text(s: RecorderStatus) -> str:
    depth = "-" if s.last_depth_um is None else f"{s.last_depth_um / 1000:.2f} mm"
    volume = "-" if s.last_volume_nl is None else f"{s.last_volume_nl / NL_PER_ML:.3f} mL"
    text = (
        f"link {s.link.value} | shots {s.shots} | last {depth} {volume} | "
        f"lost {s.lost} | recovered {s.recovered}"
    )
    if s.lock_reason is not None:
        text += f" | LOCKED ({s.lock_reason})"
    if s.error:
        text += f" | storage failing, retrying ({s.pending} waiting): {s.error}"
    return text


class _StatusLine:
    """One line rewritten in place on a terminal, plain lines elsewhere."""

    def __init__(self, out: TextIO, tty: bool) -> None:
        self.out = out
        self.tty = tty
        self._shown = False

    def show(self, text: str) -> None:
        self.out.write("\r" + terminal_safe(text) + "\x1b[K")
        self.out.flush()
        self._shown = True

    def log(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        if self._shown:
            self.out.write("\r\x1b[K")
            self._shown = False
        self.out.write(f"{stamp} {terminal_safe(text)}\n")
        self.out.flush()

    def done(self) -> None:
        if self._shown:
            self.out.write("\n")
            self.out.flush()
            self._shown = False


def _open_database(url: str | None, plan_id: int | None) -> Database:
    try:
        db = open_database(url)
    except DatabaseLocationError as exc:
        raise UserError(str(exc)) from None
    except StorageError as exc:
        server = url is not None and "://" in url and not url.startswith("sqlite")
        hint = (
            "check that the database server is running and the URL"
            if server
            else "check the file (a SQLite database this program made)"
        )
        raise UserError(f"{exc}; {hint}, or pass --db with another SQLite file") from None
    if db.read_only:
        db.close()
        raise UserError(
            f"--db: {db.url.database} is read-only for you; recording needs a database you "
            "may write"
        )
    if plan_id is not None:
        with db.session() as session:
            if session.get(TreatmentPlan, plan_id) is None:
                db.close()
                raise UserError(f"there is no treatment plan {plan_id} in {db.display_url}")
    return db


def _open_capture(path: str | None) -> CaptureWriter | None:
    if path is None:
        return None
    # A FIFO would hold the recorder until some reader opens it; a device is no capture.
    try:
        check_output_path(Path(path).expanduser(), "--capture")
    except OutputFileError as exc:
        raise UserError(f"cannot write the capture file {path}: {exc}") from None
    try:
        writer = CaptureWriter(path)
    except CaptureError as exc:
        raise UserError(f"{exc}; give a new file name to --capture") from None
    except OSError as exc:
        raise UserError(
            f"cannot write the capture file {path}: {exc.strerror}; give another path"
        ) from None
    if writer.repaired is not None:
        print(f"injector record: {writer.repaired}", file=sys.stderr)
    return writer


def _plan_zones(db: Database, plan_id: int | None) -> tuple[ZoneView, ...]:
    return () if plan_id is None else tuple(get_plan(db, plan_id).zones)


def _zone(db: Database, plan_id: int | None, wanted: str) -> ZoneView:
    """The zone of the plan that ``--zone`` names: its number (from 1) or its name."""
    zones = _plan_zones(db, plan_id)
    text = wanted.strip()
    for zone in zones:
        if text.isdigit() and int(text) == zone.position + 1:
            return zone
        if zone.name.casefold() == text.casefold():
            return zone
    choices = ", ".join(f"{z.position + 1} ({z.name})" for z in zones)
    db.close()
    raise UserError(f"--zone: plan {plan_id} has no zone {wanted!r}; its zones are {choices}")
