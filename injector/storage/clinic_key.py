"""The clinic key: a secret kept outside the database that keys the audit chain.

Whoever can write the database can rewrite a plain hash chain and recompute it; they cannot
recompute an HMAC without this key. Where it lives:

- ``$INJECTOR_AUDIT_KEY`` names the key file when set (any database);
- otherwise, for a SQLite file, ``<database file>.key`` beside it;
- otherwise, for PostgreSQL, ``clinic.key`` in the user configuration directory. Every room
  sharing one PostgreSQL database needs the same key file: copy it (mode 0600) to each.

The file is created (mode 0600, its folder 0700) on the first open of a database whose audit
trail is not keyed yet; a database whose trail is keyed is refused when its key is missing,
rather than silently starting a second, unverifiable key. The key also makes patient
pseudonyms in exports (:meth:`ClinicKey.pseudonym`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs
from sqlalchemy.engine import URL

from injector.storage.errors import StorageError

KEY_ENV_VAR = "INJECTOR_AUDIT_KEY"
KEY_BYTES = 32
# Domain-separation labels: the same key never MACs two kinds of thing the same way.
_KEY_ID_LABEL = b"injector key id\n"
_PSEUDONYM_LABEL = b"injector patient pseudonym\n"
_FIELD_LABEL = b"injector audited field\n"


class ClinicKeyError(StorageError):
    """The clinic key is missing, unreadable, malformed or readable by others."""


@dataclass(frozen=True, slots=True)
class ClinicKey:
    """The secret and where it came from; ``key_id`` names it without revealing it."""

    path: Path
    secret: bytes = field(repr=False)

    @property
    def key_id(self) -> str:
        """A short public name of the key (an HMAC of a fixed label), to tell keys apart."""
        return hmac.new(self.secret, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]

    def mac(self, data: bytes) -> str:
        """HMAC-SHA256 of ``data`` with this key, as hex."""
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()

    def field_mac(self, data: bytes) -> str:
        """A short HMAC of one field's value: compares values without storing them."""
        return hmac.new(self.secret, _FIELD_LABEL + data, hashlib.sha256).hexdigest()[:20]

    def pseudonym(self, identifier: str) -> str:
        """A stable pseudonym of a patient identifier: the same patient, the same pseudonym,
        in every export of this clinic; nobody without the key can link it back."""
        digest = hmac.new(
            self.secret, _PSEUDONYM_LABEL + identifier.encode("utf-8"), hashlib.sha256
        ).hexdigest()
        return f"P-{digest[:12].upper()}"


@dataclass(frozen=True, slots=True)
class KeyLocation:
    """Where a database's clinic key and its chain anchor are kept."""

    key_path: Path
    anchor_path: Path


def key_location(url: URL) -> KeyLocation:
    """The key file and the anchor file for the database at ``url`` (see the module doc)."""
    configured = os.environ.get(KEY_ENV_VAR) or None
    if url.get_backend_name() == "sqlite" and configured is None:
        database = Path(str(url.database))
        return KeyLocation(
            database.with_name(database.name + ".key"),
            database.with_name(database.name + ".anchor"),
        )
    if configured is not None:
        key_path = Path(configured).expanduser().absolute()
    else:
        key_path = Path(platformdirs.user_config_dir("injector")) / "clinic.key"
    # One key may serve several databases; each needs an anchor of its own.
    identity = _database_identity(url)
    slug = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]
    return KeyLocation(key_path, key_path.with_name(f"{key_path.name}.{slug}.anchor"))


def _database_identity(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return f"sqlite:{Path(str(url.database)).absolute()}"
    query = "&".join(f"{k}={v}" for k, v in sorted(url.query.items()))
    return f"{url.get_backend_name()}://{url.host or ''}:{url.port or ''}/{url.database}?{query}"


def load_key(path: Path) -> ClinicKey:
    """Read the key file; refuses one that others may read or that is not a key."""
    try:
        info = path.stat()
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise ClinicKeyError(f"clinic key: there is no key file at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ClinicKeyError(f"clinic key: cannot read {path}: {exc}") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ClinicKeyError(
            f"clinic key: {path} may be read by others (mode {stat.S_IMODE(info.st_mode):o}); "
            f"make it private with: chmod 600 {path}"
        )
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) != KEY_BYTES:
        raise ClinicKeyError(
            f"clinic key: {path} does not hold a key ({KEY_BYTES * 2} hex digits); restore "
            "the clinic's key file from its backup"
        )
    return ClinicKey(path, secret)


def create_key(path: Path) -> ClinicKey:
    """Create a new random key file, mode 0600 (its folder 0700 if created); never replaces one."""
    secret = secrets.token_bytes(KEY_BYTES)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        # Another program created it first: use theirs.
        return load_key(path)
    except OSError as exc:
        raise ClinicKeyError(f"clinic key: cannot create {path}: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (secret.hex() + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return ClinicKey(path, secret)
