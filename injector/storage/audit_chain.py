"""The append-only, keyed hash chain of the audit trail.

Each entry stores who, when, what (action, entity, id), a canonical-JSON payload of the values
written and the keyed state of the records it names (:mod:`injector.storage.audit_state`),
plus ``prev_hash`` and ``hash`` = HMAC-SHA256, with the clinic key
(:mod:`injector.storage.clinic_key`), over the previous hash and all of the entry's fields.
Without the key nobody can append, edit or recompute an entry that verifies; the anchor file
(:mod:`injector.storage.audit_anchor`) catches a chain cut short.

Entries are written when their transaction commits (a ``commit`` event of the engine), in the
same transaction as the change they describe, so a change is never recorded without its
entry or vice versa, and the state they hold is the one committed (ORM changes flushed).

A chain begun by an older program (plain SHA-256, no key) is sealed on the first open with a
key: a ``seal`` entry, keyed, records how many unkeyed entries there were and the last one's
hash, and holds the state of every record as it stood. From then on every entry is keyed.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, event, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, SQLModel

from injector.storage.audit_anchor import ChainAnchor, advance_anchor, read_anchor
from injector.storage.audit_json import canonical_json
from injector.storage.audit_state import every_state, state_key, states_of
from injector.storage.clinic_key import (
    ClinicKey,
    ClinicKeyError,
    KeyLocation,
    create_key,
    key_location,
    load_key,
)
from injector.storage.engine import READ_ONLY_OPTION, Database
from injector.storage.tables import AuditEntry, AuditKey, table_of

GENESIS_HASH = "0" * 64
# Same idea as the migration lock: one constant shared by every program on the database.
_PG_AUDIT_LOCK = 0xA0D17
# Where an engine carries its clinic key (an execution option: no global state).
KEY_OPTION = "injector_audit_keyring"
# Where a connection keeps the entries of its open transaction until it commits.
_PENDING = "injector_audit_pending"
SEAL_ACTION = "seal"
SEAL_ENTITY = "audit_chain"

__all__ = [
    "GENESIS_HASH",
    "AuditKeyring",
    "add_created",
    "append_audit",
    "attach_clinic_key",
    "canonical_json",
    "chain_anchor",
    "entry_hash",
    "keyed_entry_hash",
    "keyring_of",
    "stored_entry_hash",
]


@dataclass(frozen=True, slots=True)
class AuditKeyring:
    """A database's clinic key and where it and the chain's anchor are kept."""

    key: ClinicKey
    location: KeyLocation


@dataclass(slots=True)
class _Pending:
    actor: str
    action: str
    entity: str
    entity_id: str
    payload: str
    at: datetime
    state: dict[str, Any] | None = field(default=None)


def _material(
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    payload: str,
    state: dict[str, str | None],
) -> bytes:
    fields = {
        "prev": prev_hash,
        "at": at.astimezone(UTC).isoformat(),
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "payload": payload,
    }
    return canonical_json(fields | state).encode("utf-8")


def entry_hash(
    prev_hash: str, at: datetime, actor: str, action: str, entity: str, entity_id: str, payload: str
) -> str:
    """The unkeyed hash of an entry written before the chain was keyed (plain SHA-256)."""
    material = _material(prev_hash, at, actor, action, entity, entity_id, payload, {})
    return hashlib.sha256(material).hexdigest()


def keyed_entry_hash(
    key: ClinicKey,
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    payload: str,
    state: str | None,
) -> str:
    """The HMAC of one entry with the clinic key, chained to the previous one."""
    return key.mac(
        _material(prev_hash, at, actor, action, entity, entity_id, payload, {"state": state})
    )


def stored_entry_hash(row: RowMapping, prev_hash: str, key: ClinicKey | None) -> str:
    """The hash a stored entry should have after ``prev_hash``: keyed with ``key``, or the
    unkeyed SHA-256 of an older program when ``key`` is None."""
    fields = (row["at"], row["actor"], row["action"], row["entity"], row["entity_id"])
    if key is None:
        return entry_hash(prev_hash, *fields, row["payload"])
    return keyed_entry_hash(key, prev_hash, *fields, row["payload"], row["state"])


def keyring_of(db: Database | Engine) -> AuditKeyring:
    """The clinic key attached to an open database (by :func:`attach_clinic_key`)."""
    engine = db.engine if isinstance(db, Database) else db
    keyring = engine.get_execution_options().get(KEY_OPTION)
    if not isinstance(keyring, AuditKeyring):
        raise ClinicKeyError("the database was opened without its clinic key")
    return keyring


def append_audit(
    conn: Connection,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | str,
    payload: Mapping[str, Any],
    at: datetime | None = None,
) -> None:
    """Add one entry to the caller's transaction; it is chained in when that commits.

    On PostgreSQL a transaction-scoped advisory lock, taken at commit, serialises writers so
    two rooms never chain onto the same previous entry; SQLite's ``BEGIN IMMEDIATE`` already
    does.
    """
    keyring_of(conn.engine)
    when = (at or datetime.now(UTC)).astimezone(UTC)
    pending: list[_Pending] = conn.info.setdefault(_PENDING, [])
    pending.append(_Pending(actor, action, entity, str(entity_id), canonical_json(payload), when))


def _head(conn: Connection) -> tuple[int, str] | None:
    table = table_of(AuditEntry)
    row = conn.execute(
        select(table.c.id, table.c.hash).order_by(table.c.id.desc()).limit(1)
    ).first()
    return None if row is None else (int(row[0]), str(row[1]))


def _advance(conn: Connection, keyring: AuditKeyring, head: tuple[int, str] | None) -> None:
    """Move the anchor file up to ``head`` (a committed entry) if the chain still holds it."""
    table = table_of(AuditEntry)

    def step(current: ChainAnchor | None) -> ChainAnchor | None:
        if current is not None and current.key_id != keyring.key.key_id:
            return None
        if head is None:
            return (
                ChainAnchor(0, None, GENESIS_HASH, keyring.key.key_id) if current is None else None
            )
        head_id, head_hash = head
        if current is None or current.head_id is None:
            count = conn.execute(select(func.count()).where(table.c.id <= head_id)).scalar()
            return ChainAnchor(int(count or 0), head_id, head_hash, keyring.key.key_id)
        held = conn.execute(select(table.c.hash).where(table.c.id == current.head_id)).scalar()
        if held != current.head_hash:
            return None
        grown = conn.execute(
            select(func.count()).where(table.c.id > current.head_id, table.c.id <= head_id)
        ).scalar()
        return ChainAnchor(current.entries + int(grown or 0), head_id, head_hash, current.key_id)

    # A folder this user cannot write (a read-only copy being checked): the anchor lags,
    # which verification tolerates; it never blocks recording.
    with contextlib.suppress(OSError):
        advance_anchor(keyring.location.anchor_path, step)


def _on_commit(conn: Connection) -> None:
    pending: list[_Pending] | None = conn.info.pop(_PENDING, None)
    if not pending:
        return
    keyring = keyring_of(conn.engine)
    key = keyring.key
    table = table_of(AuditEntry)
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK})
    head = _head(conn)
    # Everything before this transaction is committed: anchor it now (never ahead).
    _advance(conn, keyring, head)
    prev_hash = head[1] if head is not None else GENESIS_HASH
    states = states_of(key, conn, {(p.entity, p.entity_id) for p in pending if p.state is None})
    for entry in pending:
        state = entry.state
        if state is None:
            name = state_key(entry.entity, entry.entity_id)
            state = {name: states[name]} if name in states else {}
            if entry.action == "sign":
                # The sign-off carries the chain as it stood: length and head.
                count = conn.execute(select(func.count()).select_from(table)).scalar()
                state["anchor"] = {"entries": int(count or 0), "head": prev_hash}
        state_text = canonical_json(state) if state else None
        digest = keyed_entry_hash(
            key,
            prev_hash,
            entry.at,
            entry.actor,
            entry.action,
            entry.entity,
            entry.entity_id,
            entry.payload,
            state_text,
        )
        conn.execute(
            insert(table).values(
                at=entry.at,
                actor=entry.actor,
                action=entry.action,
                entity=entry.entity,
                entity_id=entry.entity_id,
                payload=entry.payload,
                prev_hash=prev_hash,
                hash=digest,
                state=state_text,
            )
        )
        prev_hash = digest


def _on_rollback(conn: Connection) -> None:
    conn.info.pop(_PENDING, None)


def _on_dispose(engine: Engine) -> None:
    """Anchor what the last transaction committed when the program closes the database."""
    keyring = engine.get_execution_options().get(KEY_OPTION)
    if not isinstance(keyring, AuditKeyring):
        return
    try:
        with engine.connect() as conn:
            conn.execution_options(**{READ_ONLY_OPTION: True})
            with conn.begin():
                _advance(conn, keyring, _head(conn))
    except (SQLAlchemyError, OSError):
        pass  # the anchor lags; the next program to write moves it on
    finally:
        engine.pool.dispose()


def _is_unkeyed_chain(conn: Connection) -> bool:
    """True when the chain has entries and its first is a plain SHA-256 one (older program)."""
    table = table_of(AuditEntry)
    first = conn.execute(select(table).order_by(table.c.id).limit(1)).mappings().first()
    return first is not None and stored_entry_hash(first, GENESIS_HASH, None) == first["hash"]


def attach_clinic_key(db: Database) -> AuditKeyring:
    """Load (or, for a chain not keyed yet, create) the clinic key and attach it to ``db``.

    Seals a chain begun without a key (see the module doc), and anchors the committed chain.
    Raises :class:`ClinicKeyError` (one line) when the chain is keyed but its key is missing.
    """
    location = key_location(db.url)
    table = table_of(AuditEntry)
    if not event.contains(db.engine, "commit", _on_commit):
        event.listen(db.engine, "commit", _on_commit)
        event.listen(db.engine, "rollback", _on_rollback)
        event.listen(db.engine, "engine_disposed", _on_dispose)
    with db.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK})
        head = _head(conn)
        sealed = conn.execute(
            select(table.c.id).where(table.c.action == SEAL_ACTION).limit(1)
        ).first()
        unkeyed = sealed is None and _is_unkeyed_chain(conn)
        keys = table_of(AuditKey)
        recorded = conn.execute(select(keys.c.key_id).order_by(keys.c.id.desc()).limit(1)).scalar()
        if location.key_path.exists():
            key = load_key(location.key_path)
        elif recorded is not None or (head is not None and not unkeyed):
            raise ClinicKeyError(
                f"clinic key: this database's audit trail is keyed, but there is no key file at "
                f"{location.key_path}; restore the clinic's key file there (or set "
                "INJECTOR_AUDIT_KEY to where it is)"
            )
        else:
            key = create_key(location.key_path)
        if recorded is not None and recorded != key.key_id:
            raise ClinicKeyError(
                f"clinic key: this database's audit trail is keyed with clinic key {recorded}, "
                f"but {location.key_path} holds key {key.key_id}; use the clinic's key file "
                "(INJECTOR_AUDIT_KEY names where it is)"
            )
        if recorded is None:
            conn.execute(insert(keys).values(key_id=key.key_id, created_at=datetime.now(UTC)))
        keyring = AuditKeyring(key, location)
        db.engine.update_execution_options(**{KEY_OPTION: keyring})
        if unkeyed and head is not None and read_anchor(location.anchor_path) is None:
            count = conn.execute(select(func.count()).select_from(table)).scalar()
            conn.info.setdefault(_PENDING, []).append(
                _Pending(
                    actor="injector",
                    action=SEAL_ACTION,
                    entity=SEAL_ENTITY,
                    entity_id=key.key_id,
                    payload=canonical_json(
                        {"unkeyed_entries": int(count or 0), "unkeyed_head": head[1]}
                    ),
                    at=datetime.now(UTC),
                    state={"records": every_state(key, conn)},
                )
            )
    with db.read() as conn:
        _advance(conn, keyring, _head(conn))
    return keyring


def attach_clinic_key_for_reading(db: Database) -> None:
    """Attach the clinic key, if its file is there, to a database opened read-only: nothing is
    created, sealed or anchored (a reader may verify the chain, never move it)."""
    location = key_location(db.url)
    if location.key_path.exists():
        keyring = AuditKeyring(load_key(location.key_path), location)
        db.engine.update_execution_options(**{KEY_OPTION: keyring})


def chain_anchor(db: Database) -> ChainAnchor:
    """The chain's anchor now (length and head of the committed chain), for reports and
    sign-offs to print; the anchor file is moved up to it."""
    keyring = keyring_of(db)
    with db.read() as conn:
        head = _head(conn)
        _advance(conn, keyring, head)
        count = int(
            conn.execute(select(func.count()).select_from(table_of(AuditEntry))).scalar() or 0
        )
    return ChainAnchor(
        count,
        head[0] if head else None,
        head[1] if head else GENESIS_HASH,
        keyring.key.key_id,
    )


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
