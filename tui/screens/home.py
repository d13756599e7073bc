"""Patients and plans: find a patient, see their plans, series and past sessions."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

from injector.output_files import OutputFileError
from injector.report.files import ReportKind
from tui.app_requests import OpenReplay, PrepareSession, ReviewSession, StartDemo
from tui.clinic import Clinic
from tui.screens.patient_form import PatientFormScreen
from tui.screens.plan_form import PlanFormScreen
from tui.state import PatientDetail, PatientRow, PlanRow, ml


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _when(at: datetime | None) -> str:
    return "-" if at is None else at.astimezone().strftime("%Y-%m-%d %H:%M")


class HomeScreen(Screen[None]):
    """The patient list on the left, the selected patient's plans and sessions on the right."""

    # The footer shows what a new user needs first, with help and quit before it can be cut
    # off; the edits are in the help and the command palette (ctrl+p).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "find", "find"),
        Binding("s", "start_session", "session"),
        Binding("n", "new_patient", "new patient"),
        Binding("t", "new_plan", "new plan"),
        Binding("question_mark", "app.help", "help"),
        Binding("q", "app.quit", "quit"),
        Binding("v", "review_session", "review"),
        Binding("p", "session_report", "report", show=False),
        Binding("P", "series_report", "series report", show=False),
        Binding("d", "demo", "demo"),
        Binding("r", "replay", "replay"),
        Binding("e", "edit_patient", "edit patient", show=False),
        Binding("o", "edit_plan", "edit plan", show=False),
    ]

    def __init__(self, clinic: Clinic) -> None:
        super().__init__()
        self.clinic = clinic
        self.patients: list[PatientRow] = []
        self.detail: PatientDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="find a patient by name or identifier  ( / )", id="search")
        with Horizontal(id="home-main"):
            yield DataTable(id="patients", cursor_type="row", zebra_stripes=True)
            with Vertical(id="home-detail"):
                yield Static("", id="patient-info")
                yield Label("Plans", classes="section")
                yield DataTable(id="plans", cursor_type="row")
                yield Static("", id="plan-zones")
                yield Label("Sessions of the selected plan", classes="section")
                yield DataTable(id="sessions", cursor_type="row")
        yield Footer()

    async def on_mount(self) -> None:
        self.sub_title = "patients and plans"
        self.query_one("#patients", DataTable).add_columns("Identifier", "Name", "Born")
        self.query_one("#plans", DataTable).add_columns("Plan", "Product · lot", "Series")
        self.query_one("#sessions", DataTable).add_columns(
            "#", "Status", "Started", "Shots", "mL", "Signed"
        )
        await self.refresh_patients()
        self.query_one("#patients", DataTable).focus()

    # --- loading (off the UI thread) ---------------------------------------------------------

    async def refresh_patients(self, select: str | None = None) -> None:
        """Reload the list for the current search; select ``select`` (an identifier) if given."""
        query = self.query_one("#search", Input).value
        self.patients = await asyncio.to_thread(self.clinic.find_patients, query)
        table = self.query_one("#patients", DataTable)
        table.clear()
        for p in self.patients:
            table.add_row(p.identifier, p.name, p.date_of_birth.isoformat(), key=p.identifier)
        if select is not None:
            for index, p in enumerate(self.patients):
                if p.identifier == select:
                    table.move_cursor(row=index)
        if self.patients:
            await self.show_patient(self.patients[min(table.cursor_row, len(self.patients) - 1)])
        else:
            self.detail = None
            self.query_one("#patient-info", Static).update("No patient found: press n to add one.")
            self.query_one("#plans", DataTable).clear()
            self.show_sessions(None)

    async def show_patient(self, patient: PatientRow) -> None:
        """Show a patient's plans and the first plan's sessions."""
        self.detail = await asyncio.to_thread(self.clinic.patient_detail, patient.identifier)
        d = self.detail
        info = (
            f"[b]{d.patient.name}[/b]  ·  {d.patient.identifier}  ·  born {d.patient.date_of_birth}"
        )
        if d.notes:
            info += "\n[b red]" + " · ".join(d.notes) + "[/]"
        self.query_one("#patient-info", Static).update(info)
        plans = self.query_one("#plans", DataTable)
        plans.clear()
        for plan in d.plans:
            plans.add_row(
                str(plan.plan_id),
                _clip(f"{plan.product_name} · {plan.lot_number}", 30),
                plan.series_text,
                key=str(plan.plan_id),
            )
        self.show_sessions(d.plans[0] if d.plans else None)

    def show_sessions(self, plan: PlanRow | None) -> None:
        """The zones and sessions of one plan."""
        table = self.query_one("#sessions", DataTable)
        table.clear()
        zones = "" if plan is None or not plan.zones else "zones: " + " · ".join(plan.zones)
        self.query_one("#plan-zones", Static).update(zones)
        if plan is None:
            return
        for s in plan.sessions:
            table.add_row(
                str(s.sequence_no or "-"),
                s.status_text,
                _when(s.started_at),
                str(s.shots),
                ml(s.volume_nl),
                "yes" if s.signed else "no",
                key=str(s.session_id),
            )

    @property
    def selected_patient(self) -> PatientRow | None:
        """The highlighted patient."""
        table = self.query_one("#patients", DataTable)
        if not self.patients:
            return None
        return self.patients[min(table.cursor_row, len(self.patients) - 1)]

    @property
    def selected_plan(self) -> PlanRow | None:
        """The highlighted plan of the shown patient."""
        if self.detail is None or not self.detail.plans:
            return None
        row = self.query_one("#plans", DataTable).cursor_row
        return self.detail.plans[min(row, len(self.detail.plans) - 1)]

    @property
    def selected_session_id(self) -> int | None:
        """The highlighted session of the selected plan."""
        plan = self.selected_plan
        if plan is None or not plan.sessions:
            return None
        row = self.query_one("#sessions", DataTable).cursor_row
        return plan.sessions[min(row, len(plan.sessions) - 1)].session_id

    # --- events ------------------------------------------------------------------------------

    async def on_input_changed(self, event: Input.Changed) -> None:
        """Search as the name is typed."""
        if event.input.id == "search":
            await self.refresh_patients()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter goes to the results."""
        self.query_one("#patients", DataTable).focus()

    async def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Follow the cursor: patient → plans, plan → sessions."""
        if event.data_table.id == "patients":
            patient = self.selected_patient
            if patient is not None and (
                self.detail is None or self.detail.patient.identifier != patient.identifier
            ):
                await self.show_patient(patient)
        elif event.data_table.id == "plans":
            self.show_sessions(self.selected_plan)

    # --- actions -----------------------------------------------------------------------------

    def action_find(self) -> None:
        """Focus the search box."""
        self.query_one("#search", Input).focus()

    def action_new_patient(self) -> None:
        """Open the patient form."""
        self.app.push_screen(PatientFormScreen(self.clinic), self._patient_saved)

    async def action_edit_patient(self) -> None:
        """Open the patient form on the selected patient."""
        patient = self.selected_patient
        if patient is None:
            self.notify("No patient selected.", severity="warning")
            return
        current = await asyncio.to_thread(self.clinic.patient_input, patient.identifier)
        self.app.push_screen(
            PatientFormScreen(self.clinic, patient.identifier, current), self._patient_saved
        )

    async def _patient_saved(self, identifier: str | None) -> None:
        if identifier is not None:
            await self.refresh_patients(select=identifier)

    def action_new_plan(self) -> None:
        """Open the plan form for the selected patient."""
        patient = self.selected_patient
        if patient is None:
            self.notify("Add or pick a patient first.", severity="warning")
            return
        self.app.push_screen(PlanFormScreen(self.clinic, patient.identifier), self._plan_saved)

    async def action_edit_plan(self) -> None:
        """Open the plan form on the selected plan."""
        patient, plan = self.selected_patient, self.selected_plan
        if patient is None or plan is None:
            self.notify("No plan selected.", severity="warning")
            return
        current = await asyncio.to_thread(self.clinic.plan_input, plan.plan_id)
        zone_ids = await asyncio.to_thread(self.clinic.plan_zone_ids, plan.plan_id)
        self.app.push_screen(
            PlanFormScreen(self.clinic, patient.identifier, plan.plan_id, current, zone_ids),
            self._plan_saved,
        )

    async def _plan_saved(self, plan_id: int | None) -> None:
        patient = self.selected_patient
        if plan_id is not None and patient is not None:
            await self.refresh_patients(select=patient.identifier)

    def action_start_session(self) -> None:
        """The before-session screen for the selected plan's next session."""
        plan = self.selected_plan
        if plan is None:
            self.notify("Pick a plan first (t makes one).", severity="warning")
            return
        self.post_message(PrepareSession(plan.plan_id))

    def action_review_session(self) -> None:
        """The review (and sign-off) of the selected session."""
        session_id = self.selected_session_id
        if session_id is None:
            self.notify("No session selected.", severity="warning")
            return
        self.post_message(ReviewSession(session_id))

    async def action_session_report(self) -> None:
        """Write the selected session's report and say where it went."""
        session_id = self.selected_session_id
        if session_id is None:
            self.notify("No session selected.", severity="warning")
            return
        await self._report(ReportKind.SESSION, session_id)

    async def action_series_report(self) -> None:
        """Write the selected plan's series report and say where it went."""
        plan = self.selected_plan
        if plan is None:
            self.notify("Pick a plan first.", severity="warning")
            return
        await self._report(ReportKind.SERIES, plan.plan_id)

    async def _report(self, kind: ReportKind, record_id: int) -> None:
        self.notify(f"Writing the {kind.value} report …", timeout=3)
        try:
            path = await asyncio.to_thread(self.clinic.write_report, kind, record_id)
        except OutputFileError as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(f"Report written to {path}", timeout=30)

    def action_replay(self) -> None:
        """Replay a capture file (technicians)."""
        self.post_message(OpenReplay())

    def action_demo(self) -> None:
        """A session against the built-in simulated gun."""
        self.post_message(StartDemo())

    async def on_screen_resume(self) -> None:
        """Coming back from a form or a session: the record may have changed."""
        if self.is_mounted and self.patients is not None:
            await self.refresh_patients(
                select=self.selected_patient.identifier if self.selected_patient else None
            )
