"""What the app is given to work with: the database, the clinic's records, who is at the
terminal, and how the built-in gun runs. One object, built by the command that starts the app
and passed to the screens that need it (no global state)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from injector.storage.engine import Database
from tui.clinic import Clinic


@dataclass(frozen=True, slots=True)
class Services:
    """The app's collaborators."""

    db: Database
    clinic: Clinic
    actor: str
    """The practitioner's name, for the audit trail and the sign-off default."""
    simulator_scenario: str = "demo"
    """What the built-in gun does: a built-in scenario name or a scenario file."""
    simulator_speed: float | None = 1.0
    """Scenario time factor of the built-in gun (None: as fast as the link takes it)."""
    capture_dir: Path | None = None
    """Where the replay screen's file picker starts (None: the current directory)."""
    replay_db_url: str | None = None
    """Where replays record (None: a scratch database in a temporary directory)."""
