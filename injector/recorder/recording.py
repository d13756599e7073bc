"""A gun recorded into the clinical record: the driver, the store and the recorder wired once.

Headless ``injector record`` and the TUI's live feed both record through :class:`Recording`,
so they follow one lifecycle: the gun's session is opened (or continued) when the gun
identifies itself, the zone chosen before that applies from the moment it was chosen, and when
recording ends the sessions are ended through the session logic's one rule (a session that
recorded no shot, or a prepared one the gun never opened, ends aborted).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from injector.domain.vocabulary import SessionStatus
from injector.driver import Driver, DriverEvent
from injector.recorder.pipeline import Commit, Recorder
from injector.recorder.store import DatabaseStore
from injector.session import LiveSession, SessionEnding
from injector.session.clinical import end_session
from injector.storage.engine import Database
from protocols.igp1 import LockReason
from protocols.igp1.capture import CaptureWriter


@dataclass(frozen=True, slots=True)
class Ended:
    """How ending one session went: ``ending`` when it ended, else ``error`` says why not."""

    session_id: int
    ending: SessionEnding | None = None
    error: Exception | None = None


class Recording:
    """Records the gun on ``port`` into ``db``: sessions of ``plan_id`` (or the prepared
    ``session_id``), audited as ``actor``.

    ``on_open`` is called on the committer thread with each session opened, after the zone
    chosen meanwhile was made active and before any of its shots are stored.
    ``driver_options`` are passed to :class:`~injector.driver.Driver` (tests shorten its
    timeouts). Shots the gun fired before its session opened are left out of the session
    (kept, with no session) unless ``include_earlier``.
    """

    def __init__(
        self,
        db: Database,
        port: str,
        *,
        actor: str,
        baud: int = 115200,
        plan_id: int | None = None,
        session_id: int | None = None,
        capture: CaptureWriter | None = None,
        wait_for_port: bool = False,
        on_open: Callable[[LiveSession], None] | None = None,
        driver_options: Mapping[str, Any] | None = None,
        include_earlier: bool = False,
    ) -> None:
        self.db = db
        self.actor = actor
        self.prepared_session_id = session_id
        self._on_open = on_open
        self._lock = threading.Lock()
        self._stop_lock = threading.Lock()
        """Held while stopping, which waits for the committer thread: never ``_lock``, which
        that thread takes when a session opens."""
        self._pending_zone: tuple[int, datetime] | None = None
        self._sessions: dict[str, LiveSession] = {}
        self._stopped: bool | None = None
        self.driver = Driver(
            port, baud=baud, capture=capture, wait_for_port=wait_for_port, **(driver_options or {})
        )
        store = DatabaseStore(
            db,
            plan_id,
            session_id=session_id,
            actor=actor,
            on_open=self._opened,
            include_earlier=include_earlier,
        )
        self.recorder = Recorder(self.driver, store)

    # --- wiring ----------------------------------------------------------------------------

    def subscribe_events(self, listener: Callable[[DriverEvent], None]) -> Callable[[], None]:
        """Call ``listener`` with every driver event, on the reader thread (keep it quick)."""
        return self.driver.subscribe(listener)

    def subscribe_commits(self, listener: Callable[[Commit], None]) -> Callable[[], None]:
        """Call ``listener`` after every commit, on the committer thread (keep it quick)."""
        return self.recorder.subscribe(listener)

    def start(self) -> None:
        """Start recording; raises :class:`~injector.driver.PortError` if the port fails."""
        self.recorder.start()

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop recording with everything committed (True) or not (False, storage failing).

        Calling it again returns the first answer.
        """
        with self._stop_lock:
            if self._stopped is None:
                self._stopped = self.recorder.stop(timeout)
            return self._stopped

    # --- the session -----------------------------------------------------------------------

    @property
    def sessions(self) -> tuple[LiveSession, ...]:
        """The sessions recorded into so far (one per gun)."""
        with self._lock:
            return tuple(self._sessions.values())

    def choose_zone(self, zone_id: int, *, at: datetime | None = None) -> bool:
        """Make ``zone_id`` the active zone from ``at`` (default now), audited.

        Before the gun has opened its session the choice is kept and applied when it opens,
        from ``at``: shots the gun fired since then go to that zone. Returns True if applied
        now, False if kept for the session to come.
        """
        when = at or datetime.now(UTC)
        with self._lock:
            sessions = list(self._sessions.values())
            if not sessions:
                self._pending_zone = (zone_id, when)
                return False
        for live in sessions:
            live.set_active_zone(zone_id, at=when, actor=self.actor)
        return True

    def _opened(self, live: LiveSession) -> None:
        # On the committer thread, before the first batch of this session is stored.
        with self._lock:
            self._sessions[live.serial] = live
            pending, self._pending_zone = self._pending_zone, None
        if pending is not None and live.active_zone_id != pending[0]:
            live.set_active_zone(pending[0], at=pending[1], actor=self.actor)
        if self._on_open is not None:
            self._on_open(live)

    def lock(self, reason: LockReason) -> bool:
        """Lock the gun now, waiting for its answer (True: acknowledged)."""
        return self.driver.lock(reason)

    def request_lock(self, reason: LockReason, *, locked: bool = True) -> None:
        """Ask the gun to lock (or unlock) without waiting; it answers with a LockChanged."""
        self.driver.request_lock(reason, locked=locked)

    def end(self, *, status: SessionStatus = SessionStatus.COMPLETED) -> list[Ended]:
        """Stop recording and end every session recorded into, as ``status``.

        A session prepared for this recording (``session_id``) that the gun never opened ends
        too: aborted, as nothing was recorded in it. Each session's outcome is returned; one
        that could not be ended says why (it stays in progress and can be ended later).
        """
        self.stop()
        out: list[Ended] = []
        sessions = self.sessions
        for live in sessions:
            try:
                out.append(Ended(live.session_id, live.end(actor=self.actor, status=status)))
            except Exception as exc:  # the shots are stored; only the ending failed
                out.append(Ended(live.session_id, error=exc))
        prepared = self.prepared_session_id
        if prepared is not None and not sessions:
            try:
                ending = end_session(self.db, prepared, actor=self.actor, status=status)
                out.append(Ended(prepared, ending))
            except Exception as exc:
                out.append(Ended(prepared, error=exc))
        return out
