"""Who does it: a new practitioner (name, role, PIN twice), and the plan-limit override (who,
PIN, reason, confirmed). Both are modal dialogs; the override is opened by its own key on the
live screen, never by the manual lock key."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label

from injector.domain.errors import InvalidValueError
from tui.clinic import Clinic


class PractitionerFormScreen(ModalScreen[str | None]):
    """Record a practitioner; returns the printed name, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    def __init__(self, clinic: Clinic) -> None:
        super().__init__()
        self.clinic = clinic

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("New practitioner", classes="dialog-title")
            yield Input(placeholder="printed name, e.g. Dr Ana Lee", id="p-name")
            yield Input(placeholder="role, e.g. physician, nurse", id="p-role")
            yield Input(placeholder="PIN (4 to 12 digits)", password=True, id="p-pin")
            yield Input(placeholder="the same PIN again", password=True, id="p-pin2")
            yield Label("", id="p-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="p-save")
                yield Button("Cancel", id="p-cancel")

    def on_mount(self) -> None:
        self.query_one("#p-name", Input).focus()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        """Save or cancel."""
        if event.button.id == "p-cancel":
            self.dismiss(None)
        else:
            await self.save()

    async def on_input_submitted(self) -> None:
        """Enter saves."""
        await self.save()

    async def save(self) -> None:
        """Record the practitioner; a refusal is shown under the fields."""
        error = self.query_one("#p-error", Label)
        pin = self.query_one("#p-pin", Input).value
        if pin != self.query_one("#p-pin2", Input).value:
            error.update("The two PINs differ: type the same PIN twice.")
            return
        try:
            name = await asyncio.to_thread(
                self.clinic.add_practitioner,
                self.query_one("#p-name", Input).value,
                self.query_one("#p-role", Input).value,
                pin,
            )
        except InvalidValueError as exc:
            error.update(str(exc))
            return
        self.dismiss(name)

    def action_cancel(self) -> None:
        """Esc leaves without saving."""
        self.dismiss(None)


@dataclass(frozen=True, slots=True)
class OverrideEntry:
    """What the override dialog returns: who (confirmed later by the PIN), and why."""

    by: str
    pin: str
    reason: str


class OverrideScreen(ModalScreen[OverrideEntry | None]):
    """Override the plan limit that locked the gun: who, PIN, reason, and a confirmation."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    def __init__(self, limit: str) -> None:
        super().__init__()
        self._limit = limit

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Override the plan limit", classes="dialog-title")
            yield Label(self._limit or "The gun is locked by a plan limit.")
            yield Input(placeholder="who overrides (a practitioner's name)", id="o-by")
            yield Input(placeholder="PIN", password=True, id="o-pin")
            yield Input(placeholder="reason (recorded)", id="o-reason")
            yield Checkbox("I go past the plan's limit on purpose", id="o-confirm")
            yield Label("", id="o-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Override", variant="error", id="o-save")
                yield Button("Cancel", id="o-cancel")

    def on_mount(self) -> None:
        self.query_one("#o-by", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Override or cancel."""
        if event.button.id == "o-cancel":
            self.dismiss(None)
        else:
            self._save()

    def on_input_submitted(self) -> None:
        """Enter asks to override (still needs the confirmation)."""
        self._save()

    def _save(self) -> None:
        error = self.query_one("#o-error", Label)
        by = self.query_one("#o-by", Input).value.strip()
        pin = self.query_one("#o-pin", Input).value
        reason = self.query_one("#o-reason", Input).value.strip()
        if not by:
            error.update("Type the name of who overrides.")
        elif not pin:
            error.update("Type the PIN of who overrides.")
        elif not reason:
            error.update("Give the reason: it goes into the record.")
        elif not self.query_one("#o-confirm", Checkbox).value:
            error.update("Tick the confirmation to go past the plan's limit.")
        else:
            self.dismiss(OverrideEntry(by, pin, reason))

    def action_cancel(self) -> None:
        """Esc leaves the gun locked."""
        self.dismiss(None)
