"""Practitioners as records, and the PIN that confirms who signs, amends or overrides.

In the spirit of 21 CFR 11.50 / 11.200: a signature is made by a named person who proves it is
them (their PIN), and shows the printed name, the time and the meaning. The PIN is never
stored: only a salted scrypt hash (stdlib :func:`hashlib.scrypt`), compared in constant time.
A refused PIN is written to the audit trail (who was claimed, for what), so repeated attempts
can be seen.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select
from sqlmodel import Session, col
from sqlmodel import select as sm_select

from injector.domain.errors import InvalidValueError
from injector.storage.audit_chain import add_created, append_audit
from injector.storage.engine import Database
from injector.storage.tables import Practitioner, table_of

PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 12
NAME_MAX = 80
ROLE_MAX = 40
DEFAULT_ROLE = "practitioner"

# scrypt cost: 2**14 × 8 × 1 takes about 50 ms and 16 MB here, once per signature; enough to
# make guessing a stolen hash slow without making a signature wait.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_SALT_BYTES = 16
_KEY_BYTES = 32


_UNKNOWN_NAME_HASH = (
    f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${'00' * _SALT_BYTES}${'00' * _KEY_BYTES}"
)


@dataclass(frozen=True, slots=True)
class PractitionerView:
    """A practitioner as the screens and commands show it (never the PIN hash)."""

    id: int
    name: str
    role: str
    active: bool
    created_at: datetime


def check_pin(pin: str) -> str:
    """The PIN if it is acceptable; refuses (field ``pin``) saying what a PIN must be."""
    if not pin.isdigit() or not PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS:
        raise InvalidValueError(
            "pin", f"a PIN is {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits, nothing else"
        )
    if len(set(pin)) == 1 or pin in "01234567890123456789" or pin in "98765432109876543210":
        raise InvalidValueError(
            "pin", "a PIN of one repeated digit or a run (1234) is too easy to guess"
        )
    return pin


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$key`` (hex) for a PIN; a new random salt unless one is given."""
    salt = salt if salt is not None else os.urandom(_SALT_BYTES)
    key = hashlib.scrypt(
        pin.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=_KEY_BYTES
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${key.hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    """Whether ``pin`` is the one ``stored`` (from :func:`hash_pin`) was made from."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(key)
        candidate = hashlib.scrypt(
            pin.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(candidate, expected)


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidValueError("name", "give the practitioner's printed name, e.g. 'Dr Ana Lee'")
    if len(cleaned) > NAME_MAX or not cleaned.isprintable():
        raise InvalidValueError("name", f"a name is printable text of at most {NAME_MAX} letters")
    return cleaned


def _clean_role(role: str) -> str:
    cleaned = " ".join(role.split()) or DEFAULT_ROLE
    if len(cleaned) > ROLE_MAX or not cleaned.isprintable():
        raise InvalidValueError("role", f"a role is printable text of at most {ROLE_MAX} letters")
    return cleaned


def _view(row: Practitioner) -> PractitionerView:
    assert row.id is not None
    return PractitionerView(row.id, row.name, row.role, row.active, row.created_at)


def add_practitioner(
    db: Database,
    name: str,
    pin: str,
    *,
    role: str = DEFAULT_ROLE,
    actor: str,
    now: datetime | None = None,
) -> PractitionerView:
    """Record a practitioner with a PIN (stored as a salted hash only); audited without it.

    Refuses a name already recorded (names are how a signature is read) and a weak PIN.
    """
    cleaned = _clean_name(name)
    hashed = hash_pin(check_pin(pin))
    when = now or datetime.now(UTC)
    with db.session() as session:
        if practitioner_row(session, cleaned) is not None:
            raise InvalidValueError(
                "name", f"{cleaned!r} is already a practitioner; give another name"
            )
        row = Practitioner(
            name=cleaned, role=_clean_role(role), pin_hash=hashed, active=True, created_at=when
        )
        # The audit entry names the person, never the PIN's hash.
        add_created(
            session,
            row,
            actor=actor,
            entity="practitioner",
            at=when,
            payload={"name": row.name, "role": row.role, "active": True, "created_at": when},
        )
        return _view(row)


def practitioner_row(session: Session, name: str) -> Practitioner | None:
    """The practitioner record of this printed name (case and spacing aside), if any."""
    wanted = " ".join(name.split()).casefold()
    for row in session.exec(sm_select(Practitioner)).all():
        if row.name.casefold() == wanted:
            return row
    return None


def list_practitioners(db: Database) -> list[PractitionerView]:
    """Every practitioner, by name."""
    with db.read_session() as session:
        rows = session.exec(sm_select(Practitioner).order_by(col(Practitioner.name))).all()
        return [_view(row) for row in rows]


def find_practitioner(db: Database, name: str) -> PractitionerView:
    """The practitioner of this printed name (case and spacing aside); refuses (field
    ``practitioner``) a name that is not recorded, saying how to add it."""
    with db.read_session() as session:
        row = practitioner_row(session, name)
        if row is None or not row.active:
            raise not_a_practitioner(name)
        return _view(row)


def not_a_practitioner(name: str) -> InvalidValueError:
    """The refusal (field ``practitioner``) of a name that is no recorded practitioner,
    saying how to add them."""
    cleaned = " ".join(name.split())
    return InvalidValueError(
        "practitioner",
        f"{cleaned!r} is not a practitioner here; add them with: "
        f"injector practitioner add {cleaned!r}",
    )


def confirm_pin(
    conn: Connection, name: str, pin: str, *, purpose: str, at: datetime
) -> PractitionerView:
    """Inside the caller's transaction: the practitioner ``name`` if ``pin`` is theirs.

    A wrong PIN (or an unknown name) refuses with field ``pin`` and the same words either way,
    so the refusal does not tell which names exist; the attempt is written to the audit trail
    in its own transaction (it must stay even though the caller's change is rolled back).
    """
    table = table_of(Practitioner)
    wanted = " ".join(name.split()).casefold()
    found = None
    for row in conn.execute(select(table)).mappings():
        if str(row["name"]).casefold() == wanted and row["active"]:
            found = row
    # An unknown name costs the same scrypt as a wrong PIN: the time taken does not tell
    # which names exist either.
    stored = str(found["pin_hash"]) if found is not None else _UNKNOWN_NAME_HASH
    if pin_matches(pin, stored) and found is not None:
        return PractitionerView(
            int(found["id"]),
            str(found["name"]),
            str(found["role"]),
            bool(found["active"]),
            found["created_at"],
        )
    raise PinRefusedError(" ".join(name.split()), purpose, at)


class PinRefusedError(InvalidValueError):
    """The PIN did not confirm the named practitioner; nothing was changed."""

    def __init__(self, name: str, purpose: str, at: datetime) -> None:
        super().__init__("pin", f"the name and PIN do not match a practitioner ({purpose} refused)")
        self.name = name
        self.purpose = purpose
        self.at = at


@contextmanager
def refused_pins_audited(db: Database) -> Iterator[None]:
    """Around a change confirmed by :func:`confirm_pin`: a refused PIN is written to the audit
    trail once the change has been rolled back, then the refusal goes on to the caller."""
    try:
        yield
    except PinRefusedError as refused:
        record_refused_pin(db, refused)
        raise


def record_refused_pin(db: Database, refused: PinRefusedError) -> None:
    """Write a refused PIN to the audit trail (who was claimed, for what, when)."""
    with db.begin() as conn:
        append_audit(
            conn,
            actor=refused.name or "?",
            action="pin_refused",
            entity="practitioner",
            entity_id=refused.name or "?",
            payload={"purpose": refused.purpose},
            at=refused.at,
        )


__all__ = [
    "DEFAULT_ROLE",
    "PinRefusedError",
    "PractitionerView",
    "add_practitioner",
    "check_pin",
    "confirm_pin",
    "find_practitioner",
    "hash_pin",
    "list_practitioners",
    "not_a_practitioner",
    "pin_matches",
    "practitioner_row",
    "record_refused_pin",
    "refused_pins_audited",
]
