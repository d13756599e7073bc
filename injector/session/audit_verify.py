"""Verifying the audit trail: the hash chain, then the signed sessions against their sign-off.

The chain shows that no audit entry was changed, removed or reordered. A sign-off entry also
holds the session as signed and a digest of its shots, so a signed session or shot edited
directly in the database afterwards is found too, and named by its sign-off entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from injector.session.clinical import shots_digest
from injector.storage.audit_chain import canonical_json, verify_chain
from injector.storage.engine import Database
from injector.storage.tables import AuditEntry, TreatmentSession, table_of


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The outcome of :func:`verify_audit_trail`; ``first_broken`` is an audit entry id."""

    entries: int
    signed_sessions: int
    first_broken: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """True when the chain holds and every signed session matches its sign-off."""
        return self.first_broken is None


def verify_audit_trail(db: Database) -> AuditReport:
    """Check the whole chain, then every signed session; report the first broken entry."""
    with db.read() as conn:
        chain = verify_chain(conn)
        if not chain.ok:
            return AuditReport(chain.entries, 0, chain.first_broken, chain.reason)
        audit = table_of(AuditEntry)
        sessions = table_of(TreatmentSession)
        signs = conn.execute(
            select(audit.c.id, audit.c.entity_id, audit.c.payload)
            .where(audit.c.action == "sign", audit.c.entity == "session")
            .order_by(audit.c.id)
        ).all()
        checked = 0
        for entry_id, entity_id, payload_text in signs:
            checked += 1
            payload = json.loads(payload_text)
            session_id = int(entity_id)
            count, digest = shots_digest(conn, session_id)
            signed_count = payload.get("shots")
            if count != signed_count:
                return AuditReport(
                    chain.entries,
                    checked,
                    entry_id,
                    f"shots of session {session_id} were added or removed after it was "
                    f"signed ({signed_count} signed, {count} now)",
                )
            if digest != payload.get("shots_sha256"):
                return AuditReport(
                    chain.entries,
                    checked,
                    entry_id,
                    f"the values of shots of session {session_id} changed after it was signed "
                    f"(same {count} shots, but their SHA-256 digest differs from the sign-off's)",
                )
            row = conn.execute(select(sessions).where(sessions.c.id == session_id)).mappings()
            stored = row.first()
            signed = payload.get("session", {})
            current = {k: v for k, v in dict(stored or {}).items() if k != "id"}
            if stored is None or json.loads(canonical_json(current)) != signed:
                return AuditReport(
                    chain.entries,
                    checked,
                    entry_id,
                    f"session {session_id} was changed in place after it was signed",
                )
        return AuditReport(chain.entries, checked)
