"""The audit trail: every change is chained; tampering is found and the entry named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from injector.cli.main import main
from injector.session import DeviceInfo, ShotIn, open_or_continue
from injector.session.audit_verify import verify_audit_trail
from injector.session.clinical import sign_session, start_session
from injector.storage import Database, open_database
from injector.storage.tables import AuditEntry, table_of
from tests.session.builders import CLEAN_CHECKLIST, add_patient_and_plan, pin_of

GUN = DeviceInfo("SN0042", "MG-400", "2.4.1")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def signed_session(db: Database) -> int:
    plan_id = add_patient_and_plan(db)
    session_id = start_session(db, plan_id, CLEAN_CHECKLIST, practitioner="Dr A", device=GUN)
    live = open_or_continue(db, GUN)
    live.set_active_zone(live.zones[0].id, at=T0)
    live.add_shots(
        [
            ShotIn(GUN.serial, 9, n, n, T0 + timedelta(seconds=n), 1500, 50_000, 0, 10**6)
            for n in range(1, 6)
        ]
    )
    live.end(actor="Dr A")
    sign_session(db, session_id, name="Dr A", pin=pin_of(db, "Dr A"), meaning="performed")
    return session_id


def drop_append_only_triggers(db: Database) -> None:
    """What an attacker with DDL rights could do; the hash chain must still catch the rest."""
    with db.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_entry_append_only ON audit_entry"))
        else:
            conn.execute(text("DROP TRIGGER audit_entry_no_update"))
            conn.execute(text("DROP TRIGGER audit_entry_no_delete"))


def entries(db: Database) -> list[tuple[int, str, str]]:
    table = table_of(AuditEntry)
    with db.begin() as conn:
        return [
            (row.id, row.action, row.entity)
            for row in conn.execute(select(table).order_by(table.c.id))
        ]


def test_every_create_change_and_sign_off_is_chained(db: Database) -> None:
    signed_session(db)
    actions = [(action, entity) for _, action, entity in entries(db)]
    assert actions == [
        ("create", "patient"),
        ("create", "plan"),
        ("create", "device"),
        ("create", "session"),
        ("activate_zone", "session"),
        ("end", "session"),
        ("create", "practitioner"),
        ("sign", "session"),
    ]
    report = verify_audit_trail(db)
    assert report.ok and report.entries == 8 and report.signed_sessions == 1


def test_the_database_refuses_to_change_or_delete_audit_entries(db: Database) -> None:
    signed_session(db)
    for statement in ("UPDATE audit_entry SET actor = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(DBAPIError, match="append-only"), db.begin() as conn:
            conn.execute(text(statement))
    assert verify_audit_trail(db).ok


def test_an_edited_entry_is_named(db: Database) -> None:
    signed_session(db)
    drop_append_only_triggers(db)
    plan_entry = entries(db)[1][0]
    with db.begin() as conn:
        conn.execute(
            text(
                "UPDATE audit_entry SET payload = replace(payload, 'LOT-A', 'LOT-X') WHERE id = :id"
            ),
            {"id": plan_entry},
        )
    report = verify_audit_trail(db)
    assert report.first_broken == plan_entry
    assert report.reason == "its contents do not match its hash"


def test_a_deleted_entry_breaks_the_link_of_the_next(db: Database) -> None:
    signed_session(db)
    drop_append_only_triggers(db)
    ids = [entry_id for entry_id, _, _ in entries(db)]
    with db.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE id = :id"), {"id": ids[2]})
    report = verify_audit_trail(db)
    assert report.first_broken == ids[3]
    assert "previous-hash link" in (report.reason or "")


def test_a_shot_changed_after_sign_off_is_found(db: Database) -> None:
    session_id = signed_session(db)
    with db.begin() as conn:
        conn.execute(text("UPDATE shot SET volume_nl = 10 WHERE shot_no = 3"))
    report = verify_audit_trail(db)
    assert report.first_broken == entries(db)[-1][0]
    assert f"shots of session {session_id} changed" in (report.reason or "")


def test_a_signed_session_edited_in_place_is_found(db: Database) -> None:
    session_id = signed_session(db)
    with db.begin() as conn:
        conn.execute(
            text("UPDATE treatment_session SET practitioner = 'Dr B' WHERE id = :id"),
            {"id": session_id},
        )
    report = verify_audit_trail(db)
    assert report.first_broken == entries(db)[-1][0]
    assert "changed in place" in (report.reason or "")


def test_injector_audit_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "clinic.sqlite3"
    db = open_database(str(path))
    try:
        signed_session(db)
        assert main(["audit", "verify", "--db", str(path)]) == 0
        assert "audit trail intact: 8 entries" in capsys.readouterr().out
        drop_append_only_triggers(db)
        with db.begin() as conn:
            conn.execute(text("UPDATE audit_entry SET actor = 'someone' WHERE id = 2"))
    finally:
        db.close()
    assert main(["audit", "verify", "--db", str(path)]) == 1
    assert capsys.readouterr().out.strip().splitlines() == [
        "audit trail broken at entry 2: an entry was edited: its contents do not match its hash",
        "  also: the append-only triggers were dropped: audit_entry has lost its append-only "
        "trigger(s) audit_entry_no_update, audit_entry_no_delete; restore them (docs/audit.md) "
        "after finding out who dropped them",
    ]
