"""``injector capture info|dump|check|cut`` on captures of a gun's traffic."""

from __future__ import annotations

import csv
import io
import itertools
import json
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from injector.cli.main import main
from protocols.igp1 import Hello, Mode, Shot
from protocols.igp1.capture import CaptureReader
from simulators import Simulator
from tests.cli.recording import RecordProcess, query
from tests.protocols.captures import T0, Written, demo_capture
from tests.recorder.harness import wait_for
from tests.simulators.host import Host


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Written]:
    path = tmp_path_factory.mktemp("capture") / "demo.igpcap"
    return path, demo_capture(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["capture", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


# --- info ------------------------------------------------------------------------------------


def test_info_names_the_gun_its_boots_and_counts(
    demo: tuple[Path, Written], capsys: pytest.CaptureFixture[str]
) -> None:
    path, written = demo
    code, out, _ = run(capsys, "info", str(path))
    assert code == 0
    assert "gun       MG-400 SN0042, firmware 2.4.1 (2 HELLO)" in out
    assert "boots     2" in out
    assert "boot 0x5eed1234: " in out and "boot 0x0badf00d: " in out
    assert "shots 1–100 (100 seen, 0 never seen, 3 retransmitted)" in out
    assert "faults raised: NEEDLE_NOT_SEATED(4)×1" in out
    assert "time      2026-11-25T10:00:00.000Z → " in out
    shots = sum(isinstance(m, Shot) for _t, m in written.rx)
    assert f"SHOT {shots}," in out
    assert f"{written.noise_bytes} garbage bytes" in out
    assert "opens     2: '/dev/ttyACM0 at 115200 baud'×2" in out
    assert "damage    none" in out


def test_info_as_json_carries_the_decoder_statistics(
    demo: tuple[Path, Written], capsys: pytest.CaptureFixture[str]
) -> None:
    path, written = demo
    code, out, _ = run(capsys, "info", str(path), "--format", "json")
    info = json.loads(out)
    assert code == 0
    assert info["decoder"]["RX"]["frames"] == len(written.rx)
    assert info["decoder"]["TX"]["frames"] == len(written.tx)
    assert info["decoder"]["RX"]["garbage_bytes"] == written.noise_bytes
    assert [b["boot_id"] for b in info["boots"]] == [0x5EED1234, 0x0BADF00D]
    assert info["boots"][0]["faults_raised"] == [
        {"code": 4, "name": "NEEDLE_NOT_SEATED", "count": 1}
    ]


# --- dump ------------------------------------------------------------------------------------


def test_dump_shows_every_frame_of_both_directions_in_order(
    demo: tuple[Path, Written], capsys: pytest.CaptureFixture[str]
) -> None:
    path, written = demo
    code, out, _ = run(capsys, "dump", str(path), "--format", "json")
    assert code == 0
    rows = json_lines(out)
    frames = [r for r in rows if r["type"] not in ("OPEN", "CLOSE", "GARBAGE", "DAMAGE")]
    assert len(frames) == len(written.rx) + len(written.tx)
    rx = [r for r in frames if r["dir"] == "RX"]
    assert [r["type"] for r in rx] == [m.NAME for _t, m in written.rx]
    shots = [(r, m) for r, (_t, m) in zip(rx, written.rx, strict=True) if isinstance(m, Shot)]
    for row, shot in shots:
        assert (row["shot_no"], row["depth_um"], row["volume_nl"]) == (
            shot.shot_no,
            shot.depth_um,
            shot.volume_nl,
        )
    for row, (wall, _m) in zip(rx, written.rx, strict=True):
        assert row["t"] == pytest.approx((wall - T0) / 1e9)
    assert sum(r["bytes"] for r in rows if r["type"] == "GARBAGE") == written.noise_bytes  # type: ignore[misc]
    assert [r["type"] for r in rows if r["type"] in ("OPEN", "CLOSE")] == [
        "OPEN",
        "CLOSE",
        "OPEN",
        "CLOSE",
    ]


def test_dump_text_names_enumerations_by_name_and_number(
    demo: tuple[Path, Written], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = demo
    code, out, _ = run(capsys, "dump", str(path), "--type", "FAULT,hello,ack")
    lines = out.splitlines()
    assert code == 0
    assert len(lines) == 4 + 2 + 4
    fault = next(line for line in lines if " FAULT " in line)
    assert "code=NEEDLE_NOT_SEATED(4) active=RAISED(1)" in fault
    assert fault.startswith("2026-11-25T10:00:")
    assert " RX seq=" in fault and " up=" in fault
    assert "boot_id=0x5eed1234 model='MG-400' serial='SN0042'" in out
    assert "acked_msg=RESEND_REQ(0x81) acked_seq=" in out and "status=OK(0)" in out


def test_dump_csv_has_one_row_per_frame_under_a_fixed_header(
    demo: tuple[Path, Written], capsys: pytest.CaptureFixture[str]
) -> None:
    path, written = demo
    code, out, _ = run(capsys, "dump", str(path), "--format", "csv", "--type", "SHOT", "--raw")
    rows = list(csv.DictReader(io.StringIO(out)))
    shots = [m for _t, m in written.rx if isinstance(m, Shot)]
    assert code == 0
    assert len(rows) == len(shots)
    first = rows[0]
    assert (first["type"], first["msg_id"], first["shot_no"]) == ("SHOT", "16", "1")
    assert first["flags_name"] == "none"
    assert bytes.fromhex(first["raw"]) == shots[0].encode(int(first["seq"]))
    assert rows[-1]["flags_name"] == "none"
    assert any(r["flags_name"] == "RETRANSMIT" for r in rows)


def test_dump_window_by_offset_wall_time_and_uptime(
    demo: tuple[Path, Written], capsys: pytest.CaptureFixture[str]
) -> None:
    path, written = demo
    expected = [m for t, m in written.rx if T0 + 10e9 <= t < T0 + 20e9]
    for window in (("--from", "+10s", "--to", "+20"), ("--from", "10:00:10", "--to", "10:00:20")):
        code, out, _ = run(capsys, "dump", str(path), "--format", "json", "--type",
                           ",".join({m.NAME for m in expected}), *window)  # fmt: skip
        assert code == 0
        assert [r["type"] for r in json_lines(out)] == [m.NAME for m in expected]
    wall = ("--from", "2026-11-25T10:00:10Z", "--to", "2026-11-25 11:00:20+01:00")
    code, out, _ = run(capsys, "dump", str(path), "--type", "SHOT", "--format", "json", *wall)
    assert [r["shot_no"] for r in json_lines(out)] == [
        m.shot_no for m in expected if isinstance(m, Shot)
    ]
    # Uptime starts again at each power-up: the window selects that stretch of both boots.
    code, out, _ = run(capsys, "dump", str(path), "--type", "SHOT", "--format", "json",
                       "--from", "up:5000", "--to", "up:8s")  # fmt: skip
    rows = json_lines(out)
    assert rows and all(5000 <= r["device_uptime_ms"] < 8000 for r in rows)  # type: ignore[operator]
    assert [r["shot_no"] for r in rows] == [
        m.shot_no
        for _t, m in written.rx
        if isinstance(m, Shot) and 5000 <= m.uptime_ms < 8000 and not m.flags
    ]
    assert any(b["shot_no"] < a["shot_no"] for a, b in itertools.pairwise(rows))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--type", "SHOTS"), "--type SHOTS: SHOTS is not a line type; choose from ACK, CLOSE"),
        (("--from", "yesterday"), "--from 'yesterday' is not a time: give a date and time"),
        (("--from", "+20s", "--to", "+10s"), "--from +20s is not before --to +10s"),
    ],
)
def test_bad_options_are_one_line(
    demo: tuple[Path, Written],
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
    message: str,
) -> None:
    code, out, err = run(capsys, "dump", str(demo[0]), *argv)
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert message in err


def test_dump_piped_into_head_ends_quietly(tmp_path: Path) -> None:
    path = tmp_path / "long.igpcap"
    demo_capture(path, shots=4000)
    result = subprocess.run(
        f"{sys.executable} -m injector.cli.main capture dump {path} --format json | head -n 3; "
        "exit ${PIPESTATUS[0]}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 3


def test_dump_shows_damage_and_everything_after_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "damaged.igpcap"
    written = demo_capture(path)
    offsets = [r.offset for r in CaptureReader(path)]
    raw = bytearray(path.read_bytes())
    middle = offsets[len(offsets) // 2]
    raw[middle : middle + 64] = bytes(64)
    path.write_bytes(raw)
    code, out, _ = run(capsys, "dump", str(path), "--format", "json")
    rows = json_lines(out)
    damage = [r for r in rows if r["type"] == "DAMAGE"]
    assert code == 0
    assert len(damage) == 1 and damage[0]["offset"] == middle
    rx = [r for r in rows if r.get("dir") == "RX" and r["type"] != "GARBAGE"]
    # Only the frames whose bytes were in the overwritten records are gone.
    assert 0 < len(written.rx) - len(rx) <= 8
    assert [r["type"] for r in rx[-100:]] == [m.NAME for _t, m in written.rx[-100:]]


# --- check -----------------------------------------------------------------------------------


def test_check_exit_status_says_intact_damaged_or_unreadable(
    demo: tuple[Path, Written], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = demo
    code, out, _ = run(capsys, "check", str(path))
    assert code == 0
    assert out.startswith(f"{path}: intact: 296 records, ")

    damaged = tmp_path / "damaged.igpcap"
    raw = bytearray(path.read_bytes())
    raw[3000] ^= 0xFF
    raw[9000] ^= 0xFF
    damaged.write_bytes(raw[:-5])
    code, out, _ = run(capsys, "check", str(damaged))
    lines = out.splitlines()
    assert code == 1
    assert len(lines) == 4
    assert lines[0].startswith(f"{damaged}: corrupt record at byte ")
    assert lines[2].startswith(f"{damaged}: truncated record at byte ")
    assert lines[3].startswith(f"{damaged}: damaged: 3 unreadable spans, ")

    empty = tmp_path / "empty.igpcap"
    empty.touch()
    code, out, err = run(capsys, "check", str(empty))
    assert code == 2
    assert (
        err.strip()
        == f"injector capture: {empty} is empty (0 bytes): no capture was ever written to it"
    )
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    code, out, err = run(capsys, "check", str(text))
    assert code == 2 and "is not an IGP/1 capture file" in err


# --- cut -------------------------------------------------------------------------------------


def test_cut_writes_the_window_as_a_capture_that_knows_its_gun(
    demo: tuple[Path, Written], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, written = demo
    out_path = tmp_path / "window.igpcap"
    code, out, _ = run(capsys, "cut", str(path), str(out_path), "--from", "+20s", "--to", "+50s")
    assert code == 0
    assert out.startswith("wrote ") and str(out_path) in out
    assert stat.S_IMODE(out_path.stat().st_mode) == 0o600

    expected = [m for t, m in written.rx if T0 + 20e9 <= t < T0 + 50e9]
    code, out, _ = run(capsys, "dump", str(out_path), "--format", "json")
    rows = json_lines(out)
    rx = [r for r in rows if r.get("dir") == "RX" and r["type"] != "GARBAGE"]
    # The gun's identity first (HELLO, SETTINGS, the last HEARTBEAT), then the window.
    assert [r["type"] for r in rx[:3]] == ["HELLO", "SETTINGS", "HEARTBEAT"]
    assert [r["type"] for r in rx[3:]] == [m.NAME for m in expected]
    assert rows[0]["type"] == "OPEN"
    assert rows[0]["t"] == 0 and rx[0]["t"] == 0
    code, out, _ = run(capsys, "check", str(out_path))
    assert code == 0


def test_cut_refuses_an_empty_window_its_own_input_and_no_bounds(
    demo: tuple[Path, Written], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = demo
    out_path = tmp_path / "window.igpcap"
    code, _, err = run(capsys, "cut", str(path), str(out_path), "--from", "+1h")
    assert code == 2 and "nothing written" in err
    assert not out_path.exists() and list(tmp_path.iterdir()) == []
    code, _, err = run(capsys, "cut", str(path), str(path), "--from", "+1s")
    assert code == 2 and "is the capture being cut" in err
    code, _, err = run(capsys, "cut", str(path), str(out_path))
    assert code == 2 and "cut needs --from, --to or both" in err


def test_a_cut_replays_its_window_to_a_host(
    demo: tuple[Path, Written], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The cut is replayed by the simulator over a real pseudo-terminal, to a pyserial host."""
    path, written = demo
    cut = tmp_path / "window.igpcap"
    assert run(capsys, "cut", str(path), str(cut), "--from", "+20s", "--to", "+50s")[0] == 0
    expected = [
        m.shot_no for t, m in written.rx if T0 + 20e9 <= t < T0 + 50e9 and isinstance(m, Shot)
    ]
    with Simulator(replay=cut, speed="max", link=tmp_path / "gun") as sim:
        host = Host(str(sim.path))
        deadline = time.monotonic() + 60
        while host.count(Shot) < len(expected) and time.monotonic() < deadline:
            host.pump()
        host.close()
    assert [m.shot_no for m in host.messages(Shot)] == expected
    hello = host.messages(Hello)
    assert hello and hello[0].boot_id == 0x5EED1234


# --- a live port, through the same read path ---------------------------------------------------


def test_dump_reads_a_live_port_until_interrupted(tmp_path: Path) -> None:
    link = tmp_path / "gun"
    with Simulator("idle", speed=20, seed=3, link=link):
        proc = subprocess.Popen(
            [sys.executable, "-m", "injector.cli.main", "capture", "dump", "--port", str(link),
             "--format", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            rows = [json.loads(proc.stdout.readline()) for _ in range(4)]
            proc.send_signal(signal.SIGINT)
            assert proc.wait(20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert rows[0]["type"] == "OPEN" and rows[0]["text"] == f"{link} at 115200 baud"
    beats = rows[1:]
    assert [r["type"] for r in beats] == ["HEARTBEAT"] * 3
    assert all(r["dir"] == "RX" and r["device_uptime_exact"] for r in beats)
    assert beats[0]["uptime_ms"] < beats[1]["uptime_ms"] < beats[2]["uptime_ms"]


# --- a capture written by the real recorder ----------------------------------------------------


def test_info_on_a_real_recording_agrees_with_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link, db, capture = tmp_path / "gun", tmp_path / "rec.db", tmp_path / "run.igpcap"
    with Simulator("idle", speed=20, seed=21, link=link) as sim:
        sim.set_settings(mode=Mode.REPEAT, rate_spm=600)
        rec = RecordProcess(
            tmp_path / "record.log",
            *("--port", str(link), "--db", str(db), "--capture", str(capture)),
        )
        try:
            rec.wait_for_text("link live")
            sim.press_trigger(40)
            assert sim.wait_until(lambda s: s.gun is not None and not s.gun.trigger_busy, 30)
            fired = len(sim.shots())
            wait_for(lambda: query(db, "select count(*) from shot") == [(fired,)], 30, "shots")
            boot = sim.boot_id
            assert rec.stop() == 0
        finally:
            rec.kill()
    code, out, _ = run(capsys, "info", str(capture), "--format", "json")
    info = json.loads(out)
    assert code == 0
    assert info["guns"][0]["model"] == "MG-400" and info["guns"][0]["serial"] == "SN0042"
    (booted,) = [b for b in info["boots"] if b["boot_id"] == boot]
    assert booted["shots_seen"] == fired == query(db, "select count(*) from shot")[0][0]
    assert info["frames"]["TX"]["IDENT_REQ"] >= 1
    assert info["records"]["OPEN"] >= 1 and info["records"]["CLOSE"] >= 1
    assert info["damage"] == []
    code, out, _ = run(capsys, "check", str(capture))
    assert code == 0 and "intact" in out
