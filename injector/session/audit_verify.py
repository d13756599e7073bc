"""Verifying the audit trail: what was tampered with, and the first entry it broke.

In order: the keyed chain (every entry's HMAC and link, the unkeyed entries sealed by the key),
the anchor kept beside the key (a chain cut short or emptied), each signed session against its
sign-off, every patient, plan (with its zones), session (with its shots) and adverse event
against its last audited state, and the append-only triggers. Each finding says what kind of
tampering it is; :attr:`AuditReport.first_broken` names the entry of the first one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, RowMapping, func, select, text

from injector.session.clinical import shots_digest
from injector.storage.audit_anchor import AnchorError, ChainAnchor, read_anchor
from injector.storage.audit_chain import (
    GENESIS_HASH,
    SEAL_ACTION,
    AuditKeyring,
    keyring_of,
    stored_entry_hash,
)
from injector.storage.audit_json import canonical_json
from injector.storage.audit_state import (
    IN_PROGRESS,
    STATE_ENTITIES,
    compare_state,
    rows_of,
    state_key,
)
from injector.storage.engine import Database
from injector.storage.tables import AuditEntry, TreatmentSession, table_of

# The triggers migration 0002 creates, per dialect.
APPEND_ONLY_TRIGGERS = {
    "sqlite": ("audit_entry_no_update", "audit_entry_no_delete"),
    "postgresql": ("audit_entry_append_only",),
}


class TamperKind(StrEnum):
    """What kind of tampering a finding shows, in the words ``injector audit verify`` prints."""

    EDITED = "an entry was edited"
    DELETED = "an entry was deleted"
    REORDERED = "entries were reordered"
    INSERTED = "an entry was inserted"
    FORGED = "an entry not signed with the clinic key"
    TRUNCATED = "the newest entries were deleted"
    EMPTIED = "every entry was deleted"
    UNKEYED_REWRITTEN = "entries from before the clinic key were rewritten"
    WRONG_KEY = "the clinic key or anchor is not this chain's"
    SIGNED_CHANGED = "a signed session was changed"
    RECORD_CHANGED = "a record was changed outside the program"
    RECORD_INSERTED = "a record was inserted outside the program"
    RECORD_DELETED = "a record was deleted outside the program"
    SHOTS_CHANGED = "shots were changed outside the program"
    TRIGGERS_DROPPED = "the append-only triggers were dropped"


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of tampering: its kind, the entry it concerns (if any) and what was seen."""

    kind: TamperKind
    entry_id: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The outcome of :func:`verify_audit_trail`; ``first_broken`` is an audit entry id."""

    entries: int
    signed_sessions: int
    findings: tuple[Finding, ...] = ()
    unsealed_shots: int = 0
    anchor: ChainAnchor | None = None

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.findings

    @property
    def first_broken(self) -> int | None:
        """The entry the first finding names (None if there is none, or it names none)."""
        return self.findings[0].entry_id if self.findings else None

    @property
    def reason(self) -> str | None:
        """What the first finding saw."""
        return self.findings[0].reason if self.findings else None

    @property
    def kind(self) -> TamperKind | None:
        """The kind of the first finding."""
        return self.findings[0].kind if self.findings else None


@dataclass(slots=True)
class _Walk:
    entries: int
    findings: list[Finding]
    # Last audited state of each record: "entity:id" -> (entry id, state).
    states: dict[str, tuple[int, dict[str, Any]]]
    last_id: int | None


def _hash_of(row: RowMapping, prev: str, keyring: AuditKeyring, keyed: bool) -> str:
    return stored_entry_hash(row, prev, keyring.key if keyed else None)


def _link_break(
    conn: Connection, row: RowMapping, prev: str, keyring: AuditKeyring, keyed: bool
) -> Finding:
    table = table_of(AuditEntry)
    named = conn.execute(
        select(table.c.id).where(table.c.hash == row["prev_hash"], table.c.id != row["id"])
    ).scalar()
    if named is not None and row["prev_hash"] != GENESIS_HASH:
        return Finding(
            TamperKind.REORDERED,
            row["id"],
            f"its previous-hash link names entry {named}, not the entry before it",
        )
    if _hash_of(row, row["prev_hash"], keyring, keyed) == row["hash"]:
        return Finding(
            TamperKind.DELETED,
            row["id"],
            "its previous-hash link does not match the entry before it (an entry before it "
            "was removed)",
        )
    return Finding(
        TamperKind.INSERTED,
        row["id"],
        "its previous-hash link does not match the entry before it, nor its hash its contents",
    )


def _hash_break(
    row: RowMapping,
    following: RowMapping | None,
    position: int,
    anchor: ChainAnchor | None,
    keyed: bool,
) -> Finding:
    recomputed = keyed and row["hash"] == stored_entry_hash(row, row["prev_hash"], None)
    if following is not None and following["prev_hash"] == row["prev_hash"]:
        return Finding(
            TamperKind.INSERTED,
            row["id"],
            "its contents do not match its hash, and the next entry links past it",
        )
    if following is None and (anchor is None or position > anchor.entries):
        return Finding(
            TamperKind.FORGED,
            row["id"],
            "it was appended after the anchored head, and its hash is not the clinic key's",
        )
    if recomputed:
        return Finding(
            TamperKind.EDITED,
            row["id"],
            "its contents do not match its hash (recomputed without the clinic key)",
        )
    return Finding(TamperKind.EDITED, row["id"], "its contents do not match its hash")


def _walk_chain(conn: Connection, keyring: AuditKeyring, anchor: ChainAnchor | None) -> _Walk:
    table = table_of(AuditEntry)
    seal_id = conn.execute(
        select(func.min(table.c.id)).where(table.c.action == SEAL_ACTION)
    ).scalar()
    rows = list(conn.execute(select(table).order_by(table.c.id)).mappings())
    walk = _Walk(len(rows), [], {}, rows[-1]["id"] if rows else None)
    prev = GENESIS_HASH
    for index, row in enumerate(rows):
        keyed = seal_id is None or row["id"] >= seal_id
        if row["prev_hash"] != prev:
            walk.findings.append(_link_break(conn, row, prev, keyring, keyed))
            return walk
        if _hash_of(row, prev, keyring, keyed) != row["hash"]:
            following = rows[index + 1] if index + 1 < len(rows) else None
            walk.findings.append(_hash_break(row, following, index + 1, anchor, keyed))
            return walk
        if row["id"] == seal_id:
            sealed = json.loads(row["payload"])
            if sealed.get("unkeyed_entries") != index or sealed.get("unkeyed_head") != prev:
                walk.findings.append(
                    Finding(
                        TamperKind.UNKEYED_REWRITTEN,
                        row["id"],
                        f"the key sealed {sealed.get('unkeyed_entries')} unkeyed entries; "
                        f"{index} precede it now, or their last hash differs",
                    )
                )
                return walk
        state = json.loads(row["state"]) if row["state"] else {}
        for name, value in state.items():
            if name == "records":
                for record, record_state in value.items():
                    walk.states[record] = (row["id"], record_state)
            elif name != "anchor":
                walk.states[name] = (row["id"], value)
        prev = row["hash"]
    return walk


def _anchor_findings(
    conn: Connection, walk: _Walk, keyring: AuditKeyring, anchor: ChainAnchor | None
) -> list[Finding]:
    if anchor is None:
        return []
    if anchor.key_id != keyring.key.key_id:
        return [
            Finding(
                TamperKind.WRONG_KEY,
                None,
                f"the anchor {keyring.location.anchor_path} was written with key "
                f"{anchor.key_id}, the key at {keyring.location.key_path} is {keyring.key.key_id}",
            )
        ]
    if anchor.head_id is None:
        return []
    table = table_of(AuditEntry)
    held = conn.execute(select(table.c.hash).where(table.c.id == anchor.head_id)).scalar()
    if held == anchor.head_hash and walk.entries >= anchor.entries:
        return []
    first_missing = (walk.last_id or 0) + 1
    if walk.entries == 0:
        return [
            Finding(
                TamperKind.EMPTIED,
                anchor.head_id,
                f"the chain is empty; the anchor records {anchor.entries} entries up to entry "
                f"{anchor.head_id}",
            )
        ]
    if walk.entries < anchor.entries:
        return [
            Finding(
                TamperKind.TRUNCATED,
                first_missing,
                f"the chain ends at entry {walk.last_id} with {walk.entries} entries; the "
                f"anchor records {anchor.entries} up to entry {anchor.head_id}",
            )
        ]
    return [
        Finding(
            TamperKind.EDITED,
            anchor.head_id,
            f"entry {anchor.head_id} is not the one the anchor records",
        )
    ]


def _signed_findings(conn: Connection) -> tuple[int, list[Finding]]:
    audit = table_of(AuditEntry)
    sessions = table_of(TreatmentSession)
    signs = conn.execute(
        select(audit.c.id, audit.c.entity_id, audit.c.payload)
        .where(audit.c.action == "sign", audit.c.entity == "session")
        .order_by(audit.c.id)
    ).all()
    findings: list[Finding] = []
    for entry_id, entity_id, payload_text in signs:
        payload = json.loads(payload_text)
        session_id = int(entity_id)
        count, digest = shots_digest(conn, session_id)
        signed_count = payload.get("shots")
        if count != signed_count:
            findings.append(
                Finding(
                    TamperKind.SIGNED_CHANGED,
                    entry_id,
                    f"shots of session {session_id} were added or removed after it was "
                    f"signed ({signed_count} signed, {count} now)",
                )
            )
            continue
        if digest != payload.get("shots_sha256"):
            findings.append(
                Finding(
                    TamperKind.SIGNED_CHANGED,
                    entry_id,
                    f"the values of shots of session {session_id} changed after it was "
                    f"signed (same {count} shots, but their SHA-256 digest differs from the "
                    "sign-off's)",
                )
            )
            continue
        stored = conn.execute(select(sessions).where(sessions.c.id == session_id)).mappings()
        row = stored.first()
        signed_values = payload.get("session", {})
        # Only the columns the sign-off holds: a column a later migration added is not a change.
        current = {k: v for k, v in dict(row or {}).items() if k in signed_values}
        if row is None or json.loads(canonical_json(current)) != signed_values:
            findings.append(
                Finding(
                    TamperKind.SIGNED_CHANGED,
                    entry_id,
                    f"session {session_id} was changed in place after it was signed",
                )
            )
    return len(signs), findings


def _record_findings(
    conn: Connection, walk: _Walk, keyring: AuditKeyring
) -> tuple[list[Finding], int]:
    findings: list[Finding] = []
    unsealed = 0
    seen: set[str] = set()
    for entity in STATE_ENTITIES:
        for row in rows_of(conn, entity):
            name = state_key(entity, row["id"])
            seen.add(name)
            audited = walk.states.get(name)
            label = f"{entity.replace('_', ' ')} {row['id']}"
            if audited is None or "gone" in audited[1]:
                findings.append(
                    Finding(
                        TamperKind.RECORD_INSERTED,
                        None,
                        f"{label} has no audit entry: it was inserted outside the program",
                    )
                )
                continue
            entry_id, state = audited
            diff = compare_state(keyring.key, conn, entity, state, row)
            if diff.fields:
                findings.append(
                    Finding(
                        TamperKind.RECORD_CHANGED,
                        entry_id,
                        f"{label}: {', '.join(diff.fields)} changed since its last audited "
                        f"state (entry {entry_id})",
                    )
                )
            if diff.shots_changed:
                findings.append(
                    Finding(
                        TamperKind.SHOTS_CHANGED,
                        entry_id,
                        f"shots of {label} were changed, added or removed since its last "
                        f"audited state (entry {entry_id})",
                    )
                )
            elif diff.shots_added:
                if row.get("status") == IN_PROGRESS and not diff.fields:
                    unsealed += diff.shots_added
                else:
                    findings.append(
                        Finding(
                            TamperKind.SHOTS_CHANGED,
                            entry_id,
                            f"{diff.shots_added} shot(s) were added to {label} after its "
                            f"last audited state (entry {entry_id}), which it no longer "
                            "records into",
                        )
                    )
    for name, (entry_id, state) in walk.states.items():
        if name not in seen and "gone" not in state:
            entity, _, record_id = name.partition(":")
            findings.append(
                Finding(
                    TamperKind.RECORD_DELETED,
                    entry_id,
                    f"{entity.replace('_', ' ')} {record_id} is gone; its last audited state "
                    f"is entry {entry_id}",
                )
            )
    findings.sort(key=lambda f: (f.entry_id is None, f.entry_id or 0))
    return findings, unsealed


def missing_triggers(conn: Connection) -> list[str]:
    """The append-only triggers of ``audit_entry`` that are missing or disabled."""
    expected: Sequence[str] = APPEND_ONLY_TRIGGERS.get(conn.dialect.name, ())
    if conn.dialect.name == "postgresql":
        present = set(
            conn.execute(
                text(
                    "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass('audit_entry') "
                    "AND NOT tgisinternal AND tgenabled <> 'D'"
                )
            ).scalars()
        )
    else:
        present = set(
            conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                    "AND tbl_name = 'audit_entry'"
                )
            ).scalars()
        )
    return [name for name in expected if name not in present]


def verify_audit_trail(db: Database) -> AuditReport:
    """Check the chain, the anchor, the signed sessions, every record and the triggers."""
    keyring = keyring_of(db)
    findings: list[Finding] = []
    try:
        anchor = read_anchor(keyring.location.anchor_path)
    except AnchorError as exc:
        anchor = None
        findings.append(Finding(TamperKind.WRONG_KEY, None, f"the anchor {exc}"))
    with db.read() as conn:
        walk = _walk_chain(conn, keyring, anchor)
        findings = walk.findings + findings
        findings += _anchor_findings(conn, walk, keyring, anchor)
        signed, signed_findings = _signed_findings(conn)
        unsealed = 0
        if not findings:
            findings += signed_findings
            record_findings, unsealed = _record_findings(conn, walk, keyring)
            findings += record_findings
        missing = missing_triggers(conn)
    if missing:
        findings.append(
            Finding(
                TamperKind.TRIGGERS_DROPPED,
                None,
                f"audit_entry has lost its append-only trigger(s) {', '.join(missing)}; "
                "restore them (docs/audit.md) after finding out who dropped them",
            )
        )
    return AuditReport(walk.entries, signed, tuple(findings), unsealed, anchor)
