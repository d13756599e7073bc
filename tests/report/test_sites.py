"""Anatomical sites on plan zones: validated at input, stored, read back, exported to FHIR."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle as R4BBundle
from sqlalchemy import text

from injector.cli.main import main
from injector.domain.errors import InvalidValueError
from injector.domain.inputs import PlanInput, ZoneInput, parse
from injector.domain.planfile import parse_plan_text
from injector.domain.vocabulary import AnatomicalSite
from injector.export import ExportFormat, export_text
from injector.export.fhir import SITE_SNOMED, SNOMED, fhir_bundle
from injector.export.snapshot import load_session_record
from injector.report.session_data import load_session_report
from injector.report.session_report import render_session_html
from injector.session.patients_plans import get_plan, update_plan
from injector.storage import Database
from tests.export.recorded import T0, record_session
from tests.session.builders import plan_data

PLAN_TOML = """
format = "injector-plan/1"

[patient]
identifier = "P-9"
name = "Ann Example"
date_of_birth = 1980-01-01

[plan]
indication = "wrinkles_and_lines"

[plan.solution]
product_name = "Revita"
lot_number = "LOT-A"
expiry = 2035-01-31

[plan.series]
sessions = 4

[[plan.zones]]
name = "left cheek"
body_area = "cheeks"
technique = "nappage"
depth_mm = 1.5
volume_per_point_ml = 0.05
points = 10
site = "{site}"
"""


def test_every_site_has_a_label_with_its_side_last() -> None:
    assert AnatomicalSite.CROWS_FEET_LEFT.label == "crow's feet, left"
    assert AnatomicalSite.THIGH_RIGHT_MEDIAL.label == "thigh, right, medial"
    assert AnatomicalSite.UPPER_ARM_LEFT.label == "upper arm, left"
    assert AnatomicalSite.GLABELLA.label == "glabella"
    assert len({site.label for site in AnatomicalSite}) == len(AnatomicalSite)


def test_a_plan_file_places_a_zone_and_refuses_an_unknown_site() -> None:
    parsed = parse_plan_text(PLAN_TOML.format(site="cheek_left"), suffix=".toml")
    assert parsed.plan.zones[0].site is AnatomicalSite.CHEEK_LEFT
    with pytest.raises(InvalidValueError) as refused:
        parse_plan_text(PLAN_TOML.format(site="left_cheek"), suffix=".toml")
    assert refused.value.field == "plan.zones[0].site"
    assert "cheek_left" in refused.value.reason


def test_a_zone_without_a_site_stays_unplaced() -> None:
    zone = parse(ZoneInput, plan_data()["zones"][0])
    assert zone.site is None


def test_the_site_is_stored_read_back_and_kept_by_an_edit(db: Database) -> None:
    recorded = record_session(db)
    data = plan_data()
    data["zones"][0] = data["zones"][0] | {"site": "forehead"}
    data["zones"][1] = data["zones"][1] | {"site": "cheek_right"}
    update_plan(db, recorded.plan_id, parse(PlanInput, data), actor="Dr Test")
    zones = get_plan(db, recorded.plan_id).zones
    assert [z.site for z in zones] == ["forehead", "cheek_right"]
    # The zones keep their ids (and so their shots) when only the site changes.
    assert [z.id for z in zones] == list(recorded.zone_ids.values())


def test_fhir_body_site_carries_snomed_where_one_concept_exists(db: Database) -> None:
    recorded = record_session(db)
    data = plan_data()
    data["zones"][0] = data["zones"][0] | {"site": "forehead"}
    data["zones"][1] = data["zones"][1] | {"site": "cheek_left"}
    update_plan(db, recorded.plan_id, parse(PlanInput, data), actor="Dr Test")
    bundle = fhir_bundle(load_session_record(db, recorded.session_id), exported_at=T0)
    procedure = next(e.resource for e in bundle.entry if e.resource.resourceType == "Procedure")
    sites = {site.text: site for site in procedure.bodySite}
    forehead = [(c.system, c.code) for c in sites["forehead"].coding]
    assert (SNOMED, SITE_SNOMED[AnatomicalSite.FOREHEAD][0]) in forehead
    assert ("urn:x-injector:anatomical-site", "forehead") in forehead
    cheeks = [(c.system, c.code) for c in sites["cheeks"].coding]
    assert all(system != SNOMED for system, _ in cheeks)
    assert ("urn:x-injector:anatomical-site", "cheek_left") in cheeks
    # Still a valid bundle for both validators the export's own tests use.
    data = json.loads(
        export_text(db, ExportFormat.FHIR, session_id=recorded.session_id, exported_at=T0)
    )
    R4BBundle.model_validate(data)
    r4 = pytest.importorskip("fhirclient.models.bundle", reason="the R4 check needs fhirclient")
    assert r4.Bundle(data, strict=True).as_json() == data


def test_plan_add_takes_a_site_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "clinic.sqlite3")
    assert (
        main(["patient", "add", "--id", "P-2", "--name", "A B", "--born", "1980-01-01", "--db", db])
        == 0
    )
    zone = (
        "name=chin,area=chin,technique=nappage,depth=1.5,tolerance=0.3,volume=0.05,"
        "points=10,site={}"
    )
    base = [
        "plan",
        "add",
        "--patient",
        "P-2",
        "--indication",
        "wrinkles_and_lines",
        "--product",
        "Revita",
        "--lot",
        "L1",
        "--expiry",
        "2035-01-01",
        "--sessions",
        "4",
        "--db",
        db,
    ]
    assert main([*base, "--zone", zone.format("chin")]) == 0
    capsys.readouterr()
    assert main([*base, "--zone", zone.format("jaw")]) != 0
    error = capsys.readouterr().err
    assert "site" in error and "Traceback" not in error


def test_a_site_this_version_does_not_know_is_listed_beside_the_map(db: Database) -> None:
    recorded = record_session(db)
    # As a newer version of the program might have stored it.
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE plan_zone SET site = 'earlobe_left' WHERE name = 'forehead'"))
    html = render_session_html(
        load_session_report(db, recorded.session_id), generated_at=datetime(2026, 11, 3, tzinfo=UTC)
    )
    assert "Zones without a site on the map" in html and "forehead:" in html
    bundle = fhir_bundle(load_session_record(db, recorded.session_id), exported_at=T0)
    procedure = next(e.resource for e in bundle.entry if e.resource.resourceType == "Procedure")
    codes = [(c.system, c.code) for site in procedure.bodySite for c in site.coding]
    assert ("urn:x-injector:anatomical-site", "earlobe_left") in codes
