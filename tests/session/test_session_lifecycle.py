"""One lifecycle, written once: a visit is one session, whichever program starts or continues
it; resuming continues it with its zone; ending without a shot aborts it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from injector.session import InvalidValueError, ShotIn, open_or_continue
from injector.session.clinical import end_session, session_view, start_session
from injector.session.history import list_sessions
from injector.storage import Database
from tests.session.builders import CLEAN_CHECKLIST
from tests.session.test_live import GUN, T0, make_plan


def test_a_second_session_of_a_plan_with_one_open_is_refused(db: Database) -> None:
    plan_id, _ = make_plan(db)
    first = start_session(db, plan_id, CLEAN_CHECKLIST, practitioner="Dr Test", now=T0)
    with pytest.raises(InvalidValueError) as refused:
        start_session(db, plan_id, CLEAN_CHECKLIST, practitioner="Dr Test")
    assert refused.value.field == "plan_id"
    assert refused.value.reason.startswith(f"session {first} of plan {plan_id} is still open since")
    assert f"resume it, or end or abort it first (injector session end {first}" in (
        refused.value.reason
    )
    assert [s.id for s in list_sessions(db, plan_id=plan_id)] == [first]


def test_headless_record_continues_the_session_the_checklist_started(db: Database) -> None:
    plan_id, _ = make_plan(db)
    # Started in the TUI (the checklist), the gun not connected yet; then `record --plan`.
    started = start_session(db, plan_id, CLEAN_CHECKLIST, practitioner="Dr Test", now=T0)
    live = open_or_continue(db, GUN, plan_id, now=T0 + timedelta(minutes=1))
    assert live.session_id == started
    assert session_view(db, started).device_serial == GUN.serial
    assert [s.id for s in list_sessions(db, plan_id=plan_id)] == [started]


def test_resuming_continues_the_session_with_its_zone_and_the_missed_shots(db: Database) -> None:
    plan_id, (_, cheeks) = make_plan(db)
    live = open_or_continue(db, GUN, plan_id, now=T0)
    live.set_active_zone(cheeks, at=T0 + timedelta(seconds=1))
    live.add_shots([_shot(1, 2)])
    # The program quit; the gun fired two more shots while nobody listened. Resumed later,
    # the gun sends them again (RESEND_REQ): they are the session's, in the zone active then.
    resumed = open_or_continue(db, GUN, session_id=live.session_id)
    assert (resumed.session_id, resumed.active_zone_id) == (live.session_id, cheeks)
    result = resumed.add_shots([_shot(2, 60, resent=True), _shot(3, 61, resent=True)])
    assert (result.new, result.left_out) == (2, 0)
    assert {z.zone_id: z.shots for z in resumed.progress().zones if z.shots} == {cheeks: 3}


def test_a_session_that_recorded_nothing_ends_aborted_and_gives_up_its_place(
    db: Database,
) -> None:
    plan_id, _ = make_plan(db)
    first = start_session(db, plan_id, CLEAN_CHECKLIST, practitioner="Dr Test", now=T0)
    ending = end_session(db, first, actor="Dr Test")
    assert (ending.status.value, ending.asked.value, ending.shots) == ("aborted", "completed", 0)
    assert ending.why == "no shot was recorded in it, so it takes no place in the series"
    view = session_view(db, first)
    assert (view.status, view.sequence_no) == ("aborted", None)
    second = start_session(db, plan_id, CLEAN_CHECKLIST, practitioner="Dr Test")
    assert session_view(db, second).sequence_no == 1


def _shot(shot_no: int, seconds: float, *, resent: bool = False) -> ShotIn:
    at = T0 + timedelta(seconds=seconds)
    return ShotIn(
        GUN.serial,
        7,
        shot_no,
        1000 * shot_no,
        at,
        2500,
        50_000,
        0,
        10**6,
        device_time=at,
        retransmitted=resent,
    )


def test_the_checklist_warns_when_too_soon_and_the_title_says_overdue(db: Database) -> None:
    from datetime import date

    from injector.session import AcknowledgementRequiredError
    from tests.session.builders import add_patient_and_plan
    from tests.session.test_clinical import done_session
    from tui.clinic import DatabaseClinic

    plan_id = add_patient_and_plan(db)  # first sessions every 7–10 days
    done_session(db, plan_id, T0)
    with pytest.raises(AcknowledgementRequiredError) as asked:
        start_session(
            db, plan_id, CLEAN_CHECKLIST, practitioner="Dr Test", now=T0 + timedelta(days=3)
        )
    assert (
        "interval: only 3 days since the last completed session (2026-03-02); the plan asks "
        "for at least 7 days between sessions"
    ) in asked.value.warnings
    start_session(
        db,
        plan_id,
        CLEAN_CHECKLIST,
        practitioner="Dr Test",
        acknowledged=True,
        now=T0 + timedelta(days=3),
    )
    late = DatabaseClinic(db, "Dr Test", today=lambda: date(2026, 3, 22))
    assert late.next_session(plan_id).session_title.endswith("overdue by 10 days")


def test_starting_the_next_session_starts_the_one_planned_with_the_number_announced(
    db: Database,
) -> None:
    from injector.session.clinical import plan_session
    from injector.session.series import series_status
    from tests.session.builders import add_patient_and_plan
    from tests.session.test_clinical import done_session

    plan_id = add_patient_and_plan(db)
    done_session(db, plan_id, T0)
    planned = plan_session(db, plan_id, scheduled_at=T0 + timedelta(days=8), actor="Desk")
    assert series_status(db, plan_id, today=T0.date()).label == "session 2 of 6"
    started = start_session(
        db, plan_id, CLEAN_CHECKLIST, practitioner="Dr Test", now=T0 + timedelta(days=8)
    )
    assert started == planned
    assert session_view(db, started).sequence_no == 2
    assert [s.sequence_no for s in list_sessions(db, plan_id=plan_id)] == [1, 2]
