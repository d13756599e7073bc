"""Exports of the recorded sessions: JSON (the whole record), CSV (one row per shot; adverse
events in a CSV of their own) and a FHIR R4 Bundle (one session); any of them pseudonymised.

::

    from injector.export import ExportFormat, export_text
    text = export_text(db, ExportFormat.JSON)                 # every session
    text = export_text(db, ExportFormat.FHIR, session_id=7)   # one session's Bundle

The exports read through the session layer's views only (``injector.session.history``,
``clinical``, ``records``). ``docs/export.md`` documents every format.
"""

from injector.export.document import ExportDocument, json_document, to_json
from injector.export.fhir import fhir_bundle
from injector.export.formats import ExportFormat, NoSessionsError, export_text
from injector.export.shots_csv import COLUMNS, to_csv
from injector.export.snapshot import SessionRecord, load_all_session_records, load_session_record
from injector.export.zones import ZoneDelivery, zone_deliveries

__all__ = [
    "COLUMNS",
    "ExportDocument",
    "ExportFormat",
    "NoSessionsError",
    "SessionRecord",
    "ZoneDelivery",
    "export_text",
    "fhir_bundle",
    "json_document",
    "load_all_session_records",
    "load_session_record",
    "to_csv",
    "to_json",
    "zone_deliveries",
]
