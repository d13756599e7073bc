"""Fixtures of the TUI tests: a real SQLite file and the app's services on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from injector.storage import Database, open_database
from tests.session.builders import TEST_PIN
from tui.clinic import DatabaseClinic
from tui.services import Services

# A gun that does nothing by itself, at real speed (the device clock then maps shots to the
# zones by firing time as in a clinic); the flows pull its trigger through the simulator API.
QUIET_GUN = """\
device model=MG-400 serial=SN0077 firmware=2.4.1 battery=80 syringe=10ml
set mode=single depth=2mm volume=0.05ml rate=0
wait forever
"""


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated SQLite database in a temporary directory."""
    database = open_database(str(tmp_path / "clinic.sqlite3"))
    yield database
    database.close()


@pytest.fixture
def services(db: Database, tmp_path: Path) -> Services:
    """The app's services on ``db``, with the quiet gun as the built-in simulator."""
    scenario = tmp_path / "quiet.scenario"
    scenario.write_text(QUIET_GUN, encoding="utf-8")
    clinic = DatabaseClinic(db, "Dr Test")
    # The one recorded practitioner: the checklist chooses them, the sign-off offers them.
    clinic.add_practitioner("Dr Test", "physician", TEST_PIN)
    return Services(
        db,
        clinic,
        "Dr Test",
        simulator_scenario=str(scenario),
        simulator_speed=1.0,
        replay_db_url=f"sqlite:///{tmp_path / 'scratch.sqlite3'}",
        capture_dir=tmp_path,
    )
