"""Plays a scenario on a gun, on the scenario clock, with scheduled link events.

The player is pure logic like the gun: the runner calls :meth:`ScenarioPlayer.advance_to` with
the scenario time, and the player runs every step, gun event and timer due by then, in order.
Unplugging and changing line faults are I/O, so the player asks its :class:`LinkControl`.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Protocol

from simulators.faults import FaultConfig, LinkEvent, LinkEventKind
from simulators.gun import Gun, HostFrame, Outgoing
from simulators.scenario import (
    BatteryStep,
    ClearStep,
    FaultsStep,
    PowerCycleStep,
    RaiseStep,
    ReplugStep,
    Scenario,
    SetStep,
    Step,
    SyringeStep,
    TriggerStep,
    UnplugStep,
    WaitStep,
)

RETRY_MS = 1000
"""A looping scenario whose pass took no time (the gun refused every press) waits this long."""


class LinkControl(Protocol):
    """What the player asks of the I/O side."""

    def unplug(self) -> None:
        """Pull the cable: the pseudo-terminal goes away."""

    def replug(self) -> None:
        """Plug the cable back in: a new pseudo-terminal at the same link."""

    def set_line_faults(self, config: FaultConfig) -> None:
        """Use these line fault probabilities from now on."""


class ScenarioPlayer:
    """Runs a :class:`Scenario` against a :class:`Gun`, one step after another."""

    def __init__(
        self, scenario: Scenario, gun: Gun, link: LinkControl, events: tuple[LinkEvent, ...] = ()
    ) -> None:
        self.scenario = scenario
        self.gun = gun
        self._link = link
        self._index = 0
        self._wake: int | None = None
        """Scenario time the current step ends (``wait``, ``powercycle``)."""
        self._in_trigger = False
        self._forever = False
        self._pass_started = 0
        self._timers: list[tuple[int, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self.warnings: list[str] = []
        """Steps skipped because the gun refused them at the time."""
        for event in events:
            if event.kind is LinkEventKind.UNPLUG:
                self.at(event.at_ms, link.unplug)
                self.at(event.at_ms + event.duration_ms, link.replug)
            else:
                self.at(event.at_ms, gun.power_off)
                self.at(event.at_ms + event.duration_ms, gun.power_on)

    @property
    def done(self) -> bool:
        """True once every step has run (never for a looping or ``wait forever`` scenario)."""
        return self._index >= len(self.scenario.steps) and not self.scenario.loop

    @property
    def current_line(self) -> int | None:
        """The scenario line of the step under way, if any."""
        if 0 <= self._index < len(self.scenario.steps):
            return self.scenario.steps[self._index].line
        return None

    def at(self, when_ms: int, action: Callable[[], None]) -> None:
        """Run ``action`` at scenario time ``when_ms`` (now if already past)."""
        heapq.heappush(self._timers, (when_ms, next(self._order), action))

    def take_output(self) -> list[Outgoing]:
        """What the gun transmitted since the last call."""
        out = self.gun.outbox
        self.gun.outbox = []
        return out

    def on_host_frame(self, frame: HostFrame) -> None:
        """A frame from the host: the gun answers it."""
        self.gun.handle(frame)

    def next_event_ms(self) -> int | None:
        """Scenario time of the next thing that happens (step, gun event or timer)."""
        candidates = [self.gun.next_event_ms(), self._wake]
        if self._timers:
            candidates.append(self._timers[0][0])
        times = [t for t in candidates if t is not None]
        return min(times) if times else None

    def advance_to(self, now: float) -> None:
        """Run everything due up to scenario time ``now`` (ms), in time order."""
        t = int(now)
        gun = self.gun
        while True:
            self._run_steps()
            nxt = self.next_event_ms()
            if nxt is None or nxt > t:
                break
            gun.advance_to(nxt)
            while self._timers and self._timers[0][0] <= gun.now:
                _when, _n, action = heapq.heappop(self._timers)
                action()
        gun.advance_to(t)
        self._run_steps()

    def _run_steps(self) -> None:
        gun = self.gun
        steps = self.scenario.steps
        while True:
            if self._forever:
                return
            if self._in_trigger:
                if gun.trigger_busy:
                    return
                self._in_trigger = False
                self._index += 1
            if self._wake is not None:
                if gun.now < self._wake:
                    return
                self._wake = None
                self._index += 1
            if self._index >= len(steps):
                if not self.scenario.loop:
                    return
                self._index = 0
                if gun.now == self._pass_started:
                    self._wake = gun.now + RETRY_MS
                    self._index = -1  # the wait ends by moving on to step 0
                    return
                self._pass_started = gun.now
            self._start(self._index)

    def _start(self, index: int) -> None:
        step = self.scenario.steps[index]
        gun = self.gun
        if isinstance(step, TriggerStep):
            gun.press_trigger(step.count, no_skin=step.no_skin, interval_ms=step.interval_ms)
            self._in_trigger = True
            return
        if isinstance(step, WaitStep):
            if step.ms is None:
                self._forever = True
            else:
                self._wake = gun.now + step.ms
            return
        if isinstance(step, PowerCycleStep):
            gun.power_off()
            self._wake = gun.now + step.off_ms
            self.at(self._wake, gun.power_on)
            return
        try:
            self._apply(step)
        except ValueError as exc:
            # Live changes can make a step impossible (a rate of 0 left for REPEAT …).
            self.warnings.append(f"{self.scenario.name}:{step.line}: skipped: {exc}")
        self._index += 1

    def _apply(self, step: Step) -> None:
        gun = self.gun
        if isinstance(step, SetStep):
            gun.set_settings(
                mode=step.mode,
                depth_um=step.depth_um,
                volume_nl=step.volume_nl,
                rate_spm=step.rate_spm,
            )
        elif isinstance(step, RaiseStep):
            gun.raise_fault(step.code, step.detail)
        elif isinstance(step, ClearStep):
            gun.clear_fault(step.code)
        elif isinstance(step, SyringeStep):
            gun.swap_syringe(step.capacity_ul)
        elif isinstance(step, BatteryStep):
            gun.set_battery(step.pct)
        elif isinstance(step, UnplugStep):
            self._link.unplug()
            if step.for_ms is not None:
                self.at(gun.now + step.for_ms, self._link.replug)
        elif isinstance(step, ReplugStep):
            self._link.replug()
        elif isinstance(step, FaultsStep):
            self._link.set_line_faults(step.config)
