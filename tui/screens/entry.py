"""Small entry forms opened over the live screen: a note, an adverse event.

They are modal so the keys typed go to the form, but the live view keeps updating underneath
(the feed posts to the live screen whatever is on top).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select

from injector.domain.vocabulary import AdverseEventKind, Severity
from tui.screens.form_screen import FormModal


class NoteScreen(FormModal[str | None]):
    """Ask for one line of text; returns it, or None when cancelled or empty."""

    def __init__(self, title: str = "Note for the session record") -> None:
        super().__init__()
        self._title = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="dialog-title")
            yield Input(placeholder="type, then Enter", id="note-text")
            yield Label("Enter saves · Esc cancels", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter saves the note."""
        text = event.value.strip()
        self.dismiss(text or None)

    def form_state(self) -> object:
        """The text typed so far."""
        return self.query_one("#note-text", Input).value


@dataclass(frozen=True, slots=True)
class AdverseEntry:
    """What the adverse-event form returns."""

    kind: str
    severity: str
    notes: str


class AdverseEventScreen(FormModal[AdverseEntry | None]):
    """Kind, severity and notes of a side effect seen during the session."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Adverse event", classes="dialog-title")
            yield Select(
                [(k.value.replace("_", " "), k.value) for k in AdverseEventKind],
                prompt="what",
                id="ae-kind",
            )
            yield Select(
                [(s.value, s.value) for s in Severity],
                value=Severity.MILD.value,
                allow_blank=False,
                id="ae-severity",
            )
            yield Input(placeholder="notes (optional)", id="ae-notes")
            yield Label("", id="ae-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Record", variant="error", id="ae-save")
                yield Button("Cancel", id="ae-cancel")

    def on_mount(self) -> None:
        self.query_one("#ae-kind", Select).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Record or cancel."""
        if event.button.id == "ae-cancel":
            self.dismiss(None)
        else:
            self._save()

    def on_input_submitted(self) -> None:
        """Enter in the notes records the event."""
        self._save()

    def _save(self) -> None:
        kind = self.query_one("#ae-kind", Select).value
        if not isinstance(kind, str):
            self.query_one("#ae-error", Label).update("Pick what happened first.")
            return
        severity = self.query_one("#ae-severity", Select).value
        notes = self.query_one("#ae-notes", Input).value.strip()
        self.dismiss(AdverseEntry(kind, str(severity), notes))

    def form_state(self) -> object:
        """What was chosen and typed so far."""
        return (
            self.query_one("#ae-kind", Select).value,
            self.query_one("#ae-severity", Select).value,
            self.query_one("#ae-notes", Input).value,
        )
