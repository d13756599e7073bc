"""SQL-injection strings through every text field of the CLI and of plan files: stored and
shown verbatim, matched only as themselves, and the schema untouched. Every statement binds
its values; this proves it on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from injector.cli.main import main
from injector.session.clinical import start_session
from injector.storage.engine import DB_ENV_VAR, open_database
from tests.session.builders import CLEAN_CHECKLIST, pin_of
from tests.session.test_records import documented_example

# Each breaks out of a quoted literal in its own way; none holds a comma (zone specs split on
# commas) and every one is valid text for every field.
DROP = "Robert'); DROP TABLE patient;--"
TAUTOLOGY = "x' OR '1'='1"
STACKED = 'a"; DELETE FROM treatment_session; --'
COMMENT = "P-9'/*"
PG_DOLLAR = "$$; DROP TABLE audit_log; $$"


@pytest.fixture(autouse=True)
def _no_env_db(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DB_ENV_VAR, raising=False)


def _run(capsys: pytest.CaptureFixture[str], *argv: str, code: int = 0) -> str:
    assert main(list(argv)) == code, capsys.readouterr().err
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.out


def test_injection_strings_are_stored_verbatim_and_match_only_themselves(
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = ("--db", db_url)
    out = _run(
        capsys,
        *("patient", "add", "--id", COMMENT, "--name", DROP, "--born", "1985-04-12"),
        *("--contact", STACKED, "--allergies", TAUTOLOGY, "--contraindications", PG_DOLLAR),
        *("--by", DROP, *db),
    )
    assert out == f"patient {COMMENT} added (record 1)\n"
    out = _run(
        capsys,
        *("plan", "add", "--patient", COMMENT, "--indication", "cellulite", "--area", DROP),
        *("--product", TAUTOLOGY, "--component", STACKED, "--manufacturer", PG_DOLLAR),
        *("--lot", DROP, "--expiry", "2035-01-31", "--sessions", "4", "--notes", STACKED),
        *("--zone", f"name={TAUTOLOGY},area=thighs,technique=nappage,depth=2,volume=0.05,points=4"),
        *("--by", STACKED, *db),
    )
    plan_id = int(re.fullmatch(r"plan (\d+) added for patient .*\n", out, re.S).group(1))  # type: ignore[union-attr]

    # A plan file with an injection string in every text field it has.
    text = documented_example()
    for field in ("identifier", "name", "contact", "allergies", "contraindication_notes"):
        text = re.sub(
            rf'^{field} = ".*"$',
            f'{field} = "{_toml(TAUTOLOGY + field)}"',
            text,
            count=1,
            flags=re.M,
        )
    for field in ("indication_area", "notes", "product_name", "manufacturer", "lot_number"):
        text = re.sub(
            rf'^{field} = ".*"$', f'{field} = "{_toml(DROP + field)}"', text, count=1, flags=re.M
        )
    text = text.replace('"left thigh, lateral"', f'"{_toml(STACKED)}"')
    text = text.replace('"phosphatidylcholine"', f'"{_toml(PG_DOLLAR)}"')
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(text, encoding="utf-8")
    out = _run(capsys, "plan", "import", str(plan_file), "--by", COMMENT, *db)
    assert f"patient {TAUTOLOGY}identifier added" in out

    # A session, ended, signed, amended and with an adverse event, all through the CLI.
    database = open_database(db_url)
    try:
        session_id = start_session(
            database, plan_id, CLEAN_CHECKLIST, practitioner=STACKED, acknowledged=True
        )
        # The signer and the amender are practitioners of the record, with injection strings
        # for names; signing and amending read their PINs, one line each from standard input.
        pins = f"{pin_of(database, TAUTOLOGY)}\n{pin_of(database, COMMENT)}\n"
        monkeypatch.setattr("sys.stdin", io.StringIO(pins))
    finally:
        database.close()
    sid = str(session_id)
    _run(capsys, "session", "end", sid, "--by", DROP, *db)
    _run(capsys, "session", "sign", sid, "--name", TAUTOLOGY, "--meaning", PG_DOLLAR, *db)
    _run(
        capsys,
        *("session", "amend", sid, "--reason", DROP, "--set", f"notes={STACKED}"),
        *("--set", f"lot_number={TAUTOLOGY}", "--by", COMMENT, *db),
    )
    _run(
        capsys,
        *("session", "adverse", sid, "--kind", "bruising", "--severity", "mild"),
        *("--onset", datetime.now(UTC).isoformat(), "--notes", DROP, "--by", PG_DOLLAR, *db),
    )

    # Lookups by text match the string itself, never everything.
    for probe in ("' OR '1'='1", "x' OR 1=1 --", "%", "*"):
        assert _run(capsys, "session", "list", "--patient", probe, *db) == "no sessions\n"
        assert _run(capsys, "session", "list", "--gun", probe, *db) == "no sessions\n"
        assert _run(capsys, "session", "lot", probe, *db) == f"no session used lot {probe}\n"
    listed = _run(capsys, "session", "list", "--patient", COMMENT, *db)
    assert listed.count("\n") == 2 and STACKED in listed  # the header and the one session
    lot = _run(capsys, "session", "lot", TAUTOLOGY, *db)
    assert lot.startswith(f"session {session_id}\t") and f"patient {COMMENT}\t{DROP}\t" in lot

    # Everything is there, verbatim, and the trail is whole.
    patients = _run(capsys, "patient", "list", *db)
    assert f"{COMMENT}\t{DROP}\t1985-04-12\t[allergies]\n" in patients
    assert f"{TAUTOLOGY}identifier\t{TAUTOLOGY}name\t" in patients
    shown = _run(capsys, "plan", "show", str(plan_id), *db)
    assert f"({DROP})" in shown and f"solution: {TAUTOLOGY} [{STACKED}] by {PG_DOLLAR}" in shown
    assert f"lot {DROP}," in shown and f"1. {TAUTOLOGY} (thighs, nappage)" in shown
    session = _run(capsys, "session", "show", sid, *db)
    assert f"practitioner {STACKED};" in session
    assert f"signed by {TAUTOLOGY} at " in session and session.count(PG_DOLLAR) == 1
    assert f"amended by {COMMENT} at " in session and f"({DROP})" in session
    assert _run(capsys, "audit", "verify", *db).startswith("audit trail intact")


def _toml(text: str) -> str:
    """``text`` inside a TOML basic string."""
    return text.replace("\\", "\\\\").replace('"', '\\"')
