"""Spec section 5 through a pyserial host: power-up, heartbeat, IDENT_REQ, shots, resend, LOCK."""

from __future__ import annotations

import itertools
import os
import statistics
from pathlib import Path

from protocols.igp1 import (
    Ack,
    AckStatus,
    Fault,
    FaultCode,
    Heartbeat,
    Hello,
    IdentReq,
    Lock,
    Mode,
    ResendReq,
    Settings,
    Shot,
    ShotFlags,
    State,
    build_frame,
)
from simulators import Simulator
from tests.simulators.conftest import connect
from tests.simulators.host import Host


def test_link_points_at_the_pseudo_terminal(sim: Simulator, link: Path) -> None:
    assert link.is_symlink()
    assert os.readlink(link) == sim.pty_name
    assert sim.path == str(link)


def test_ident_req_answers_ack_hello_settings_heartbeat_in_order(sim: Simulator) -> None:
    host = Host(str(sim.path))
    seq = host.send(IdentReq())
    frames = host.wait_for(lambda fs: any(isinstance(f.message, Ack) for f in fs[:-3]))
    # A heartbeat due while the host was opening the port may come first.
    i = next(i for i, f in enumerate(frames) if isinstance(f.message, Ack))
    frames = frames[i:]
    ack, hello, settings, beat = (f.message for f in frames[:4])
    assert ack == Ack(0x80, seq, AckStatus.OK)
    assert isinstance(hello, Hello)
    assert (hello.model, hello.serial, hello.firmware) == ("MG-400", "SN0042", "2.4.1")
    assert hello.boot_id == sim.boot_id != 0
    assert isinstance(settings, Settings) and settings.syringe_capacity_ul == 2500
    assert isinstance(beat, Heartbeat) and beat.state == State.READY
    # The gun's own SEQ rises by one per frame.
    assert [f.seq for f in frames[1:4]] == [(frames[0].seq + i) % 256 for i in (1, 2, 3)]
    host.close()


def test_power_up_sends_banner_then_hello_settings_heartbeat(sim: Simulator, host: Host) -> None:
    old = sim.boot_id
    sim.power_cycle(off_ms=200)
    host.wait_for(
        lambda fs: any(isinstance(m, Hello) and m.boot_id != old for m in host.messages())
    )
    host.wait_for(lambda fs: isinstance(fs[-1].message, Heartbeat))
    banner = b"\r\nMG-400 fw 2.4.1 boot\r\n"
    hello = next(
        f for f in host.frames if isinstance(f.message, Hello) and f.message.boot_id != old
    )
    raw = bytes(host.raw)
    at = raw.index(banner)
    assert raw[at + len(banner) :].startswith(hello.message.encode(hello.seq))
    assert hello.seq == 0  # SEQ starts again with the boot
    kinds = [type(m) for m in host.messages()]
    i = max(i for i, m in enumerate(host.messages()) if isinstance(m, Hello))
    assert kinds[i : i + 3] == [Hello, Settings, Heartbeat]
    assert host.decoder.stats.garbage_bytes == len(b"\r\nMG-400 fw 2.4.1 boot\r\n")
    assert sim.boot_id not in (0, old)
    assert sim.boot_ids == [old, sim.boot_id]


def test_heartbeat_every_1000_ms_of_device_time(sim: Simulator, host: Host) -> None:
    host.wait_for(lambda fs: host.count(Heartbeat) >= 6)
    beats = host.messages(Heartbeat)
    # Scheduled beats (not the one answering IDENT_REQ) follow each other by exactly 1000 ms.
    scheduled = [b for b in beats if b.uptime_ms % 1000 == 120]
    assert len(scheduled) >= len(beats) - 1
    assert {b.uptime_ms - a.uptime_ms for a, b in itertools.pairwise(scheduled)} == {1000}
    assert all(b.battery_pct == 87 and b.fault_bits == 0 for b in beats)


def test_single_mode_shots_scatter_around_the_setpoint(sim: Simulator, host: Host) -> None:
    sim.set_settings(mode=Mode.SINGLE, depth_um=2500, volume_nl=50_000)
    sim.press_trigger(30)
    host.wait_for(lambda fs: host.count(Shot) >= 30)
    shots = host.messages(Shot)
    assert [s.shot_no for s in shots] == list(range(1, 31))
    depths = [s.depth_um for s in shots]
    assert all(2000 < d < 3000 for d in depths)
    assert len(set(depths)) > 5  # measured, not the setpoint copied
    assert abs(statistics.mean(depths) - 2500) < 100
    assert all(s.volume_nl == 50_000 and s.flags == 0 for s in shots)
    remaining = [s.syringe_remaining_nl for s in shots]
    assert remaining == [2_500_000 - 50_000 * n for n in range(1, 31)]
    assert [r.shot for r in sim.shots()] == shots


def test_repeat_and_nappage_fire_at_the_set_rate(sim: Simulator, host: Host) -> None:
    sim.set_settings(mode=Mode.REPEAT, depth_um=2000, volume_nl=10_000, rate_spm=540)
    sim.press_trigger(10)
    host.wait_for(lambda fs: host.count(Shot) >= 10)
    sim.set_settings(mode=Mode.NAPPAGE, depth_um=800, rate_spm=300)
    sim.press_trigger(10)
    host.wait_for(lambda fs: host.count(Shot) >= 20)
    shots = host.messages(Shot)
    repeat, nappage = shots[:10], shots[10:]
    assert {b.uptime_ms - a.uptime_ms for a, b in itertools.pairwise(repeat)} == {111}
    assert {b.uptime_ms - a.uptime_ms for a, b in itertools.pairwise(nappage)} == {200}
    assert all(600 < s.depth_um < 1000 for s in nappage)
    settings = host.messages(Settings)[-2:]
    assert [(s.mode, s.rate_spm) for s in settings] == [(Mode.REPEAT, 540), (Mode.NAPPAGE, 300)]


def test_continuous_mode_reports_every_250_ms(sim: Simulator, host: Host) -> None:
    sim.set_settings(mode=Mode.CONTINUOUS, volume_nl=20_000)
    sim.press_trigger(6)
    host.wait_for(lambda fs: host.count(Shot) >= 6)
    shots = host.messages(Shot)
    assert all(s.flags == ShotFlags.CONTINUOUS for s in shots)
    assert all(s.volume_nl == 5_000 for s in shots)  # 20 µL/s for 250 ms
    assert {b.uptime_ms - a.uptime_ms for a, b in itertools.pairwise(shots)} == {250}


def test_syringe_runs_dry_with_a_partial_shot_then_fires_nothing(
    sim: Simulator, host: Host
) -> None:
    sim.swap_syringe(1000)  # 1 mL
    sim.set_settings(mode=Mode.REPEAT, volume_nl=30_000, rate_spm=540)
    sim.press_trigger(40)
    host.wait_for(lambda fs: any(isinstance(m, Fault) for m in host.messages()))
    shots = host.messages(Shot)
    assert len(shots) == 34
    assert shots[-1].flags == ShotFlags.PARTIAL
    assert shots[-1].volume_nl == 10_000 and shots[-1].syringe_remaining_nl == 0
    assert host.messages(Fault)[-1] == Fault(shots[-1].uptime_ms, FaultCode.SYRINGE_EMPTY, 1, 0)
    sim.press_trigger(5)
    beats = host.count(Heartbeat)
    host.wait_for(lambda fs: host.count(Heartbeat) >= beats + 3)
    assert host.count(Shot) == 34
    beat = host.messages(Heartbeat)[-1]
    assert beat.state == State.FAULT and beat.fault_bits == 1 << FaultCode.SYRINGE_EMPTY
    sim.swap_syringe()
    host.wait_for(lambda fs: isinstance(fs[-1].message, Fault) and fs[-1].message.active == 0)
    sim.press_trigger(1)
    host.wait_for(lambda fs: host.count(Shot) == 35)
    assert host.messages(Shot)[-1].syringe_remaining_nl == 1_000_000 - 30_000


def test_low_battery_is_raised_as_the_battery_drains(sim: Simulator, host: Host) -> None:
    sim.set_battery(20.03)
    sim.set_settings(mode=Mode.REPEAT, volume_nl=1_000, rate_spm=540)
    sim.press_trigger(10)
    host.wait_for(lambda fs: any(isinstance(m, Fault) for m in host.messages()))
    fault = host.messages(Fault)[0]
    assert (fault.code, fault.active, fault.detail) == (FaultCode.LOW_BATTERY, 1, 19)
    host.wait_for(lambda fs: host.count(Shot) == 10)  # a warning: the gun still fires
    host.wait_for(lambda fs: host.messages()[-1] == host.messages(Heartbeat)[-1])
    assert host.messages(Heartbeat)[-1].battery_pct == 20
    sim.set_battery(None)
    host.wait_for(lambda fs: host.messages(Fault)[-1].active == 0)
    host.wait_for(lambda fs: host.messages(Heartbeat)[-1].battery_pct == 255)


def test_raised_fault_stops_the_trigger_until_cleared(sim: Simulator, host: Host) -> None:
    sim.raise_fault(FaultCode.OVER_TEMPERATURE)
    sim.press_trigger(3)
    beats = host.count(Heartbeat)
    host.wait_for(lambda fs: host.count(Heartbeat) >= beats + 3)
    raised = host.messages(Fault)[0]
    assert (raised.code, raised.active, raised.detail) == (FaultCode.OVER_TEMPERATURE, 1, 48)
    assert host.count(Shot) == 0 and sim.state == State.FAULT
    sim.clear_fault(FaultCode.OVER_TEMPERATURE)
    sim.press_trigger(2)
    host.wait_for(lambda fs: host.count(Shot) == 2)


def test_lock_stops_the_trigger_survives_the_host_but_not_a_power_cycle(
    sim: Simulator, host: Host
) -> None:
    seq = host.send(Lock(1, 1))
    host.wait_for(lambda fs: Ack(0x82, seq, AckStatus.OK) in host.messages())
    assert sim.locked
    sim.press_trigger(5)
    beats = host.count(Heartbeat)
    host.wait_for(lambda fs: host.count(Heartbeat) >= beats + 3)
    assert host.count(Shot) == 0
    assert host.messages(Heartbeat)[-1].state == State.LOCKED
    host.close()
    again = connect(str(sim.path))
    assert sim.locked and again.messages(Heartbeat)[-1].state == State.LOCKED
    seq = again.send(Lock(0, 0))
    again.wait_for(lambda fs: Ack(0x82, seq, AckStatus.OK) in again.messages())
    sim.press_trigger(2)
    again.wait_for(lambda fs: again.count(Shot) == 2)
    seq = again.send(Lock(1, 0))
    again.wait_for(lambda fs: Ack(0x82, seq, AckStatus.OK) in again.messages())
    sim.power_cycle(off_ms=100)
    again.wait_for(lambda fs: any(isinstance(m, Hello) for m in again.messages()[-4:]))
    assert not sim.locked
    again.close()


def test_bad_arguments_and_unknown_messages_get_the_right_ack(sim: Simulator, host: Host) -> None:
    seq = host.send(ResendReq(9, 3))
    bad_lock = build_frame(0x82, 200, bytes([2, 0, 0, 0]))
    bad_reason = build_frame(0x82, 201, bytes([1, 9, 0, 0]))
    unknown = build_frame(0x99, 202, b"\x01\x02")
    device_msg = build_frame(0x10, 203, bytes(20))  # a SHOT sent by the host
    host.send_raw(bad_lock + b"\x00\xa5\x07" + bad_reason + unknown + device_msg)
    host.wait_for(lambda fs: host.count(Ack) >= 6)
    acks = host.messages(Ack)[1:]
    assert acks == [
        Ack(0x81, seq, AckStatus.BAD_ARGUMENT),
        Ack(0x82, 200, AckStatus.BAD_ARGUMENT),
        Ack(0x82, 201, AckStatus.BAD_ARGUMENT),
        Ack(0x99, 202, AckStatus.UNSUPPORTED),
        Ack(0x10, 203, AckStatus.UNSUPPORTED),
    ]
    assert not sim.locked
    assert [f.msg_id for f in sim.host_frames()] == [0x80, 0x81, 0x82, 0x82, 0x99, 0x10]


def test_resend_repeats_shots_with_retransmit_and_every_other_field(
    sim: Simulator, host: Host
) -> None:
    sim.set_settings(mode=Mode.REPEAT, volume_nl=10_000, rate_spm=540)
    sim.press_trigger(20)
    host.wait_for(lambda fs: host.count(Shot) == 20)
    seq = host.send(ResendReq(5, 9))
    host.wait_for(lambda fs: host.count(Shot) == 25)
    assert Ack(0x81, seq, AckStatus.OK) in host.messages()
    originals, again = host.messages(Shot)[:20], host.messages(Shot)[20:]
    for shot in again:
        assert isinstance(shot, Shot)
        first = originals[shot.shot_no - 1]
        assert shot.flags == first.flags | ShotFlags.RETRANSMIT
        assert shot == Shot(
            first.shot_no,
            first.uptime_ms,
            first.depth_um,
            shot.flags,
            first.volume_nl,
            first.syringe_remaining_nl,
        )
    assert [s.shot_no for s in again] == [5, 6, 7, 8, 9]
    seq = host.send(ResendReq(19, 400))  # beyond the last shot: nothing missing, OK
    host.wait_for(lambda fs: host.count(Shot) == 27)
    assert host.messages(Ack)[-1] == Ack(0x81, seq, AckStatus.OK)


def test_ring_holds_the_last_1024_shots_and_answers_partial(link: Path) -> None:
    with Simulator("idle", speed=2000, seed=3, link=link) as sim:
        host = connect(str(sim.path))
        sim.set_settings(mode=Mode.REPEAT, volume_nl=1_000, rate_spm=600)
        sim.press_trigger(1100)
        host.wait_for(lambda fs: host.count(Shot) == 1100, timeout=30)
        seq = host.send(ResendReq(1, 1100))
        host.wait_for(lambda fs: host.count(Shot) == 1100 + 1024, timeout=30)
        assert Ack(0x81, seq, AckStatus.PARTIAL) in host.messages()
        resent = host.messages(Shot)[1100:]
        assert [s.shot_no for s in resent] == list(range(77, 1101))
        held = sim.resendable_shots()
        assert [r.shot.shot_no for r in held] == list(range(77, 1101))
        assert sim.unrecoverable_shots() == []  # all were delivered the first time
        host.close()
