"""Practitioners as records: a PIN kept only as a salted hash, and signing, amending and
overriding a plan limit each confirmed by the person's PIN (a wrong one changes nothing and is
itself audited)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from injector.cli.main import main
from injector.domain.errors import InvalidValueError
from injector.domain.inputs import SessionChanges
from injector.export.document import session_out
from injector.export.fhir import fhir_bundle
from injector.export.shots_csv import to_csv
from injector.export.snapshot import load_session_record
from injector.session import DeviceInfo, ShotIn, open_or_continue
from injector.session.clinical import (
    amend_session,
    end_session,
    name_practitioner,
    session_view,
    sign_session,
    start_session,
)
from injector.session.practitioners import (
    PinRefusedError,
    add_practitioner,
    find_practitioner,
    list_practitioners,
)
from injector.storage import Database, open_database
from injector.storage.tables import AuditEntry, Practitioner, table_of
from tests.session.builders import CLEAN_CHECKLIST, add_patient_and_plan

GUN = DeviceInfo("SN0042", "MG-400", "2.4.1")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PIN = "4071"


def _audit(db: Database) -> list[tuple[str, str, str]]:
    table = table_of(AuditEntry)
    with db.read() as conn:
        return [
            (r.actor, r.action, r.payload) for r in conn.execute(select(table).order_by(table.c.id))
        ]


def test_the_pin_is_stored_only_as_a_salted_hash(db: Database) -> None:
    lee = add_practitioner(db, "  Dr  Ana Lee ", PIN, role="physician", actor="admin")
    add_practitioner(db, "Nurse Bo", PIN, role="nurse", actor="admin")
    assert (lee.name, lee.role) == ("Dr Ana Lee", "physician")
    table = table_of(Practitioner)
    with db.read() as conn:
        hashes = [r.pin_hash for r in conn.execute(select(table))]
    assert all(h.startswith("scrypt$") and PIN not in h for h in hashes)
    assert hashes[0] != hashes[1]  # the same PIN, salted apart
    assert all(PIN not in payload and "scrypt" not in payload for _, _, payload in _audit(db))
    assert [p.name for p in list_practitioners(db)] == ["Dr Ana Lee", "Nurse Bo"]
    assert find_practitioner(db, "dr ana lee").name == "Dr Ana Lee"


@pytest.mark.parametrize(
    ("name", "pin", "field"),
    [
        ("Dr Lee", "12a4", "pin"),
        ("Dr Lee", "123", "pin"),
        ("Dr Lee", "1111", "pin"),
        ("Dr Lee", "1234", "pin"),
        (" ", PIN, "name"),
    ],
)
def test_weak_pins_and_empty_names_are_refused(
    db: Database, name: str, pin: str, field: str
) -> None:
    with pytest.raises(InvalidValueError) as refused:
        add_practitioner(db, name, pin, actor="admin")
    assert refused.value.field == field
    assert list_practitioners(db) == []


def test_a_name_is_recorded_once(db: Database) -> None:
    add_practitioner(db, "Dr Lee", PIN, actor="admin")
    with pytest.raises(InvalidValueError, match="already a practitioner"):
        add_practitioner(db, "dr lee", "5820", actor="admin")


def _ended_session(db: Database) -> int:
    plan_id = add_patient_and_plan(db)
    session_id = start_session(
        db, plan_id, CLEAN_CHECKLIST, practitioner="dr ana lee", device=GUN, now=T0
    )
    end_session(db, session_id, actor="Dr Ana Lee", now=T0 + timedelta(hours=1))
    return session_id


def test_signing_needs_the_signers_pin(db: Database) -> None:
    add_practitioner(db, "Dr Ana Lee", PIN, role="physician", actor="admin")
    session_id = _ended_session(db)
    # The session names the recorded practitioner, as the record spells the name.
    assert session_view(db, session_id).practitioner == "Dr Ana Lee"
    with pytest.raises(PinRefusedError) as refused:
        sign_session(db, session_id, name="Dr Ana Lee", pin="9999")
    assert refused.value.field == "pin" and "signature refused" in refused.value.reason
    with pytest.raises(PinRefusedError):
        sign_session(db, session_id, name="Dr Nobody", pin=PIN)
    assert not session_view(db, session_id).signed
    refusals = [(a, p) for a, action, p in _audit(db) if action == "pin_refused"]
    assert [a for a, _ in refusals] == ["Dr Ana Lee", "Dr Nobody"]
    assert all(json.loads(p) == {"purpose": "signature"} for _, p in refusals)

    at = T0 + timedelta(hours=2)
    sign_session(db, session_id, name="dr ana lee", pin=PIN, meaning="performed", now=at)
    view = session_view(db, session_id)
    assert (view.signed_by, view.signed_at, view.signature_meaning) == (
        "Dr Ana Lee",
        at,
        "performed",
    )
    sign_entry = next(json.loads(p) for _, action, p in _audit(db) if action == "sign")
    assert sign_entry["signer"]["name"] == "Dr Ana Lee"
    assert sign_entry["signer"]["role"] == "physician"


def test_amending_needs_the_pin_of_who_amends(db: Database) -> None:
    add_practitioner(db, "Dr Ana Lee", PIN, actor="admin")
    add_practitioner(db, "Dr Second", "5820", actor="admin")
    session_id = _ended_session(db)
    sign_session(db, session_id, name="Dr Ana Lee", pin=PIN)
    change = SessionChanges(lot_number="LOT-B")
    with pytest.raises(PinRefusedError):
        amend_session(db, session_id, change, by="Dr Second", pin=PIN, reason="vial label")
    assert session_view(db, session_id).amendments == ()
    amend_session(db, session_id, change, by="Dr Second", pin="5820", reason="vial label")
    (amendment,) = session_view(db, session_id).amendments
    assert amendment.amended_by == "Dr Second"


def test_overriding_a_plan_limit_needs_a_pin_and_the_lock_says_what_is_true(
    db: Database,
) -> None:
    add_practitioner(db, "Dr Ana Lee", PIN, actor="admin")
    plan_id = add_patient_and_plan(
        db,
        lock_at_limit=True,
        zones=[
            {
                "name": "forehead",
                "body_area": "forehead",
                "technique": "nappage",
                "depth_mm": 1.5,
                "volume_per_point_ml": 0.05,
                "points": 2,
                "max_volume_ml": 0.1,
            }
        ],
    )
    live = open_or_continue(db, GUN, plan_id)
    live.set_active_zone(live.zones[0].id, at=T0)
    assert live.plan_lock().banner == "unlocked"
    shots = [
        ShotIn(GUN.serial, 3, n, n, T0 + timedelta(seconds=n), 1500, 50_000, 0, 10**6)
        for n in range(1, 4)
    ]
    assert live.add_shots(shots).lock_requested
    assert live.plan_lock().banner == "locked by plan limit"
    with pytest.raises(PinRefusedError):
        live.override_lock(by="Dr Ana Lee", pin="0000", reason="area larger than planned")
    assert live.lock_pending()
    at = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    lock = live.override_lock(by="Dr Ana Lee", pin=PIN, reason="area larger than planned", at=at)
    expected = f"overridden by Dr Ana Lee at {at.astimezone().strftime('%H:%M')}"
    assert lock.banner == expected and not lock.locked
    # A restarted recorder says the same.
    assert open_or_continue(db, GUN).plan_lock().banner == expected
    actions = [action for _, action, _ in _audit(db)]
    assert actions.count("pin_refused") == 1 and actions.count("override_lock") == 1


def test_every_export_names_the_practitioner_and_the_signature(db: Database) -> None:
    add_practitioner(db, "Dr Ana Lee", PIN, actor="admin")
    plan_id = add_patient_and_plan(db)
    session_id = start_session(db, plan_id, CLEAN_CHECKLIST, practitioner="Dr Ana Lee", device=GUN)
    live = open_or_continue(db, GUN)
    live.set_active_zone(live.zones[0].id, at=T0)
    live.add_shots([ShotIn(GUN.serial, 3, 1, 1, T0, 1500, 50_000, 0, 10**6)])
    live.end(actor="Dr Ana Lee")
    sign_session(db, session_id, name="Dr Ana Lee", pin=PIN)
    record = load_session_record(db, session_id)
    out = session_out(record)
    assert (out.practitioner, out.signed_by, out.signature_meaning) == (
        "Dr Ana Lee",
        "Dr Ana Lee",
        "performed and reviewed",
    )
    assert to_csv([record]).splitlines()[1].endswith(",point,Dr Ana Lee")
    bundle = json.loads(fhir_bundle(record, exported_at=T0).model_dump_json())
    procedure = bundle["entry"][0]["resource"]
    assert procedure["performer"][0]["actor"]["display"] == "Dr Ana Lee"


def test_a_session_names_only_a_recorded_practitioner(db: Database) -> None:
    add_practitioner(db, "Dr Ana Lee", PIN, actor="admin")
    plan_id = add_patient_and_plan(db)
    session_id = start_session(db, plan_id, CLEAN_CHECKLIST, practitioner="locum")
    with pytest.raises(InvalidValueError) as refused:
        name_practitioner(db, session_id, "jdoe", actor="jdoe")
    assert refused.value.field == "practitioner"
    assert "injector practitioner add 'jdoe'" in refused.value.reason
    assert name_practitioner(db, session_id, "DR ANA LEE", actor="x") == "Dr Ana Lee"
    assert session_view(db, session_id).practitioner == "Dr Ana Lee"


def _cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, stdin: str, *argv: str
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_practitioner_add_reads_the_pin_twice_from_standard_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "clinic.sqlite3")
    code, out, _ = _cli(capsys, monkeypatch, "", "practitioner", "list", "--db", path)
    assert code == 2  # no such database yet: one line, nothing created
    add = ("practitioner", "add", "Dr Ana Lee", "--role", "physician", "--db", path)
    code, _, err = _cli(capsys, monkeypatch, "4071\n4072\n", *add)
    assert code == 2 and err == "injector practitioner: the two PINs differ; nothing was " + (
        "recorded, run the command again\n"
    )
    code, _, err = _cli(capsys, monkeypatch, "1234\n1234\n", *add)
    assert code == 2 and err.startswith("injector practitioner: pin: ") and err.count("\n") == 1
    code, _, err = _cli(capsys, monkeypatch, "4071\n", *add)
    assert code == 2 and "no PIN on standard input" in err
    code, out, _ = _cli(capsys, monkeypatch, "4071\n4071\n", *add)
    assert code == 0 and out == "practitioner Dr Ana Lee (physician) added\n"
    code, out, _ = _cli(capsys, monkeypatch, "", "practitioner", "list", "--db", path)
    assert code == 0 and out.splitlines()[1].startswith("Dr Ana Lee\tphysician\t")
    db = open_database(path)
    try:
        assert find_practitioner(db, "Dr Ana Lee").role == "physician"
        session_id = _ended_session(db)
    finally:
        db.close()
    sign = ("session", "sign", str(session_id), "--name", "Dr Ana Lee", "--db", path)
    code, _, err = _cli(capsys, monkeypatch, "0000\n", *sign)
    assert code == 2 and err == (
        "injector session: pin: the name and PIN do not match a practitioner (signature refused)\n"
    )
    code, out, _ = _cli(capsys, monkeypatch, "4071\n", *sign)
    assert code == 0
    assert out.startswith(f"session {session_id} signed by Dr Ana Lee at ")
    assert out.endswith(": performed and reviewed\n")


def test_record_refuses_a_practitioner_who_is_not_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(tmp_path / "clinic.sqlite3")
    code = main(
        ["record", "--port", str(tmp_path / "no-gun"), "--db", path, "--practitioner", "jdoe"]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("injector record: --practitioner: 'jdoe' is not a practitioner here")
