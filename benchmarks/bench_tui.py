"""The live screen under a flood of shots: the real Textual app, headless, recording the
built-in simulator's ``stress`` scenario at ``--speed 45`` (9 shots/s × 45 ≈ 405 shots/s, a
syringe swapped every 1,000 shots) into a scratch SQLite file (TUI issue: "shots appear within
100 ms of being committed; at 400 shots per second the screen stays responsive, updates are
coalesced, and memory stays flat over 100,000 shots").

Everything runs in this process as the TUI runs it: the simulator's thread, the driver's
reader, the recorder's committer, the feed's worker thread and the app's asyncio loop
(``App.run_test(size=(120, 40))``). The real :class:`~tui.session_feed.SessionFeed` feeds the
real live screen; the benchmark only adds probes, inside this file:

- each commit's ``Commit.committed_ns`` and the session's running count of new shots, from a
  listener subscribed to the feed's recorder (the feed builds its recorder; a subclass that
  subscribes the probe is put in its place while the benchmark runs);
- each frame the live screen's compositor renders (``Screen._compositor_refresh``, what would
  be written to the terminal; headless, the bytes themselves are dropped) with the count the
  shot counter was last given (``LiveScreen._render_view``).

Figures: commit → on-screen latency per commit that stored new shots, past the first 1,000
shots (to the first rendered frame whose shot counter shows at least that commit's running
count); the lateness of a task asking to wake every 10 ms on the app's loop; frames and views
rendered against shots; the app thread's CPU time per screen update; full (generation 2)
garbage collections and their pauses; RSS after 10,000 shots (2,000 in a quick run) and at the
end (100,000 shots; 10,000 in a quick run).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import shutil
import statistics
import tempfile
import threading
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from benchmarks.rows import Row
from injector.recorder import Commit, Recorder, recording
from injector.storage.engine import open_database
from tui.app import InjectorApp
from tui.screens.live_screen import LiveScreen
from tui.session_feed import SessionFeed, SimulatedGun
from tui.state import LiveView

SPEED = 45.0
"""The stress scenario fires 540 shots a minute; 45 times faster is about 405 shots/s."""
LAG_PERIOD_S = 0.010
CHECKPOINT = 10_000
"""RSS is read when the screen first shows this many shots (2,000 in a quick run), half-way
from there, and at the end."""
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE / 1e6


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class _Column:
    """Numbers in a buffer allocated (and touched) up front: appending allocates nothing, so the
    RSS figures measure the app, not the benchmark's own samples. Past capacity, samples are
    counted as dropped."""

    def __init__(self, typecode: str, capacity: int) -> None:
        self._data = array(typecode, bytes(array(typecode).itemsize * capacity))
        self._n = 0
        self.dropped = 0

    def append(self, value: float) -> None:
        if self._n < len(self._data):
            self._data[self._n] = value  # type: ignore[call-overload]
            self._n += 1
        else:
            self.dropped += 1

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: int) -> float:
        if not 0 <= i < self._n:
            raise IndexError(i)
        return self._data[i]

    def values(self) -> list[float]:
        return list(self._data[: self._n])


class _Probe:
    """What the probes saw; written by the committer thread (commits) and the app's loop."""

    def __init__(self, shots: int) -> None:
        seconds = shots / (SPEED * 9) + 120  # the run, with room to spare
        commits = shots + 50_000  # at most one a shot, plus those while stopping
        self.commit_count = _Column("q", commits)
        """Running count of new shots after each commit that stored new shots..."""
        self.commit_ns = _Column("q", commits)
        """...and its ``Commit.committed_ns``."""
        frames = int(seconds * 70)  # Textual updates a screen at most 60 times a second
        self.frame_ns = _Column("q", frames)
        """Each frame the compositor rendered..."""
        self.frame_count = _Column("q", frames)
        """...and the count the shot counter showed in it."""
        self.view_ns = _Column("q", frames)
        """Each view the screen was given (a ViewChanged handled)."""
        self.update_ns = _Column("q", frames)
        """Each update of the screen's refresh timer (layout if needed, then a frame)..."""
        self.update_cpu_ms = _Column("d", frames)
        """...the app thread's CPU time in it..."""
        self.update_layout = _Column("b", frames)
        """...and whether it laid the screen out again."""
        self.lag_ns = _Column("q", int(seconds / LAG_PERIOD_S))
        """Each wake-up of the 10 ms task on the app's loop..."""
        self.lag_ms = _Column("d", int(seconds / LAG_PERIOD_S))
        """...and how late it was."""
        self.gc_ns = _Column("q", int(seconds * 10))
        """The end of each full (generation 2) garbage collection, any thread..."""
        self.gc_ms = _Column("d", int(seconds * 10))
        """...and its pause."""
        self.layout = False
        self.shown = 0
        self.total = 0

    def on_commit(self, commit: Commit) -> None:
        if commit.new:
            self.total += commit.new
            self.commit_count.append(self.total)
            self.commit_ns.append(commit.committed_ns)

    def dropped(self) -> int:
        """Samples that did not fit (none expected)."""
        return sum(c.dropped for c in vars(self).values() if isinstance(c, _Column))


@contextlib.contextmanager
def _timed_full_gcs(probe: _Probe) -> Iterator[None]:
    """While inside, every full garbage collection's pause is noted in ``probe``."""
    started: dict[int | None, float] = {}

    def callback(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started[threading.get_ident()] = time.perf_counter()
        elif (t0 := started.pop(threading.get_ident(), None)) is not None:
            probe.gc_ms.append((time.perf_counter() - t0) * 1000)
            probe.gc_ns.append(time.monotonic_ns())

    gc.callbacks.append(callback)
    try:
        yield
    finally:
        gc.callbacks.remove(callback)


@contextlib.contextmanager
def _probed_recorder(probe: _Probe) -> Iterator[None]:
    """While inside, the feed's recorder also reports every commit to ``probe``."""

    class ProbedRecorder(Recorder):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.subscribe(probe.on_commit)

    with mock.patch.object(recording, "Recorder", ProbedRecorder):
        yield


class _ProbedLiveScreen(LiveScreen):
    """The live screen, noting what it shows and when each frame is rendered."""

    def __init__(self, probe: _Probe, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._probe = probe

    def _render_view(self, view: LiveView) -> None:
        super()._render_view(view)
        self._probe.shown = view.shot_count
        self._probe.view_ns.append(time.monotonic_ns())

    def _refresh_layout(self, *args: Any, **kwargs: Any) -> None:
        self._probe.layout = True
        super()._refresh_layout(*args, **kwargs)

    def _compositor_refresh(self) -> None:
        super()._compositor_refresh()
        self._probe.frame_ns.append(time.monotonic_ns())
        self._probe.frame_count.append(self._probe.shown)

    def _on_timer_update(self) -> None:
        self._probe.layout = False
        cpu = time.thread_time()
        super()._on_timer_update()
        self._probe.update_cpu_ms.append((time.thread_time() - cpu) * 1000)
        self._probe.update_ns.append(time.monotonic_ns())
        self._probe.update_layout.append(self._probe.layout)


async def _lag_task(probe: _Probe, stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + LAG_PERIOD_S
        await asyncio.sleep(LAG_PERIOD_S)
        probe.lag_ms.append((loop.time() - due) * 1000)
        probe.lag_ns.append(time.monotonic_ns())


@dataclass
class Result:
    """What one run measured."""

    shots: int
    seconds: float
    rate: float
    latencies_ms: list[float]
    lags_ms: list[float]
    frames: int
    views: int
    update_cpu_ms: list[float]
    layouts: int
    full_gc_ms: list[float]
    rss_mb: dict[int, float]
    """RSS at the checkpoints (shots shown → MB), the last one at the end."""
    rss_peak_mb: float
    leftovers: list[str]
    dropped: int


def _latencies(probe: _Probe, skip: int, end_ns: int) -> list[float]:
    """Per commit past the first ``skip`` shots and before ``end_ns``: committed → first frame
    showing its running count."""
    out: list[float] = []
    frames = len(probe.frame_ns)
    i = 0
    for k in range(len(probe.commit_ns)):
        count, committed_ns = probe.commit_count[k], probe.commit_ns[k]
        if committed_ns > end_ns:
            break
        while i < frames and probe.frame_count[i] < count:
            i += 1
        if i == frames:
            break
        if count > skip:
            out.append((probe.frame_ns[i] - committed_ns) / 1e6)
    return out


def _within(at: _Column, values: _Column, start: float, end: float) -> list[float]:
    return [values[i] for i in range(len(at)) if start <= at[i] <= end]


def measure(shots: int, checkpoints: tuple[int, ...]) -> Result:
    """Record ``shots`` shots through the headless app; return what the probes saw, with the
    RSS when the screen first showed each of ``checkpoints`` shots and at the end."""
    probe = _Probe(shots)
    before = {t.ident for t in threading.enumerate()}
    rss: dict[int, float] = {}
    marks: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="bench-tui-") as folder:
        db = open_database(str(Path(folder) / "tui.sqlite3"))
        feed = SessionFeed(
            db, SimulatedGun("stress", speed=SPEED, seed=7), title="bench", actor="bench"
        )
        screen = _ProbedLiveScreen(probe, feed, LiveView(title="bench"))
        app = InjectorApp(first=lambda _app: screen)
        gun_dirs: set[Path] = set()

        async def drive() -> None:
            async with app.run_test(size=(120, 40)):
                stop = asyncio.Event()
                lag = asyncio.create_task(_lag_task(probe, stop))
                peak = _rss_mb()
                deadline = time.monotonic() + shots / 200 + 60
                while probe.shown < shots:
                    await asyncio.sleep(0.05)
                    if feed.simulator is not None and feed.simulator.link is not None:
                        gun_dirs.add(feed.simulator.link.parent)
                    peak = max(peak, _rss_mb())
                    for mark in checkpoints:
                        if mark not in rss and probe.shown >= mark:
                            rss[mark] = _rss_mb()
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"the screen showed only {probe.shown} of {shots}")
                    if screen.ended:
                        raise RuntimeError("the feed stopped before the run was over")
                marks["end_ns"] = time.monotonic_ns()
                marks["shown"] = probe.shown
                rss[probe.shown] = _rss_mb()
                rss[-1] = max(peak, rss[probe.shown])
                stop.set()
                await lag
                # Stops the gun, the driver and the recorder (committing what it has).
                await screen.stop_feed()
                await app.action_quit()

        try:
            with _probed_recorder(probe), _timed_full_gcs(probe):
                asyncio.run(drive())
        finally:
            db.close()
            for gun_dir in gun_dirs:  # the feed removes it; make sure
                shutil.rmtree(gun_dir, ignore_errors=True)
    # Daemon threads of the stopped parts may take a moment to finish.
    deadline = time.monotonic() + 5
    while True:
        leftovers = [t.name for t in threading.enumerate() if t.ident not in before]
        if not leftovers or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    start_ns, end_ns = int(probe.commit_ns[0]), marks["end_ns"]
    shown = marks["shown"]
    seconds = (end_ns - start_ns) / 1e9
    layouts = _within(probe.update_ns, probe.update_layout, start_ns, end_ns)
    peak = rss.pop(-1)
    return Result(
        shots=shown,
        seconds=seconds,
        rate=shown / seconds,
        latencies_ms=_latencies(probe, min(1_000, shots // 10), end_ns),
        lags_ms=_within(probe.lag_ns, probe.lag_ms, start_ns, end_ns),
        frames=len(_within(probe.frame_ns, probe.frame_ns, start_ns, end_ns)),
        views=len(_within(probe.view_ns, probe.view_ns, start_ns, end_ns)),
        update_cpu_ms=_within(probe.update_ns, probe.update_cpu_ms, start_ns, end_ns),
        layouts=int(sum(layouts)),
        full_gc_ms=_within(probe.gc_ns, probe.gc_ms, start_ns, end_ns),
        rss_mb=rss,
        rss_peak_mb=peak,
        leftovers=leftovers,
        dropped=probe.dropped(),
    )


def run(quick: bool = False) -> list[Row]:
    """Commit → screen latency, loop lag, redraws and memory at ~405 shots/s."""
    shots = 10_000 if quick else 100_000
    first = 2_000 if quick else CHECKPOINT
    r = measure(shots, (first, (first + shots) // 2))
    lat, lags = r.latencies_ms, r.lags_ms
    where = f"{r.shots:,} shots at {r.rate:.0f} shots/s"
    clean = "clean exit" if not r.leftovers else f"LEFTOVER THREADS {r.leftovers}"
    if r.dropped:
        clean += f"; {r.dropped} samples dropped"
    return [
        Row(
            "tui: commit → shot counter on screen, p50",
            statistics.median(lat),
            "ms",
            "< 100",
            f"{where}; {len(lat):,} commits (after the first 1,000 shots)",
        ),
        Row("tui: commit → shot counter on screen, p99", _percentile(lat, 0.99), "ms", "< 100"),
        Row("tui: commit → shot counter on screen, max", max(lat), "ms", "< 100"),
        Row(
            "tui: event-loop lag (a 10 ms timer's lateness), p50",
            statistics.median(lags),
            "ms",
            "",
            f"{len(lags):,} wake-ups",
        ),
        Row("tui: event-loop lag, p99", _percentile(lags, 0.99), "ms", "responsive"),
        Row("tui: event-loop lag, max", max(lags), "ms", "responsive"),
        Row(
            "tui: frames rendered per second",
            r.frames / r.seconds,
            "frames/s",
            "coalesced",
            f"{r.frames:,} frames, {r.views:,} views for {r.shots:,} shots "
            f"({r.shots / max(r.frames, 1):.0f} shots a frame)",
        ),
        Row(
            "tui: app-thread CPU per screen update (layout + render), p99",
            _percentile(r.update_cpu_ms, 0.99),
            "ms",
            "",
            f"p50 {statistics.median(r.update_cpu_ms):.1f} ms, max {max(r.update_cpu_ms):.1f} ms; "
            f"{r.layouts:,} of {len(r.update_cpu_ms):,} updates laid the screen out again",
        ),
        Row(
            "tui: full garbage collections (generation 2), longest pause",
            max(r.full_gc_ms, default=0.0),
            "ms",
            "",
            f"{len(r.full_gc_ms):,} in {r.seconds:.0f} s, "
            f"median {statistics.median(r.full_gc_ms or [0.0]):.0f} ms",
        ),
        Row(
            f"tui: RSS growth from {first:,} to {r.shots:,} shots",
            r.rss_mb[r.shots] - r.rss_mb[first],
            "MB",
            "flat",
            " → ".join(f"{mb:.1f} MB at {n:,}" for n, mb in sorted(r.rss_mb.items()))
            + f" shots; peak {r.rss_peak_mb:.0f} MB; {clean}",
        ),
    ]
