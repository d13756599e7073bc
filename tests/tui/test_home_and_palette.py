"""Finding a patient, and every action of a screen in the command palette."""

from __future__ import annotations

import asyncio

from injector.domain.inputs import PatientInput
from tests.tui.fixtures import StaticFeed, live_view
from tests.tui.pilot_helpers import until
from tui.app import InjectorApp
from tui.feed_messages import EndSession, SelectZone
from tui.screens.home import HomeScreen
from tui.screens.live_screen import LiveScreen
from tui.services import Services


def test_find_a_patient_by_name_or_identifier(services: Services) -> None:
    for identifier, name in [("P-001", "Ada Example"), ("P-002", "Grace Sample")]:
        services.clinic.save_patient(
            PatientInput(identifier=identifier, name=name, date_of_birth="1980-01-01"), None
        )

    async def run() -> None:
        app = InjectorApp(services)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
            home = app.screen
            assert isinstance(home, HomeScreen)
            await until(pilot, lambda: len(home.patients) == 2, "both patients")
            await pilot.press("slash", *"grace")
            await until(pilot, lambda: [p.name for p in home.patients] == ["Grace Sample"], "Grace")
            await pilot.press(*["backspace"] * 5, *"p-001")
            await until(pilot, lambda: [p.name for p in home.patients] == ["Ada Example"], "P-001")
            assert home.detail is not None and home.detail.patient.identifier == "P-001"

    asyncio.run(run())


def test_live_actions_are_in_the_palette() -> None:
    view = live_view()
    feed = StaticFeed([view])

    async def run() -> None:
        app = InjectorApp(first=lambda app: LiveScreen(feed, view))
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")
            titles = [c.title for c in app.get_system_commands(app.screen)]
            for title in [
                "Zone 1",
                "Zone 5",
                "Lock/unlock",
                "Note",
                "Adverse event",
                "End session",
                "Help",
            ]:
                assert title in titles
            # Only the plan's five zones, and no replay keys in a session.
            assert "Zone 6" not in titles and "Pause/resume" not in titles
            # Escape does not leave a screen that is recording.
            assert app.screen.check_action("leave", ()) is False
            await pilot.press("ctrl+p")
            await pilot.press(*"end session")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await pilot.pause(0.2)
            assert not any(isinstance(c, EndSession) for c in feed.received)
            await pilot.press("e")
            await until(pilot, lambda: any(isinstance(c, EndSession) for c in feed.received), "end")
            await pilot.press("3")
            await until(pilot, lambda: SelectZone(3) in feed.received, "zone 3 chosen")

    asyncio.run(run())
