"""Before the session: the checklist and its warnings, the gun to use, and start."""

from __future__ import annotations

import asyncio
import functools
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
from injector.session.clinical import warning_text
from tui.app_requests import StartSession
from tui.clinic import Clinic, OpenSessionView
from tui.screens.form_screen import FormScreen
from tui.screens.identity import PractitionerFormScreen
from tui.screens.open_session import OpenSessionChoice, OpenSessionScreen
from tui.session_feed import GunSource, SerialGun, SimulatedGun
from tui.state import ChecklistView
from tui.widgets.form import FormField, value_of
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
        Binding("ctrl+n", "new_practitioner", "new practitioner"),
    ]

    help_section = "before-the-session"
    """Where the help opens from here."""

    def __init__(
        self,
        clinic: Clinic,
        plan_id: int,
        simulator: SimulatedGun | None = None,
        choices: Callable[[], list[tuple[str, str]]] = gun_choices,
        resume: OpenSessionView | None = None,
    ) -> None:
        super().__init__()
        self.resuming = resume
        """The session left open that Start resumes (chosen in :class:`OpenSessionScreen`)."""
        self._choices = choices
        self.clinic = clinic
        self.plan_id = plan_id
        self.simulator = simulator or SimulatedGun()
        self.warnings: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(classes="form"):
            yield Static("", id="before-title")
            yield Label("Practitioner performing the session", classes="section")
            with Horizontal(classes="form-row"):
                yield Select[str]([], prompt="who performs", id="practitioner")
                yield Button("New (ctrl+n)", id="new-practitioner")
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
        await self.offer_practitioners()
        await self.refresh_warnings()
        self.query_one("#nsaid").focus()
        if self.resuming is not None:
            self._show_resuming(self.resuming)
        else:
            await self._offer_open_session()

    async def _offer_open_session(self) -> None:
        # One visit, one session: a session of this plan left open is offered first.
        open_view = await asyncio.to_thread(self.clinic.open_session, self.plan_id)
        if open_view is None:
            return

        def chosen(choice: OpenSessionChoice | None) -> None:
            self.call_later(self._after_choice, open_view, choice)

        self.app.push_screen(OpenSessionScreen(open_view), chosen)

    async def _after_choice(self, view: OpenSessionView, choice: OpenSessionChoice | None) -> None:
        error = self.query_one("#before-error", Label)
        match choice:
            case "resume":
                self._show_resuming(view)
            case "end" | "abort":
                try:
                    line = await asyncio.to_thread(
                        self.clinic.finish_open_session, view.session_id, abort=choice == "abort"
                    )
                except InvalidValueError as exc:
                    error.update(str(exc))
                    return
                self.notify(line)
                self.show_header(await asyncio.to_thread(self.clinic.next_session, self.plan_id))
            case None:
                error.update(
                    f"Session {view.session_id} of this plan is still open: resume, end or abort "
                    "it before starting another."
                )

    def _show_resuming(self, view: OpenSessionView) -> None:
        self.resuming = view
        self.query_one("#before-title", Static).update(
            f"[b]Resume: {view.title}[/b]\nchoose the gun, then Start (ctrl+s) continues it"
        )

    async def offer_practitioners(self, chosen: str | None = None) -> None:
        """The recorded practitioners to choose from (the only one, or ``chosen``, selected)."""
        names = await asyncio.to_thread(self.clinic.practitioners)
        select = self.query_one("#practitioner", Select)
        select.set_options([(name, name) for name in names])
        if chosen in names:
            select.value = chosen
        elif len(names) == 1:
            select.value = names[0]

    def practitioner(self) -> str:
        """The practitioner chosen ("" when none is)."""
        value = self.query_one("#practitioner", Select).value
        return value if isinstance(value, str) else ""

    def action_new_practitioner(self) -> None:
        """Record a new practitioner (name, role, PIN), then choose them."""

        async def chosen(name: str | None) -> None:
            if name is not None:
                await self.offer_practitioners(name)

        self.app.push_screen(PractitionerFormScreen(self.clinic), chosen)

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
        elif event.button.id == "new-practitioner":
            self.action_new_practitioner()
        else:
            self.action_cancel()

    async def action_start(self) -> None:
        """Record the checklist and open the live session (or resume the one left open)."""
        error = self.query_one("#before-error", Label)
        if self.resuming is not None:
            # The checklist was answered when the session started; it continues as it was.
            resume_live = getattr(self.app, "start_session", None)
            if resume_live is not None:
                view = self.resuming
                await resume_live(view.session_id, self.plan_id, view.title, self.gun())
            return
        acknowledged = self.query_one("#acknowledge", Checkbox).value
        lot, expiry = self.lot()
        performer = self.practitioner()
        if not performer:
            error.update("Choose who performs the session (ctrl+n records a new practitioner).")
            self.query_one("#practitioner").focus()
            return
        try:
            session_id, title = await asyncio.to_thread(
                functools.partial(
                    self.clinic.prepare_session,
                    self.plan_id,
                    self.answers(),
                    acknowledged,
                    lot,
                    expiry,
                    practitioner=performer,
                )
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
