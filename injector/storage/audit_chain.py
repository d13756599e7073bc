"""The append-only, hash-chained audit trail.

Each entry stores who, when, what (action, entity, id) and a canonical-JSON payload of the
values written, plus ``prev_hash`` and ``hash`` = SHA-256 of the previous hash and the entry's
own fields. Changing, deleting or reordering any entry breaks the chain from that entry on;
:func:`verify_chain` names the first broken one. Entries are written in the same transaction as
the change they describe, so a change is never recorded without its audit entry or vice versa.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text
from sqlmodel import Session, SQLModel

from injector.storage.tables import AuditEntry, table_of

GENESIS_HASH = "0" * 64
# Same idea as the migration lock: one constant shared by every program on the database.
_PG_AUDIT_LOCK = 0xA0D17


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def canonical_json(payload: Mapping[str, Any]) -> str:
    """Deterministic JSON text: sorted keys, no spaces, dates as ISO 8601 UTC."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), default=_json_default, ensure_ascii=False
    )


def entry_hash(
    prev_hash: str, at: datetime, actor: str, action: str, entity: str, entity_id: str, payload: str
) -> str:
    """The hash of one entry, chained to the previous one."""
    material = canonical_json(
        {
            "prev": prev_hash,
            "at": at.astimezone(UTC).isoformat(),
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "payload": payload,
        }
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def append_audit(
    conn: Connection,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | str,
    payload: Mapping[str, Any],
    at: datetime | None = None,
) -> str:
    """Append one entry inside the caller's transaction; returns its hash.

    On PostgreSQL a transaction-scoped advisory lock serialises writers so two rooms never
    chain onto the same previous entry; SQLite's ``BEGIN IMMEDIATE`` already does.
    """
    table = table_of(AuditEntry)
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK})
    last = conn.execute(select(table.c.hash).order_by(table.c.id.desc()).limit(1)).scalar()
    prev_hash = last if isinstance(last, str) else GENESIS_HASH
    when = (at or datetime.now(UTC)).astimezone(UTC)
    payload_text = canonical_json(payload)
    digest = entry_hash(prev_hash, when, actor, action, entity, str(entity_id), payload_text)
    conn.execute(
        insert(table).values(
            at=when,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            payload=payload_text,
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    return digest


@dataclass(frozen=True, slots=True)
class ChainReport:
    """Result of :func:`verify_chain`: ``first_broken`` is the id of the first bad entry."""

    entries: int
    first_broken: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """True when every entry's hash and link check out."""
        return self.first_broken is None


def verify_chain(conn: Connection) -> ChainReport:
    """Recompute every hash in id order; report the first entry whose link or hash is wrong."""
    table = table_of(AuditEntry)
    prev_hash = GENESIS_HASH
    count = 0
    rows = conn.execute(select(table).order_by(table.c.id)).mappings()
    for row in rows:
        count += 1
        if row["prev_hash"] != prev_hash:
            return ChainReport(
                count, row["id"], "its previous-hash link does not match the entry before it"
            )
        expected = entry_hash(
            prev_hash,
            row["at"],
            row["actor"],
            row["action"],
            row["entity"],
            row["entity_id"],
            row["payload"],
        )
        if expected != row["hash"]:
            return ChainReport(count, row["id"], "its contents do not match its hash")
        prev_hash = row["hash"]
    return ChainReport(count)


def add_created(
    session: Session,
    row: SQLModel,
    *,
    actor: str,
    entity: str,
    at: datetime,
    payload: Mapping[str, Any] | None = None,
) -> int:
    """Insert ``row`` and its "create" audit entry in the same transaction; returns its id.

    The entry records ``payload``, or the row's own columns when none is given, so a created
    record and the trail that vouches for it can never be committed apart.
    """
    created = row.model_dump(exclude={"id"}) if payload is None else payload
    return _write_audited(session, row, actor, "create", entity, at, created)


def update_audited(
    session: Session,
    row: SQLModel,
    changes: Mapping[str, Any],
    *,
    actor: str,
    action: str,
    entity: str,
    at: datetime,
    payload: Mapping[str, Any] | None = None,
) -> int:
    """Set ``changes`` on ``row`` and append their audit entry in the same transaction.

    The entry records ``payload``, or ``changes`` themselves when none is given; returns the
    row's id. The counterpart of :func:`add_created` for every later change of a record.
    """
    for name, value in changes.items():
        setattr(row, name, value)
    written = dict(changes) if payload is None else payload
    return _write_audited(session, row, actor, action, entity, at, written)


def _write_audited(
    session: Session,
    row: SQLModel,
    actor: str,
    action: str,
    entity: str,
    at: datetime,
    payload: Mapping[str, Any],
) -> int:
    # The row and its entry in one transaction: neither is ever committed without the other.
    session.add(row)
    session.flush()
    row_id = getattr(row, "id", None)
    assert isinstance(row_id, int), f"{entity} row has no id after flush"
    append_audit(
        session.connection(),
        actor=actor,
        action=action,
        entity=entity,
        entity_id=row_id,
        payload=payload,
        at=at,
    )
    return row_id
