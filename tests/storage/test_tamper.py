"""Tampering of every kind with the audit trail and the records it vouches for, on SQLite and
PostgreSQL: each is found, named as its kind, and the first broken entry is named.

The attacker here can do anything with the database (drop the append-only triggers first,
rewrite rows, recompute the chain with SHA-256) but does not have the clinic key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, select, text

from injector.cli.main import main
from injector.session import DeviceInfo, ShotIn, open_or_continue
from injector.session.audit_verify import AuditReport, TamperKind, verify_audit_trail
from injector.session.clinical import shots_digest, sign_session, start_session
from injector.storage import Database, open_database
from injector.storage.audit_chain import (
    GENESIS_HASH,
    chain_anchor,
    entry_hash,
    keyring_of,
    stored_entry_hash,
)
from injector.storage.clinic_key import KEY_ENV_VAR, ClinicKeyError
from injector.storage.tables import AuditEntry, table_of
from tests.session.builders import CLEAN_CHECKLIST, add_patient_and_plan, pin_of

GUN = DeviceInfo("SN0042", "MG-400", "2.4.1")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def record_session(db: Database, plan_id: int, first_shot: int, *, sign: bool) -> int:
    # Two sessions of one plan on one day: the interval warning is acknowledged.
    session_id = start_session(
        db, plan_id, CLEAN_CHECKLIST, practitioner="Dr A", device=GUN, acknowledged=True
    )
    live = open_or_continue(db, GUN)
    live.set_active_zone(live.zones[0].id, at=T0)
    live.add_shots(
        [
            ShotIn(GUN.serial, 9, n, n, T0 + timedelta(seconds=n), 1500, 50_000, 0, 10**6)
            for n in range(first_shot, first_shot + 5)
        ]
    )
    live.end(actor="Dr A")
    if sign:
        sign_session(db, session_id, name="Dr A", pin=pin_of(db, "Dr A"), meaning="performed")
    return session_id


@pytest.fixture
def recorded(db_url: str) -> Iterator[Database]:
    """A clinic day: one signed session, one ended and not yet signed; closed and reopened,
    as the next program to use the database would find it."""
    db = open_database(db_url)
    plan_id = add_patient_and_plan(db)
    record_session(db, plan_id, 1, sign=True)
    record_session(db, plan_id, 6, sign=False)
    db.close()
    reopened = open_database(db_url)
    try:
        yield reopened
    finally:
        reopened.close()


def drop_triggers(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("DROP TRIGGER audit_entry_append_only ON audit_entry"))
    else:
        conn.execute(text("DROP TRIGGER audit_entry_no_update"))
        conn.execute(text("DROP TRIGGER audit_entry_no_delete"))


def tamper(db: Database, *statements: tuple[str, dict[str, object]]) -> None:
    """Drop the append-only triggers, then run ``statements``, in one transaction."""
    with db.begin() as conn:
        drop_triggers(conn)
        for sql, params in statements:
            conn.execute(text(sql), params)


def chain(db: Database) -> list[dict[str, object]]:
    table = table_of(AuditEntry)
    with db.read() as conn:
        return [dict(row) for row in conn.execute(select(table).order_by(table.c.id)).mappings()]


def sha256_rechain(conn: Connection, from_id: int) -> None:
    """What an attacker without the key does: recompute every hash from ``from_id`` on."""
    table = table_of(AuditEntry)
    rows = list(conn.execute(select(table).order_by(table.c.id)).mappings())
    prev = GENESIS_HASH
    for row in rows:
        if row["id"] >= from_id:
            digest = stored_entry_hash(row, prev, None)
            conn.execute(
                text("UPDATE audit_entry SET prev_hash = :p, hash = :h WHERE id = :id"),
                {"p": prev, "h": digest, "id": row["id"]},
            )
            prev = digest
        else:
            prev = str(row["hash"])


def first(report: AuditReport) -> tuple[TamperKind | None, int | None]:
    return report.kind, report.first_broken


def kinds(report: AuditReport) -> set[TamperKind]:
    return {finding.kind for finding in report.findings}


def test_an_untouched_day_verifies(recorded: Database) -> None:
    report = verify_audit_trail(recorded)
    assert report.ok, report.findings
    assert report.signed_sessions == 1
    assert report.anchor is not None and report.anchor.entries == len(chain(recorded))


def test_an_edited_entry(recorded: Database) -> None:
    plan_entry = next(e for e in chain(recorded) if e["entity"] == "plan")
    tamper(
        recorded,
        (
            "UPDATE audit_entry SET payload = replace(payload, 'LOT-A', 'LOT-X') WHERE id = :id",
            {"id": plan_entry["id"]},
        ),
    )
    report = verify_audit_trail(recorded)
    assert first(report) == (TamperKind.EDITED, plan_entry["id"])
    assert TamperKind.TRIGGERS_DROPPED in kinds(report)


def test_a_deleted_entry(recorded: Database) -> None:
    ids = [e["id"] for e in chain(recorded)]
    tamper(recorded, ("DELETE FROM audit_entry WHERE id = :id", {"id": ids[3]}))
    assert first(verify_audit_trail(recorded)) == (TamperKind.DELETED, ids[4])


def test_reordered_entries(recorded: Database) -> None:
    ids = [e["id"] for e in chain(recorded)]
    a, b = ids[4], ids[5]
    tamper(
        recorded,
        ("UPDATE audit_entry SET id = :tmp WHERE id = :a", {"tmp": -1, "a": a}),
        ("UPDATE audit_entry SET id = :a WHERE id = :b", {"a": a, "b": b}),
        ("UPDATE audit_entry SET id = :b WHERE id = :tmp", {"b": b, "tmp": -1}),
    )
    report = verify_audit_trail(recorded)
    assert first(report) == (TamperKind.REORDERED, a)
    assert f"names entry {b}" in (report.reason or "")


def test_an_inserted_entry(recorded: Database) -> None:
    entries = chain(recorded)
    at = entries[2]
    forged_at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    payload = json.dumps({"note": "backdated consent"})
    forged_hash = entry_hash(str(at["hash"]), forged_at, "Dr X", "update", "session", "1", payload)
    with recorded.begin() as conn:
        drop_triggers(conn)
        conn.execute(text("UPDATE audit_entry SET id = id + 1000 WHERE id > :id"), {"id": at["id"]})
        conn.execute(
            table_of(AuditEntry)
            .insert()
            .values(
                id=int(str(at["id"])) + 1,
                at=forged_at,
                actor="Dr X",
                action="update",
                entity="session",
                entity_id="1",
                payload=payload,
                prev_hash=at["hash"],
                hash=forged_hash,
            )
        )
    report = verify_audit_trail(recorded)
    assert first(report) == (TamperKind.INSERTED, int(str(at["id"])) + 1)


def test_a_truncated_tail(recorded: Database) -> None:
    entries = chain(recorded)
    tamper(recorded, ("DELETE FROM audit_entry WHERE id > :id", {"id": entries[-3]["id"]}))
    report = verify_audit_trail(recorded)
    assert first(report) == (TamperKind.TRUNCATED, int(str(entries[-3]["id"])) + 1)
    assert f"anchor records {len(entries)}" in (report.reason or "")


def test_every_entry_deleted(recorded: Database) -> None:
    tamper(recorded, ("DELETE FROM audit_entry", {}))
    report = verify_audit_trail(recorded)
    assert report.kind == TamperKind.EMPTIED
    assert report.first_broken == chain_last_id_before(report)


def chain_last_id_before(report: AuditReport) -> int | None:
    assert report.anchor is not None
    return report.anchor.head_id


def test_an_appended_forgery_with_a_recomputed_chain(recorded: Database) -> None:
    last = chain(recorded)[-1]
    when = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    payload = json.dumps({"status": "aborted"})
    digest = entry_hash(str(last["hash"]), when, "Dr X", "end", "session", "2", payload)
    with recorded.begin() as conn:
        drop_triggers(conn)
        conn.execute(
            table_of(AuditEntry)
            .insert()
            .values(
                at=when,
                actor="Dr X",
                action="end",
                entity="session",
                entity_id="2",
                payload=payload,
                prev_hash=last["hash"],
                hash=digest,
            )
        )
    report = verify_audit_trail(recorded)
    assert report.kind == TamperKind.FORGED
    assert report.first_broken == max(int(str(e["id"])) for e in chain(recorded))


def test_a_signed_shot_edited_and_the_chain_recomputed(recorded: Database) -> None:
    sign = next(e for e in chain(recorded) if e["action"] == "sign")
    session_id = int(str(sign["entity_id"]))
    with recorded.begin() as conn:
        drop_triggers(conn)
        conn.execute(
            text("UPDATE shot SET volume_nl = 10 WHERE session_id = :s AND shot_no = 3"),
            {"s": session_id},
        )
        count, digest = shots_digest(conn, session_id)
        payload = json.loads(str(sign["payload"]))
        payload |= {"shots": count, "shots_sha256": digest}
        conn.execute(
            text("UPDATE audit_entry SET payload = :p WHERE id = :id"),
            {"p": json.dumps(payload, sort_keys=True, separators=(",", ":")), "id": sign["id"]},
        )
        sha256_rechain(conn, int(str(sign["id"])))
    report = verify_audit_trail(recorded)
    assert first(report) == (TamperKind.EDITED, sign["id"])
    assert "recomputed without the clinic key" in (report.reason or "")


def test_a_patient_edited_directly(recorded: Database) -> None:
    tamper(recorded, ("UPDATE patient SET name = 'Someone Else'", {}))
    report = verify_audit_trail(recorded)
    patient_entry = next(e for e in chain(recorded) if e["entity"] == "patient")
    assert first(report) == (TamperKind.RECORD_CHANGED, patient_entry["id"])
    assert (report.reason or "").startswith("patient 1: name changed")


def test_a_zone_depth_target_edited_directly(recorded: Database) -> None:
    with recorded.read() as conn:
        zone_id = conn.execute(text("SELECT min(id) FROM plan_zone")).scalar()
    tamper(recorded, ("UPDATE plan_zone SET depth_um = 4000 WHERE id = :id", {"id": zone_id}))
    report = verify_audit_trail(recorded)
    plan_entry = next(e for e in chain(recorded) if e["entity"] == "plan")
    assert first(report) == (TamperKind.RECORD_CHANGED, plan_entry["id"])
    assert f"zone {zone_id} depth_um" in (report.reason or "")


def test_an_unsigned_sessions_shots_edited_directly(recorded: Database) -> None:
    entries = chain(recorded)
    unsigned = int(str(entries[-1]["entity_id"]))  # the last entry ends session 2
    tamper(
        recorded,
        ("UPDATE shot SET depth_um = 3900 WHERE session_id = :s", {"s": unsigned}),
    )
    report = verify_audit_trail(recorded)
    assert first(report) == (TamperKind.SHOTS_CHANGED, entries[-1]["id"])
    assert f"shots of session {unsigned}" in (report.reason or "")


def test_a_shot_added_to_an_ended_session_directly(recorded: Database) -> None:
    entries = chain(recorded)
    unsigned = int(str(entries[-1]["entity_id"]))
    with recorded.begin() as conn:
        drop_triggers(conn)
        conn.execute(
            text(
                "INSERT INTO shot (session_id, zone_id, serial, boot_id, shot_no, uptime_ms, "
                "received_at, depth_um, volume_nl, flags, syringe_remaining_nl, retransmitted) "
                "SELECT session_id, zone_id, serial, boot_id, 99, uptime_ms, received_at, "
                "depth_um, volume_nl, flags, syringe_remaining_nl, retransmitted FROM shot "
                "WHERE session_id = :s AND shot_no = 6"
            ),
            {"s": unsigned},
        )
    report = verify_audit_trail(recorded)
    assert first(report) == (TamperKind.SHOTS_CHANGED, entries[-1]["id"])
    assert "1 shot(s) were added" in (report.reason or "")


def test_a_record_inserted_and_one_deleted_directly(recorded: Database) -> None:
    tamper(
        recorded,
        (
            "INSERT INTO patient (identifier, name, date_of_birth, contact, on_anticoagulants, "
            "pregnant, allergies, contraindication_notes, created_at) SELECT 'P-9', 'Ghost', "
            "date_of_birth, '', on_anticoagulants, pregnant, '', '', created_at FROM patient",
            {},
        ),
    )
    report = verify_audit_trail(recorded)
    assert report.kind == TamperKind.RECORD_INSERTED
    assert "patient 2 has no audit entry" in (report.reason or "")


def test_triggers_dropped_alone_are_reported(recorded: Database) -> None:
    with recorded.begin() as conn:
        drop_triggers(conn)
    report = verify_audit_trail(recorded)
    assert [f.kind for f in report.findings] == [TamperKind.TRIGGERS_DROPPED]


def test_a_disabled_postgresql_trigger_is_reported(recorded: Database) -> None:
    if recorded.dialect != "postgresql":
        pytest.skip("only PostgreSQL can disable a trigger without dropping it")
    with recorded.begin() as conn:
        conn.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
        conn.execute(text("UPDATE patient SET contact = 'elsewhere'"))
    report = verify_audit_trail(recorded)
    assert report.kind == TamperKind.RECORD_CHANGED
    assert TamperKind.TRIGGERS_DROPPED in kinds(report)


def test_a_column_a_later_migration_adds_is_not_tampering(recorded: Database) -> None:
    with recorded.begin() as conn:
        for table in ("patient", "plan_zone", "treatment_session", "shot"):
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN site_code TEXT DEFAULT 'x'"))
    report = verify_audit_trail(recorded)
    assert report.ok, report.findings
    with recorded.begin() as conn:
        conn.execute(text("UPDATE shot SET depth_um = depth_um + 1 WHERE id = 1"))
    assert verify_audit_trail(recorded).kind == TamperKind.SIGNED_CHANGED


def test_in_progress_shots_are_not_yet_sealed_and_not_tampering(db: Database) -> None:
    plan_id = add_patient_and_plan(db)
    # The second session of the day: its interval warning is acknowledged.
    start_session(db, plan_id, CLEAN_CHECKLIST, practitioner="Dr A", device=GUN, acknowledged=True)
    live = open_or_continue(db, GUN)
    live.set_active_zone(live.zones[0].id, at=T0)
    live.add_shots([ShotIn(GUN.serial, 9, n, n, T0, 1500, 50_000, 0, 10**6) for n in (1, 2, 3)])
    report = verify_audit_trail(db)
    assert report.ok and report.unsealed_shots == 3
    live.set_active_zone(live.zones[1].id, at=T0 + timedelta(minutes=1))
    assert verify_audit_trail(db).unsealed_shots == 0


def test_every_sign_off_records_the_chain_anchor(recorded: Database) -> None:
    entries = chain(recorded)
    position, sign = next((i, e) for i, e in enumerate(entries) if e["action"] == "sign")
    state = json.loads(str(sign["state"]))
    assert state["anchor"] == {"entries": position, "head": entries[position - 1]["hash"]}
    anchor = chain_anchor(recorded)
    assert anchor.entries == len(entries) and anchor.head_hash == entries[-1]["hash"]


def test_the_key_and_anchor_are_private_files_beside_the_database(tmp_path: Path) -> None:
    path = tmp_path / "clinic.sqlite3"
    db = open_database(str(path))
    try:
        location = keyring_of(db).location
        add_patient_and_plan(db)
    finally:
        db.close()
    assert location.key_path == tmp_path / "clinic.sqlite3.key"
    assert location.anchor_path == tmp_path / "clinic.sqlite3.anchor"
    for file in (location.key_path, location.anchor_path):
        assert os.stat(file).st_mode & 0o777 == 0o600
    assert json.loads(location.anchor_path.read_text())["entries"] == 2


def test_a_keyed_database_without_its_key_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clinic.sqlite3"
    db = open_database(str(path))
    add_patient_and_plan(db)
    db.close()
    key = tmp_path / "clinic.sqlite3.key"
    key.rename(tmp_path / "elsewhere.key")
    with pytest.raises(ClinicKeyError, match="restore the clinic's key file"):
        open_database(str(path))
    assert not key.exists()  # no second, unverifiable key was made
    assert main(["audit", "verify", "--db", str(path)]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no key file at" in err


def test_another_clinic_key_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A replaced key file would make every entry look forged: refused, naming both keys."""
    for name in ("a", "b"):
        open_database(str(tmp_path / f"{name}.sqlite3")).close()
    key_a = (tmp_path / "a.sqlite3.key").read_text()
    (tmp_path / "a.sqlite3.key").write_text((tmp_path / "b.sqlite3.key").read_text())
    with pytest.raises(ClinicKeyError, match=r"is keyed with clinic key .* but .* holds key"):
        open_database(str(tmp_path / "a.sqlite3"))
    assert main(["audit", "verify", "--db", str(tmp_path / "a.sqlite3")]) != 0
    assert "is keyed with clinic key" in capsys.readouterr().err
    (tmp_path / "a.sqlite3.key").write_text(key_a)
    open_database(str(tmp_path / "a.sqlite3")).close()


def test_a_second_room_without_the_key_does_not_fork_the_chain(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two rooms on one PostgreSQL database: the second, lacking the first's key, is refused
    (before any entry is written) instead of starting a key of its own."""
    open_database(pg_url).close()
    room_b = tmp_path / "room-b" / "clinic.key"
    monkeypatch.setenv(KEY_ENV_VAR, str(room_b))
    with pytest.raises(ClinicKeyError, match="there is no key file at"):
        open_database(pg_url)
    assert not room_b.exists()


def test_a_key_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "clinic.sqlite3"
    open_database(str(path)).close()
    (tmp_path / "clinic.sqlite3.key").chmod(0o644)
    with pytest.raises(ClinicKeyError, match="chmod 600"):
        open_database(str(path))


def test_a_configured_key_path_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "keys" / "clinic.key"
    monkeypatch.setenv(KEY_ENV_VAR, str(key))
    db = open_database(str(tmp_path / "a.sqlite3"))
    try:
        assert keyring_of(db).location.key_path == key
    finally:
        db.close()
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.parent.stat().st_mode & 0o777 == 0o700


def test_an_unkeyed_chain_is_sealed_on_first_keyed_open(db_url: str) -> None:
    """A database an older program wrote (plain SHA-256, no state) is sealed, then guarded."""
    db = open_database(db_url)
    add_patient_and_plan(db)
    location = keyring_of(db).location
    with db.begin() as conn:
        drop_triggers(conn)
        conn.execute(text("UPDATE audit_entry SET state = NULL"))
        conn.execute(text("DELETE FROM audit_key"))  # an older program had no such table
        sha256_rechain(conn, 0)
        conn.execute(
            text(
                "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
                "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"
            )
            if conn.dialect.name == "sqlite"
            else text(
                "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
                "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
            )
        )
        if conn.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
                    "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"
                )
            )
    db.close()
    location.key_path.unlink()
    location.anchor_path.unlink()
    db = open_database(db_url)
    try:
        entries = chain(db)
        assert [e["action"] for e in entries] == ["create", "create", "seal"]
        assert json.loads(str(entries[-1]["payload"])) == {
            "unkeyed_entries": 2,
            "unkeyed_head": entries[1]["hash"],
        }
        assert verify_audit_trail(db).ok
        with db.begin() as conn:
            conn.execute(text("UPDATE patient SET contact = 'moved away'"))
        report = verify_audit_trail(db)
        assert first(report) == (TamperKind.RECORD_CHANGED, entries[-1]["id"])
        assert (report.reason or "").startswith("patient 1: contact changed")
    finally:
        db.close()


def test_injector_audit_verify_names_each_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clinic.sqlite3"
    db = open_database(str(path))
    try:
        plan_id = add_patient_and_plan(db)
        record_session(db, plan_id, 1, sign=False)
    finally:
        db.close()
    assert main(["audit", "verify", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "audit trail intact: 6 entries" in out and "anchored: audit chain of 6 entries" in out
    db = open_database(str(path))
    try:
        tamper(
            db,
            ("UPDATE patient SET name = 'X'", {}),
            ("DELETE FROM audit_entry WHERE id > 4", {}),
        )
    finally:
        db.close()
    assert main(["audit", "verify", "--db", str(path)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == (
        "audit trail broken at entry 5: the newest entries were deleted: the chain ends at "
        "entry 4 with 4 entries; the anchor records 6 up to entry 6"
    )
    assert lines[1].startswith("  also: the append-only triggers were dropped")
