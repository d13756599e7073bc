"""End of session: plan against actual per zone, deviations, adverse events, sign-off, next due."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select, Static

from injector.domain.errors import InvalidValueError
from injector.output_files import OutputFileError
from injector.report.files import ReportKind
from tui.app_requests import GoHome
from tui.clinic import Clinic
from tui.screens.entry import AdverseEntry, AdverseEventScreen
from tui.state import SessionSummary, ml, mm

SIGNATURE_MEANING = "performed and reviewed"


class EndOfSessionScreen(Screen[None]):
    """The review of one session, and its signature."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "sign", "sign"),
        Binding("a", "adverse", "adverse event"),
        # A control key: the name field below takes letters.
        Binding("ctrl+r", "report", "write report", show=False),
        Binding("escape", "home", "patients"),
    ]

    help_section = "end-of-session"
    """Where the help opens from here."""

    def __init__(self, clinic: Clinic, session_id: int) -> None:
        super().__init__()
        self.clinic = clinic
        self.session_id = session_id
        self.summary: SessionSummary | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(classes="form"):
            yield Static("", id="end-title")
            yield DataTable(id="outcome", cursor_type="none", zebra_stripes=True)
            yield Label("Deviations from the plan", classes="section")
            yield Static("", id="deviations")
            yield Label("Adverse events", classes="section")
            yield Static("", id="adverse")
            yield Label("Gun and link events, notes", classes="section")
            yield Static("", id="events")
            yield Static("", id="next-due")
            yield Label("Sign-off", classes="section")
            yield Static("", id="signed")
            with Horizontal(id="sign-row", classes="buttons"):
                yield Select[str]([], prompt="who signs", id="signer")
                yield Input(placeholder="PIN", password=True, id="sign-pin")
                yield Button("Sign (ctrl+s)", variant="primary", id="sign")
            yield Label("", id="sign-error", classes="error")
        yield Footer()

    async def on_mount(self) -> None:
        self.sub_title = "end of session"
        self.query_one("#outcome", DataTable).add_columns(
            "Zone", "Points", "of plan", "mL", "of plan", "Depth mm", "plan", "Off band"
        )
        await self.reload()

    async def reload(self) -> None:
        """Read the session's review again (after a signature or an adverse event)."""
        self.summary = await asyncio.to_thread(self.clinic.session_summary, self.session_id)
        names = await asyncio.to_thread(self.clinic.practitioners)
        self.show(self.summary)
        self.offer_signers(names, self.summary)

    def offer_signers(self, names: tuple[str, ...], s: SessionSummary) -> None:
        """Who may sign: the recorded practitioners, the one who performed it first; the
        PIN field is focused (and scrolled into view) while the session is unsigned."""
        if s.signed_at is not None:
            return
        ordered = sorted(names, key=lambda n: (n != s.practitioner, n.casefold()))
        signer = self.query_one("#signer", Select)
        signer.set_options([(name, name) for name in ordered])
        if ordered:
            signer.value = ordered[0]
            self.query_one("#sign-pin", Input).focus()
        else:
            self.query_one("#sign-error", Label).update(
                "No practitioner is recorded: add one with 'injector practitioner add NAME'."
            )
            signer.focus()

    def show(self, s: SessionSummary) -> None:
        """Fill the screen from a summary."""
        self.query_one("#end-title", Static).update(
            f"[b]{s.title}[/b]\n{s.total_shots} shots · {ml(s.total_volume_nl)} mL delivered"
        )
        table = self.query_one("#outcome", DataTable)
        table.clear()
        for z in s.zones:
            table.add_row(
                z.name,
                str(z.points_done),
                str(z.points_planned),
                ml(z.volume_done_nl),
                ml(z.volume_planned_nl),
                mm(z.depth_mean_um) if z.depth_mean_um is not None else "-",
                mm(z.depth_planned_um) if z.depth_planned_um else "-",
                str(z.out_of_band),
            )
        self.query_one("#deviations", Static).update(
            "\n".join(f"• {d}" for d in s.deviations) or "none"
        )
        self.query_one("#adverse", Static).update(
            "\n".join(f"• {a}" for a in s.adverse_events) or "none recorded"
        )
        self.query_one("#events", Static).update("\n".join(s.events) or "none")
        self.query_one("#next-due", Static).update(
            Text.assemble(("Next session due: ", "bold"), s.next_due_text)
        )
        signed = s.signed_at is not None
        self.query_one("#signed", Static).update(
            f"[b green]Signed by {s.signed_by} at "
            f"{s.signed_at.astimezone().strftime('%Y-%m-%d %H:%M')}: "
            f"{s.signature_meaning or SIGNATURE_MEANING}[/]"
            if s.signed_at is not None
            else f"Not signed yet: choose who signs, type the PIN and press ctrl+s "
            f"(signing means: {SIGNATURE_MEANING})."
        )
        self.query_one("#sign-row").display = not signed

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        """The sign button."""
        await self.action_sign()

    async def on_input_submitted(self) -> None:
        """Enter in the PIN signs."""
        await self.action_sign()

    async def action_sign(self) -> None:
        """Sign the record; the session logic refuses an empty name or a second signature."""
        if self.summary is not None and self.summary.signed_at is not None:
            self.notify("Already signed.")
            return
        chosen = self.query_one("#signer", Select).value
        name = chosen if isinstance(chosen, str) else ""
        pin_field = self.query_one("#sign-pin", Input)
        pin, pin_field.value = pin_field.value, ""
        try:
            await asyncio.to_thread(
                self.clinic.sign_session, self.session_id, name, pin, SIGNATURE_MEANING
            )
        except InvalidValueError as exc:
            self.query_one("#sign-error", Label).update(exc.reason)
            pin_field.focus()
            return
        self.query_one("#sign-error", Label).update("")
        self.notify("Session signed.")
        await self.reload()

    def action_adverse(self) -> None:
        """Record an adverse event seen at the end of the session."""

        async def save(entry: AdverseEntry | None) -> None:
            if entry is None:
                return
            try:
                await asyncio.to_thread(
                    self.clinic.record_adverse_event,
                    self.session_id,
                    entry.kind,
                    entry.severity,
                    entry.notes,
                )
            except InvalidValueError as exc:
                self.notify(str(exc), severity="error")
                return
            await self.reload()

        self.app.push_screen(AdverseEventScreen(), save)

    async def action_report(self) -> None:
        """Write the session's report (HTML) and show where it went."""
        self.notify("Writing the session report …", timeout=3)
        try:
            path = await asyncio.to_thread(
                self.clinic.write_report, ReportKind.SESSION, self.session_id
            )
        except OutputFileError as exc:
            self.notify(str(exc), severity="error")
            return
        # Long enough to read the path off the screen, or to copy it.
        self.notify(f"Report written to {path}", timeout=30)

    def action_home(self) -> None:
        """Back to the patients screen."""
        self.post_message(GoHome())
