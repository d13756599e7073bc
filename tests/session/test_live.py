"""The live session: idempotent shots, attribution, tallies, limits, restarts, events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from injector.session import (
    AlertKind,
    DeviceEventIn,
    DeviceEventKind,
    DeviceInfo,
    InvalidValueError,
    SessionStatus,
    ShotFlag,
    ShotIn,
    open_or_continue,
    stored_boot,
)
from injector.storage import Database
from injector.storage.audit_chain import add_created
from injector.storage.tables import Patient, PlanZone, Shot, TreatmentPlan, table_of
from tests.session.builders import pin_of

GUN = DeviceInfo("SN0042", "MG-400", "2.4.1")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_plan(
    db: Database, *, lock_at_limit: bool = True, zone_max_nl: int = 200_000
) -> tuple[int, list[int]]:
    """A plan with two zones (forehead 1.5 mm ± 0.3, cheeks 2.5 mm ± 0.5)."""
    with db.session() as s:
        patient = Patient(
            identifier="P-1", name="Test Patient", date_of_birth=date(1980, 1, 1), created_at=T0
        )
        # Created as the program does (with their audit entries), so verification holds.
        add_created(s, patient, actor="Dr Test", entity="patient", at=T0)
        assert patient.id is not None
        plan = TreatmentPlan(
            patient_id=patient.id,
            indication="wrinkles_and_lines",
            product_name="Revita",
            lot_number="LOT-1",
            lot_expiry=date(2030, 1, 1),
            sessions_planned=5,
            initial_sessions=3,
            initial_interval_min_days=7,
            initial_interval_max_days=10,
            later_interval_days=14,
            max_session_volume_nl=350_000,
            lock_at_limit=lock_at_limit,
            created_by="Dr Test",
            created_at=T0,
        )
        add_created(s, plan, actor="Dr Test", entity="plan", at=T0)
        assert plan.id is not None
        zones = [
            PlanZone(
                plan_id=plan.id,
                position=0,
                name="forehead",
                body_area="forehead",
                technique="point_by_point",
                depth_um=1500,
                depth_tolerance_um=300,
                volume_per_point_nl=50_000,
                points=4,
                max_volume_nl=zone_max_nl,
            ),
            PlanZone(
                plan_id=plan.id,
                position=1,
                name="cheeks",
                body_area="cheeks",
                technique="nappage",
                depth_um=2500,
                depth_tolerance_um=500,
                volume_per_point_nl=50_000,
                points=4,
                max_volume_nl=zone_max_nl,
            ),
        ]
        s.add_all(zones)
        s.flush()
        return plan.id, [z.id for z in zones if z.id is not None]


def shots(
    numbers: Sequence[int],
    *,
    boot: int = 7,
    depth: int = 1500,
    flags: int = 0,
    at: datetime = T0,
    volume: int = 50_000,
    serial: str = GUN.serial,
) -> list[ShotIn]:
    return [
        ShotIn(
            serial=serial,
            boot_id=boot,
            shot_no=n,
            uptime_ms=1000 * n,
            received_at=at + timedelta(seconds=n),
            depth_um=depth,
            volume_nl=volume,
            flags=flags,
            syringe_remaining_nl=2_000_000 - n * volume,
        )
        for n in numbers
    ]


def stored_count(db: Database) -> int:
    with db.begin() as conn:
        return int(conn.execute(select(func.count()).select_from(table_of(Shot))).scalar_one())


def test_each_shot_is_stored_once(db: Database) -> None:
    live = open_or_continue(db, GUN)
    first = live.add_shots(shots(range(1, 11)))
    assert (first.new, first.duplicates) == (10, 0)
    again = live.add_shots(shots(range(5, 16)) + shots([15]))
    assert (again.new, again.duplicates) == (5, 7)
    assert stored_count(db) == 15
    assert live.progress().total.points == 15


def test_a_restart_continues_the_same_session_with_its_tally(db: Database) -> None:
    plan_id, (forehead, _) = make_plan(db)
    live = open_or_continue(db, GUN, plan_id)
    live.set_active_zone(forehead, at=T0)
    live.add_shots(shots([1, 2, 3, 5]))
    restarted = open_or_continue(db, GUN)
    assert restarted.session_id == live.session_id
    assert restarted.active_zone_id == forehead
    assert restarted.progress() == live.progress()
    known = stored_boot(db, GUN.serial, 7)
    assert (known.max_shot_no, known.missing) == (5, (4,))
    result = restarted.add_shots(shots([3, 4, 5, 6]))
    assert (result.new, result.duplicates) == (2, 2)
    assert restarted.progress().zones[0].points == 6


def test_another_gun_gets_its_own_session(db: Database) -> None:
    a = open_or_continue(db, GUN)
    b = open_or_continue(db, DeviceInfo("SN0099", "MG-400", "2.4.1"))
    assert a.session_id != b.session_id


def test_shots_go_to_the_zone_active_when_they_were_fired(db: Database) -> None:
    plan_id, (forehead, cheeks) = make_plan(db)
    live = open_or_continue(db, GUN, plan_id)
    live.set_active_zone(forehead, at=T0)
    live.set_active_zone(cheeks, at=T0 + timedelta(seconds=3, milliseconds=500))
    # Shots 1–3 were fired before the change even though they arrive in one batch after it.
    live.add_shots(shots([1, 2, 3], depth=1500) + shots([4, 5], depth=2500))
    by_zone = {z.zone_id: z for z in live.progress().zones}
    assert by_zone[forehead].points == 3
    assert by_zone[cheeks].points == 2
    with db.begin() as conn:
        table = table_of(Shot)
        rows = conn.execute(
            select(table.c.shot_no, table.c.zone_id).order_by(table.c.shot_no)
        ).all()
    assert [z for _, z in rows] == [forehead] * 3 + [cheeks] * 2


def test_progress_counts_air_partial_and_out_of_tolerance_shots(db: Database) -> None:
    plan_id, (forehead, _) = make_plan(db)
    live = open_or_continue(db, GUN, plan_id)
    live.set_active_zone(forehead, at=T0)
    live.add_shots(
        shots([1, 2], depth=1500)
        + shots([3], depth=2100)  # 0.6 mm too deep, tolerance 0.3
        + shots([4], depth=0, flags=ShotFlag.NO_SKIN)
        + shots([5], depth=1400, flags=ShotFlag.PARTIAL, volume=20_000)
    )
    zone = live.progress().zones[0]
    assert (zone.points, zone.points_planned) == (4, 4)
    assert (zone.volume_nl, zone.volume_planned_nl) == (170_000, 200_000)
    assert zone.air_shots == 1 and zone.air_volume_nl == 50_000
    assert zone.partial_shots == 1
    assert zone.depth_out_of_tolerance == 1
    assert live.progress().total.points_planned == 8


def test_reaching_a_zone_limit_asks_for_a_lock_until_overridden(db: Database) -> None:
    plan_id, (forehead, _) = make_plan(db, zone_max_nl=150_000)
    live = open_or_continue(db, GUN, plan_id)
    live.set_active_zone(forehead, at=T0)
    assert not live.add_shots(shots([1, 2])).lock_requested
    crossing = live.add_shots(shots([3]))
    assert [a.kind for a in crossing.alerts] == [AlertKind.ZONE_MAX_VOLUME]
    assert crossing.alerts[0].lock and crossing.lock_requested
    # Still above the limit and not overridden: every new shot asks again, but alerts once.
    more = live.add_shots(shots([4]))
    assert more.alerts == () and more.lock_requested
    with pytest.raises(InvalidValueError, match="reason"):
        live.override_lock(by="Dr Test", pin=pin_of(db, "Dr Test"), reason=" ")
    live.override_lock(
        by="Dr Test",
        pin=pin_of(db, "Dr Test"),
        reason="patient tolerates, plan underestimates area",
    )
    assert not live.add_shots(shots([5])).lock_requested
    restarted = open_or_continue(db, GUN)
    assert not restarted.lock_pending()
    assert not restarted.add_shots(shots([6])).lock_requested


def test_the_session_limit_alerts_without_lock_when_the_plan_does_not_ask(db: Database) -> None:
    plan_id, (forehead, _) = make_plan(db, lock_at_limit=False, zone_max_nl=1_000_000)
    live = open_or_continue(db, GUN, plan_id)
    live.set_active_zone(forehead, at=T0)
    result = live.add_shots(shots(range(1, 8)))
    assert [a.kind for a in result.alerts] == [AlertKind.SESSION_MAX_VOLUME]
    assert not result.alerts[0].lock and not result.lock_requested


def test_events_are_stored_and_count_recovered_and_lost_shots(db: Database) -> None:
    live = open_or_continue(db, GUN)
    live.add_events(
        [
            DeviceEventIn(DeviceEventKind.LINK_LOST, T0, GUN.serial, 7),
            DeviceEventIn(DeviceEventKind.SHOTS_RECOVERED, T0, GUN.serial, 7, {"count": 6}),
            DeviceEventIn(DeviceEventKind.SHOTS_LOST, T0, GUN.serial, 6, {"count": 2}),
        ]
    )
    assert (live.progress().recovered_shots, live.progress().lost_shots) == (6, 2)
    assert open_or_continue(db, GUN).progress().lost_shots == 2


def test_a_refused_batch_stores_nothing(db: Database) -> None:
    live = open_or_continue(db, GUN)
    live.add_shots(shots([1]))
    with pytest.raises(InvalidValueError) as refused:
        live.add_shots(shots([2]) + shots([3], serial="SN-OTHER"))
    assert refused.value.field == "serial"
    assert stored_count(db) == 1
    with pytest.raises(InvalidValueError) as bad_zone:
        live.set_active_zone(12345)
    assert bad_zone.value.field == "zone_id"


def test_an_ended_session_records_no_more_and_a_new_one_starts(db: Database) -> None:
    live = open_or_continue(db, GUN)
    live.add_shots(shots([1]))
    ended = live.session_id
    live.end(actor="Dr Test")
    with pytest.raises(InvalidValueError) as refused:
        open_or_continue(db, GUN, session_id=ended)
    assert refused.value.field == "session_id"
    following = open_or_continue(db, GUN)
    assert following.session_id != ended
    with db.begin() as conn:
        status = conn.execute(
            text("SELECT status FROM treatment_session WHERE id = :id"), {"id": ended}
        ).scalar_one()
    assert status == SessionStatus.COMPLETED


def test_shots_after_the_session_ended_elsewhere_go_to_a_new_session(db: Database) -> None:
    from injector.session.clinical import end_session, session_view, sign_session

    plan_id, (forehead, _) = make_plan(db)
    live = open_or_continue(db, GUN, plan_id)
    live.set_active_zone(forehead, at=T0)
    live.add_shots(shots([1, 2]))
    first = live.session_id
    end_session(db, first, actor="Dr Test")  # from the TUI, while the recorder runs
    sign_session(db, first, name="Dr Test", pin=pin_of(db, "Dr Test"))
    live.add_events([DeviceEventIn(DeviceEventKind.SHOTS_LOST, T0, GUN.serial, 7, {"count": 1})])
    result = live.add_shots(shots([2, 3, 4]))
    assert (result.new, result.duplicates) == (2, 1)
    assert live.session_id != first
    assert live.active_zone_id == forehead
    assert live.progress().total.points == 2
    view = session_view(db, live.session_id)
    assert view.status == SessionStatus.IN_PROGRESS and view.sequence_no == 2
    assert session_view(db, first).lost_shots == 0  # the signed session is untouched
    from injector.session.audit_verify import verify_audit_trail

    assert verify_audit_trail(db).ok


def test_reading_never_holds_up_recording(db: Database) -> None:
    from injector.session import stored_boot
    from injector.session.history import session_device_events, session_shots, zone_changes

    live = open_or_continue(db, GUN)
    live.add_shots(shots([1, 2]))
    with db.read() as conn:
        before = conn.execute(select(func.count()).select_from(table_of(Shot))).scalar_one()
        # A write commits while the read snapshot is open (WAL on SQLite; MVCC on PostgreSQL).
        assert live.add_shots(shots([3])).new == 1
    assert before == 2
    stored = session_shots(db, live.session_id)
    assert [s.shot_no for s in stored] == [1, 2, 3]
    sent = shots([1])[0]
    assert (stored[0].received_at, stored[0].device_time) == (sent.received_at, None)
    assert stored[0].received_at.tzinfo is not None
    assert (stored[0].depth_um, stored[0].volume_nl, stored[0].retransmitted) == (
        1500,
        50_000,
        False,
    )
    assert stored_boot(db, GUN.serial, 7).max_shot_no == 3
    live.add_events([DeviceEventIn(DeviceEventKind.LINK_LOST, T0, GUN.serial, 7)])
    assert [e.kind for e in session_device_events(db, live.session_id)] == ["link_lost"]
    assert zone_changes(db, live.session_id) == []


def test_a_new_gun_and_a_firmware_update_are_audited(db: Database) -> None:
    from injector.storage.tables import AuditEntry

    open_or_continue(db, GUN, actor="room 1").end(actor="room 1")
    open_or_continue(db, DeviceInfo(GUN.serial, GUN.model, "2.5.0"), actor="room 1")
    table = table_of(AuditEntry)
    with db.begin() as conn:
        rows = conn.execute(
            select(table.c.action, table.c.payload).where(table.c.entity == "device")
        ).all()
    assert [action for action, _ in rows] == ["create", "update"]
    assert '"firmware":{"from":"2.4.1","to":"2.5.0"}' in rows[1][1]


def test_two_writers_on_one_gun_still_count_each_shot_once(db: Database) -> None:
    first = open_or_continue(db, GUN)
    second = open_or_continue(db, GUN)
    assert first.session_id == second.session_id
    second.add_shots(shots([1]))
    first.add_shots(shots([2, 3, 4, 5]))
    # ``second`` has not seen 2–5: the database refuses them and the tally comes from it.
    result = second.add_shots(shots([2, 3, 4, 5, 6]))
    assert (result.new, result.duplicates) == (1, 4)
    assert second.progress().total.points == 6
    assert stored_count(db) == 6


def test_naive_times_are_refused(db: Database) -> None:
    live = open_or_continue(db, GUN)
    naive = shots([1])[0]
    from dataclasses import replace

    with pytest.raises(InvalidValueError) as refused:
        live.add_shots([replace(naive, device_time=datetime(2026, 3, 2, 9, 0))])
    assert refused.value.field == "device_time"
    with pytest.raises(InvalidValueError) as refused:
        live.add_shots([replace(naive, received_at=datetime(2026, 3, 2, 9, 0))])
    assert refused.value.field == "received_at"
    assert stored_count(db) == 0
