"""The gun model on its own (no pseudo-terminal): edge cases of RESEND_REQ, power, settings."""

from __future__ import annotations

import random

import pytest

from protocols.igp1 import (
    Ack,
    AckStatus,
    Decoder,
    Fault,
    FaultCode,
    Heartbeat,
    Hello,
    Message,
    Mode,
    ResendReq,
    Settings,
    Shot,
    ShotFlags,
)
from simulators.gun import Gun, GunConfig, GunSettings, HostFrame


def _gun(**settings: int) -> Gun:
    gun = Gun(GunConfig(settings=GunSettings(Mode.REPEAT, 2000, 1_000, 600)), random.Random(1))
    gun.power_on()
    if settings:
        gun.set_settings(**settings)  # type: ignore[arg-type]
    return gun


def _frames(gun: Gun) -> list[Message]:
    decoder = Decoder()
    out = [f.message for o in gun.outbox for f in decoder.feed(o.data)]
    gun.outbox.clear()
    return out


def _fire(gun: Gun, n: int) -> None:
    gun.press_trigger(n)
    while gun.trigger_busy:
        nxt = gun.next_event_ms()
        assert nxt is not None
        gun.advance_to(nxt)


def _resend(gun: Gun, lo: int, hi: int, seq: int = 1) -> tuple[Ack, list[int]]:
    gun.outbox.clear()
    gun.handle(HostFrame(seq, 0x81, ResendReq(lo, hi)))
    out = _frames(gun)
    ack = out[0]
    assert isinstance(ack, Ack)
    shots = [m for m in out[1:] if isinstance(m, Shot)]
    assert all(s.flags & ShotFlags.RETRANSMIT for s in shots)
    return ack, [s.shot_no for s in shots]


def test_power_up_frames_and_heartbeats_on_the_virtual_clock() -> None:
    gun = _gun()
    out = _frames(gun)
    assert [type(m) for m in out] == [Hello, Settings, Heartbeat]
    assert out[2] == Heartbeat(120, 0, 1, 87, 0, 2_500_000)
    gun.advance_to(3_100)
    beats = _frames(gun)
    assert [b.uptime_ms for b in beats if isinstance(b, Heartbeat)] == [1120, 2120, 3120]


@pytest.mark.parametrize(
    ("lo", "hi", "status", "resent"),
    [
        (1, 3, AckStatus.OK, [1, 2, 3]),
        (0, 2, AckStatus.OK, [1, 2]),  # shot 0 never exists
        (4, 4, AckStatus.OK, [4]),
        (5, 900, AckStatus.OK, [5]),  # shots not fired yet are not missing
        (7, 9, AckStatus.OK, []),
        (3, 2, AckStatus.BAD_ARGUMENT, []),
    ],
)
def test_resend_ranges(lo: int, hi: int, status: AckStatus, resent: list[int]) -> None:
    gun = _gun()
    _fire(gun, 5)
    ack, shots = _resend(gun, lo, hi, seq=42)
    assert ack == Ack(0x81, 42, status)
    assert shots == resent


def test_resend_of_shots_pushed_out_of_the_ring_is_partial() -> None:
    gun = _gun()
    _fire(gun, 1030)
    ack, shots = _resend(gun, 1, 10)
    assert (ack.status, shots) == (AckStatus.PARTIAL, [7, 8, 9, 10])
    ack, shots = _resend(gun, 1, 3)
    assert (ack.status, shots) == (AckStatus.PARTIAL, [])


def test_power_cycle_keeps_hardware_conditions_and_loses_the_ring() -> None:
    gun = Gun(GunConfig(syringe_ul=1000, battery_pct=10.0), random.Random(2))
    gun.power_on()
    out = _frames(gun)
    assert Fault(120, FaultCode.LOW_BATTERY, 1, 10) in out
    gun.set_settings(volume_nl=200_000)
    _fire(gun, 10)
    assert gun.syringe_remaining_nl == 0 and FaultCode.SYRINGE_EMPTY in gun.faults
    first = gun.boot_id
    gun.power_off()
    assert gun.held_shots() == [] and gun.boot_id == 0
    gun.advance_to(gun.now + 5_000)
    assert gun.outbox == [] or all(o.boot_id == first for o in gun.outbox)
    gun.outbox.clear()
    gun.power_on()
    out = _frames(gun)
    assert gun.boot_id not in (0, first)
    assert {(m.code, m.active) for m in out if isinstance(m, Fault)} == {
        (FaultCode.SYRINGE_EMPTY, 1),
        (FaultCode.LOW_BATTERY, 1),
    }
    assert gun.last_shot_no == 0 and gun.uptime_ms == 120


def test_settings_are_checked_and_sent_only_when_they_change() -> None:
    gun = _gun()
    gun.outbox.clear()
    gun.set_settings(depth_um=2000)
    assert gun.outbox == []
    gun.set_settings(depth_um=3000)
    assert [type(m) for m in _frames(gun)] == [Settings]
    with pytest.raises(ValueError, match="needs a rate above 0"):
        gun.set_settings(rate_spm=0)
    with pytest.raises(ValueError, match="syringe 50 mL is outside"):
        gun.swap_syringe(50_000)
    assert gun.settings.rate_spm == 600
