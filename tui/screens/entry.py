"""Small entry forms opened over the live screen: a note, an adverse event.

They are modal so the keys typed go to the form, but the live view keeps updating underneath
(the feed posts to the live screen whatever is on top).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from injector.domain.vocabulary import AdverseEventKind, Severity


class NoteScreen(ModalScreen[str | None]):
    """Ask for one line of text; returns it, or None when cancelled or empty."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

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

    def action_cancel(self) -> None:
        """Esc leaves without saving."""
        self.dismiss(None)


@dataclass(frozen=True, slots=True)
class AdverseEntry:
    """What the adverse-event form returns."""

    kind: str
    severity: str
    notes: str


class AdverseEventScreen(ModalScreen[AdverseEntry | None]):
    """Kind, severity and notes of a side effect seen during the session."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

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

    def action_cancel(self) -> None:
        """Esc leaves without recording."""
        self.dismiss(None)
