"""Small HTML pages for the Snakemake report (the comparison, the reward models' metrics): one
self-contained page with a title, tables and notes. Every text is escaped here, so callers pass
plain strings."""

from __future__ import annotations

from html import escape
from typing import Iterable, Sequence, Tuple, Union

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1em 1.5em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.4em; vertical-align: top; }
thead th { background: #f0f0f0; text-align: left; }
tbody th { background: #fafafa; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td .detail { display: block; color: #666; font-size: 0.85em; }
p.note { max-width: 60em; color: #444; line-height: 1.4; }
"""

Cell = Union[str, Tuple[str, str]]


def _cell(cell: Cell) -> str:
    """A cell's text, or a (value, detail) pair: the value, the detail small below it."""
    if isinstance(cell, tuple):
        value, detail = cell
        return f"{escape(value)}<span class=\"detail\">{escape(detail)}</span>"
    return escape(cell)


def html_table(headers: Sequence[str], rows: Iterable[Sequence[Cell]],
               numeric: Iterable[int] = ()) -> str:
    """A table: ``headers``, then ``rows`` of cells (text, or a (value, detail) pair such as
    an estimate and its interval); the first cell of a row is its header (``<th>``), the cells
    at the column indices in ``numeric`` are right-aligned."""
    numeric = set(numeric)
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = [f"<th>{_cell(row[0])}</th>"] + [
            f"<td class=\"num\">{_cell(cell)}</td>" if i in numeric else f"<td>{_cell(cell)}</td>"
            for i, cell in enumerate(row[1:], start=1)]
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f"<table><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body)
            + "\n</tbody></table>")


def html_page(title: str, body: Sequence[str]) -> str:
    """A whole page: ``title`` as its title and first heading, then the ``body`` fragments
    (already HTML: from html_table, html_note) in order."""
    parts = ["<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\">",
             f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{escape(title)}</h1>", *body, "</body></html>"]
    return "\n".join(parts) + "\n"


def html_note(text: str) -> str:
    """A paragraph of plain text."""
    return f"<p class=\"note\">{escape(text)}</p>"
