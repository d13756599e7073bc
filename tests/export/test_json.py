"""The JSON export: the pydantic document round-trips and holds exactly what was recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from injector.export import ExportDocument, ExportFormat, NoSessionsError, export_text
from injector.session import DeviceInfo, open_or_continue
from injector.storage import Database, RecordNotFoundError
from tests.export.recorded import GUN, T0, record_session

EXPORTED_AT = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)


def test_one_session_round_trips_with_exactly_the_shots_added(db: Database) -> None:
    recorded = record_session(db)
    text = export_text(
        db, ExportFormat.JSON, session_id=recorded.session_id, exported_at=EXPORTED_AT
    )
    document = ExportDocument.model_validate_json(text)
    assert document.format == "injector-export" and document.schema_version == 1
    assert document.exported_at == EXPORTED_AT
    [session] = document.sessions

    given = {(s.boot_id, s.shot_no): s for s in recorded.shots}
    exported = {(s.boot_id, s.shot_no): s for s in session.shots}
    assert len(session.shots) == len(recorded.shots) == session.counts.shots
    assert exported.keys() == given.keys()
    for key, shot in exported.items():
        source = given[key]
        assert shot.serial == source.serial
        assert shot.uptime_ms == source.uptime_ms
        assert shot.received_at == source.received_at
        assert shot.device_time == source.device_time
        assert shot.depth_um == source.depth_um
        assert shot.volume_nl == source.volume_nl
        assert shot.flags == source.flags
        assert shot.syringe_remaining_nl == source.syringe_remaining_nl
        assert shot.zone == recorded.zone_of_shot[key]
        expected_zone_id = recorded.zone_ids[shot.zone] if shot.zone else None
        assert shot.zone_id == expected_zone_id
    assert exported[(7, 6)].flag_names == ["NO_SKIN"]
    assert exported[(8, 2)].flag_names == ["PARTIAL"]
    assert exported[(8, 3)].device_time is None

    assert session.id == recorded.session_id and session.plan_id == recorded.plan_id
    assert session.status == "completed" and session.sequence_no == 1
    assert session.patient_identifier == "P-1" and session.practitioner == "Dr Test"
    assert session.started_at == T0 and session.ended_at is not None
    assert session.lot is not None
    assert (session.lot.number, session.lot.expiry) == ("LOT-A", date(2035, 1, 31))
    assert session.device is not None
    assert (session.device.serial, session.device.model, session.device.firmware) == (
        GUN.serial,
        GUN.model,
        GUN.firmware,
    )
    assert session.plan is not None
    assert [z.name for z in session.plan.zones] == ["forehead", "cheeks"]
    assert session.plan.zones[0].depth_um == 1500
    assert session.plan.zones[0].depth_tolerance_um == 300
    assert (session.counts.recovered_shots, session.counts.lost_shots) == (2, 1)
    # The gun's events, plus the notes the session logic wrote (the forehead reached its limit).
    assert [(e.kind, e.boot_id, e.detail) for e in session.events if e.kind != "note"] == [
        (e.kind.value, e.boot_id, dict(e.detail)) for e in recorded.events
    ]
    notes = [e.detail for e in session.events if e.kind == "note"]
    assert [n["alert"] for n in notes] == ["zone_max_volume"]
    # What was parsed back serialises to the same text: nothing lost on the way.
    assert document.model_dump_json(indent=2) + "\n" == text


def test_every_session_when_none_is_named(db: Database) -> None:
    recorded = record_session(db)
    # A gun recording without a plan: a session with no patient, still exported.
    other = DeviceInfo("SN0099", "MG-400", "2.5.0")
    live = open_or_continue(db, other, now=T0)
    document = ExportDocument.model_validate_json(export_text(db, ExportFormat.JSON))
    by_id = {s.id: s for s in document.sessions}
    assert set(by_id) == {recorded.session_id, live.session_id}
    planless = by_id[live.session_id]
    assert planless.plan is None and planless.patient_identifier is None
    assert planless.shots == [] and planless.status == "in_progress"
    assert planless.device is not None and planless.device.serial == "SN0099"


def test_unknown_session_and_empty_database_are_refused(db: Database) -> None:
    with pytest.raises(NoSessionsError):
        export_text(db, ExportFormat.JSON)
    with pytest.raises(RecordNotFoundError):
        export_text(db, ExportFormat.CSV, session_id=4242)
