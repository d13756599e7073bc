"""Every fault kind, seen by a pyserial host, against the simulator's ground truth."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import serial

from protocols.igp1 import Hello, Mode, ResendReq, Shot
from simulators import (
    Fate,
    FaultConfig,
    LinkEvent,
    LinkEventKind,
    Simulator,
    parse_fault_spec,
)
from tests.simulators.conftest import connect
from tests.simulators.host import Host


def _fire(sim: Simulator, n: int) -> None:
    """Fire ``n`` shots in REPEAT mode and wait until the gun has fired them."""
    before = len(sim.shots())
    sim.set_settings(mode=Mode.REPEAT, volume_nl=1_000, rate_spm=540)
    sim.press_trigger(n)
    assert sim.wait_until(lambda s: len(s.shots()) == before + n, 10)


def _written(sim: Simulator) -> list[bytes]:
    """Every transmission that went on the line, as written."""
    return [o.data for o in sim.sent_frames() if o.fate in (Fate.SENT, Fate.CORRUPTED) and o.data]


def test_fault_spec_parses_probabilities_and_events() -> None:
    config = parse_fault_spec(
        "noise=0.01,bitflip=0.001,drop=0.02,dup=0.5,unplug@30s/2s,powercycle@1min"
    )
    assert (config.noise, config.bitflip, config.drop, config.dup) == (0.01, 0.001, 0.02, 0.5)
    assert config.events == (
        LinkEvent(LinkEventKind.UNPLUG, 30_000, 2_000),
        LinkEvent(LinkEventKind.POWERCYCLE, 60_000, 1_000),
    )
    for bad, reason in [
        ("noise=2", "between 0 and 1"),
        ("flood=0.1", "unknown fault"),
        ("unplug@soon", "not a duration"),
        ("explode@3s", "unknown link event"),
        ("drop", "NAME=PROBABILITY"),
    ]:
        with pytest.raises(ValueError, match=reason):
            parse_fault_spec(bad)


def test_noise_between_frames_loses_nothing(link: Path) -> None:
    with Simulator("idle", speed=100, seed=11, link=link, faults=FaultConfig(noise=0.5)) as sim:
        host = connect(str(sim.path))
        _fire(sim, 40)
        host.wait_for(lambda fs: host.count(Shot) == 40)
        noise = [o for o in sim.sent_frames() if o.message is None and o.fate is Fate.SENT]
        assert noise
        host.drain(0.05)
        assert host.decoder.stats.garbage_bytes > 0
        assert host.decoder.stats.bad_crc + host.decoder.stats.bad_length >= 0
        assert [s.shot_no for s in host.messages(Shot)] == list(range(1, 41))
        assert all(r.delivered for r in sim.shots())
        host.close()


def test_bit_flips_fail_the_crc_and_the_host_recovers_the_shots(link: Path) -> None:
    with Simulator("idle", speed=100, seed=12, link=link, faults=FaultConfig(bitflip=0.3)) as sim:
        host = connect(str(sim.path))
        _fire(sim, 40)
        host.drain(0.1)
        corrupted = [o for o in sim.sent_frames() if o.fate is Fate.CORRUPTED]
        assert corrupted
        good = {o.data for o in sim.sent_frames() if o.fate is Fate.SENT and o.message}
        # Every frame the host decoded is one the gun sent intact; every damaged one failed.
        assert {f.message.encode(f.seq) for f in host.frames} <= good
        assert host.decoder.stats.bad_crc + host.decoder.stats.bad_length >= len(corrupted) // 2
        lost = [r for r in sim.shots() if not r.delivered]
        got = {s.shot_no for s in host.messages(Shot)}
        assert {r.shot.shot_no for r in lost} == set(range(1, 41)) - got
        sim.set_faults(FaultConfig())
        host.send(ResendReq(1, 40))
        host.wait_for(lambda fs: {s.shot_no for s in host.messages(Shot)} == set(range(1, 41)))
        assert all(r.delivered for r in sim.shots())
        host.close()


def test_dropped_frames_leave_seq_gaps_and_shots_to_resend(link: Path) -> None:
    with Simulator("idle", speed=100, seed=13, link=link, faults=FaultConfig(drop=0.3)) as sim:
        host = connect(str(sim.path))
        _fire(sim, 40)
        host.drain(0.1)
        dropped = [o for o in sim.sent_frames() if o.fate is Fate.DROPPED]
        assert dropped
        assert host.decoder.stats.seq_missing >= 1
        assert not any(o.data in host.raw for o in dropped if isinstance(o.message, Shot))
        missing = set(range(1, 41)) - {s.shot_no for s in host.messages(Shot)}
        assert missing == {r.shot.shot_no for r in sim.shots() if not r.delivered}
        assert sim.unrecoverable_shots() == []  # all still in the ring
        host.close()


def test_duplicated_frames_arrive_twice(link: Path) -> None:
    with Simulator("idle", speed=100, seed=14, link=link, faults=FaultConfig(dup=0.5)) as sim:
        host = connect(str(sim.path))
        _fire(sim, 20)
        host.wait_for(lambda fs: len({s.shot_no for s in host.messages(Shot)}) == 20)
        # Read until the gun has nothing more to say (a fixed pause is too short when loaded).
        assert sim.wait_until(lambda s: s.gun is not None and not s.gun.trigger_busy, 10)
        host.wait_for(lambda fs: bytes(host.raw) == b"".join(_written(sim)))
        dups = [o for o in sim.sent_frames() if o.duplicate and o.fate is Fate.SENT]
        assert dups
        shots = host.messages(Shot)
        assert len(shots) > 20
        assert len(shots) - 20 == sum(1 for o in dups if isinstance(o.message, Shot))
        assert bytes(host.raw) == b"".join(_written(sim))
        host.close()


def test_unplug_removes_the_port_and_replug_makes_a_new_one_at_the_link(
    sim: Simulator, host: Host, link: Path
) -> None:
    first_pty = sim.pty_name
    sim.unplug()
    assert not link.exists() and not link.is_symlink()
    assert sim.path is None and not sim.plugged
    with pytest.raises(serial.SerialException):
        for _ in range(100):
            host.ser.read(1)
    # Shots fired while unplugged stay in the ring for the host to ask for.
    _fire(sim, 15)
    assert [r.delivered for r in sim.shots()] == [False] * 15
    sim.replug()
    assert link.is_symlink() and os.readlink(link) == sim.pty_name
    host.close()
    again = connect(str(link))
    again.send(ResendReq(1, 15))
    again.wait_for(lambda fs: again.count(Shot) == 15)
    assert all(r.delivered for r in sim.shots())
    assert first_pty is not None
    again.close()


def test_power_cycle_restarts_counters_and_loses_undelivered_shots(
    sim: Simulator, host: Host, link: Path
) -> None:
    _fire(sim, 10)
    host.wait_for(lambda fs: host.count(Shot) == 10)
    first_boot = sim.boot_id
    sim.unplug()
    _fire(sim, 15)  # 11…25, never delivered
    sim.power_cycle(off_ms=100)
    sim.wait_until(lambda s: s.boot_id not in (0, first_boot), 5)
    sim.replug()
    host.close()
    again = connect(str(link))
    hello = again.messages(Hello)[0]
    assert hello.boot_id == sim.boot_id != first_boot
    _fire(sim, 5)
    again.wait_for(lambda fs: again.count(Shot) == 5)
    shots = again.messages(Shot)
    assert [s.shot_no for s in shots] == [1, 2, 3, 4, 5]
    assert shots[0].uptime_ms < 60_000
    by_boot = sim.shots_by_boot()
    assert list(by_boot) == [first_boot, sim.boot_id]
    assert len(by_boot[first_boot]) == 25 and len(by_boot[sim.boot_id]) == 5
    lost = sim.unrecoverable_shots()
    assert [(r.boot_id, r.shot.shot_no) for r in lost] == [(first_boot, n) for n in range(11, 26)]
    assert [r.shot.shot_no for r in sim.resendable_shots()] == [1, 2, 3, 4, 5]
    again.close()


def test_scheduled_unplug_and_power_cycle_from_the_fault_config(link: Path) -> None:
    events = (
        LinkEvent(LinkEventKind.UNPLUG, 2_000, 1_000),
        LinkEvent(LinkEventKind.POWERCYCLE, 4_000, 500),
    )
    with Simulator("idle", speed=50, seed=15, link=link, faults=FaultConfig(events=events)) as sim:
        first = sim.boot_id
        assert sim.wait_until(lambda s: not s.plugged, 5)
        assert sim.wait_until(lambda s: s.plugged, 5)
        assert link.is_symlink()
        assert sim.wait_until(lambda s: s.boot_id not in (0, first), 5)
        assert sim.boot_ids == [first, sim.boot_id]
