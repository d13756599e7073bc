"""A session holds only what was injected during it: shots fired before it opened are kept,
with no session, until the practitioner includes them (to a zone) or leaves them out."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from injector.session import ShotIn, open_or_continue
from injector.session.audit_verify import verify_audit_trail
from injector.session.session_window import earlier_summary
from injector.storage import Database
from tests.session.test_live import GUN, T0, make_plan


def _fired(shot_no: int, seconds: float, *, resent: bool = True) -> ShotIn:
    """A shot the gun fired at T0 + ``seconds`` (by its own clock) and sent again (RESEND_REQ)
    once the host asked, 30 s later."""
    at = T0 + timedelta(seconds=seconds)
    return ShotIn(
        GUN.serial,
        7,
        shot_no,
        1000 * shot_no,
        at + timedelta(seconds=30),
        1500,
        50_000,
        0,
        10**6,
        device_time=at,
        retransmitted=resent,
    )


def _rows(db: Database, sql: str) -> list[tuple[object, ...]]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_shots_fired_before_the_session_opened_are_kept_but_not_counted(db: Database) -> None:
    plan_id, (forehead, _) = make_plan(db)
    live = open_or_continue(db, GUN, plan_id, now=T0)
    live.set_active_zone(forehead, at=T0)
    # Primed and tested before Start (3 shots), then 2 shots of the session; all reach the
    # host together, as recovered shots do after the link comes up.
    result = live.add_shots([_fired(n, -60 + n) for n in (1, 2, 3)] + [_fired(4, 5), _fired(5, 6)])
    assert (result.new, result.left_out, result.duplicates) == (2, 3, 0)
    assert live.progress().total.shots == 2
    assert live.progress().total.volume_nl == 100_000
    assert _rows(db, "select shot_no, session_id from shot order by shot_no") == [
        (1, None),
        (2, None),
        (3, None),
        (4, live.session_id),
        (5, live.session_id),
    ]
    earlier = live.earlier_shots()
    assert (earlier.count, earlier.volume_nl, earlier.low_water) == (3, 150_000, ((7, 3),))
    assert earlier_summary(earlier).startswith(
        "3 shots (0.15 mL) were fired before this session opened, from "
    )
    # Sent again (a resend, a replay): still one copy each, still outside the session.
    again = live.add_shots([_fired(2, -58), _fired(5, 6)])
    assert (again.new, again.left_out, again.duplicates) == (0, 0, 2)
    # A restarted recorder knows what was left out.
    restarted = open_or_continue(db, GUN)
    assert restarted.session_id == live.session_id
    assert restarted.earlier_shots() == earlier
    assert restarted.progress() == live.progress()


def test_earlier_shots_are_included_to_a_zone_with_who_and_why(db: Database) -> None:
    plan_id, (forehead, cheeks) = make_plan(db)
    live = open_or_continue(db, GUN, plan_id, now=T0)
    live.set_active_zone(forehead, at=T0)
    live.add_shots([_fired(1, -10), _fired(2, -9), _fired(3, 1)])
    assert live.include_earlier(cheeks, by="Dr Test", reason="fired into the cheeks") == 2
    zones = {z.zone_id: z.shots for z in live.progress().zones}
    assert zones == {forehead: 1, cheeks: 2}
    assert not live.earlier_shots()
    assert _rows(db, "select count(*) from shot where session_id is null") == [(0,)]
    assert _rows(
        db, "select actor, payload from audit_entry where action = 'include_earlier_shots'"
    ) == [
        (
            "Dr Test",
            f'{{"reason":"fired into the cheeks","shots":2,"volume_nl":100000,"zone_id":{cheeks}}}',
        )
    ]
    restarted = open_or_continue(db, GUN)
    assert not restarted.earlier_shots()
    assert restarted.progress() == live.progress()
    assert verify_audit_trail(db).ok


def test_leaving_earlier_shots_out_is_audited(db: Database) -> None:
    plan_id, _ = make_plan(db)
    live = open_or_continue(db, GUN, plan_id, now=T0)
    live.add_shots([_fired(1, -10)])
    live.leave_out_earlier(by="Dr Test", reason="priming")
    assert _rows(db, "select actor from audit_entry where action = 'leave_out_earlier_shots'") == [
        ("Dr Test",)
    ]
    assert live.earlier_shots().count == 1  # still said: they are not part of the session
    assert _rows(db, "select count(*) from shot where session_id is null") == [(1,)]


def test_include_earlier_counts_them_in_the_zone_active_when_it_opened(db: Database) -> None:
    plan_id, (forehead, _) = make_plan(db)
    live = open_or_continue(db, GUN, plan_id, now=T0, include_earlier=True)
    live.set_active_zone(forehead, at=T0)
    result = live.add_shots([_fired(1, -10), _fired(2, 3)])
    assert (result.new, result.left_out) == (2, 0)
    assert {z.zone_id: z.shots for z in live.progress().zones if z.shots} == {forehead: 2}
    from injector.session.history import session_device_events

    (event,) = session_device_events(db, live.session_id)
    assert (event.kind, event.detail["included"], event.detail["count"]) == (
        "earlier_shots",
        True,
        1,
    )


def test_a_shot_sent_as_it_was_fired_is_the_sessions_whatever_its_clock_says(
    db: Database,
) -> None:
    # A replay at full speed: the gun's clock runs ahead of and behind the wall clock.
    live = open_or_continue(db, GUN, now=T0)
    result = live.add_shots([_fired(1, -30, resent=False), _fired(2, -20)])
    # Shot 2, resent, was fired after shot 1, which reached a listening host: the gun's
    # counter says it is the session's, whatever its clock says.
    assert (result.new, result.left_out) == (2, 0)


def test_shots_after_a_session_ended_elsewhere_are_not_left_out(db: Database) -> None:
    from injector.session.clinical import end_session

    plan_id, _ = make_plan(db)
    live = open_or_continue(db, GUN, plan_id, now=T0)
    live.add_shots([_fired(1, 1)])
    end_session(db, live.session_id, actor="Dr Other")
    # In flight when it ended: the continuation takes them, fired before it opened or not.
    result = live.add_shots([_fired(2, 2)])
    assert (result.new, result.left_out) == (1, 0)
