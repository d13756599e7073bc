"""The line formats of ``injector capture dump``: text for people, JSON Lines and CSV for machines.

Text is one line per frame or record, in the habit of ``candump -l`` and ``mavlogdump.py``::

    2026-11-25T10:00:01.234567Z     +1.234567 RX seq=3   up=61234     SHOT shot_no=18 …
    2026-11-25T10:00:01.300000Z     +1.300000 TX seq=7   up~61300     IDENT_REQ
    2026-11-25T10:00:00.000000Z     +0.000000 -- OPEN /dev/ttyACM0 at 115200 baud

capture time (UTC), seconds since the capture's first record, direction (RX from the gun, TX
to it), the sender's SEQ, the device uptime in ms (``=`` from the message itself, ``~`` run on
from the last message that told it, ``?`` unknown), the message and its fields by the spec's
names and units, enumerations by name and number. GARBAGE lines count bytes the decoder
discarded (noise, broken frames); DAMAGE lines name unreadable spans of the file.

JSON Lines gives one object per line with the same facts (numbers as numbers, each labelled
field also as ``<field>_name``, the uptime column as ``device_uptime_ms`` and
``device_uptime_exact``); CSV one row per line with a fixed header of every field of
the catalogue. Every format is built per message class once, so a dump costs about what
decoding costs.
"""

from __future__ import annotations

import csv
import io
import json
import operator
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache, partial

from protocols.igp1.capture import Damage
from protocols.igp1.describe import (
    STYLES,
    field_label,
    field_names,
    field_text,
    labelled_fields,
)
from protocols.igp1.messages import CATALOGUE, Message, Unknown

Values = Callable[[Message], tuple[object, ...]]


def _getter(cls: type[Message]) -> Values:
    names = field_names(cls)
    if not names:
        return lambda _m: ()
    if len(names) == 1:
        one = operator.attrgetter(names[0])
        return lambda m: (one(m),)
    return operator.attrgetter(*names)


class Clock:
    """Capture times as text, the date and minute formatted once a minute, not once a line."""

    def __init__(self) -> None:
        self._minute = -1
        self._prefix = ""

    def iso(self, wall_ns: int) -> str:
        """``2026-11-25T10:00:01.234567Z``."""
        minute, rest = divmod(wall_ns, 60_000_000_000)
        if minute != self._minute:
            self._minute = minute
            self._prefix = datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%M:")
        micros = rest // 1000
        return f"{self._prefix}{micros // 1_000_000:02d}.{micros % 1_000_000:06d}Z"


class _Lines:
    """What the line formats share: the ``--raw`` choice, the clock, one body per class."""

    def __init__(self, raw: bool) -> None:
        self.raw = raw
        self.clock = Clock()
        self._bodies: dict[type[Message], Callable[[Message], str]] = {}

    def begin(self) -> str:
        """Nothing precedes the lines."""
        return ""

    def _body(self, message: Message) -> str:
        cls = type(message)
        build = self._bodies.get(cls)
        if build is None:
            build = self._bodies[cls] = self._make_body(cls)
        return build(message)

    def _make_body(self, cls: type[Message]) -> Callable[[Message], str]:
        raise NotImplementedError


class TextFormat(_Lines):
    """One readable line per frame or record."""

    def _make_body(self, cls: type[Message]) -> Callable[[Message], str]:
        return _text_body(cls)

    def stamp(self, wall_ns: int, offset_ns: int) -> str:
        """The time columns shared by every line of one record."""
        return f"{self.clock.iso(wall_ns)} {offset_ns / 1e9:>+13.6f}"

    def frame(
        self,
        stamp: str,
        direction: str,
        seq: int,
        message: Message | Unknown,
        uptime: int | None,
        exact: bool,
        raw: bytes | None,
    ) -> str:
        """A decoded frame."""
        up = "up=?" if uptime is None else f"up={uptime}" if exact else f"up~{uptime}"
        if isinstance(message, Unknown):
            body = f"UNKNOWN msg_id={message.msg_id:#04x} payload={message.payload.hex()}"
        else:
            body = self._body(message)
        tail = f" raw={raw.hex()}" if self.raw and raw is not None else ""
        return f"{stamp} {direction} seq={seq:<3d} {up:<11} {body}{tail}\n"

    def marker(self, stamp: str, kind: str, text: str) -> str:
        """An OPEN or CLOSE record."""
        return f"{stamp} -- {kind} {text}\n"

    def garbage(self, stamp: str, direction: str, count: int) -> str:
        """Bytes the decoder discarded while reading one record."""
        unit = "byte" if count == 1 else "bytes"
        return f"{stamp} {direction} GARBAGE {count} {unit} discarded (noise or broken frames)\n"

    def damage(self, stamp: str, damage: Damage) -> str:
        """An unreadable span of the file."""
        return f"{stamp} !! DAMAGE {damage}\n"


def _text_body(cls: type[Message]) -> Callable[[Message], str]:
    names = field_names(cls)
    get = _getter(cls)
    # Styled fields (enumerations, flags, ids) go through their cached text; the rest are
    # formatted straight by the template: %d for numbers, %r for text.
    styled = [
        (i, cache(partial(field_text, cls, n))) for i, n in enumerate(names) if (cls, n) in STYLES
    ]
    styled_at = {i for i, _ in styled}
    codes = [
        "%s" if i in styled_at else "%r" if code.endswith("s") else "%d"
        for i, (_n, code) in enumerate(cls.WIRE_FIELDS)
    ]
    template = " ".join([cls.NAME, *(f"{n}={c}" for n, c in zip(names, codes, strict=True))])

    def body(message: Message) -> str:
        if not styled:
            return template % get(message)
        values = list(get(message))
        for i, text in styled:
            values[i] = text(values[i])
        return template % tuple(values)

    return body


_JSON_HEAD = '%s,"dir":"%s","seq":%d,"device_uptime_ms":%s,"device_uptime_exact":%s,%s%s}\n'


class JsonFormat(_Lines):
    """One JSON object per line (JSON Lines)."""

    def _make_body(self, cls: type[Message]) -> Callable[[Message], str]:
        return _json_body(cls)

    def stamp(self, wall_ns: int, offset_ns: int) -> str:
        """The time members shared by every object of one record."""
        return f'{{"time":"{self.clock.iso(wall_ns)}","t":{offset_ns / 1e9:.6f}'

    def frame(
        self,
        stamp: str,
        direction: str,
        seq: int,
        message: Message | Unknown,
        uptime: int | None,
        exact: bool,
        raw: bytes | None,
    ) -> str:
        """A decoded frame."""
        up = "null" if uptime is None else uptime
        if isinstance(message, Unknown):
            body = f'"type":"UNKNOWN","msg_id":{message.msg_id},"payload":"{message.payload.hex()}"'
        else:
            body = self._body(message)
        tail = f',"raw":"{raw.hex()}"' if self.raw and raw is not None else ""
        exact_text = "true" if exact else "false"
        return _JSON_HEAD % (stamp, direction, seq, up, exact_text, body, tail)

    def marker(self, stamp: str, kind: str, text: str) -> str:
        """An OPEN or CLOSE record."""
        return f'{stamp},"type":"{kind}","text":{json.dumps(text)}}}\n'

    def garbage(self, stamp: str, direction: str, count: int) -> str:
        """Bytes the decoder discarded while reading one record."""
        return f'{stamp},"dir":"{direction}","type":"GARBAGE","bytes":{count}}}\n'

    def damage(self, stamp: str, damage: Damage) -> str:
        """An unreadable span of the file."""
        return (
            f'{stamp},"type":"DAMAGE","offset":{damage.offset},"length":{damage.length},'
            f'"reason":"{damage.reason}","at_end":{"true" if damage.at_end else "false"}}}\n'
        )


def _json_body(cls: type[Message]) -> Callable[[Message], str]:
    names = field_names(cls)
    get = _getter(cls)
    texts = {i for i, (_n, code) in enumerate(cls.WIRE_FIELDS) if code.endswith("s")}
    labelled = [(i, n) for i, n in enumerate(names) if n in labelled_fields(cls)]
    parts = [f'"type":"{cls.NAME}"']
    parts += [f'"{n}":%s' if i in texts else f'"{n}":%d' for i, n in enumerate(names)]
    parts += [f'"{n}_name":%s' for _i, n in labelled]
    template = ",".join(parts)
    namers = [(i, cache(partial(_json_label, cls, n))) for i, n in labelled]
    if not texts and not namers:
        return lambda message: template % get(message)
    if not texts and len(namers) == 1:
        # SHOT: one labelled field (flags), the commonest frame of all.
        ((at, name),) = namers
        return lambda message: template % (*(values := get(message)), name(values[at]))

    def body(message: Message) -> str:
        values = get(message)
        if texts:
            values = tuple(json.dumps(v) if i in texts else v for i, v in enumerate(values))
        if namers:
            values = (*values, *[name(values[i]) for i, name in namers])
        return template % values

    return body


def _json_label(cls: type[Message], name: str, value: int) -> str:
    label = field_label(cls, name, value)
    return "null" if label is None else json.dumps(label)


def _csv_columns() -> list[str]:
    columns: list[str] = []
    names: list[str] = []
    for cls in CATALOGUE.values():
        for n in field_names(cls):
            if n not in columns:
                columns.append(n)
        for n in labelled_fields(cls):
            if f"{n}_name" not in names:
                names.append(f"{n}_name")
    return columns + names


class CsvFormat(_Lines):
    """One CSV row per line, under a fixed header naming every field of the catalogue."""

    def __init__(self, raw: bool) -> None:
        super().__init__(raw)
        self.columns = [
            *("time", "t", "dir", "seq", "device_uptime_ms", "device_uptime_exact"),
            *("type", "msg_id"),
            *_csv_columns(),
            "text",
            *(["raw"] if raw else []),
        ]
        self._index = {c: i for i, c in enumerate(self.columns)}
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")

    def _row(self, row: list[object]) -> str:
        self._writer.writerow(row)
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text

    def begin(self) -> str:
        """The header row."""
        return self._row(list(self.columns))

    def stamp(self, wall_ns: int, offset_ns: int) -> str:
        """The time cells shared by every row of one record."""
        return f"{self.clock.iso(wall_ns)},{offset_ns / 1e9:.6f}"

    def _blank(self, stamp: str) -> list[object]:
        row: list[object] = [""] * len(self.columns)
        row[0], row[1] = stamp.split(",")
        return row

    def frame(
        self,
        stamp: str,
        direction: str,
        seq: int,
        message: Message | Unknown,
        uptime: int | None,
        exact: bool,
        raw: bytes | None,
    ) -> str:
        """A decoded frame."""
        row = self._blank(stamp)
        index = self._index
        row[2:6] = [direction, seq, "" if uptime is None else uptime, int(exact)]
        if isinstance(message, Unknown):
            row[6], row[7] = "UNKNOWN", message.msg_id
            row[index["text"]] = message.payload.hex()
        else:
            cls = type(message)
            row[6], row[7] = cls.NAME, cls.MSG_ID
            for name, value in zip(field_names(cls), _getter(cls)(message), strict=True):
                row[index[name]] = value
            for name in labelled_fields(cls):
                row[index[f"{name}_name"]] = field_label(cls, name, getattr(message, name))
        if self.raw and raw is not None:
            row[index["raw"]] = raw.hex()
        return self._row(row)

    def marker(self, stamp: str, kind: str, text: str) -> str:
        """An OPEN or CLOSE record."""
        row = self._blank(stamp)
        row[6] = kind
        row[self._index["text"]] = text
        return self._row(row)

    def garbage(self, stamp: str, direction: str, count: int) -> str:
        """Bytes the decoder discarded while reading one record."""
        row = self._blank(stamp)
        row[2], row[6] = direction, "GARBAGE"
        row[self._index["text"]] = f"{count} bytes discarded"
        return self._row(row)

    def damage(self, stamp: str, damage: Damage) -> str:
        """An unreadable span of the file."""
        row = self._blank(stamp)
        row[6] = "DAMAGE"
        row[self._index["text"]] = str(damage)
        return self._row(row)


DumpFormat = TextFormat | JsonFormat | CsvFormat
FORMATS: dict[str, type[TextFormat] | type[JsonFormat] | type[CsvFormat]] = {
    "text": TextFormat,
    "json": JsonFormat,
    "csv": CsvFormat,
}
