"""The session report of a recorded session: its numbers, map, charts, events and sign-off."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from injector.cli.main import main
from injector.domain.inputs import Checklist, PatientInput, PlanInput, parse
from injector.report.figures import percent_of_plan, when
from injector.report.session_data import load_session_report
from injector.report.session_report import render_session_html
from injector.session import open_or_continue
from injector.session.clinical import shots_digest, start_session
from injector.session.patients_plans import create_patient, create_plan, get_plan
from injector.session.series import session_progress
from injector.storage import open_database
from tests.report.html_parts import read
from tests.report.recorded_series import DAY1, GUN, ZONES, GunShots, RecordedSeries
from tests.session.builders import (
    CLEAN_CHECKLIST,
    add_patient_and_plan,
    patient_data,
    plan_data,
)

GENERATED = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
SHOW_ZONE = re.compile(
    r"^    (?P<name>.+): (?P<points>\d+)/(?P<planned>\d+), (?P<volume>[\d.]+) mL/"
    r"(?P<volume_planned>[\d.]+) mL(?: \((?P<extras>.*)\))?$"
)


def _extra(line: re.Match[str], words: str) -> str:
    """The count ``session show`` gives in words (``3 air shots``), "0" when it says none."""
    found = re.search(rf"(\d+) {words}", line["extras"] or "")
    return found.group(1) if found else "0"


def _html(db_url: str, session_id: int, generated: datetime = GENERATED) -> str:
    database = open_database(db_url)
    try:
        return render_session_html(
            load_session_report(database, session_id), generated_at=generated
        )
    finally:
        database.close()


def _ml(text: str) -> float:
    return float(text.replace("\u00a0", " ").split(" mL")[0])


def test_the_table_numbers_are_session_shows(
    recorded: tuple[str, RecordedSeries], capsys: pytest.CaptureFixture[str]
) -> None:
    db_url, series = recorded
    assert main(["session", "show", str(series.session_id), "--db", db_url]) == 0
    shown = {
        m["name"]: m
        for line in capsys.readouterr().out.splitlines()
        if (m := SHOW_ZONE.match(line))
    }
    rows = {
        row.attrs["data-zone"]: row
        for row in read(_html(db_url, series.session_id)).rows
        if "data-zone" in row.attrs
    }
    assert set(shown) == set(rows) and len(rows) == len(ZONES) + 1  # the zones and the total
    for name, line in shown.items():
        fields = rows[name].fields
        assert fields["points"] == f"{line['points']} / {line['planned']}"
        done, planned = fields["volume"].split(" / ")
        assert _ml(done) == pytest.approx(float(line["volume"]))
        assert _ml(planned) == pytest.approx(float(line["volume_planned"]))
        assert fields["out-of-band"] == _extra(line, r"shots? outside the depth band")
        assert fields["air"] == _extra(line, "air shots?")
        assert fields["partial"] == _extra(line, "partial shots?")
    # The incidents of the recording are there: two shots too deep and one in the air.
    assert rows["forehead"].fields["out-of-band"] == "2"
    assert rows["forehead"].fields["air"] == "1"


def test_every_planned_zone_is_on_the_map_with_its_percentage(
    recorded: tuple[str, RecordedSeries],
) -> None:
    db_url, series = recorded
    database = open_database(db_url)
    try:
        progress = {z.name: z for z in session_progress(database, series.session_id).zones}
    finally:
        database.close()
    html = _html(db_url, series.session_id)
    report = read(html)
    groups = {group.zone: group for group in report.groups}
    for zone in ZONES:
        name = zone["name"]
        percent = percent_of_plan(progress[name])
        assert percent is not None
        label = f"{name} {percent} %"
        if zone.get("site"):
            assert label in " ".join(groups[name].text.replace("\u00a0", " ").split())
            assert name in groups[name].title
        else:
            # No site: listed beside the map, never dropped.
            assert name not in groups
            assert f"{name}: {percent} % of planned volume" in html.replace("\u00a0", " ")
    assert "left cheek 130 %" in html  # 13 points of a planned 10: over plan, and hatched
    assert "patient's right" in html and "patient's left" in html


def test_each_chart_is_there_and_names_its_axes_and_units(
    recorded: tuple[str, RecordedSeries],
) -> None:
    db_url, series = recorded
    html = _html(db_url, series.session_id)
    depth = html[html.index('id="depth"') : html.index('id="over-time"')]
    over_time = html[html.index('id="over-time"') : html.index('id="device-events"')]
    # One small histogram per zone, each with its axes named with units.
    assert depth.count(">depth (mm)<") == len(ZONES)
    assert depth.count(">shots (count)<") == len(ZONES)
    assert "planned depth band" in depth and "target depth" in depth
    assert "time since the session started (min)" in over_time
    assert "cumulative volume (mL)" in over_time
    for kind in ("zone change", "lock", "fault", "link lost"):
        assert f">{kind}<" in over_time
    for zone in ZONES:
        assert f">{zone['name']}<" in depth.replace("&#39;", "'")
        assert f"maximum, {zone['name']}" in over_time.replace("&#39;", "'")
    # Text is kept as text in one font, not drawn as glyph outlines.
    assert "font-family:'DejaVu Sans'" in html.replace('"', "'").replace(": ", ":") or (
        "DejaVu Sans" in html
    )
    assert 'id="DejaVuSans-' not in html


def test_events_sign_off_amendment_and_previous_session(
    recorded: tuple[str, RecordedSeries],
) -> None:
    db_url, series = recorded
    html = _html(db_url, series.session_id)
    adverse = html[html.index('id="adverse-events"') : html.index('id="notes"')]
    assert "bruising" in adverse and "mild" in adverse and "small bruise, left cheek" in adverse
    database = open_database(db_url)
    try:
        with database.read() as conn:
            count, digest = shots_digest(conn, series.session_id)
    finally:
        database.close()
    sign_off = html[html.index('id="sign-off"') : html.index('id="previous"')]
    assert digest in sign_off and f"<td>{count}</td>" in sign_off
    assert "Signed by <strong>Dr Test</strong>" in sign_off
    assert "notes added after the session" in sign_off  # the amendment's reason
    assert "Patient tolerated well; ice applied." in html  # the notes as amended
    checklist = html[html.index('id="checklist"') : html.index('id="zone-map"')]
    assert "Warnings acknowledged by Dr Test" in checklist and "before-photos" in checklist
    events = html[html.index('id="device-events"') : html.index('id="adverse-events"')]
    for kind in ("fault raised", "link lost", "locked"):
        assert kind in events
    previous = html[html.index('id="previous"') :]
    assert f"session {series.first_session_id}." in previous
    rows = [row for row in read(previous).rows if "data-previous" in row.attrs]
    assert [row.attrs["data-previous"] for row in rows] == [z["name"] for z in ZONES] + ["total"]
    # Session 1 fired 80 % of the planned points; each zone's mean depth is there for both.
    forehead = rows[0].cells
    assert forehead[1] == str(round(12 * 0.8)) and forehead[2] == "12"
    assert all(cell.endswith("mm") for cell in forehead[5:7])


def test_the_same_record_gives_the_same_report_but_for_its_own_time(
    recorded: tuple[str, RecordedSeries],
) -> None:
    db_url, series = recorded
    first = _html(db_url, series.session_id, GENERATED)
    later = datetime(2027, 1, 5, 17, 45, tzinfo=UTC)
    second = _html(db_url, series.session_id, later)
    assert first != second
    assert first.replace(when(GENERATED), "T") == second.replace(when(later), "T")


def test_the_html_loads_nothing_from_anywhere(recorded: tuple[str, RecordedSeries]) -> None:
    db_url, series = recorded
    html = _html(db_url, series.session_id)
    report = read(html)
    assert not report.tags & {"script", "link", "img", "iframe", "object", "embed", "base"}
    # Only references within the page itself (the map's hatch pattern, the charts' clips).
    assert all(ref.startswith("#") for ref in report.references), report.references
    styles = " ".join(report.style_text)
    assert "@import" not in styles
    assert all(url.startswith("#") for url in re.findall(r"url\(\s*['\"]?([^)'\"]*)", html))
    assert "@font-face" not in styles


def test_a_session_with_nothing_recorded_still_reports(tmp_path: Path) -> None:

    database = open_database(str(tmp_path / "empty.db"))
    try:
        plan_id = add_patient_and_plan(database)
        checklist = Checklist(
            nsaid_last_7_days=False,
            numbing_applied=False,
            consent_recorded=True,
            before_photos_taken=True,
        )
        session_id = start_session(database, plan_id, checklist, practitioner="Dr Test")
        html = render_session_html(
            load_session_report(database, session_id), generated_at=GENERATED
        )
    finally:
        database.close()
    assert "Not signed." in html
    assert "No adverse events recorded." in html
    assert "forehead: 0 % of planned volume" in html.replace("\u00a0", " ")


def test_names_are_shown_as_typed_never_as_markup(tmp_path: Path) -> None:

    odd_zone = "cheek <b>\"$5$\" & 'left'</b>"
    database = open_database(str(tmp_path / "odd.db"))
    try:
        create_patient(
            database,
            parse(PatientInput, patient_data(name="<script>alert(1)</script> O'Brien")),
            actor="Dr Test",
        )
        zones = [plan_data()["zones"][0] | {"name": odd_zone, "site": "cheek_left"}]
        plan_id = create_plan(
            database, parse(PlanInput, plan_data(zones=zones)), actor="Dr Test"
        ).plan_id
        zone_id = get_plan(database, plan_id).zones[0].id
        session_id = start_session(
            database, plan_id, CLEAN_CHECKLIST, practitioner="Dr <i>", device=GUN, now=DAY1
        )
        live = open_or_continue(database, GUN, session_id=session_id, now=DAY1)
        gun = GunShots(1, DAY1)
        live.set_active_zone(zone_id, at=gun.at(), actor="Dr Test")
        live.add_shots(gun.fire(3, 1500, 50_000))
        html = render_session_html(
            load_session_report(database, session_id), generated_at=GENERATED
        )
    finally:
        database.close()
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    report = read(html)
    assert [g.zone for g in report.groups] == [odd_zone]
    assert odd_zone in report.groups[0].text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; O&#39;Brien" in html
    # In the charts too, the dollars are dollars.
    assert html.count("$5$") >= 2
