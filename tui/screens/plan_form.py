"""Create or edit a treatment plan with its zones; refusals show under their fields."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Footer, Header, Label

from injector.domain.errors import InvalidValueError
from injector.domain.inputs import PlanInput, RefusedInputError, ZoneInput, parse
from injector.domain.vocabulary import AnatomicalSite, BodyArea, Indication, Technique
from injector.session.clinical import warning_text
from tui.clinic import Clinic
from tui.screens.form_screen import FormScreen
from tui.widgets.form import (
    FormField,
    SelectField,
    choice_of,
    clear_problems,
    show_problems,
    value_of,
)
from tui.widgets.tick_box import TickBox


def _num(value: float | int | None) -> str:
    return "" if value is None else f"{value:g}"


class ZoneRow(Vertical):
    """The fields of zone ``index`` (0-based; shown 1-based, as its key in the live view)."""

    DEFAULT_CSS = """
    ZoneRow { height: auto; border: round $panel; padding: 0 1; margin-bottom: 1; }
    ZoneRow Horizontal { height: auto; }
    """

    def __init__(
        self, index: int, zone: ZoneInput | None = None, zone_id: int | None = None
    ) -> None:
        super().__init__(classes="zone-row")
        self.index = index
        self.zone = zone
        self.zone_id = zone_id
        """The stored zone this row edits (None: a new zone)."""
        self.border_title = f"zone {index + 1}"

    def compose(self) -> ComposeResult:
        z = self.zone
        p = f"zones[{self.index}]"
        with Horizontal():
            yield FormField("Name", f"{p}.name", z.name if z else "")
            yield SelectField(
                "Body area",
                f"{p}.body_area",
                [a.value for a in BodyArea],
                z.body_area if z else None,
            )
            yield SelectField(
                "Technique",
                f"{p}.technique",
                [t.value for t in Technique],
                z.technique if z else None,
            )
            yield SelectField(
                "Site on the map (optional)",
                f"{p}.site",
                [s.value for s in AnatomicalSite],
                z.site if z else None,
            )
        with Horizontal():
            yield FormField("Depth mm", f"{p}.depth_mm", _num(z.depth_mm if z else None))
            yield FormField("± mm", f"{p}.tolerance_mm", _num(z.tolerance_mm if z else 0.5))
            yield FormField(
                "mL per point",
                f"{p}.volume_per_point_ml",
                _num(z.volume_per_point_ml if z else None),
            )
            yield FormField("Points", f"{p}.points", _num(z.points if z else None))
            yield FormField(
                "Max mL (optional)", f"{p}.max_volume_ml", _num(z.max_volume_ml if z else None)
            )

    def data(self) -> dict[str, Any]:
        """This zone's fields for :class:`~injector.domain.inputs.ZoneInput`."""
        p = f"zones[{self.index}]"
        return {
            "name": value_of(self, f"{p}.name"),
            "body_area": choice_of(self, f"{p}.body_area"),
            "technique": choice_of(self, f"{p}.technique"),
            "depth_mm": value_of(self, f"{p}.depth_mm"),
            "tolerance_mm": value_of(self, f"{p}.tolerance_mm") or 0.5,
            "volume_per_point_ml": value_of(self, f"{p}.volume_per_point_ml"),
            "points": value_of(self, f"{p}.points"),
            "max_volume_ml": value_of(self, f"{p}.max_volume_ml") or None,
            "site": choice_of(self, f"{p}.site"),
        }


class PlanFormScreen(FormScreen[int | None]):
    """The plan form for one patient; dismisses with the plan's id once saved.

    Editing, ``zone_ids`` are the stored zones of ``current.zones``: a row keeps its zone (and
    the shots recorded in it) when renamed or retuned; a removed row removes its zone, which
    the session logic refuses once the zone was used.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "save"),
        Binding("ctrl+a", "add_zone", "add zone"),
        Binding("ctrl+d", "remove_zone", "remove last zone"),
    ]

    def __init__(
        self,
        clinic: Clinic,
        patient_identifier: str,
        plan_id: int | None = None,
        current: PlanInput | None = None,
        zone_ids: Sequence[int] = (),
    ) -> None:
        super().__init__()
        self.clinic = clinic
        self.patient_identifier = patient_identifier
        self.plan_id = plan_id
        self.current = current
        self.zone_ids = tuple(zone_ids)

    DEFAULT_CSS = """
    /* The zones grow with their rows: the form scrolls, no zone field is ever clipped. */
    PlanFormScreen #zones { height: auto; }
    """

    def compose(self) -> ComposeResult:
        c = self.current
        s = c.solution if c else None
        series = c.series if c else None
        yield Header()
        with VerticalScroll(classes="form", id="plan-form"):
            with Horizontal(classes="form-row"):
                yield SelectField(
                    "Indication",
                    "indication",
                    [i.value for i in Indication],
                    c.indication if c else None,
                )
                yield FormField(
                    "Area (fat reduction)",
                    "indication_area",
                    (c.indication_area or "") if c else "",
                )
            with Horizontal(classes="form-row"):
                yield FormField("Product", "solution.product_name", s.product_name if s else "")
                yield FormField(
                    "Components (comma-separated)",
                    "solution.components",
                    ", ".join(s.components) if s else "",
                )
                yield FormField(
                    "Manufacturer", "solution.manufacturer", s.manufacturer if s else ""
                )
            with Horizontal(classes="form-row"):
                yield FormField("Lot", "solution.lot_number", s.lot_number if s else "")
                yield FormField(
                    "Lot expiry",
                    "solution.expiry",
                    s.expiry.isoformat() if s else "",
                    placeholder="YYYY-MM-DD",
                )
                yield FormField(
                    "Max mL per session (optional)",
                    "max_session_volume_ml",
                    _num(c.max_session_volume_ml if c else None),
                )
                yield TickBox(
                    "Lock the gun at a limit", c.lock_at_limit if c else False, id="f-lock_at_limit"
                )
            with Horizontal(classes="form-row"):
                yield FormField(
                    "Sessions", "series.sessions", _num(series.sessions if series else 6)
                )
                yield FormField(
                    "Of which initial",
                    "series.initial_sessions",
                    _num(series.initial_sessions if series else None),
                )
                interval = series.initial_interval_days if series else (7, 10)
                yield FormField(
                    "Every (min days)", "series.initial_interval_days[0]", _num(interval[0])
                )
                yield FormField(
                    "to (max days)", "series.initial_interval_days[1]", _num(interval[1])
                )
                yield FormField(
                    "Then every (days)",
                    "series.later_interval_days",
                    _num(series.later_interval_days if series else None),
                )
            yield Label("", id="e-series-initial_interval_days", classes="field-error")
            yield FormField("Notes", "notes", c.notes if c else "")
            yield Label("Zones (keys 1–9 in the live view follow this order)", classes="section")
            with Vertical(id="zones"):
                for index, zone in enumerate(c.zones if c else [None]):
                    stored = self.zone_ids[index] if index < len(self.zone_ids) else None
                    yield ZoneRow(index, zone, stored)
            yield Label("", id="e-zones", classes="field-error")
            yield Label("", id="form-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Add zone (ctrl+a)", id="add-zone")
                yield Button("Remove last zone (ctrl+d)", id="remove-zone")
                yield Button("Cancel (esc)", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = (
            f"{'new' if self.plan_id is None else 'edit'} plan · patient {self.patient_identifier}"
        )
        self.query_one("#f-indication").focus()

    def data(self) -> dict[str, Any]:
        """What the form holds, as :class:`~injector.domain.inputs.PlanInput` reads it."""
        components = [c.strip() for c in value_of(self, "solution.components").split(",")]
        initial = value_of(self, "series.initial_sessions")
        later = value_of(self, "series.later_interval_days")
        return {
            "patient": self.patient_identifier,
            "indication": choice_of(self, "indication"),
            "indication_area": value_of(self, "indication_area") or None,
            "solution": {
                "product_name": value_of(self, "solution.product_name"),
                "components": [c for c in components if c],
                "manufacturer": value_of(self, "solution.manufacturer"),
                "lot_number": value_of(self, "solution.lot_number"),
                "expiry": value_of(self, "solution.expiry"),
            },
            "series": {
                "sessions": value_of(self, "series.sessions"),
                "initial_sessions": initial or None,
                "initial_interval_days": [
                    value_of(self, "series.initial_interval_days[0]"),
                    value_of(self, "series.initial_interval_days[1]"),
                ],
                "later_interval_days": later or None,
            },
            "zones": [row.data() for row in self.query(ZoneRow)],
            "max_session_volume_ml": value_of(self, "max_session_volume_ml") or None,
            "lock_at_limit": self.query_one("#f-lock_at_limit", Checkbox).value,
            "notes": value_of(self, "notes"),
        }

    def form_state(self) -> object:
        """What the form holds, zones included (a changed form asks before it is left)."""
        return self.data()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        """The form's buttons mirror its keys."""
        match event.button.id:
            case "save":
                await self.action_save()
            case "add-zone":
                await self.action_add_zone()
            case "remove-zone":
                await self.action_remove_zone()
            case _:
                self.action_cancel()

    async def action_add_zone(self) -> None:
        """Another zone at the end."""
        rows = list(self.query(ZoneRow))
        row = ZoneRow(len(rows))
        await self.query_one("#zones", Vertical).mount(row)
        row.scroll_visible()
        row.query_one(f"#f-zones-{row.index}-name").focus()

    async def action_remove_zone(self) -> None:
        """Drop the last zone (a plan keeps at least one)."""
        rows = list(self.query(ZoneRow))
        if len(rows) > 1:
            await rows[-1].remove()

    async def action_save(self) -> None:
        """Validate, save off the UI thread, and go back with the plan's id."""
        general = self.query_one("#form-error", Label)
        try:
            data = parse(PlanInput, self.data())
            zone_ids = [row.zone_id for row in self.query(ZoneRow)]
            plan_id = await asyncio.to_thread(self.clinic.save_plan, data, self.plan_id, zone_ids)
        except RefusedInputError as exc:
            show_problems(self, exc.problems, general)
            self.notify(f"{len(exc.problems)} field(s) to correct", severity="warning")
            return
        except InvalidValueError as exc:
            show_problems(self, [(exc.field, exc.reason)], general)
            return
        clear_problems(self)
        warnings = data.warnings(self.clinic.today())
        for warning in warnings:
            self.notify(warning_text(warning), severity="warning", timeout=10)
        self.notify("Plan saved.")
        self.dismiss(plan_id)
