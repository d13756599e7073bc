"""The IGP/1 message catalogue (spec section 4): one definition per message.

Each message is a frozen dataclass whose fields carry the spec's names and units, declared with
:func:`message`, which takes the message id, the direction and the payload's ``struct`` layout.
Everything else (the registry, payload size, encoding with range checks, the fast decoder's
unpacker) is derived from that one definition, so adding a message is adding one class here.

Decoding is tolerant (any value the layout can hold is accepted, as the spec asks of a
receiver); encoding is strict (ranges, enumerations and reserved bits are checked).
"""

from __future__ import annotations

import dataclasses
import enum
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from protocols.igp1.frame import MAX_PAYLOAD, build_frame


class Direction(enum.Enum):
    """Who sends a message."""

    DEVICE = "device→host"
    HOST = "host→device"


class State(enum.IntEnum):
    """HEARTBEAT ``state``."""

    IDLE = 0
    READY = 1
    INJECTING = 2
    LOCKED = 3
    FAULT = 4


class Mode(enum.IntEnum):
    """SETTINGS ``mode``."""

    SINGLE = 0
    REPEAT = 1
    NAPPAGE = 2
    CONTINUOUS = 3


class FaultCode(enum.IntEnum):
    """FAULT ``code``; bit *n* of HEARTBEAT ``fault_bits`` is set while code *n* is active."""

    LOW_BATTERY = 1
    SYRINGE_EMPTY = 2
    MOTOR_STALL = 3
    NEEDLE_NOT_SEATED = 4
    OCCLUSION = 5
    DEPTH_SENSOR = 6
    OVER_TEMPERATURE = 7


class ShotFlags(enum.IntFlag):
    """SHOT ``flags``; other bits are 0."""

    PARTIAL = 0x01
    NO_SKIN = 0x02
    CONTINUOUS = 0x04
    RETRANSMIT = 0x08


class AckStatus(enum.IntEnum):
    """ACK ``status``."""

    OK = 0
    BAD_ARGUMENT = 1
    UNSUPPORTED = 2
    BUSY = 3
    PARTIAL = 4


class LockReason(enum.IntEnum):
    """LOCK ``reason``."""

    MANUAL = 0
    PLAN_LIMIT = 1
    SESSION_ENDED = 2


BATTERY_MAINS = 255
"""``battery_pct`` value meaning mains power or unknown."""

_M = TypeVar("_M", bound="Message")
_INT_RANGES = {"B": 0xFF, "H": 0xFFFF, "I": 0xFFFF_FFFF}
_TOKEN = re.compile(r"(\d*)([a-zA-Z])")


class Message:
    """Base of every IGP/1 message; subclasses are declared with :func:`message`."""

    __slots__ = ()

    MSG_ID: ClassVar[int]
    NAME: ClassVar[str]
    DIRECTION: ClassVar[Direction]
    PAYLOAD_SIZE: ClassVar[int]
    STRUCT: ClassVar[struct.Struct]
    CHOICES: ClassVar[Mapping[str, frozenset[int]]] = {}
    # (field name, struct code) of every non-reserved field, in payload order.
    WIRE_FIELDS: ClassVar[tuple[tuple[str, str], ...]]
    # Fast path used by the decoder: payload buffer and offset to a message.
    unpack_from: ClassVar[Callable[[bytes | bytearray | memoryview, int], Message]]
    # The mutable twin the fast path builds before making it this class (see _make_twin);
    # None for layouts with text, which need converting first.
    TWIN: ClassVar[type[Message] | None]

    def payload(self) -> bytes:
        """The payload bytes, after checking every field against its range and choices."""
        values: list[Any] = []
        for name, code in self.WIRE_FIELDS:
            value = getattr(self, name)
            values.append(_check_field(self.NAME, name, code, value))
            allowed = self.CHOICES.get(name)
            if allowed is not None and value not in allowed:
                raise ValueError(f"{self.NAME}.{name}={value!r} is not one of {sorted(allowed)}")
        self.check()
        return self.STRUCT.pack(*values)

    def check(self) -> None:
        """Extra rules a message adds beyond ranges and choices; raises ``ValueError``."""

    def encode(self, seq: int) -> bytes:
        """The whole frame for this message with sender counter ``seq`` (0..255)."""
        return build_frame(self.MSG_ID, seq, self.payload())


def _check_field(message_name: str, name: str, code: str, value: Any) -> Any:
    if code.endswith("s"):
        size = int(code[:-1])
        if not isinstance(value, str):
            raise ValueError(f"{message_name}.{name} must be text, got {type(value).__name__}")
        try:
            raw = value.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError(f"{message_name}.{name}={value!r} is not plain ASCII") from None
        if len(raw) > size:
            raise ValueError(
                f"{message_name}.{name}={value!r} is {len(raw)} bytes, longer than {size}"
            )
        if b"\0" in raw:
            raise ValueError(f"{message_name}.{name} must not contain NUL bytes")
        return raw
    top = _INT_RANGES[code]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{message_name}.{name} must be an integer, got {value!r}")
    if not 0 <= value <= top:
        kind = {"B": "u8", "H": "u16", "I": "u32"}[code]
        raise ValueError(f"{message_name}.{name}={value} does not fit in {kind} (0..{top})")
    return value


CATALOGUE: dict[int, type[Message]] = {}
"""Every known message class by id."""

PAYLOAD_SIZES: dict[int, int] = {}
"""Fixed payload length by message id, for the decoder's length check."""


def message(
    msg_id: int,
    direction: Direction,
    layout: str,
    choices: Mapping[str, Any] | None = None,
) -> Callable[[type[_M]], type[_M]]:
    """Declare a message: its id, direction and little-endian ``struct`` payload layout.

    ``layout`` lists one code per dataclass field in order (``B`` u8, ``H`` u16, ``I`` u32,
    ``16s`` char[16]); ``x`` marks a reserved byte, sent as 0 and ignored on receipt.
    ``choices`` maps a field to the enumeration (or iterable of ints) an encoder may send.
    """

    def declare(cls: type[_M]) -> type[_M]:
        if msg_id in CATALOGUE:
            raise ValueError(f"message id {msg_id:#04x} declared twice")
        compiled = struct.Struct("<" + layout)
        if compiled.size > MAX_PAYLOAD:
            raise ValueError(f"{cls.__name__} payload exceeds {MAX_PAYLOAD} bytes")
        codes = [count + kind for count, kind in _TOKEN.findall(layout) if kind != "x"]
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        if len(codes) != len(names):
            raise ValueError(f"{cls.__name__}: layout {layout!r} does not match fields {names}")
        cls.MSG_ID = msg_id
        cls.NAME = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", cls.__name__).upper()
        cls.DIRECTION = direction
        cls.PAYLOAD_SIZE = compiled.size
        cls.STRUCT = compiled
        cls.WIRE_FIELDS = tuple(zip(names, codes, strict=True))
        cls.CHOICES = {
            name: frozenset(int(v) for v in allowed) for name, allowed in (choices or {}).items()
        }
        twin = _make_twin(cls)
        cls.unpack_from = _make_unpacker(cls, twin, compiled, codes)
        cls.TWIN = None if any(code.endswith("s") for code in codes) else twin
        CATALOGUE[msg_id] = cls
        PAYLOAD_SIZES[msg_id] = compiled.size
        return cls

    return declare


def _make_twin(cls: type[Message]) -> type[Message]:
    """A mutable twin of ``cls`` for building decoded messages fast.

    A frozen dataclass's ``__init__`` stores each field through ``object.__setattr__``, which
    was most of the cost of decoding a frame. The twin has the same base and the same slots in
    the same order (so the same memory layout) and a plain ``__init__`` that stores the slots
    directly; assigning ``__class__ = cls`` to a twin then gives an equal, equally frozen
    ``cls`` in about a third of the time.
    """
    twin: type[Message] = dataclasses.make_dataclass(
        f"_{cls.__name__}Builder",
        [(f.name, f.type) for f in dataclasses.fields(cls)],  # type: ignore[arg-type]
        bases=(Message,),
        slots=True,
        eq=False,
        repr=False,
    )
    return twin


def _make_unpacker(
    cls: type[Message], twin: type[Message], compiled: struct.Struct, codes: list[str]
) -> Callable[[bytes | bytearray | memoryview, int], Message]:
    """Payload buffer and offset to a ``cls``, built through its twin; text fields (HELLO's)
    are cut at the first NUL and decoded as ASCII."""
    unpack = compiled.unpack_from
    text_positions = [i for i, code in enumerate(codes) if code.endswith("s")]

    def unpack_message(buf: bytes | bytearray | memoryview, offset: int) -> Message:
        values = list(unpack(buf, offset))
        for i in text_positions:
            values[i] = values[i].split(b"\0", 1)[0].decode("ascii", "replace")
        obj = twin(*values)
        obj.__class__ = cls
        return obj

    return unpack_message


@dataclass(frozen=True, slots=True)
class Unknown:
    """A frame with a good CRC and an id the catalogue does not know (forward compatibility).

    Not part of the catalogue: a decoder hands these out only when asked (a device must answer
    them with ACK UNSUPPORTED naming their id and SEQ); hosts just count them.
    """

    msg_id: int
    payload: bytes


# --- device → host -------------------------------------------------------------------------


@message(0x01, Direction.DEVICE, "BBBBI16s16s", choices={"proto_version": [1]})
@dataclass(frozen=True, slots=True)
class Hello(Message):
    """Identity of the device, sent at power-up and in answer to IDENT_REQ."""

    proto_version: int
    fw_major: int
    fw_minor: int
    fw_patch: int
    boot_id: int
    model: str
    serial: str

    def check(self) -> None:
        """``boot_id`` is drawn non-zero at every power-up."""
        if self.boot_id == 0:
            raise ValueError("HELLO.boot_id must be non-zero")

    @property
    def firmware(self) -> str:
        """Firmware version as ``major.minor.patch``."""
        return f"{self.fw_major}.{self.fw_minor}.{self.fw_patch}"


@message(0x02, Direction.DEVICE, "IIBBHI", choices={"state": State})
@dataclass(frozen=True, slots=True)
class Heartbeat(Message):
    """Status every 1000 ms; ``last_shot_no`` lets the host notice missing shots."""

    uptime_ms: int
    last_shot_no: int
    state: int
    battery_pct: int
    fault_bits: int
    syringe_remaining_nl: int

    def check(self) -> None:
        """Battery is a percentage or 255 (mains); only defined fault bits may be set."""
        if self.battery_pct > 100 and self.battery_pct != BATTERY_MAINS:
            raise ValueError(f"HEARTBEAT.battery_pct={self.battery_pct} is not 0..100 or 255")
        defined = sum(1 << code for code in FaultCode)
        if self.fault_bits & ~defined:
            raise ValueError(f"HEARTBEAT.fault_bits={self.fault_bits:#06x} sets undefined bits")


@message(0x03, Direction.DEVICE, "IBxHIHH", choices={"mode": Mode})
@dataclass(frozen=True, slots=True)
class Settings(Message):
    """The gun's settings, sent whenever the practitioner changes them."""

    uptime_ms: int
    mode: int
    depth_set_um: int
    volume_set_nl: int
    rate_spm: int
    syringe_capacity_ul: int


@message(0x10, Direction.DEVICE, "IIHHII")
@dataclass(frozen=True, slots=True)
class Shot(Message):
    """One shot, sent as the needle retracts (or again, flagged RETRANSMIT, on request)."""

    shot_no: int
    uptime_ms: int
    depth_um: int
    flags: int
    volume_nl: int
    syringe_remaining_nl: int

    def check(self) -> None:
        """Only the four defined flag bits may be set; shot numbers start at 1."""
        if self.flags & ~0x0F:
            raise ValueError(f"SHOT.flags={self.flags:#06x} sets undefined bits")
        if self.shot_no == 0:
            raise ValueError("SHOT.shot_no starts at 1")


@message(0x20, Direction.DEVICE, "IBBH", choices={"code": FaultCode, "active": (0, 1)})
@dataclass(frozen=True, slots=True)
class Fault(Message):
    """A fault raised (``active`` 1) or cleared (0)."""

    uptime_ms: int
    code: int
    active: int
    detail: int


@message(0x30, Direction.DEVICE, "BBBx", choices={"status": AckStatus})
@dataclass(frozen=True, slots=True)
class Ack(Message):
    """The device's answer to a host message, naming it by id and SEQ."""

    acked_msg: int
    acked_seq: int
    status: int


# --- host → device -------------------------------------------------------------------------


@message(0x80, Direction.HOST, "")
@dataclass(frozen=True, slots=True)
class IdentReq(Message):
    """Ask the device for ACK, HELLO, SETTINGS and HEARTBEAT."""


@message(0x81, Direction.HOST, "II")
@dataclass(frozen=True, slots=True)
class ResendReq(Message):
    """Ask for shots ``from_shot_no`` … ``to_shot_no`` (inclusive) again."""

    from_shot_no: int
    to_shot_no: int


@message(0x82, Direction.HOST, "BBxx", choices={"lock": (0, 1), "reason": LockReason})
@dataclass(frozen=True, slots=True)
class Lock(Message):
    """Lock (1) or unlock (0) the trigger."""

    lock: int
    reason: int
