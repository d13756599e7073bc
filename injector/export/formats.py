"""One entry point for every export format: read the sessions, render the text."""

from __future__ import annotations

import enum
import json
from datetime import UTC, datetime

from injector.domain.errors import InvalidValueError
from injector.export.document import to_json
from injector.export.fhir import PATIENT_IDENTIFIER_SYSTEM, PSEUDONYM_SYSTEM, fhir_bundle
from injector.export.pseudonymise import pseudonymise_records
from injector.export.shots_csv import to_adverse_events_csv, to_csv
from injector.export.snapshot import (
    SessionRecord,
    load_all_session_records,
    load_session_record,
)
from injector.storage.engine import Database


class ExportFormat(enum.StrEnum):
    """The formats ``injector export`` writes."""

    JSON = "json"
    CSV = "csv"
    ADVERSE_EVENTS_CSV = "adverse-events-csv"
    FHIR = "fhir"


class NoSessionsError(LookupError):
    """The database holds no session to export."""


def export_text(
    db: Database,
    export_format: ExportFormat,
    *,
    session_id: int | None = None,
    exported_at: datetime | None = None,
    patient_identifier_system: str = PATIENT_IDENTIFIER_SYSTEM,
    pseudonymise: bool = False,
    include_notes: bool = False,
) -> str:
    """The export of one session (``session_id``) or of every session, as text.

    ``pseudonymise``: the patient by keyed pseudonym and age band, free text left out unless
    ``include_notes`` (see :mod:`injector.export.pseudonymise`).

    JSON and CSV take one session or all of them; FHIR takes exactly one (a Bundle is one
    session's record) and refuses otherwise with :class:`InvalidValueError` (field
    ``session_id``). Raises :class:`~injector.storage.errors.RecordNotFoundError` for an
    unknown session and :class:`NoSessionsError` when there is no session at all.
    """
    when = exported_at or datetime.now(UTC)
    if export_format == ExportFormat.FHIR and session_id is None:
        raise InvalidValueError(
            "session_id", "a FHIR export is one session's record: name the session"
        )
    records: list[SessionRecord]
    if session_id is not None:
        records = [load_session_record(db, session_id)]
    else:
        records = load_all_session_records(db)
        if not records:
            raise NoSessionsError("the database holds no sessions")
    if pseudonymise:
        records = pseudonymise_records(db, records, include_notes=include_notes)
        patient_identifier_system = PSEUDONYM_SYSTEM
    if export_format == ExportFormat.JSON:
        return to_json(records, exported_at=when, pseudonymised=pseudonymise)
    if export_format == ExportFormat.CSV:
        return to_csv(records)
    if export_format == ExportFormat.ADVERSE_EVENTS_CSV:
        return to_adverse_events_csv(records)
    bundle = fhir_bundle(
        records[0], exported_at=when, patient_identifier_system=patient_identifier_system
    )
    return json.dumps(bundle.to_fhir_json(), indent=2, ensure_ascii=False) + "\n"
