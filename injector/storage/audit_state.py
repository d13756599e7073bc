"""The audited state of clinical records: keyed digests of every field, for comparison later.

When a transaction that wrote audit entries commits, each record an entry names (a patient,
a plan with its zones, a session with its shots, an adverse event) is read back as it is
about to be committed and reduced to an HMAC per field (:meth:`ClinicKey.field_mac`: values
are compared, never stored again, and cannot be guessed from the digest without the key).
``injector audit verify`` computes the same for the rows as they are now: a field that
differs was changed outside the program, a row with no audited state was inserted outside
it, an audited row that is gone was deleted.

A session's shots are covered up to the highest shot row id the session had at that moment:
shots a recorder adds later are not yet audited while the session is in progress, and are
sealed by the next entry about the session (a zone change, the end, the sign-off).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Table, func, select

from injector.storage.audit_json import canonical_json
from injector.storage.clinic_key import ClinicKey
from injector.storage.tables import (
    AdverseEvent,
    Patient,
    PlanZone,
    Shot,
    TreatmentPlan,
    TreatmentSession,
    table_of,
)

# The audit trail's entity names of the records whose state is kept.
PATIENT = "patient"
PLAN = "plan"
SESSION = "session"
ADVERSE_EVENT = "adverse_event"
_TABLES: dict[str, type[Any]] = {
    PATIENT: Patient,
    PLAN: TreatmentPlan,
    SESSION: TreatmentSession,
    ADVERSE_EVENT: AdverseEvent,
}
STATE_ENTITIES = tuple(_TABLES)
# The recorder adds to these counters as device events arrive, without an audit entry of
# its own; they are compared once the session is no longer in progress.
VOLATILE_WHILE_RECORDING = frozenset({"recovered_shots", "lost_shots"})
IN_PROGRESS = "in_progress"

State = dict[str, Any]


def state_key(entity: str, entity_id: int | str) -> str:
    """How one record is named in an entry's state: ``"patient:3"``."""
    return f"{entity}:{entity_id}"


def _fields(key: ClinicKey, table: Table, row: RowMapping) -> dict[str, str]:
    return {
        column.name: key.field_mac(canonical_json({"v": row[column.name]}).encode("utf-8"))
        for column in table.c
        if column.name != "id"
    }


def _shots(
    key: ClinicKey,
    conn: Connection,
    session_id: int,
    upto: int | None,
    columns: list[str] | None = None,
) -> State:
    table = table_of(Shot)
    # The columns covered are kept with the digest: a column a later migration adds must not
    # make every earlier session look changed.
    names = columns if columns is not None else [column.name for column in table.c]
    if upto is None:
        found = conn.execute(
            select(func.max(table.c.id)).where(table.c.session_id == session_id)
        ).scalar()
        upto = int(found or 0)
    # The driver's own values, without SQLAlchemy's per-value processing: this runs over
    # every shot of a session at each entry about it. Row ids, not shot numbers, order them,
    # so a shot stored later never lands inside the range covered.
    marker = "%s" if conn.dialect.name == "postgresql" else "?"
    # Only known column names reach the SQL text (a dropped column then reads as a change).
    selected = ", ".join(name for name in names if name in table.c) or "id"
    rows = conn.exec_driver_sql(
        f"SELECT {selected} FROM shot WHERE session_id = {marker} AND id <= {marker} ORDER BY id",
        (session_id, upto),
    ).fetchall()
    if conn.dialect.name == "postgresql":
        # psycopg gives times in the client's time zone; the digest must not depend on it.
        lines = [repr(tuple(_utc(value) for value in row)) for row in rows]
    else:
        lines = [repr(tuple(row)) for row in rows]
    mac = hmac.new(key.secret, b"injector audited shots\n", "sha256")
    mac.update("\n".join(lines).encode("utf-8"))
    return {"upto": upto, "count": len(rows), "mac": mac.hexdigest(), "columns": names}


def _utc(value: object) -> object:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


def _zones(key: ClinicKey, conn: Connection, plan_id: int) -> dict[str, dict[str, str]]:
    table = table_of(PlanZone)
    rows = conn.execute(select(table).where(table.c.plan_id == plan_id)).mappings()
    return {str(row["id"]): _fields(key, table, row) for row in rows}


def record_state(
    key: ClinicKey,
    conn: Connection,
    entity: str,
    row: RowMapping,
    shots_upto: int | None,
    shot_columns: list[str] | None = None,
) -> State:
    """The state of one record given its row; ``shots_upto`` fixes a session's shot range
    (None: every shot it has now) and ``shot_columns`` the shot columns covered (None: all)."""
    table = table_of(_TABLES[entity])
    state: State = {"fields": _fields(key, table, row)}
    if entity == PLAN:
        state["zones"] = _zones(key, conn, int(row["id"]))
    elif entity == SESSION:
        state["shots"] = _shots(key, conn, int(row["id"]), shots_upto, shot_columns)
    return state


def states_of(
    key: ClinicKey, conn: Connection, records: Iterable[tuple[str, str]]
) -> dict[str, State]:
    """The current state of each (entity, id) that has one; a deleted row is ``{"gone": 1}``."""
    out: dict[str, State] = {}
    for entity, entity_id in records:
        if entity not in _TABLES or not entity_id.isdigit():
            continue
        table = table_of(_TABLES[entity])
        row = conn.execute(select(table).where(table.c.id == int(entity_id))).mappings().first()
        name = state_key(entity, entity_id)
        out[name] = {"gone": 1} if row is None else record_state(key, conn, entity, row, None)
    return out


def every_state(key: ClinicKey, conn: Connection) -> dict[str, State]:
    """The state of every record (the seal of a chain that had no key yet)."""
    out: dict[str, State] = {}
    for entity, model in _TABLES.items():
        table = table_of(model)
        for row in conn.execute(select(table).order_by(table.c.id)).mappings():
            out[state_key(entity, row["id"])] = record_state(key, conn, entity, row, None)
    return out


@dataclass(frozen=True, slots=True)
class StateDifference:
    """What differs between a record's audited state and its row now."""

    fields: tuple[str, ...]
    shots_changed: bool
    shots_added: int


def compare_state(
    key: ClinicKey, conn: Connection, entity: str, audited: State, row: RowMapping
) -> StateDifference:
    """Compare the row as it is now with its last audited state."""
    shots = audited.get("shots")
    current = record_state(
        key,
        conn,
        entity,
        row,
        shots.get("upto") if isinstance(shots, dict) else None,
        shots.get("columns") if isinstance(shots, dict) else None,
    )
    recording = audited.get("fields", {}).get("status") == key.field_mac(
        canonical_json({"v": IN_PROGRESS}).encode("utf-8")
    )
    names = [
        name
        # Only the fields that were audited: a column a later migration added has no audited
        # value until the record's next audited change.
        for name in sorted(audited.get("fields", {}))
        if audited.get("fields", {}).get(name) != current["fields"].get(name)
        and not (recording and name in VOLATILE_WHILE_RECORDING)
    ]
    if entity == PLAN:
        old_zones: dict[str, dict[str, str]] = audited.get("zones", {})
        new_zones: dict[str, dict[str, str]] = current.get("zones", {})
        for zone_id in sorted(set(old_zones) | set(new_zones), key=int):
            old, new = old_zones.get(zone_id), new_zones.get(zone_id)
            if old is None:
                names.append(f"zone {zone_id} (added)")
            elif new is None:
                names.append(f"zone {zone_id} (removed)")
            else:
                names += [f"zone {zone_id} {n}" for n in sorted(old) if old.get(n) != new.get(n)]
    shots_changed = False
    added = 0
    if entity == SESSION and isinstance(shots, dict):
        now = current["shots"]
        shots_changed = now["count"] != shots.get("count") or now["mac"] != shots.get("mac")
        table = table_of(Shot)
        later = select(func.count()).where(
            table.c.session_id == row["id"], table.c.id > int(shots.get("upto") or 0)
        )
        added = int(conn.execute(later).scalar() or 0)
    return StateDifference(tuple(names), shots_changed, added)


def rows_of(conn: Connection, entity: str) -> Iterable[RowMapping]:
    """Every current row of an entity that has a state."""
    table = table_of(_TABLES[entity])
    return conn.execute(select(table).order_by(table.c.id)).mappings()
