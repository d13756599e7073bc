"""How ``injector capture info`` shows a :class:`~protocols.igp1.capture_summary.CaptureSummary`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from protocols.igp1.capture import RecordKind
from protocols.igp1.capture_summary import BootSummary, CaptureSummary
from protocols.igp1.decoder import DecoderStats
from protocols.igp1.describe import fault_name

_SHOWN = 10
"""Damaged spans, close reasons and ports listed before a count of the rest."""


def _when(wall_ns: int | None) -> str:
    if wall_ns is None:
        return "-"
    return datetime.fromtimestamp(wall_ns / 1e9, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def _duration(ns: int) -> str:
    seconds = ns / 1e9
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _stats_line(stats: DecoderStats) -> str:
    return (
        f"{stats.frames:,} frames; {stats.garbage_bytes:,} garbage bytes, "
        f"{stats.bad_crc:,} bad CRC, {stats.bad_length:,} bad length, "
        f"{stats.unknown:,} unknown ids, {stats.seq_gaps:,} SEQ gaps "
        f"({stats.seq_missing:,} frames missing)"
    )


def _boot_line(boot: BootSummary) -> str:
    name = f"{boot.boot_id:#010x}" if boot.boot_id else "before the first HELLO"
    shots = "no shots"
    if boot.first_shot_no is not None:
        shots = (
            f"shots {boot.first_shot_no}–{boot.last_shot_no} ({boot.distinct_shots:,} seen, "
            f"{boot.missing_shots:,} never seen, {boot.retransmitted:,} retransmitted)"
        )
    faults = ", ".join(f"{fault_name(c)}×{n}" for c, n in sorted(boot.faults_raised.items()))
    span = f"{_when(boot.first_wall_ns)} → {_when(boot.last_wall_ns)}"
    return f"  boot {name}: {span}; {shots}" + (f"; faults raised: {faults}" if faults else "")


def _counted(counter: dict[str, int]) -> str:
    items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = [f"{text!r}×{n}" if n > 1 else repr(text) for text, n in items[:_SHOWN]]
    if len(items) > _SHOWN:
        shown.append(f"… {len(items) - _SHOWN} more")
    return ", ".join(shown)


def render_info(s: CaptureSummary) -> str:
    """The text report, one fact a line."""
    lines = [f"capture   {s.path} ({s.size:,} bytes)"]
    records = ", ".join(f"{s.records[k]:,} {k.name}" for k in RecordKind)
    lines.append(f"records   {sum(s.records.values()):,} ({records})")
    if s.first_wall_ns is not None and s.last_wall_ns is not None:
        lines.append(
            f"time      {_when(s.first_wall_ns)} → {_when(s.last_wall_ns)} "
            f"({_duration(s.last_wall_ns - s.first_wall_ns)})"
        )
    if s.guns:
        for (model, serial, firmware), hellos in s.guns.items():
            lines.append(f"gun       {model} {serial}, firmware {firmware} ({hellos:,} HELLO)")
    else:
        lines.append("gun       no HELLO in the capture")
    lines.append(f"boots     {sum(1 for b in s.boots.values() if b.boot_id):,}")
    lines += [_boot_line(b) for b in s.boots.values()]
    for label, counter in (("opens", s.opens), ("closes", s.closes)):
        listed = f": {_counted(counter)}" if counter else ""
        lines.append(f"{label:<9} {sum(counter.values()):,}{listed}")
    for direction, label in ((RecordKind.RX, "from gun"), (RecordKind.TX, "to gun")):
        counts = sorted(
            ((name, n) for (d, name), n in s.frames.items() if d is direction),
            key=lambda kv: -kv[1],
        )
        listed = ", ".join(f"{name} {n:,}" for name, n in counts) or "none"
        lines.append(f"{label:<9} {listed}")
        stats = s.rx if direction is RecordKind.RX else s.tx
        lines.append(f"  decoder {_stats_line(stats)}")
    if s.damages:
        lines.append(
            f"damage    {len(s.damages):,} unreadable span(s), {s.damaged_bytes:,} bytes; "
            "the rest was read"
        )
        lines += [f"  {d}" for d in s.damages[:_SHOWN]]
        if len(s.damages) > _SHOWN:
            lines.append(f"  … {len(s.damages) - _SHOWN} more")
    else:
        lines.append("damage    none: every record is whole")
    return "\n".join(lines) + "\n"


def _stats_json(stats: DecoderStats) -> dict[str, int]:
    return {
        "frames": stats.frames,
        "garbage_bytes": stats.garbage_bytes,
        "bad_crc": stats.bad_crc,
        "bad_length": stats.bad_length,
        "unknown": stats.unknown,
        "seq_gaps": stats.seq_gaps,
        "seq_missing": stats.seq_missing,
    }


def summary_json(s: CaptureSummary) -> dict[str, Any]:
    """The same report as a JSON-ready dictionary."""
    return {
        "path": s.path,
        "size": s.size,
        "records": {k.name: s.records[k] for k in RecordKind},
        "first_time": _when(s.first_wall_ns) if s.first_wall_ns is not None else None,
        "last_time": _when(s.last_wall_ns) if s.last_wall_ns is not None else None,
        "guns": [
            {"model": m, "serial": n, "firmware": f, "hellos": c} for (m, n, f), c in s.guns.items()
        ],
        "boots": [
            {
                "boot_id": b.boot_id or None,
                "first_time": _when(b.first_wall_ns),
                "last_time": _when(b.last_wall_ns),
                "shot_frames": b.shot_frames,
                "first_shot_no": b.first_shot_no,
                "last_shot_no": b.last_shot_no,
                "shots_seen": b.distinct_shots,
                "shots_never_seen": b.missing_shots,
                "retransmitted": b.retransmitted,
                "faults_raised": [
                    {"code": c, "name": fault_name(c).split("(")[0], "count": n}
                    for c, n in sorted(b.faults_raised.items())
                ],
            }
            for b in s.boots.values()
        ],
        "opens": dict(s.opens),
        "closes": dict(s.closes),
        "frames": {
            d.name: {name: n for (dd, name), n in s.frames.items() if dd is d}
            for d in (RecordKind.RX, RecordKind.TX)
        },
        "decoder": {"RX": _stats_json(s.rx), "TX": _stats_json(s.tx)},
        "damage": [
            {"offset": d.offset, "length": d.length, "reason": d.reason, "at_end": d.at_end}
            for d in s.damages
        ],
    }
