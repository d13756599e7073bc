"""What a session's sign-off stored: the digest of its shots that ``injector audit verify``
checks, and the audit entry that holds it.

Read-only; the sign-off itself is written by :func:`injector.session.clinical.sign_session`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from injector.storage.engine import Database
from injector.storage.tables import AuditEntry, table_of


@dataclass(frozen=True, slots=True)
class SignOffRecord:
    """The sign-off entry of a session.

    ``shots_sha256`` and ``shots`` are what verification compares the stored shots against;
    ``entry_hash`` is the entry's link in the audit chain; ``anchor`` is an external anchor of
    the chain, when the sign-off stores one.
    """

    audit_entry_id: int
    at: datetime
    actor: str
    meaning: str | None
    shots: int | None
    shots_sha256: str | None
    entry_hash: str
    anchor: str | None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def sign_off_record(db: Database, session_id: int) -> SignOffRecord | None:
    """The sign-off entry of session ``session_id`` (None while it is not signed)."""
    audit = table_of(AuditEntry)
    with db.read() as conn:
        row = (
            conn.execute(
                select(audit)
                .where(
                    audit.c.action == "sign",
                    audit.c.entity == "session",
                    audit.c.entity_id == str(session_id),
                )
                .order_by(audit.c.id.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
    if row is None:
        return None
    payload = json.loads(row["payload"])
    shots = payload.get("shots")
    return SignOffRecord(
        audit_entry_id=int(row["id"]),
        at=row["at"],
        actor=row["actor"],
        meaning=_text(payload.get("meaning")),
        shots=shots if isinstance(shots, int) else None,
        shots_sha256=_text(payload.get("shots_sha256")),
        entry_hash=row["hash"],
        anchor=_text(payload.get("anchor")),
    )
