"""The series report's numbers and dates, and the zone map for every site."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from injector.cli.main import main
from injector.domain.vocabulary import AnatomicalSite
from injector.report.series_report import load_series_report, render_series_html
from injector.report.zone_map import REGIONS, Figure, MapZone, zone_map
from injector.storage import open_database
from tests.report.html_parts import read
from tests.report.recorded_series import DAY1, DAY2, RecordedSeries

GENERATED = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
SHOW_TOTAL = re.compile(
    r"^    total: (?P<points>\d+)/(?P<planned>\d+), (?P<volume>[\d.]+) mL/(?P<vp>[\d.]+) mL"
)


def _series_html(db_url: str, plan_id: int, today: date) -> str:
    database = open_database(db_url)
    try:
        data = load_series_report(database, plan_id, today=today)
        return render_series_html(data, generated_at=GENERATED)
    finally:
        database.close()


def test_every_session_side_by_side_with_session_shows_totals(
    recorded: tuple[str, RecordedSeries], capsys: pytest.CaptureFixture[str]
) -> None:
    db_url, series = recorded
    html = _series_html(db_url, series.plan_id, GENERATED.date())
    rows = {
        row.attrs["data-session"]: row for row in read(html).rows if "data-session" in row.attrs
    }
    assert set(rows) == {str(series.first_session_id), str(series.session_id)}
    for session_id, row in rows.items():
        assert main(["session", "show", session_id, "--db", db_url]) == 0
        total = next(
            m for line in capsys.readouterr().out.splitlines() if (m := SHOW_TOTAL.match(line))
        )
        assert row.fields["points"] == f"{total['points']} / {total['planned']}"
        done = float(row.fields["volume"].split(" / ")[0].replace("\u00a0", " ").split(" ")[0])
        assert done == pytest.approx(float(total["volume"]))
    second = rows[str(series.session_id)].cells
    # 8 days after the first session, within the plan's 7–10 days.
    assert second[4] == str((DAY2.date() - DAY1.date()).days) and second[5] == "7–10 days"
    assert second[10] == "1"  # one adverse event


def test_charts_adverse_events_remaining_and_next_due(
    recorded: tuple[str, RecordedSeries],
) -> None:
    db_url, series = recorded
    html = _series_html(db_url, series.plan_id, GENERATED.date())
    assert "volume delivered (mL)" in html and "mean depth (mm)" in html
    assert html.count(">session<") == 2  # each chart names its x axis
    adverse = html[html.index('id="adverse-events"') :]
    assert "bruising" in adverse and "small bruise, left cheek" in adverse
    assert "2 completed, 0 skipped, 0 aborted; 4 remaining" in html
    # Due 7–10 days after the last session done (DAY2 = 2026-11-10).
    assert "session 3 of 6, due 2026-11-17 to 2026-11-20" in html
    assert "overdue" not in html.split('id="adverse-events"')[0]
    late = _series_html(db_url, series.plan_id, date(2026, 11, 25))
    assert "the next session was overdue by 5 days" in late


def test_every_site_has_a_region_on_one_figure_and_each_zone_its_group() -> None:
    zones = [MapZone(f"zone {site.value}", site, 10 * i) for i, site in enumerate(AnatomicalSite)]
    drawn = zone_map([*zones, MapZone("unplaced one", None, 55)])
    assert set(REGIONS) == set(AnatomicalSite)
    assert len(drawn.figures) == len(Figure)  # face, body front and body back all needed
    report = read("".join(drawn.figures))
    assert sorted(g.zone for g in report.groups) == sorted(z.name for z in zones)
    for group, zone in zip(
        sorted(report.groups, key=lambda g: g.zone),
        sorted(zones, key=lambda z: z.name),
        strict=True,
    ):
        assert group.text == f"{zone.name} {zone.percent} %"
        assert zone.site is not None and zone.site.label in group.title
    assert [z.name for z in drawn.unplaced] == ["unplaced one"]


def test_only_the_figures_a_plan_needs_are_drawn() -> None:
    face = zone_map([MapZone("chin", AnatomicalSite.CHIN, 90)])
    assert len(face.figures) == 1 and "zone map, face" in face.figures[0]
    back = zone_map([MapZone("glutes", AnatomicalSite.BUTTOCK_LEFT, 120)])
    assert len(back.figures) == 1 and "zone map, body, back" in back.figures[0]
    # Seen from behind, the patient's left is on the left of the drawing.
    assert back.figures[0].index("patient's left") < back.figures[0].index("patient's right")
    none = zone_map([MapZone("somewhere", None, 0)])
    assert none.figures == () and none.unplaced[0].name == "somewhere"
