"""The virtual MG-400 gun: the device side of IGP/1 on a pseudo-terminal.

In-process use::

    with Simulator("demo", speed=50, seed=1, link=tmp_path / "gun") as sim:
        path = sim.path              # open it with pyserial like a USB serial port
        sim.wait_done(timeout=30)
        truth = sim.shots()          # every shot the gun fired, with its boot_id

See ``docs/simulator.md``.
"""

from simulators.builtin import BUILTIN_SCENARIOS, builtin_scenario, resolve_scenario
from simulators.faults import FaultConfig, LinkEvent, LinkEventKind, parse_fault_spec
from simulators.gun import Fate, Gun, GunConfig, GunIdentity, GunSettings, Outgoing, ShotRecord
from simulators.replay import Capture, ReplayError, load_capture
from simulators.runner import Simulator
from simulators.scenario import Scenario, ScenarioError, load_scenario, parse_scenario

__all__ = [
    "BUILTIN_SCENARIOS",
    "Capture",
    "Fate",
    "FaultConfig",
    "Gun",
    "GunConfig",
    "GunIdentity",
    "GunSettings",
    "LinkEvent",
    "LinkEventKind",
    "Outgoing",
    "ReplayError",
    "Scenario",
    "ScenarioError",
    "ShotRecord",
    "Simulator",
    "builtin_scenario",
    "load_capture",
    "load_scenario",
    "parse_fault_spec",
    "parse_scenario",
    "resolve_scenario",
]
