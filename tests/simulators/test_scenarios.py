"""Scenario files and the built-in scenarios: parsing, refusals, and what the gun does."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from protocols.igp1 import Fault, FaultCode, Mode, Settings, Shot, ShotFlags
from simulators import (
    BUILTIN_SCENARIOS,
    Scenario,
    ScenarioError,
    Simulator,
    builtin_scenario,
    load_scenario,
    parse_scenario,
)
from simulators.scenario import (
    BatteryStep,
    ClearStep,
    FaultsStep,
    PowerCycleStep,
    RaiseStep,
    ReplugStep,
    SetStep,
    SyringeStep,
    TriggerStep,
    UnplugStep,
    WaitStep,
)
from tests.simulators.conftest import connect

EVERY_STEP = """\
# every step once
device model=MG-400 serial=SN0099 firmware=2.5.0 battery=50% syringe=5ml
set mode=repeat depth=1.5mm volume=20ul rate=300/min
trigger 5
airshot
wait 500ms
raise occlusion detail=3
clear OCCLUSION
syringe 2.5ml
battery mains
faults drop=0.1 noise=0.01
faults off
unplug for=1s
trigger shots=3
replug
powercycle off=2s
set mode=single depth=2500um volume=0.05
trigger 2 interval=400ms
"""


def test_every_step_parses_to_its_typed_form(tmp_path: Path) -> None:
    path = tmp_path / "all.scenario"
    path.write_text(EVERY_STEP)
    scenario = load_scenario(path)
    assert scenario.name == "all"
    assert scenario.gun.identity.serial == "SN0099"
    assert scenario.gun.identity.firmware == (2, 5, 0)
    assert (scenario.gun.battery_pct, scenario.gun.syringe_ul) == (50.0, 5000)
    assert [type(s) for s in scenario.steps] == [
        SetStep,
        TriggerStep,
        TriggerStep,
        WaitStep,
        RaiseStep,
        ClearStep,
        SyringeStep,
        BatteryStep,
        FaultsStep,
        FaultsStep,
        UnplugStep,
        TriggerStep,
        ReplugStep,
        PowerCycleStep,
        SetStep,
        TriggerStep,
    ]
    first = scenario.steps[0]
    assert first == SetStep(3, Mode.REPEAT, 1500, 20_000, 300)
    assert scenario.steps[2] == TriggerStep(5, 1, None, no_skin=True)
    assert scenario.steps[4] == RaiseStep(7, FaultCode.OCCLUSION, 3)
    assert scenario.steps[-1] == TriggerStep(18, 2, 400)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("wait 1s\nfire 3\n", 2, "unknown step 'fire'"),
        ("trigger\n", 1, "trigger: missing shots"),
        ("raise\n", 1, "raise: missing fault"),
        ("set depth=80mm\n", 1, "depth 80 mm is outside 0.1–13 mm"),
        ("set mode=repeat rate=10000/min\n", 1, "rate 10000/min is above the gun's 600/min"),
        ("set mode=repeat\n", 1, "mode repeat needs a rate above 0/min"),
        ("set volume=5ml\n", 1, "volume 5 mL per shot is outside"),
        ("set mode=turbo\n", 1, "mode 'turbo' is not one of"),
        ("set colour=red\n", 1, "unknown field 'colour'"),
        ("trigger 0\n", 1, "not a whole number of shots above 0"),
        ("trigger 3 3\n", 1, "unexpected '3'"),
        ("wait soon\n", 1, "not a duration"),
        ("raise gremlins\n", 1, "fault 'gremlins' is not one of"),
        ("battery 140\n", 1, "battery 140% is outside"),
        ("syringe 90ml\n", 1, "syringe 90 mL is outside"),
        ("faults drop=3\n", 1, "probability 3 is not between 0 and 1"),
        ("wait 1s\ndevice serial=SN1\n", 2, "device must come before"),
        ("wait 1s\nloop\nwait 1s\n", 3, "nothing may follow loop"),
        ("syringe\nloop\n", 2, "loop needs a trigger or wait"),
        ("# nothing\n\n", 0, "has no steps"),
    ],
)
def test_bad_scenarios_are_refused_with_file_line_and_reason(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    path = tmp_path / "bad.scenario"
    path.write_text(text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    where = f"{path}:{line}: " if line else f"{path}: "
    assert str(err.value).startswith(where)
    assert reason in str(err.value)
    assert (err.value.line, err.value.source) == (line, str(path))


def test_unreadable_and_unknown_scenarios_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read scenario"):
        load_scenario(tmp_path)
    binary = tmp_path / "x.scenario"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ScenarioError, match="cannot read scenario"):
        load_scenario(binary)
    with pytest.raises(ScenarioError, match="nor a built-in"):
        Simulator("no-such-scenario")


def test_the_builtins_parse() -> None:
    for name in BUILTIN_SCENARIOS:
        assert builtin_scenario(name).name == name
    assert builtin_scenario("stress").loop


def _settings_and_faults(sim: Simulator) -> tuple[list[Settings], list[Fault]]:
    settings = [o.message for o in sim.sent_messages(Settings)]
    faults = [o.message for o in sim.sent_messages(Fault)]
    return settings, faults  # type: ignore[return-value]


def test_demo_is_a_face_session_with_a_syringe_swap_and_a_fault(link: Path) -> None:
    with Simulator("demo", speed=300, seed=1, link=link) as sim:
        host = connect(str(sim.path))
        assert sim.wait_done(30)
        host.wait_for(lambda fs: host.count(Shot) == 335)
        shots = host.messages(Shot)
        assert [s.shot_no for s in shots] == list(range(1, 336))
        assert [r.shot for r in sim.shots()] == shots
        partial = [s for s in shots if s.flags & ShotFlags.PARTIAL]
        assert len(partial) == 1 and partial[0].syringe_remaining_nl == 0
        assert sum(1 for s in shots if s.flags & ShotFlags.NO_SKIN) == 1
        settings, faults = _settings_and_faults(sim)
        modes = [s.mode for s in settings]
        assert modes[-5:] == [Mode.NAPPAGE, Mode.SINGLE, Mode.REPEAT, Mode.SINGLE, Mode.NAPPAGE]
        assert [(f.code, f.active) for f in faults] == [
            (FaultCode.SYRINGE_EMPTY, 1),
            (FaultCode.SYRINGE_EMPTY, 0),
            (FaultCode.NEEDLE_NOT_SEATED, 1),
            (FaultCode.NEEDLE_NOT_SEATED, 0),
        ]
        assert len(sim.boot_ids) == 1 and sim.unrecoverable_shots() == []
        host.close()


def test_demo_at_speed_max_runs_as_fast_as_the_host_reads(link: Path) -> None:
    with Simulator("demo", speed="max", seed=2, link=link) as sim:
        assert sim.scenario_ms == 0  # the clock waits for a host
        host = connect(str(sim.path))
        # "done" means written to the host, so the host reads until the very last byte is out.
        host.wait_for(lambda fs: host.count(Shot) == 335 and sim.done, timeout=30)
        assert all(r.delivered for r in sim.shots())
        host.close()


def test_a_seed_repeats_a_run_exactly() -> None:
    def run(seed: int) -> tuple[list[int], list[Shot]]:
        with Simulator("demo", speed=2000, seed=seed) as sim:
            assert sim.wait_done(30)
            return sim.boot_ids, [r.shot for r in sim.shots()]

    first, again, other = run(5), run(5), run(6)
    assert first == again
    assert first[0] != other[0] and first[1] != other[1]


def test_stress_fires_at_540_per_minute_and_swaps_syringes() -> None:
    with Simulator("stress", speed=3000, seed=3) as sim:
        assert sim.wait_until(lambda s: len(s.shots()) >= 1010, 30)
        assert not sim.done
    shots = [r.shot for r in sim.shots()]
    gaps = {b.uptime_ms - a.uptime_ms for a, b in itertools.pairwise(shots[:1000])}
    assert gaps == {111}
    assert shots[999].syringe_remaining_nl == 0 and shots[999].flags == 0
    assert shots[1000].syringe_remaining_nl == 10_000_000 - 10_000


def test_idle_answers_but_fires_nothing(sim: Simulator) -> None:
    assert sim.wait_until(lambda s: s.scenario_ms > 3000, 10)
    assert sim.shots() == [] and not sim.done


def test_a_scenario_file_drives_faults_unplug_and_power_cycle(tmp_path: Path) -> None:
    path = tmp_path / "s.scenario"
    path.write_text(EVERY_STEP)
    with Simulator(path, speed=200, seed=4, link=tmp_path / "gun") as sim:
        first = sim.boot_id
        assert sim.wait_done(30)
        assert sim.boot_ids[0] == first and len(sim.boot_ids) == 2
        by_boot = sim.shots_by_boot()
        assert [len(v) for v in by_boot.values()] == [9, 2]
        air = by_boot[first][5]
        assert air.shot.flags == ShotFlags.NO_SKIN and air.shot.depth_um == 0
        # Nobody listened: every shot of the first boot is lost for good.
        assert len(sim.unrecoverable_shots()) == 9
        faults = [o.message for o in sim.sent_messages(Fault)]
        assert [(f.code, f.active, f.detail) for f in faults] == [  # type: ignore[union-attr]
            (FaultCode.OCCLUSION, 1, 3),
            (FaultCode.OCCLUSION, 0, 3),
        ]
        assert sim.plugged and (tmp_path / "gun").is_symlink()
        assert sim.warnings == []


def test_a_scenario_object_can_be_built_in_code() -> None:
    scenario = parse_scenario("set mode=nappage rate=540 depth=0.8mm\ntrigger 4\n", "inline")
    assert isinstance(scenario, Scenario)
    with Simulator(scenario, speed=500, seed=1) as sim:
        assert sim.wait_done(10)
        assert [r.shot.shot_no for r in sim.shots()] == [1, 2, 3, 4]
