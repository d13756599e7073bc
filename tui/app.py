"""The Textual app: screen routing, the command palette, quitting cleanly.

The app holds no clinical state of its own: screens get what they show from
:class:`tui.clinic.Clinic` (patients, plans, history, sign-off) or from a live feed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from tui.screens.help import HelpScreen
from tui.screens.live import LiveScreen


def _binding_commands(screen: Screen[object]) -> Iterable[SystemCommand]:
    """One palette entry per key binding of the screen that has a description."""
    seen: set[str] = set()
    for binding in screen.BINDINGS:
        if not isinstance(binding, Binding) or not binding.description:
            continue
        action = binding.action
        if action in seen:
            continue
        seen.add(action)
        if screen.check_action(action.split("(")[0], ()) is False:
            continue
        description = binding.description
        if binding.group is not None:
            description = f"{binding.group.description} {description.split()[-1]}"

        async def run(action: str = action) -> None:
            await screen.run_action(action)

        yield SystemCommand(description.capitalize(), f"key {binding.key}", run)


class InjectorApp(App[None]):
    """The practitioner's and technician's terminal UI.

    ``home`` builds the first screen (the patients screen, the live demo, a replay); the app
    itself only routes between screens.
    """

    CSS_PATH = "app.tcss"
    TITLE = "injector"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, home: Callable[[], Screen[object]]) -> None:
        super().__init__()
        self._home = home

    def on_mount(self) -> None:
        self.push_screen(self._home())

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The screen's own actions first, then help and the built-in commands."""
        yield from _binding_commands(screen)
        palette = getattr(screen, "palette_commands", None)
        if palette is not None:
            yield from palette()
        yield SystemCommand("Help", "every key and what each screen does", self.action_help)
        yield from super().get_system_commands(screen)

    def action_help(self) -> None:
        """Show the help screen (once)."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        """Stop every live feed (committing what it recorded), then exit."""
        for screen in self.screen_stack:
            if isinstance(screen, LiveScreen):
                await screen.stop_feed()
        self.exit()

    def show_end_of_session(self, session_id: int) -> None:
        """Replace the live screen with the end-of-session review of ``session_id``."""
        review = getattr(self, "end_of_session_screen", None)
        if review is not None:
            self.switch_screen(review(session_id))
