"""Replay of a capture file: the device's bytes played back onto the pseudo-terminal.

The capture format is :mod:`protocols.igp1.capture` (one implementation, shared with the
recorder). The bytes the original gun sent (``RX`` records) are played, each at its offset from
the first one, scaled by the speed factor; the runner turns those offsets into absolute
deadlines, as canplayer does, so playback does not drift. At ``--speed max`` the next record
goes as soon as the host has taken the previous ones.

The replay is a gun, not a tape: it answers the host from the gun's state at the point it has
reached, which the whole capture tells (read once, before playing):

- the power-up each frame belongs to: the HELLO's, from the first fresh uptime that jumped back
  before it (a restart whose HELLO came later), and the first HELLO's for frames before it (a
  recorder that joined a gun already talking);
- IDENT_REQ gets ACK, then HELLO, SETTINGS and a HEARTBEAT of that power-up, the heartbeat
  carrying the highest uptime and shot number played so far (never an older one);
- RESEND_REQ gets the shots of that power-up up to the last one played, wherever the capture
  holds them (a shot the original line dropped comes later, as a retransmission);
- LOCK gets ACK OK, anything else ACK UNSUPPORTED.

Answers go in only where the played stream is between frames: a record that ends inside a
frame (the recorder's first read may be a lone ``a5``) is held back until the frame is whole.
Once the host has spoken, the original's ACKs (answers to the original host's requests, which
this host would take for answers to its own) are left out, and every frame's SEQ is shifted by
the answers put in and the ACKs left out, so SEQ still rises by one per frame and the
original's gaps (frames the line lost) remain gaps. Until the host speaks the bytes are the
original's, unchanged. Where the original link was closed and opened again (a CLOSE record,
then more bytes), the runner unplugs and replugs the port once the host has read everything
before it, so the original's link losses happen again.
"""

from __future__ import annotations

import binascii
import bisect
import struct
from dataclasses import dataclass, field
from pathlib import Path

from protocols.igp1 import (
    BATTERY_MAINS,
    Ack,
    AckStatus,
    Fault,
    Heartbeat,
    Hello,
    IdentReq,
    Lock,
    Message,
    ResendReq,
    Settings,
    Shot,
    ShotFlags,
    build_frame,
)
from protocols.igp1.capture import CaptureError, CaptureReader, RecordKind
from protocols.igp1.device_limits import SHOT_HISTORY
from protocols.igp1.frame import CRC_INIT, MAX_PAYLOAD, OVERHEAD, SOF
from protocols.igp1.messages import CATALOGUE, PAYLOAD_SIZES
from simulators.gun import HostFrame, Outgoing

_UPTIME_SLACK_MS = 500
"""How far back a fresh uptime may step before it marks a restart (as the host's driver)."""
_RETRANSMIT = int(ShotFlags.RETRANSMIT)
_FLAGS_AT = struct.calcsize("<IIH")  # offset of SHOT.flags in its payload


class ReplayError(Exception):
    """A capture that cannot be replayed at all; the message says why."""


@dataclass(frozen=True, slots=True)
class Capture:
    """The device's side of a capture file, ready to replay."""

    path: Path
    chunks: tuple[tuple[float, bytes], ...]
    """(offset in ms from the first device bytes, bytes), in file order."""
    records: int
    """Whole records read (of every kind)."""
    damage: str | None
    """What was wrong with the file's tail, if anything; replay stops there."""
    walls: tuple[float, ...] = ()
    """Unix time (s) each chunk was read by the original recorder."""
    breaks: frozenset[int] = frozenset()
    """Indexes of chunks the original link was closed (then opened again) before."""

    @property
    def warning(self) -> str | None:
        """A one-line warning to show when the file is damaged."""
        if self.damage is None:
            return None
        return f"{self.path}: {self.damage}; replaying the {self.records} whole records before it"

    @property
    def duration_ms(self) -> float:
        """Offset of the last device bytes."""
        return self.chunks[-1][0] if self.chunks else 0.0


def load_capture(path: str | Path) -> Capture:
    """Read the device bytes of a capture file.

    Raises :class:`ReplayError` for a file that is not a capture, cannot be read, or holds no
    bytes from the device; a damaged tail is kept in :attr:`Capture.damage`.
    """
    p = Path(path)
    chunks: list[tuple[float, bytes]] = []
    walls: list[float] = []
    breaks: set[int] = set()
    try:
        reader = CaptureReader(p)
        first: int | None = None
        closed = False
        offset = 0.0
        for record in reader:
            if record.kind is RecordKind.CLOSE:
                closed = True
            elif record.kind is RecordKind.RX and record.data:
                if first is None:
                    first = record.mono_ns
                elif closed:
                    breaks.add(len(chunks))
                closed = False
                # Runs appended to one file may come from another boot of the machine, whose
                # monotonic clock started again: time never runs backwards in the replay.
                offset = max(offset, (record.mono_ns - first) / 1e6)
                chunks.append((offset, record.data))
                walls.append(record.wall_ns / 1e9)
    except CaptureError as exc:
        raise ReplayError(str(exc)) from None
    except OSError as exc:
        raise ReplayError(f"cannot read capture {p}: {exc.strerror or exc}") from None
    if not chunks:
        damage = f" ({reader.damage})" if reader.damage else ""
        raise ReplayError(f"{p}: the capture holds no bytes from the device to replay{damage}")
    return Capture(
        p, tuple(chunks), reader.records_read, reader.damage, tuple(walls), frozenset(breaks)
    )


def frame_spans(buf: bytes) -> list[tuple[int, int]]:
    """Where the whole frames of ``buf`` lie, as (start, end), by the decoder's rule (spec
    section 2: after an invalid frame, search again from the byte after its SOF)."""
    spans: list[tuple[int, int]] = []
    end = len(buf)
    pos = 0
    crc_hqx = binascii.crc_hqx
    while True:
        start = buf.find(SOF, pos)
        if start < 0 or end - start < 4:
            return spans
        length = buf[start + 1]
        expected = PAYLOAD_SIZES.get(buf[start + 3])
        frame_end = start + length + OVERHEAD
        if length > MAX_PAYLOAD or (expected is not None and length != expected) or frame_end > end:
            pos = start + 1
            continue
        crc_at = frame_end - 2
        if crc_hqx(buf[start + 1 : crc_at], CRC_INIT) != buf[crc_at] | (buf[crc_at + 1] << 8):
            pos = start + 1
            continue
        spans.append((start, frame_end))
        pos = frame_end


def _message(buf: bytes, start: int) -> Message | None:
    """The typed message of the frame at ``start`` (None for an unknown id)."""
    kind = CATALOGUE.get(buf[start + 3])
    return None if kind is None else kind.unpack_from(buf, start + 4)


def _first_sent(payload: bytes) -> bytes:
    """A SHOT payload as first sent: RETRANSMIT says how it travelled, not what it was."""
    flags = int.from_bytes(payload[_FLAGS_AT : _FLAGS_AT + 2], "little") & ~_RETRANSMIT
    return payload[:_FLAGS_AT] + flags.to_bytes(2, "little") + payload[_FLAGS_AT + 2 :]


def _resent(payload: bytes) -> bytes:
    """A SHOT payload as resent in answer to RESEND_REQ."""
    flags = int.from_bytes(payload[_FLAGS_AT : _FLAGS_AT + 2], "little") | _RETRANSMIT
    return payload[:_FLAGS_AT] + flags.to_bytes(2, "little") + payload[_FLAGS_AT + 2 :]


def _fresh_uptime(msg: Message) -> int | None:
    """The uptime of a frame stamped when sent (not a retransmission)."""
    if isinstance(msg, Heartbeat | Settings | Fault):
        return msg.uptime_ms
    if isinstance(msg, Shot) and not msg.flags & _RETRANSMIT:
        return msg.uptime_ms
    return None


@dataclass(slots=True)
class _Boot:
    """One power-up as the whole capture shows it."""

    hello: bytes
    """The payload of its HELLO."""
    boot_id: int
    shots: dict[int, bytes] = field(default_factory=dict)
    """Payload of each shot number, as first sent."""


class _BootFinder:
    """Reads the capture's frames in order and assigns each to a power-up.

    A frame belongs to the power-up of the HELLO before it, frames before the first HELLO to
    the first; but a HELLO with a new boot_id owns the frames from the first fresh uptime that
    jumped back before it (the restart whose HELLO came later or was lost on the line).
    """

    _PATIENCE = 4096
    """Frames after a step back in uptime with no new HELLO: the step was stale, not a restart."""

    def __init__(self) -> None:
        self.boots: list[_Boot] = []
        self.starts: list[int] = []
        """Frame index where each power-up begins."""
        self._unassigned: list[tuple[int, int, bytes]] = []  # (frame, shot_no, payload)
        self._restart_at: int | None = None
        self._last_uptime: int | None = None

    def frame(self, n: int, msg: Message, payload: bytes) -> None:
        """Frame ``n`` of the capture, decoded, with its raw payload."""
        if isinstance(msg, Hello):
            self._hello(n, msg, payload)
            return
        uptime = _fresh_uptime(msg)
        if uptime is not None:
            last = self._last_uptime
            if last is not None and uptime < last - _UPTIME_SLACK_MS and self._restart_at is None:
                self._restart_at = n
                self._last_uptime = uptime
            elif last is None or uptime > last:
                self._last_uptime = uptime
        if isinstance(msg, Shot):
            if self.boots and self._restart_at is None:
                self.boots[-1].shots.setdefault(msg.shot_no, _first_sent(payload))
            else:
                self._unassigned.append((n, msg.shot_no, _first_sent(payload)))
        if self._restart_at is not None and len(self._unassigned) > self._PATIENCE:
            self._settle(self.boots[-1] if self.boots else None, None)

    def finish(self) -> None:
        """End of the capture: shots still waiting for a HELLO stay with the last power-up."""
        self._settle(self.boots[-1] if self.boots else None, None)

    def _hello(self, n: int, msg: Hello, payload: bytes) -> None:
        current = self.boots[-1] if self.boots else None
        if current is None or current.boot_id != msg.boot_id:
            begins = 0 if current is None else n if self._restart_at is None else self._restart_at
            boot = _Boot(payload, msg.boot_id)
            self.boots.append(boot)
            self.starts.append(begins)
            self._settle(current, (begins, boot))
        else:
            self._settle(current, None)  # the same power-up: the step back was stale
        self._last_uptime = None

    def _settle(self, old: _Boot | None, new: tuple[int, _Boot] | None) -> None:
        for n, shot_no, payload in self._unassigned:
            if new is not None and n >= new[0]:
                new[1].shots.setdefault(shot_no, payload)
            elif old is not None:
                old.shots.setdefault(shot_no, payload)
        self._unassigned.clear()
        self._restart_at = None


@dataclass(slots=True)
class _State:
    """The gun at the point the replay has reached, within one power-up."""

    boot: int | None = None
    """Index into the capture's power-ups."""
    settings: bytes | None = None
    """Payload of the last SETTINGS."""
    heartbeat: Heartbeat | None = None
    uptime_ms: int = 0
    last_shot_no: int = 0


@dataclass(frozen=True, slots=True)
class _Segment:
    """One chunk of the capture as played: it ends between frames, never inside one."""

    offset_ms: float
    wall: float
    data: bytes
    link_break: bool
    """The original link was closed and opened again before it."""


class ReplaySource:
    """Plays a :class:`Capture`; same interface to the runner as the scenario player."""

    def __init__(self, capture: Capture) -> None:
        self.capture = capture
        self._segments: list[_Segment] = []
        finder = _BootFinder()
        self._index(finder)
        self._boots = finder.boots
        self._boot_starts = finder.starts
        self._next = 0
        self._outbox: list[tuple[Outgoing, float]] = []
        self._now = 0.0
        self._wall = capture.walls[0] if capture.walls else 0.0
        self._state = _State()
        self._frame_no = 0  # frames played (the index of the next one)
        self._host_spoke = False
        self._seq_shift = 0
        self._next_seq = 0
        self._break_taken = False
        self.break_due = False
        """A link break comes next: the runner unplugs and replugs once the host has read
        everything before it, then calls :meth:`break_done`."""
        self.warnings: list[str] = []

    # --- the runner's interface ----------------------------------------------------------

    @property
    def done(self) -> bool:
        """True once every chunk has been played."""
        return self._next >= len(self._segments)

    @property
    def boot_id(self) -> int:
        """The boot_id of the power-up reached (0 before the first)."""
        boot = self._state.boot
        return self._boots[boot].boot_id if boot is not None else 0

    @property
    def wall(self) -> float:
        """Unix time the original recorder read the bytes played last."""
        return self._wall

    def next_event_ms(self) -> float | None:
        """Offset of the next chunk to play (None while a link break waits for the runner)."""
        if self.done or self.break_due:
            return None
        return self._segments[self._next].offset_ms

    def advance_to(self, t: float) -> None:
        """Play every chunk whose offset has come, up to a link break."""
        segments = self._segments
        while not self.break_due and self._next < len(segments):
            segment = segments[self._next]
            if segment.offset_ms > t:
                break
            if segment.link_break and not self._break_taken:
                self.break_due = True
                break
            self._break_taken = False
            self._next += 1
            self._play(segment)
        self._now = max(self._now, t)

    def break_done(self) -> None:
        """The runner has unplugged and replugged the port: play on."""
        self.break_due = False
        self._break_taken = True

    def take_output(self) -> list[Outgoing]:
        """What was played or answered since the last call."""
        return [item for item, _wall in self.take_timed_output()]

    def take_timed_output(self) -> list[tuple[Outgoing, float]]:
        """:meth:`take_output`, each with the Unix time the original recorder read it."""
        out = self._outbox
        self._outbox = []
        return out

    def on_host_frame(self, frame: HostFrame) -> None:
        """Answer the host from the gun's state at the point reached."""
        self._host_spoke = True
        msg = frame.message
        if isinstance(msg, IdentReq):
            self._answer(Ack.MSG_ID, Ack(frame.msg_id, frame.seq, AckStatus.OK).payload())
            state = self._state
            # Before anything is played the gun is already in its first power-up.
            boot = state.boot if state.boot is not None else (0 if self._boots else None)
            if boot is None:
                return
            self._answer(Hello.MSG_ID, self._boots[boot].hello)
            if state.settings is not None:
                self._answer(Settings.MSG_ID, state.settings)
            hb = state.heartbeat
            beat = Heartbeat.STRUCT.pack(
                state.uptime_ms,
                state.last_shot_no,
                hb.state if hb else 1,
                hb.battery_pct if hb else BATTERY_MAINS,
                hb.fault_bits if hb else 0,
                hb.syringe_remaining_nl if hb else 0,
            )
            self._answer(Heartbeat.MSG_ID, beat)
        elif isinstance(msg, ResendReq):
            self._resend(frame, msg)
        elif isinstance(msg, Lock):
            status = AckStatus.OK if msg.lock in (0, 1) else AckStatus.BAD_ARGUMENT
            self._answer(Ack.MSG_ID, Ack(frame.msg_id, frame.seq, status).payload())
        else:
            status = AckStatus.UNSUPPORTED
            self._answer(Ack.MSG_ID, Ack(frame.msg_id, frame.seq, status).payload())

    # --- reading the capture once ---------------------------------------------------------

    def _index(self, finder: _BootFinder) -> None:
        """Cut the capture into segments that end between frames, and learn its power-ups."""
        capture = self.capture
        chunks = capture.chunks
        walls = capture.walls or tuple(0.0 for _ in chunks)
        frame_no = 0
        i = 0
        while i < len(chunks):
            # One link session, up to the next break: the host reopened the port there, so no
            # frame spans it.
            j = i + 1
            while j < len(chunks) and j not in capture.breaks:
                j += 1
            buf = b"".join(data for _offset, data in chunks[i:j])
            spans = frame_spans(buf)
            start = 0
            chunk_end = 0
            k = 0
            for n in range(i, j):
                chunk_end += len(chunks[n][1])
                while k < len(spans) and spans[k][1] <= chunk_end:
                    s, e = spans[k]
                    msg = _message(buf, s)
                    if msg is not None:
                        finder.frame(frame_no, msg, buf[s + 4 : e - 2])
                    frame_no += 1
                    k += 1
                # A frame this chunk cuts through is played whole with the next one.
                safe = spans[k][0] if k < len(spans) and spans[k][0] < chunk_end else chunk_end
                self._segments.append(
                    _Segment(
                        chunks[n][0], walls[n], buf[start:safe], n == i and i in capture.breaks
                    )
                )
                start = safe
            i = j
        finder.finish()

    # --- playing ---------------------------------------------------------------------------

    def _play(self, segment: _Segment) -> None:
        self._wall = segment.wall
        data = segment.data
        out = bytearray()
        last = 0
        changed = False
        for s, e in frame_spans(data):
            msg = _message(data, s)
            self._learn(msg, data[s + 4 : e - 2])
            self._frame_no += 1
            out += data[last:s]
            last = e
            if isinstance(msg, Ack) and self._host_spoke:
                # An answer to the original host's request, which this host would take for
                # the answer to its own request of the same SEQ: left out.
                self._seq_shift -= 1
                changed = True
                continue
            seq = (data[s + 2] + self._seq_shift) & 0xFF
            self._next_seq = (seq + 1) & 0xFF
            if seq == data[s + 2]:
                out += data[s:e]
            else:
                out += build_frame(data[s + 3], seq, data[s + 4 : e - 2])
                changed = True
        out += data[last:]
        played = bytes(out) if changed else data
        if played:
            item = Outgoing(played, None, None, self.boot_id, round(segment.offset_ms))
            self._outbox.append((item, segment.wall))

    def _learn(self, msg: Message | None, payload: bytes) -> None:
        state = self._state
        if self._boot_starts:
            boot = max(0, bisect.bisect_right(self._boot_starts, self._frame_no) - 1)
            if boot != state.boot:
                # A new power-up: its uptime and shot numbers start again.
                settings = state.settings if state.boot is None else None
                self._state = state = _State(boot, settings)
        if isinstance(msg, Settings):
            state.settings = payload
        elif isinstance(msg, Heartbeat):
            state.heartbeat = msg
            state.last_shot_no = max(state.last_shot_no, msg.last_shot_no)
            state.uptime_ms = max(state.uptime_ms, msg.uptime_ms)
        elif isinstance(msg, Shot):
            state.last_shot_no = max(state.last_shot_no, msg.shot_no)
            if not msg.flags & _RETRANSMIT:
                state.uptime_ms = max(state.uptime_ms, msg.uptime_ms)
        elif isinstance(msg, Fault):
            state.uptime_ms = max(state.uptime_ms, msg.uptime_ms)

    def _resend(self, frame: HostFrame, req: ResendReq) -> None:
        if req.from_shot_no > req.to_shot_no:
            status = AckStatus.BAD_ARGUMENT
            self._answer(Ack.MSG_ID, Ack(frame.msg_id, frame.seq, status).payload())
            return
        state = self._state
        shots = self._boots[state.boot].shots if state.boot is not None else {}
        # Like a gun's ring: the latest shots of the range, up to the last one played.
        top = min(req.to_shot_no, state.last_shot_no)
        first = max(req.from_shot_no, 1)
        lo = max(first, top - SHOT_HISTORY + 1)
        wanted = [n for n in range(lo, top + 1) if n in shots]
        complete = lo == first and len(wanted) == max(0, top - lo + 1)
        status = AckStatus.OK if complete else AckStatus.PARTIAL
        self._answer(Ack.MSG_ID, Ack(frame.msg_id, frame.seq, status).payload())
        for n in wanted:
            self._answer(Shot.MSG_ID, _resent(shots[n]))

    def _answer(self, msg_id: int, payload: bytes) -> None:
        """Put an answer after everything played so far (which ends between frames)."""
        seq = self._next_seq
        item = Outgoing(
            build_frame(msg_id, seq, payload), None, seq, self.boot_id, round(self._now)
        )
        self._outbox.append((item, self._wall))
        self._next_seq = (seq + 1) & 0xFF
        self._seq_shift += 1
