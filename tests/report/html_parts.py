"""Reading a rendered report back: table rows, zone groups on the map, every outside link."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Row:
    """A ``<tr>`` with its attributes, its cells' text and its cells by ``data-field``."""

    attrs: dict[str, str]
    cells: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class Group:
    """A ``<g class="zone">`` of the map: its title and its label text."""

    zone: str
    title: str = ""
    text: str = ""


class ReportReader(HTMLParser):
    """Collects table rows, map zones, tags and every attribute that could point outside."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[Row] = []
        self.groups: list[Group] = []
        self.tags: set[str] = set()
        self.references: list[str] = []
        self.style_text: list[str] = []
        self._row: Row | None = None
        self._cell: list[str] | None = None
        self._cell_field: str | None = None
        self._group: Group | None = None
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.add(tag)
        for name in ("src", "href", "xlink:href", "srcset", "action", "poster", "data"):
            if name in values:
                self.references.append(values[name])
        if "style" in values:
            self.style_text.append(values["style"])
        if tag == "tr":
            self._row = Row(values)
            self.rows.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            self._cell_field = values.get("data-field")
        elif tag == "g" and values.get("class") == "zone":
            self._group = Group(values.get("data-zone", ""))
            self.groups.append(self._group)
        self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            self._row.cells.append(text)
            if self._cell_field:
                self._row.fields[self._cell_field] = text
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "g" and self._group is not None and self._in and self._in[-1] == "g":
            self._group = None
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        current = self._in[-1] if self._in else ""
        if current == "style":
            self.style_text.append(data)
        if self._group is not None:
            if current == "title":
                self._group.title += data
            elif current == "text":
                self._group.text += data


def read(html: str) -> ReportReader:
    """Parse a rendered report."""
    reader = ReportReader()
    reader.feed(html)
    reader.close()
    return reader
