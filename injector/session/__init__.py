"""Session logic: the clinical side of recording a treatment session.

For the recorder (driver events → session logic → storage)::

    from injector.storage.engine import open_database, StorageError
    from injector.session import DeviceInfo, ShotIn, DeviceEventIn, DeviceEventKind
    from injector.session import open_or_continue

    db = open_database(url_or_path_or_None)          # migrates; StorageError on failure
    live = open_or_continue(db, DeviceInfo(serial, model, firmware), plan_id=None, session_id=None)
    # A restart on the same database and gun continues the gun's in-progress session.
    known = stored_boot(db, serial, boot_id)          # .max_shot_no, .missing → RESEND_REQ
    result = live.add_shots([ShotIn(...), ...])       # one transaction, idempotent
    #   result.new, result.duplicates, result.alerts (PlanAlert), result.lock_requested
    #   lock_requested → send LOCK reason PLAN_LIMIT; record the LOCKED event via add_events.
    live.add_events([DeviceEventIn(DeviceEventKind.LINK_LOST, at, serial, boot_id, {})])
    #   shots_recovered / shots_lost carry detail={"count": n}: the session counters follow.
    live.set_active_zone(zone_id)                     # shots attributed by firing time
    live.progress()                                   # PlanProgress: per zone and total
    live.override_lock(by="Dr X", reason="...")       # recorded; then the recorder may unlock
    live.end(actor="Dr X")                            # completed (or status=ABORTED)

A session's life (created, started, continued, ended) is written once, in ``lifecycle``;
what is stored of a gun's boot in ``stored_boots``; plan against actual in
``plan_against_actual``. The clinical record is in ``patients_plans`` (patients, plans:
create, edit),
``clinical`` (checklist, start, end, sign, amend, adverse events), ``series`` (n of N, next
due, comparison), ``trace`` (lot traceability), ``history`` (sessions, shots, events as
views), ``plan_import`` (import) and ``audit_verify`` (verification).

Each call is one transaction; the recorder groups shots into batches for ``add_shots``.
Everything :class:`LiveSession` does is thread-safe. Refusals raise
:class:`~injector.domain.errors.InvalidValueError` (``.field``, ``.reason``) and store nothing.
"""

from injector.domain.errors import AcknowledgementRequiredError, InvalidValueError
from injector.domain.shots import DeviceEventIn, ShotFlag, ShotIn
from injector.domain.vocabulary import AlertKind, DeviceEventKind, SessionStatus
from injector.session.lifecycle import DeviceInfo, SessionEnding
from injector.session.live_session import LiveSession, open_or_continue
from injector.session.plan_against_actual import ZonePlan
from injector.session.progress import BatchResult, PlanAlert, PlanProgress, ZoneAgainstPlan
from injector.session.stored_boots import StoredBoot, stored_boot

__all__ = [
    "AcknowledgementRequiredError",
    "AlertKind",
    "BatchResult",
    "DeviceEventIn",
    "DeviceEventKind",
    "DeviceInfo",
    "InvalidValueError",
    "LiveSession",
    "PlanAlert",
    "PlanProgress",
    "SessionEnding",
    "SessionStatus",
    "ShotFlag",
    "ShotIn",
    "StoredBoot",
    "ZoneAgainstPlan",
    "ZonePlan",
    "open_or_continue",
    "stored_boot",
]
