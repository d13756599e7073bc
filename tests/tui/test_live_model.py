"""The live feed's model: what it keeps is bounded however many shots arrive, and it turns
driver events into the panel, the log and the alerts."""

from __future__ import annotations

import time
import tracemalloc

from injector.domain.vocabulary import AlertKind
from injector.driver import (
    FaultChanged,
    LinkChanged,
    LinkState,
    ShotReceived,
    ShotsLost,
    ShotsRecovered,
    Status,
)
from injector.session import PlanAlert
from tests.tui.fixtures import FACE_ZONES
from tui.live_model import LINK_LOST_TEXT, RECENT_DEPTHS, LiveModel, Notice
from tui.state import LinkStatus, LogLine, LogSeverity


def _shot(n: int) -> ShotReceived:
    return ShotReceived(
        serial="SN1",
        boot_id=7,
        shot_no=n,
        uptime_ms=n * 2,
        device_time=0.0,
        depth_um=1000 + n % 500,
        flags=0,
        volume_nl=10_000,
        syringe_remaining_nl=5_000_000,
        recovered=False,
        received_at=time.time(),
        received_ns=time.monotonic_ns(),
    )


def test_memory_stays_flat_over_100000_shots() -> None:
    model = LiveModel("flat", FACE_ZONES)
    for n in range(1, 10_001):
        model.apply(_shot(n))
    model.view()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for n in range(10_001, 110_001):
            model.apply(_shot(n))
            if n % 20 == 0:  # the feed publishes a view every few shots at this rate
                model.view()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    view = model.view()
    assert len(view.recent_depths_um) == RECENT_DEPTHS
    assert view.last_depth_um == 1000 + 110_000 % 500
    # 100 000 shots later the model holds what it held before, give or take a few objects.
    assert after - before < 64 * 1024


def test_link_loss_and_restore_are_notices_once() -> None:
    model = LiveModel("link")
    logged = [
        model.apply(LinkChanged(state, "/dev/x", reason, 1.0))
        for state, reason in [
            (LinkState.CONNECTING, "opening"),
            (LinkState.LIVE, "identified"),
            (LinkState.LOST, "silence"),
            (LinkState.RECONNECTING, "retry"),
            (LinkState.CONNECTING, "reopened"),
            (LinkState.LIVE, "identified"),
        ]
    ]
    notices = [x.line.text for x in logged if isinstance(x, Notice)]
    # The driver's own reason ("silence", or the serial library's message) is not for the
    # practitioner: the notice says what it means in clinical words.
    assert notices == [LINK_LOST_TEXT, "link restored"]
    assert notices[0].startswith("LINK LOST: ") and "silence" not in notices[0]
    assert model.view().gun.link is LinkStatus.LIVE


def test_status_and_plan_alert_reach_the_view() -> None:
    model = LiveModel("alert", FACE_ZONES)
    model.apply(Status("SN1", 7, 1000, 0, 3, 12, 1 << 2, 400_000, 1.0))
    gun = model.view().gun
    assert (gun.battery_pct, gun.locked, gun.faults) == (12, True, ("SYRINGE EMPTY",))
    notice = model.apply_alert(PlanAlert(AlertKind.ZONE_MAX_VOLUME, 3, 1_500_000, 1_500_000, True))
    assert notice.line.severity is LogSeverity.ERROR
    assert "zone 3 Cheeks" in model.view().limit_alert
    model.set_active_zone(4)
    assert model.view().limit_alert == ""


def test_a_fault_shows_on_the_panel_at_once() -> None:
    model = LiveModel("fault")
    raised = model.apply(FaultChanged("SN1", 7, 5, True, 0, 100, 1.0, 1.0))
    assert isinstance(raised, Notice) and "OCCLUSION" in raised.line.text
    assert model.view().gun.faults == ("OCCLUSION",)
    model.apply(FaultChanged("SN1", 7, 5, False, 0, 200, 1.0, 1.0))
    assert model.view().gun.faults == ()


def test_recovered_and_lost_shots_reported_read_by_read_make_one_line_each() -> None:
    model = LiveModel("t", FACE_ZONES)
    at = time.time()
    for _ in range(13):
        assert model.apply(ShotsRecovered("SN1", 7, 1, at)) is None
    # Still being reported: nothing yet with a quiet period asked for.
    assert model.take_tally(quiet_s=60) is None
    # Lost shots do not join the recovered ones: the recovered total comes out first.
    line = model.apply(ShotsLost("SN1", 7, 2, ((5, 6),), "gun buffer overwritten", at))
    assert isinstance(line, LogLine) and line.text == "13 shots recovered from the gun"
    assert model.apply(ShotsLost("SN1", 7, 1, ((9, 9),), "gun buffer overwritten", at)) is None
    lost = model.take_tally()
    assert isinstance(lost, Notice)
    assert lost.line.text == "3 shots LOST (gun buffer overwritten)"
    assert lost.line.severity is LogSeverity.ERROR
    assert model.take_tally() is None
    model.apply(ShotsRecovered("SN1", 7, 1, at))
    single = model.take_tally(quiet_s=0)
    assert isinstance(single, LogLine) and single.text == "1 shot recovered from the gun"
