"""The reports from the TUI: a key on the history (home) and on the review writes the report
and says where it went; the real app under ``run_test`` on a real SQLite file."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from textual.widgets import Select

from injector.session.patients_plans import get_plan
from injector.storage import Database, open_database
from tests.report.recorded_series import RecordedSeries, record_series
from tests.tui.conftest import QUIET_GUN
from tests.tui.pilot_helpers import fill, until
from tui.app import InjectorApp
from tui.app_requests import ReviewSession
from tui.clinic import DatabaseClinic
from tui.screens.end import EndOfSessionScreen
from tui.screens.home import HomeScreen
from tui.screens.plan_form import PlanFormScreen
from tui.services import Services


def _services(database: Database, folder: Path) -> Services:
    """The app's services on ``database``, with the quiet gun as the built-in simulator."""
    scenario = folder / "quiet.scenario"
    scenario.write_text(QUIET_GUN, encoding="utf-8")
    return Services(
        database,
        DatabaseClinic(database, "Dr Test"),
        "Dr Test",
        simulator_scenario=str(scenario),
        simulator_speed=1.0,
        replay_db_url=f"sqlite:///{folder / 'scratch.sqlite3'}",
        capture_dir=folder,
    )


def test_the_history_and_the_review_write_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = open_database(str(tmp_path / "clinic.sqlite3"))
    try:
        series = record_series(database)
        services = _services(database, tmp_path)
        folder = tmp_path / "reports"
        folder.mkdir()
        monkeypatch.chdir(folder)
        notes = asyncio.run(_press_the_report_keys(services, series))
    finally:
        database.close()
    session_1 = folder / f"session-{series.first_session_id}-report.html"
    plan = folder / f"plan-{series.plan_id}-series-report.html"
    session_2 = folder / f"session-{series.session_id}-report.html"
    for path in (session_1, plan, session_2):
        assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600
        assert f"Report written to {path}" in notes
    assert "Mesotherapy series report" in plan.read_text(encoding="utf-8")
    assert "Plan against actual" in session_2.read_text(encoding="utf-8")


async def _press_the_report_keys(services: Services, series: RecordedSeries) -> list[str]:
    app = InjectorApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, HomeScreen), "the home screen")
        home = app.screen
        assert isinstance(home, HomeScreen)
        await until(pilot, lambda: home.detail is not None, "the patient's plans")
        # The history lists the newest session first, and has it selected.
        assert home.selected_session_id == series.session_id

        def notes() -> list[str]:
            return [n.message for n in app._notifications]

        await pilot.press("p")
        await until(pilot, lambda: any("session-2-report" in n for n in notes()), "the report")
        await pilot.press("P")
        await until(pilot, lambda: any("series-report" in n for n in notes()), "the series")

        app.post_message(ReviewSession(series.first_session_id))
        await until(pilot, lambda: isinstance(app.screen, EndOfSessionScreen), "the review")
        review = app.screen
        await until(pilot, lambda: review.summary is not None, "the review's figures")
        await pilot.press("ctrl+r")
        name = f"session-{series.first_session_id}-report.html"
        await until(pilot, lambda: any(name in n for n in notes()), "where the report went")
        return notes()


def test_the_plan_form_places_a_zone_on_the_map(tmp_path: Path) -> None:
    database = open_database(str(tmp_path / "clinic.sqlite3"))
    try:
        series = record_series(database)
        services = _services(database, tmp_path)
        asyncio.run(_place_the_jawline(services))
        zones = get_plan(database, series.plan_id).zones
    finally:
        database.close()
    # The new site is stored; the sites the form did not touch are kept.
    assert [z.site for z in zones] == [
        "forehead",
        "glabella",
        "crows_feet_left",
        "cheek_left",
        "cheek_right",
        "chin",
    ]


async def _place_the_jawline(services: Services) -> None:
    app = InjectorApp(services)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, HomeScreen), "the home screen")
        home = app.screen
        assert isinstance(home, HomeScreen)
        await until(pilot, lambda: home.detail is not None, "the patient's plans")
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, PlanFormScreen), "the plan form")
        form = app.screen
        assert form.query_one("#f-zones-0-site", Select).value == "forehead"
        assert form.query_one("#f-zones-5-site", Select).is_blank()
        fill(pilot, {"f-zones-5-site": "chin"})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is home, "back home after saving")
