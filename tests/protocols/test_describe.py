"""Fields as a technician reads them: the spec's names, enumerations by name and number."""

from __future__ import annotations

import pytest
from hypothesis import given

from protocols.igp1 import (
    Ack,
    Decoder,
    Fault,
    FaultCode,
    Heartbeat,
    Message,
    Mode,
    Settings,
    Shot,
    ShotFlags,
    State,
)
from protocols.igp1.describe import describe, fault_name, field_label, field_names
from protocols.igp1.frame import crc16
from tests.protocols.strategies import messages


@pytest.mark.parametrize("code", list(FaultCode))
def test_every_fault_code_is_named_with_its_number(code: FaultCode) -> None:
    assert fault_name(code) == f"{code.name}({int(code)})"
    text = describe(Fault(1000, code, 1, 0))
    assert f"code={code.name}({int(code)}) active=RAISED(1)" in text


def test_enumerations_flags_and_special_values() -> None:
    assert "state=LOCKED(3)" in describe(Heartbeat(1, 0, State.LOCKED, 255, 0, 0))
    assert "battery_pct=MAINS(255)" in describe(Heartbeat(1, 0, 1, 255, 0, 0))
    assert "battery_pct=40 " in describe(Heartbeat(1, 0, 1, 40, 0, 0))
    bits = (1 << FaultCode.LOW_BATTERY) | (1 << FaultCode.OCCLUSION)
    assert f"fault_bits=LOW_BATTERY|OCCLUSION({bits:#06x})" in describe(
        Heartbeat(1, 0, 4, 10, bits, 0)
    )
    flags = ShotFlags.PARTIAL | ShotFlags.RETRANSMIT
    assert "flags=PARTIAL|RETRANSMIT(0x0009)" in describe(Shot(3, 1, 0, flags, 1, 1))
    assert "mode=NAPPAGE(2)" in describe(Settings(1, Mode.NAPPAGE, 800, 20_000, 300, 2500))
    assert describe(Ack(0x82, 4, 3)) == "acked_msg=LOCK(0x82) acked_seq=4 status=BUSY(3)"


def test_values_outside_the_spec_are_shown_as_received() -> None:
    # A receiver is tolerant: what the gun sent is shown, marked as unknown.
    frame = Heartbeat(1, 0, 1, 50, 0, 0).encode(0)
    odd = bytearray(frame)
    odd[12] = 9  # state
    odd[-2:] = crc16(bytes(odd[1:-2])).to_bytes(2, "little")
    (decoded,) = Decoder().feed(bytes(odd))
    assert "state=?(9)" in describe(decoded.message)
    assert field_label(Shot, "flags", 0x30) == "?0x30"


@given(messages)
def test_every_message_shows_every_field_by_its_spec_name(message: Message) -> None:
    text = describe(message)
    names = field_names(type(message))
    assert text.startswith(f"{names[0]}=") if names else text == ""
    assert all(f" {name}=" in f" {text}" for name in names)
