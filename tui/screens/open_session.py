"""The offer made when a session was left open: resume it, end it or abort it.

A session stays in progress when the TUI quit, the laptop crashed or headless ``record`` left
it open. Opening the TUI, or choosing that patient's plan, offers it before anything else, so a
visit is never split into two sessions by accident. The rule itself (one open session per
plan, continued by whichever program records the gun) is the session logic's.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from tui.clinic import OpenSessionView

OpenSessionChoice = Literal["resume", "end", "abort"]


def describe(view: OpenSessionView) -> str:
    """One paragraph: whose session, since when, how far it got."""
    since = f" since {view.started_at.astimezone():%Y-%m-%d %H:%M}" if view.started_at else ""
    shots = "no shot yet" if view.shots == 0 else f"{view.shots} shots"
    zone = f", zone {view.active_zone} active" if view.active_zone else ""
    gun = f" with gun {view.gun}" if view.gun else ""
    return f"{view.title} is still open{since}: {shots}{zone}{gun}."


class OpenSessionScreen(ModalScreen[OpenSessionChoice | None]):
    """Resume (same session, same zone), end, or abort a session left open; Esc: decide later."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "choose('resume')", "resume"),
        Binding("e", "choose('end')", "end"),
        Binding("a", "choose('abort')", "abort"),
        Binding("escape", "later", "later"),
    ]

    def __init__(self, view: OpenSessionView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("A session was left open", classes="dialog-title")
            yield Label(describe(self.view), id="open-session-text")
            yield Label(
                "Resume it (the shots fired meanwhile are recovered into it), end it, or abort "
                "it. A session with no shot ends aborted.",
                classes="hint",
            )
            with Horizontal(classes="buttons"):
                yield Button("Resume (r)", variant="success", id="resume")
                yield Button("End (e)", id="end")
                yield Button("Abort (a)", variant="error", id="abort")
                yield Button("Later (esc)", id="later")

    def on_mount(self) -> None:
        self.query_one("#resume", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """The buttons do what their keys do."""
        match event.button.id:
            case "resume" | "end" | "abort" as choice:
                self.dismiss(choice)
            case _:
                self.dismiss(None)

    def action_choose(self, choice: OpenSessionChoice) -> None:
        """Resume, end or abort."""
        self.dismiss(choice)

    def action_later(self) -> None:
        """Decide later: the session stays open."""
        self.dismiss(None)
