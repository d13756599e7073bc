"""The row every benchmark returns, and how the table prints."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One measured figure: what, the median value, its unit, and the target if there is one."""

    name: str
    value: float
    unit: str
    target: str = ""
    note: str = ""


def format_table(rows: list[Row]) -> str:
    """A Markdown table of the rows, ready to paste into the README."""
    lines = ["| benchmark | median | unit | target | note |", "|---|---:|---|---|---|"]
    for row in rows:
        value = f"{row.value:,.0f}" if abs(row.value) >= 100 else f"{row.value:,.2f}"
        lines.append(f"| {row.name} | {value} | {row.unit} | {row.target} | {row.note} |")
    return "\n".join(lines)
