"""One set of numbers: a batch of shots with every flag combination (and implausible values)
counted through every path that shows a session's numbers gives the same figures everywhere:
the live tally, a restarted recorder, the stored session's progress, the review, the live
screen's model, ``injector session show`` and the JSON and FHIR exports."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from injector.cli.main import main
from injector.domain.shot_rules import (
    DEPTH_MAX_UM,
    VOLUME_MAX_NL,
    ShotKind,
    implausible_reason,
    shot_kind,
)
from injector.export.document import session_out
from injector.export.fhir import fhir_bundle
from injector.export.snapshot import load_session_record
from injector.export.zones import zone_deliveries
from injector.session import DeviceInfo, LiveSession, ShotIn, open_or_continue
from injector.session.clinical import start_session
from injector.session.live_session import ZonePlan
from injector.session.progress import PlanProgress
from injector.session.series import session_progress
from injector.storage import Database, open_database
from tests.session.builders import CLEAN_CHECKLIST, add_patient_and_plan
from tui.clinic import DatabaseClinic
from tui.live_model import LiveModel, zone_views
from tui.state import LiveView

GUN = DeviceInfo("SN0042", "MG-400", "2.4.1")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _batch() -> list[tuple[int, int, int]]:
    """(flags, depth µm, volume nL): every combination of the four defined flags with a
    plausible depth (0 for air), then each kind of absurd value a CRC-valid frame can carry."""
    shots: list[tuple[int, int, int]] = []
    for flags in range(16):
        depth = 0 if flags & 0x02 else 1600
        shots.append((flags, depth, 50_000))
        shots.append((flags, depth, 50_000))
    shots += [
        (0, 65_535, 50_000),  # depth 65.5 mm
        (0, 1600, 4_294_967_295),  # a 4.29 L shot
        (0, 0, 50_000),  # depth 0 on skin
        (0x10, 1600, 50_000),  # an undefined flag bit
        (0x8000, 1600, 50_000),
        (0x02, 1600, 50_000),  # an air shot that claims a depth
        (0, 1600, 0),  # nothing delivered, not flagged partial
        (0x01, 1600, 0),  # partial, syringe empty: plausible
        (0, DEPTH_MAX_UM, VOLUME_MAX_NL),  # the deepest, largest plausible shot
    ]
    return shots


def test_the_rule_names_each_kind() -> None:
    assert shot_kind(0, 1600, 50_000) is ShotKind.POINT
    assert shot_kind(0x04, 1600, 12_500) is ShotKind.FLOW
    assert shot_kind(0x06, 0, 12_500) is ShotKind.AIR
    assert shot_kind(0x01, 1600, 20_000) is ShotKind.POINT
    for flags, depth, volume in [(0, 65_535, 1), (0, 1, 4_294_967_295), (0, 0, 1), (0x20, 1, 1)]:
        assert shot_kind(flags, depth, volume) is ShotKind.IMPLAUSIBLE
    assert implausible_reason(0, 65_535, 50_000) == "depth 65.535 mm (deeper than 20 mm)"
    assert implausible_reason(0x10, 1600, 50_000) == ("flag bits 0x10 that IGP/1 does not define")
    assert implausible_reason(0, 1600, 50_000) is None


def _record(db: Database) -> tuple[LiveSession, int, list[tuple[int, int, int]]]:
    plan_id = add_patient_and_plan(db)
    session_id = start_session(
        db, plan_id, CLEAN_CHECKLIST, practitioner="Dr Test", device=GUN, now=T0
    )
    live = open_or_continue(db, GUN, session_id=session_id)
    zone = live.zones[0].id
    live.set_active_zone(zone, at=T0)
    batch = _batch()
    shots = [
        ShotIn(
            GUN.serial,
            7,
            n,
            n * 100,
            T0 + timedelta(seconds=n),
            depth,
            volume,
            flags & ~0x08,
            2_000_000,
            T0 + timedelta(seconds=n),
            bool(flags & 0x08),
        )
        for n, (flags, depth, volume) in enumerate(batch, start=1)
    ]
    half = len(shots) // 2
    live.add_shots(shots[:half])
    live.add_shots(shots[half:])
    return live, zone, batch


def _figures(progress: PlanProgress) -> tuple[int, ...]:
    t = progress.total
    return (
        t.shots,
        t.points,
        t.volume_nl,
        t.air_shots,
        t.air_volume_nl,
        t.partial_shots,
        t.depth_out_of_tolerance,
        t.implausible_shots,
    )


def test_every_path_gives_the_same_numbers(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = open_database(db_url)
    try:
        live, _zone, batch = _record(db)
        session_id = live.session_id
        # A restarted recorder rebuilds its tally from what is stored: the same figures as
        # the tally kept while recording.
        restarted = open_or_continue(db, GUN)
        assert restarted.session_id == session_id
        assert _figures(restarted.progress()) == _figures(live.progress())
        live.end(actor="Dr Test")
        expected_points = sum(
            1 for f, d, v in batch if shot_kind(f & ~0x08, d, v) is ShotKind.POINT
        )

        stored = session_progress(db, session_id)
        figures = _figures(stored)
        shots, points, volume, air, _air_volume, partial, _out, implausible = figures
        # The four CONTINUOUS flags combinations on skin are flow, not points; the nine absurd
        # rows less the two plausible ones are implausible.
        assert shots == len(batch)
        assert points == expected_points
        assert air == 16
        assert implausible == 7
        assert volume == sum(v for f, d, v in batch if shot_kind(f & ~0x08, d, v).on_skin)
        assert volume < 4_294_967_295
        assert partial == sum(
            1
            for f, d, v in batch
            if f & 1 and shot_kind(f & ~0x08, d, v) is not ShotKind.IMPLAUSIBLE
        )

        assert figures == _figures(live.progress())

        # The live screen's model, fed the live tally.
        view = db_live_view(stored)
        assert view.shot_count == shots and view.session_volume_nl == volume
        assert view.session_points == points

        # The review (from the database, and from the live tally it is handed).
        clinic = DatabaseClinic(db, "Dr Test", today=lambda: date(2026, 11, 2))
        review = clinic.session_summary(session_id)
        assert review.total_shots == shots and review.total_volume_nl == volume
        assert sum(z.points_done for z in review.zones) == points
        assert f"{implausible} shots with values no gun can report" in "\n".join(review.deviations)
        clinic.remember_progress(live.progress())
        remembered = clinic.session_summary(session_id)
        assert (remembered.total_shots, remembered.total_volume_nl) == (shots, volume)

        # The exports.
        record = load_session_record(db, session_id)
        counts = session_out(record).counts
        assert (
            counts.shots,
            counts.points,
            counts.volume_nl,
            counts.air_shots,
            counts.partial_shots,
            counts.implausible_shots,
        ) == (shots, points, volume, air, partial, implausible)
        deliveries = zone_deliveries(record)
        assert sum(d.points for d in deliveries) == points
        assert sum(d.volume_nl for d in deliveries) == volume
        assert sum(d.shots for d in deliveries) == shots
        bundle = json.loads(fhir_bundle(record, exported_at=T0).model_dump_json())
        administrations = [
            e["resource"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "MedicationAdministration"
        ]
        dosage = administrations[0]["dosage"]["text"]
        # "Shots" is every stored shot on every screen and export (the air shot included:
        # counting it on one screen and not another made them differ by one).
        assert f"{points} points and 8 continuous-flow reports" in dosage
        assert f"{shots} shots recorded" in dosage
    finally:
        db.close()

    if "postgresql" in db_url:
        return
    code = main(["session", "show", str(session_id), "--db", db_url])
    out = capsys.readouterr().out
    assert code == 0
    assert f"{shots} shots" in out and f"{points} points" in out
    assert f"{implausible} shots with values no gun can report" in out


def db_live_view(progress: PlanProgress) -> LiveView:
    """The live screen's model after the session logic's tally was applied."""
    zones = [
        ZonePlan(z.zone_id or 0, i, z.name, 1500, 300, 50_000, z.points_planned, 200_000)
        for i, z in enumerate(progress.zones)
        if z.zone_id is not None
    ]
    model = LiveModel("t", zone_views(zones))
    model.apply_progress(progress)
    return model.view()
