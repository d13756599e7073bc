"""``injector soak``: the recorder against the simulated gun under every fault, then one table.

The simulator runs the ``stress`` scenario (continuous shots, a syringe swapped every 1,000) sped
up to about a full 115200-baud line, with noise, bit flips, dropped and duplicated frames at high
rates and an unplug and a power cycle every few seconds. It runs in a process of its own, so the
peak memory in the table is the recorder's alone (the simulator keeps every shot it fired, as
ground truth). At the end the gun stops firing, the recorder is given time to fetch what it
missed, and the record is compared with what the gun fired: every shot the gun still held must
be stored exactly once with the values the gun sent. The exit status is 0 only then.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import multiprocessing.connection
import os
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from injector.cli.db_options import database
from injector.cli.errors import UserError
from injector.driver import DecoderStatistics, Driver, DriverEvent
from injector.recorder import DatabaseStore, Recorder
from injector.session.completeness import StoredRecord, stored_record
from protocols.igp1.decoder import DecoderStats

SPEED = 50.0
"""Scenario time runs this much faster: the stress scenario's 9 shots/s become 450 shots/s."""
LINE_FAULTS = "noise=0.02,bitflip=0.02,drop=0.02,dup=0.02"
UNPLUG_EVERY_S = 150
"""Scenario seconds between unplugs (3 s of real time at 50×), each 20 scenario seconds long."""
POWERCYCLE_EVERY_S = 400
SETTLE_TIMEOUT_S = 60.0


def register(subparsers: Any) -> None:
    """Add ``soak`` to the command line."""
    p = subparsers.add_parser(
        "soak",
        help="record the stress scenario under every fault kind, then compare with the gun",
        description=(
            "Drive the simulated gun's stress scenario with line noise, bit flips, drops, "
            "duplicates, unplugs and power cycles into a fresh database, then print one table: "
            "shots fired, recorded, recovered, lost (the gun no longer held them), duplicates, "
            "decoder counters, reconnects and peak memory. Exits 1 if a recoverable shot is "
            "missing, doubled or changed."
        ),
    )
    p.add_argument(
        "--minutes",
        type=_minutes,
        default=1.0,
        help="how long the gun fires, in real minutes (default 1; fractions allowed)",
    )
    p.add_argument(
        "--db",
        help="an empty database to record into (default: a new SQLite file, deleted after)",
    )
    p.add_argument("--seed", type=int, default=1, help="the simulator's seed (default 1)")
    p.set_defaults(handler=run)


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of minutes") from None
    if not 0.05 <= value <= 24 * 60:
        raise argparse.ArgumentTypeError(f"{text} minutes: give 0.05 to 1440")
    return value


@dataclass(frozen=True, slots=True)
class SoakFigures:
    """What one soak run found; :func:`format_table` prints it."""

    minutes: float
    seed: int
    fired: int
    expected: int
    recorded: int
    recovered: int
    lost_reported: int
    lost_expected: int
    missing: int
    unexpected: int
    duplicates: int
    decoder: DecoderStats
    resend_requests: int
    reopens: int
    rss_early_mb: float
    """The recorder's resident memory once the first tenth of the run had passed."""
    rss_peak_mb: float
    """Its highest resident memory while the gun fired (sampled every second)."""
    missing_keys: tuple[tuple[str, int, int], ...] = ()
    """(serial, boot, shot number) of the first recoverable shots not recorded, to look up."""

    @property
    def ok(self) -> bool:
        """Every recoverable shot stored once, unchanged, and the losses counted right."""
        return (
            self.missing == 0
            and self.unexpected == 0
            and self.duplicates == 0
            and self.lost_reported == self.lost_expected
        )


def run(args: argparse.Namespace) -> int:
    """Run the soak and print its table; 0 if the record is complete, 1 if not."""
    with tempfile.TemporaryDirectory(prefix="injector-soak-") as folder:
        db_arg = args.db or str(Path(folder) / "soak.sqlite3")
        figures = soak(Path(folder), db_arg, args.minutes, args.seed)
    print(format_table(figures))
    return 0 if figures.ok else 1


def soak(folder: Path, db_url: str, minutes: float, seed: int) -> SoakFigures:
    """Record ``minutes`` of the faulted stress scenario into ``db_url``; compare with the gun."""
    link = folder / "gun"
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    gun = ctx.Process(
        target=_run_gun, args=(child, str(link), minutes, seed), name="soak-gun", daemon=True
    )
    gun.start()
    try:
        _expect(parent, "ready", 30)
        namespace = argparse.Namespace(db=db_url)
        with database(namespace) as db:
            if stored_record(db).rows:
                raise UserError(f"--db: {db.display_url} already holds shots; soak needs a new one")
            stats = _LinkCounters()
            driver = Driver(
                str(link),
                silence_timeout=0.5,
                reopen_backoff=(0.02, 0.1),
                resend_backoff=(0.05, 0.2),
                ident_retry=0.1,
                stats_interval=0.2,
            )
            driver.subscribe(stats.on_event)
            recorder = Recorder(driver, DatabaseStore(db))
            recorder.start()
            memory = _MemorySampler(early_after_s=minutes * 6)
            try:
                with memory:
                    _expect(parent, "fired", minutes * 60 * 3 + 60)
                parent.send("truth")
                truth_rows, lost_expected, fired = _expect(parent, "truth", 120)
                truth = set(truth_rows)
                deadline = time.monotonic() + SETTLE_TIMEOUT_S
                record = stored_record(db)
                # Counts first: comparing every row each time would cost more than recording.
                while time.monotonic() < deadline and (
                    len(record.rows) != len(truth)
                    or record.lost != lost_expected
                    or set(record.rows) != truth
                ):
                    time.sleep(0.5)
                    record = stored_record(db)
            finally:
                recorder.stop()
            record = stored_record(db)
        parent.send("stop")
    finally:
        gun.join(10)
        if gun.is_alive():
            gun.kill()
    return _figures(minutes, seed, fired, truth, lost_expected, record, stats, memory)


class _MemorySampler:
    """Samples this process's resident memory every second while the gun fires."""

    def __init__(self, early_after_s: float) -> None:
        self._early_after = early_after_s
        self.early_mb = 0.0
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-memory", daemon=True)

    def __enter__(self) -> _MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        page_mb = os.sysconf("SC_PAGE_SIZE") / 2**20
        started = time.monotonic()
        while True:
            with open("/proc/self/statm") as f:
                rss = int(f.read().split()[1]) * page_mb
            self.peak_mb = max(self.peak_mb, rss)
            if not self.early_mb and time.monotonic() - started >= self._early_after:
                self.early_mb = rss
            if self._stop.wait(1.0):
                if not self.early_mb:
                    self.early_mb = rss
                return


class _LinkCounters:
    """The last link statistics the driver published."""

    def __init__(self) -> None:
        self.latest: DecoderStatistics | None = None

    def on_event(self, event: DriverEvent) -> None:
        if isinstance(event, DecoderStatistics):
            self.latest = event


def _figures(
    minutes: float,
    seed: int,
    fired: int,
    truth: set[tuple[Any, ...]],
    lost_expected: int,
    record: StoredRecord,
    stats: _LinkCounters,
    memory: _MemorySampler,
) -> SoakFigures:
    stored = set(record.rows)
    missing = sorted(truth - stored)
    latest = stats.latest
    return SoakFigures(
        minutes=minutes,
        seed=seed,
        fired=fired,
        expected=len(truth),
        recorded=len(record.rows),
        recovered=record.recovered,
        lost_reported=record.lost,
        lost_expected=lost_expected,
        missing=len(missing),
        unexpected=len(stored - truth),
        duplicates=record.duplicates,
        decoder=latest.decoder if latest else DecoderStats(),
        resend_requests=latest.resend_requests if latest else 0,
        reopens=latest.reopens if latest else 0,
        rss_early_mb=memory.early_mb,
        rss_peak_mb=memory.peak_mb,
        missing_keys=tuple((str(r[0]), int(r[1]), int(r[2])) for r in missing[:20]),
    )


def format_table(f: SoakFigures) -> str:
    """The soak's figures as one aligned table."""
    d = f.decoder
    rows = [
        ("gun fired (stress scenario, all faults)", f"{f.fired:,}"),
        ("the gun could still resend or had sent", f"{f.expected:,}"),
        ("recorded", f"{f.recorded:,}"),
        ("  of them recovered by retransmission", f"{f.recovered:,}"),
        (
            "lost: the gun no longer held them",
            f"{f.lost_reported:,} (expected {f.lost_expected:,})",
        ),
        ("recoverable but not recorded", f"{f.missing:,}"),
        ("recorded but not fired as stored", f"{f.unexpected:,}"),
        ("duplicates stored", f"{f.duplicates:,}"),
        ("decoder: frames", f"{d.frames:,}"),
        ("decoder: garbage bytes", f"{d.garbage_bytes:,}"),
        ("decoder: bad CRC / bad length", f"{d.bad_crc:,} / {d.bad_length:,}"),
        ("decoder: unknown ids", f"{d.unknown:,}"),
        ("decoder: SEQ gaps (frames missing)", f"{d.seq_gaps:,} ({d.seq_missing:,})"),
        ("resend requests", f"{f.resend_requests:,}"),
        ("reconnects", f"{f.reopens:,}"),
        (
            "recorder memory: early / peak while firing",
            f"{f.rss_early_mb:.0f} MB / {f.rss_peak_mb:.0f} MB",
        ),
    ]
    rows += [("  not recorded (serial, boot, shot)", str(key)) for key in f.missing_keys]
    width = max(len(name) for name, _ in rows)
    head = f"soak: {f.minutes:g} min at {SPEED:g}x, {LINE_FAULTS}, seed {f.seed}"
    body = "\n".join(f"{name:<{width}}  {value}" for name, value in rows)
    verdict = "complete: every shot the gun held is recorded once" if f.ok else "INCOMPLETE"
    return f"{head}\n{body}\n{verdict}"


def _expect(conn: multiprocessing.connection.Connection, tag: str, timeout: float) -> Any:
    if not conn.poll(timeout):
        raise UserError(f"the simulated gun did not report {tag!r} within {timeout:.0f} s")
    got_tag, value = conn.recv()
    if got_tag == "error":
        raise UserError(f"the simulated gun failed: {value}")
    if got_tag != tag:
        raise UserError(f"the simulated gun said {got_tag!r} where {tag!r} was expected")
    return value


def _run_gun(
    conn: multiprocessing.connection.Connection, link: str, minutes: float, seed: int
) -> None:
    """The simulator's process: fire for ``minutes``, hand over the ground truth, stop.

    The stress scenario's loop is played here rather than by the scenario player, so that it
    ends on time: a looping scenario never ends, and one unrolled into many passes would run
    through its remaining passes at once while the gun is switched off by a power cycle.
    """
    try:
        # Imported here: the recorder's process never loads the simulator.
        from simulators.builtin import resolve_scenario
        from simulators.faults import FaultConfig, LinkEvent, LinkEventKind, parse_fault_spec
        from simulators.ground_truth import expected_record
        from simulators.runner import Simulator
        from simulators.scenario import SetStep, SyringeStep, TriggerStep

        stress = resolve_scenario("stress")
        settings = next(step for step in stress.steps if isinstance(step, SetStep))
        press = next(step for step in stress.steps if isinstance(step, TriggerStep))
        assert any(isinstance(step, SyringeStep) for step in stress.steps)
        span_ms = int(minutes * 60 * SPEED * 1000)
        events = [
            LinkEvent(LinkEventKind.UNPLUG, at, 20_000)
            for at in range(UNPLUG_EVERY_S * 1000, span_ms, UNPLUG_EVERY_S * 1000)
        ] + [
            LinkEvent(LinkEventKind.POWERCYCLE, at, 5_000)
            for at in range(POWERCYCLE_EVERY_S * 1000, span_ms, POWERCYCLE_EVERY_S * 1000)
        ]
        faults: FaultConfig = replace(
            parse_fault_spec(LINE_FAULTS), events=tuple(sorted(events, key=lambda e: e.at_ms))
        )
        sim = Simulator(
            replace(stress, steps=(), loop=False), speed=SPEED, seed=seed, faults=faults, link=link
        )
        sim.start()
    except Exception as exc:  # reported to the parent as one line
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    try:
        conn.send(("ready", None))
        while sim.scenario_ms < span_ms:
            if sim.wait_until(lambda s: s.gun is not None and not s.gun.trigger_busy, 0.1):
                # Switched off by a power cycle, the gun refuses; the next round tries again.
                with contextlib.suppress(ValueError):
                    sim.set_settings(
                        mode=settings.mode,
                        depth_um=settings.depth_um,
                        volume_nl=settings.volume_nl,
                        rate_spm=settings.rate_spm,
                    )
                    sim.swap_syringe()
                    sim.press_trigger(press.count)
        sim.release_trigger()
        sim.wait_until(lambda s: s.gun is not None and not s.gun.trigger_busy, 30)
        conn.send(("fired", None))
        if conn.recv() == "truth":
            truth = expected_record(sim)
            conn.send(("truth", (truth.rows, truth.lost, truth.fired)))
        conn.recv()  # "stop"
    except (EOFError, OSError):
        pass
    finally:
        sim.stop()
