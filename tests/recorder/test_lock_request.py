"""LOCK is one non-blocking request on the driver, answered by a LockChanged event: the
committer thread and the live screen ask without waiting for the gun."""

from __future__ import annotations

import queue
import threading
from pathlib import Path

from injector.driver import DriverEvent, LockChanged
from protocols.igp1 import LockReason
from simulators.runner import Simulator
from tests.recorder.harness import fast_driver, wait_for


def test_request_lock_is_answered_by_an_event_from_the_drivers_side(tmp_path: Path) -> None:
    link = tmp_path / "gun"
    with Simulator("idle", speed=20, seed=4, link=link) as sim:
        driver = fast_driver(str(link))
        answers: queue.SimpleQueue[LockChanged] = queue.SimpleQueue()

        def listen(event: DriverEvent) -> None:
            if isinstance(event, LockChanged):
                answers.put(event)

        driver.subscribe(listen)
        driver.start()
        try:
            wait_for(lambda: driver.identity is not None, 20, "the gun")
            caller = threading.current_thread().name
            senders: list[str] = []
            driver.subscribe(
                lambda e: (
                    senders.append(threading.current_thread().name)
                    if isinstance(e, LockChanged)
                    else None
                )
            )
            driver.request_lock(LockReason.PLAN_LIMIT)
            answer = answers.get(timeout=20)
            assert (answer.locked, answer.reason, answer.acknowledged) == (
                True,
                int(LockReason.PLAN_LIMIT),
                True,
            )
            assert sim.locked
            # The answer came from the driver's own thread, not the one that asked.
            assert senders and caller not in senders
            driver.request_lock(LockReason.PLAN_LIMIT, locked=False)
            answer = answers.get(timeout=20)
            assert (answer.locked, answer.acknowledged) == (False, True)
            wait_for(lambda: not sim.locked, 10, "the gun unlocked")
        finally:
            driver.stop()
