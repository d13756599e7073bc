"""Create or edit a patient; refusals show under the field they are about."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Footer, Header, Label

from injector.domain.errors import InvalidValueError
from injector.domain.inputs import PatientInput, RefusedInputError, parse
from tui.clinic import Clinic
from tui.screens.form_screen import FormScreen
from tui.widgets.form import FormField, clear_problems, show_problems, value_of
from tui.widgets.tick_box import TickBox


class PatientFormScreen(FormScreen[str | None]):
    """The patient form; dismisses with the identifier once saved (None if cancelled)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "save"),
    ]

    def __init__(
        self, clinic: Clinic, identifier: str | None = None, current: PatientInput | None = None
    ) -> None:
        super().__init__()
        self.clinic = clinic
        self.identifier = identifier
        self.current = current

    def compose(self) -> ComposeResult:
        p = self.current
        yield Header()
        with VerticalScroll(classes="form"):
            with Horizontal(classes="form-row"):
                yield FormField(
                    "Identifier (clinic number)", "identifier", p.identifier if p else ""
                )
                yield FormField("Name", "name", p.name if p else "")
                yield FormField(
                    "Date of birth",
                    "date_of_birth",
                    p.date_of_birth.isoformat() if p else "",
                    placeholder="YYYY-MM-DD",
                )
            with Horizontal(classes="form-row"):
                yield FormField("Contact", "contact", p.contact if p else "")
                yield FormField("Allergies", "allergies", p.allergies if p else "")
            yield FormField(
                "Contraindication notes",
                "contraindication_notes",
                p.contraindication_notes if p else "",
            )
            with Horizontal(classes="form-row"):
                yield TickBox(
                    "On anticoagulants", p.on_anticoagulants if p else False, id="f-anticoag"
                )
                yield TickBox("Pregnant", p.pregnant if p else False, id="f-pregnant")
            yield Label("", id="form-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "new patient" if self.identifier is None else "edit patient"
        self.query_one("#f-identifier").focus()

    def data(self) -> dict[str, Any]:
        """What the form holds, as the domain's input model reads it."""
        return {
            "identifier": value_of(self, "identifier"),
            "name": value_of(self, "name"),
            "date_of_birth": value_of(self, "date_of_birth"),
            "contact": value_of(self, "contact"),
            "allergies": value_of(self, "allergies"),
            "contraindication_notes": value_of(self, "contraindication_notes"),
            "on_anticoagulants": self.query_one("#f-anticoag", Checkbox).value,
            "pregnant": self.query_one("#f-pregnant", Checkbox).value,
        }

    def form_state(self) -> object:
        """What the form holds (a changed form asks before it is left)."""
        return self.data()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        """Save or cancel."""
        if event.button.id == "save":
            await self.action_save()
        else:
            self.action_cancel()

    async def action_save(self) -> None:
        """Validate, save off the UI thread, and go back with the id."""
        general = self.query_one("#form-error", Label)
        try:
            data = parse(PatientInput, self.data())
            saved = await asyncio.to_thread(self.clinic.save_patient, data, self.identifier)
        except RefusedInputError as exc:
            show_problems(self, exc.problems, general)
            return
        except InvalidValueError as exc:
            show_problems(self, [(exc.field, exc.reason)], general)
            return
        clear_problems(self)
        self.notify(f"Patient {data.name} saved.")
        self.dismiss(saved)
