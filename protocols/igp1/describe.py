"""How a technician reads a message: each field by the spec's name, enumerations by name and number.

One table says which fields carry an enumeration, a set of flags or a special value, so every
tool that shows a message (``injector capture dump``, ``info``) names them the same way:
``state=READY(1)``, ``code=SYRINGE_EMPTY(2)``, ``flags=PARTIAL|RETRANSMIT(0x0009)``,
``battery_pct=MAINS(255)``, ``acked_msg=RESEND_REQ(0x81)``. Values outside the spec's
enumerations are shown with ``?`` (``state=?(9)``): a receiver is tolerant, and the technician
sees what the gun really sent. The same table gives machine formats the names alone.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from protocols.igp1.messages import (
    BATTERY_MAINS,
    CATALOGUE,
    Ack,
    AckStatus,
    Fault,
    FaultCode,
    Heartbeat,
    Hello,
    Lock,
    LockReason,
    Message,
    Mode,
    Settings,
    Shot,
    ShotFlags,
    State,
    Unknown,
)

Label = Callable[[int], str | None]
"""A field value's name (``READY``, ``PARTIAL|RETRANSMIT``), or ``None`` for a plain number."""


def _enumeration(kind: type[enum.IntEnum] | Mapping[int, str]) -> Label:
    names = {int(m): m.name for m in kind} if isinstance(kind, type) else dict(kind)

    def label(value: int) -> str:
        return names.get(value, "?")

    return label


def _flags(kind: type[enum.IntFlag] | type[enum.IntEnum], bit_of: Callable[[int], int]) -> Label:
    bits = [(bit_of(int(m)), str(m.name)) for m in kind]
    defined = sum(bit for bit, _ in bits)

    def label(value: int) -> str:
        parts = [name for bit, name in bits if value & bit]
        if value & ~defined:
            parts.append(f"?{value & ~defined:#x}")
        return "|".join(parts) or "none"

    return label


def _battery(value: int) -> str | None:
    return "MAINS" if value == BATTERY_MAINS else None


def _message_id(value: int) -> str:
    known = CATALOGUE.get(value)
    return known.NAME if known else "?"


@dataclass(frozen=True, slots=True)
class FieldStyle:
    """How one field is shown: its label (if it has names) and how its number is written."""

    label: Label | None = None
    hex_digits: int = 0
    """Write the number in hexadecimal with this many digits (0: decimal)."""

    def number(self, value: int) -> str:
        """The number as shown: decimal, or hexadecimal for ids and bit sets."""
        return f"{value:#0{self.hex_digits + 2}x}" if self.hex_digits else str(value)

    def text(self, value: int) -> str:
        """``NAME(number)`` for a labelled field, the number alone otherwise."""
        name = self.label(value) if self.label is not None else None
        return f"{name}({self.number(value)})" if name is not None else self.number(value)


STYLES: dict[tuple[type[Message], str], FieldStyle] = {
    (Hello, "boot_id"): FieldStyle(hex_digits=8),
    (Heartbeat, "state"): FieldStyle(_enumeration(State)),
    (Heartbeat, "battery_pct"): FieldStyle(_battery),
    (Heartbeat, "fault_bits"): FieldStyle(_flags(FaultCode, lambda code: 1 << code), 4),
    (Settings, "mode"): FieldStyle(_enumeration(Mode)),
    (Shot, "flags"): FieldStyle(_flags(ShotFlags, lambda bit: bit), 4),
    (Fault, "code"): FieldStyle(_enumeration(FaultCode)),
    (Fault, "active"): FieldStyle(_enumeration({0: "CLEARED", 1: "RAISED"})),
    (Ack, "acked_msg"): FieldStyle(_message_id, 2),
    (Ack, "status"): FieldStyle(_enumeration(AckStatus)),
    (Lock, "lock"): FieldStyle(_enumeration({0: "UNLOCK", 1: "LOCK"})),
    (Lock, "reason"): FieldStyle(_enumeration(LockReason)),
}
"""The fields shown other than as a plain decimal number, by message class and field name."""


def field_names(cls: type[Message]) -> tuple[str, ...]:
    """The fields of ``cls`` in payload order, by the spec's names."""
    return tuple(name for name, _code in cls.WIRE_FIELDS)


def labelled_fields(cls: type[Message]) -> tuple[str, ...]:
    """The fields of ``cls`` that have names for their values."""
    return tuple(n for n in field_names(cls) if (s := STYLES.get((cls, n))) and s.label)


def message_name(message: Message | Unknown) -> str:
    """``SHOT``, ``HEARTBEAT`` … or ``UNKNOWN`` for an id the catalogue lacks."""
    return "UNKNOWN" if isinstance(message, Unknown) else message.NAME


def field_text(cls: type[Message], name: str, value: int | str) -> str:
    """One field's value as shown: ``READY(1)``, ``0x5eed1234``, ``'MG-400'``, ``2480``."""
    if isinstance(value, str):
        return repr(value)
    style = STYLES.get((cls, name))
    return style.text(value) if style is not None else str(value)


def field_label(cls: type[Message], name: str, value: int) -> str | None:
    """The name of a labelled field's value (``READY``), ``None`` for a plain number."""
    style = STYLES.get((cls, name))
    return style.label(value) if style is not None and style.label is not None else None


def describe(message: Message | Unknown) -> str:
    """Every field as ``name=value``, enumerations by name and number, text quoted."""
    if isinstance(message, Unknown):
        return f"msg_id={message.msg_id:#04x} payload={message.payload.hex()}"
    cls = type(message)
    return " ".join(
        f"{name}={field_text(cls, name, getattr(message, name))}" for name in field_names(cls)
    )


def fault_name(code: int) -> str:
    """A FAULT code by name and number, e.g. ``SYRINGE_EMPTY(2)``."""
    return field_text(Fault, "code", code)
