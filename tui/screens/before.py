"""Before the session: the checklist and its warnings, the gun to use, and start."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import ClassVar

from serial.tools import list_ports
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Footer, Header, Input, Label, Select, Static

from injector.domain.errors import AcknowledgementRequiredError, InvalidValueError
from injector.domain.inputs import Checklist
from tui.app_requests import StartSession
from tui.clinic import Clinic
from tui.screens.form_screen import FormScreen
from tui.session_feed import GunSource, SerialGun, SimulatedGun
from tui.state import ChecklistView
from tui.widgets.form import FormField, value_of, warning_text
from tui.widgets.tick_box import TickBox

SIMULATOR = "simulator:demo"


def gun_choices() -> list[tuple[str, str]]:
    """The built-in simulator first, then every serial port the system lists.

    Listing ports only enumerates devices; the driver is the one that opens them.
    """
    choices = [("built-in simulated gun", SIMULATOR)]
    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        label = (
            port.device
            if port.description in ("", "n/a")
            else f"{port.device} — {port.description}"
        )
        choices.append((label, port.device))
    return choices


class BeforeSessionScreen(FormScreen[None]):
    """The pre-procedure checklist of a plan's next session."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "start", "start"),
    ]

    help_section = "before-the-session"
    """Where the help opens from here."""

    def __init__(
        self,
        clinic: Clinic,
        plan_id: int,
        simulator: SimulatedGun | None = None,
        choices: Callable[[], list[tuple[str, str]]] = gun_choices,
    ) -> None:
        super().__init__()
        self._choices = choices
        self.clinic = clinic
        self.plan_id = plan_id
        self.simulator = simulator or SimulatedGun()
        self.warnings: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(classes="form"):
            yield Static("", id="before-title")
            yield Label("Checklist", classes="section")
            yield TickBox("Aspirin or another NSAID in the last 7 days", id="nsaid")
            yield TickBox("Numbing applied", id="numbing")
            yield TickBox("Consent recorded", id="consent")
            yield TickBox("Before-photos taken", id="photos")
            yield Label("Lot in the syringe (if not the plan's)", classes="section")
            with Horizontal(classes="form-row"):
                yield FormField("Lot", "lot_number", placeholder="the plan's lot")
                yield FormField("Expiry", "lot_expiry", placeholder="YYYY-MM-DD")
            yield Static("", id="warnings")
            yield TickBox("I have read the warnings and go ahead", id="acknowledge")
            yield Label("Gun", classes="section")
            yield Select(self._choices(), value=SIMULATOR, allow_blank=False, id="gun")
            yield Input(placeholder="or type a port path / pyserial URL", id="port")
            yield Label("", id="before-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Start (ctrl+s)", variant="success", id="start")
                yield Button("Back (esc)", id="back")
        yield Footer()

    async def on_mount(self) -> None:
        self.sub_title = "before the session"
        self.query_one("#acknowledge").display = False
        view = await asyncio.to_thread(self.clinic.next_session, self.plan_id)
        self.show_header(view)
        await self.refresh_warnings()
        self.query_one("#nsaid").focus()

    def show_header(self, view: ChecklistView) -> None:
        """Patient, session in the series, lot and expiry."""
        expiry = view.lot_expiry.isoformat() if view.lot_expiry else "unknown"
        self.query_one("#before-title", Static).update(
            f"[b]{view.session_title}[/b]\nlot {view.lot_number} · expires {expiry}"
        )

    def answers(self) -> Checklist:
        """The checklist as answered."""
        return Checklist(
            nsaid_last_7_days=self.query_one("#nsaid", Checkbox).value,
            numbing_applied=self.query_one("#numbing", Checkbox).value,
            consent_recorded=self.query_one("#consent", Checkbox).value,
            before_photos_taken=self.query_one("#photos", Checkbox).value,
        )

    def lot(self) -> tuple[str | None, date | None]:
        """The lot typed in (None: the plan's) and its expiry (None when not a date)."""
        number = value_of(self, "lot_number") or None
        try:
            expiry = date.fromisoformat(value_of(self, "lot_expiry"))
        except ValueError:
            expiry = None
        return number, expiry

    async def refresh_warnings(self) -> None:
        """Ask the session logic what these answers and this lot warn about."""
        lot, expiry = self.lot()
        self.warnings = await asyncio.to_thread(
            self.clinic.checklist_warnings, self.plan_id, self.answers(), lot, expiry
        )
        text = "\n".join(f"⚠ {warning_text(w)}" for w in self.warnings)
        self.query_one("#warnings", Static).update(f"[b yellow]{text}[/]" if text else "")
        self.query_one("#acknowledge").display = bool(self.warnings)

    async def on_input_changed(self, event: Input.Changed) -> None:
        """A changed lot may change the warnings."""
        if event.input.id in ("f-lot_number", "f-lot_expiry"):
            await self.refresh_warnings()

    async def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        """Warnings follow the answers."""
        if event.checkbox.id != "acknowledge":
            await self.refresh_warnings()

    def gun(self) -> GunSource:
        """The gun chosen: a typed port wins over the list."""
        typed = self.query_one("#port", Input).value.strip()
        if typed:
            return SerialGun(typed)
        chosen = self.query_one("#gun", Select).value
        if chosen == SIMULATOR or not isinstance(chosen, str):
            return self.simulator
        return SerialGun(chosen)

    def form_state(self) -> object:
        """The answers, lot, gun and acknowledgement (a changed checklist asks before it is
        left)."""
        return (
            self.answers(),
            value_of(self, "lot_number"),
            value_of(self, "lot_expiry"),
            self.query_one("#acknowledge", Checkbox).value,
            self.query_one("#gun", Select).value,
            self.query_one("#port", Input).value,
        )

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        """Start or go back."""
        if event.button.id == "start":
            await self.action_start()
        else:
            self.action_cancel()

    async def action_start(self) -> None:
        """Record the checklist and open the live session."""
        error = self.query_one("#before-error", Label)
        acknowledged = self.query_one("#acknowledge", Checkbox).value
        lot, expiry = self.lot()
        try:
            session_id, title = await asyncio.to_thread(
                self.clinic.prepare_session,
                self.plan_id,
                self.answers(),
                acknowledged,
                lot,
                expiry,
            )
        except AcknowledgementRequiredError as exc:
            self.warnings = exc.warnings
            await self.refresh_warnings()
            error.update("Read the warnings and tick the box to go ahead.")
            self.query_one("#acknowledge").focus()
            return
        except InvalidValueError as exc:
            error.update(str(exc))
            return
        self.post_message(StartSession(session_id, self.plan_id, title, self.gun()))
