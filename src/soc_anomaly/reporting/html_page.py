"""The building blocks of the self-contained HTML reports: one file, nothing fetched.

A report is a single HTML file that opens anywhere, offline: the stylesheet is
inline, figures are embedded as ``data:image/png`` URIs, and there is no
JavaScript, web font or external link. Every piece of text goes through
:func:`esc`; only :class:`Markup` (HTML built here from escaped parts) is
inserted as it is.

:func:`check_report_path` vets a destination before a long run starts, and
:func:`write_page` publishes the file atomically, so a failure never leaves a
half-written report.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from soc_anomaly import __version__
from soc_anomaly.data.io import check_writable_dir, write_via
from soc_anomaly.errors import ParameterError

__all__ = [
    "REPORT_SUFFIXES",
    "Markup",
    "Section",
    "check_report_path",
    "definition_list",
    "esc",
    "figure_from_bytes",
    "figure_from_file",
    "number",
    "page",
    "table",
    "write_page",
]

#: File name endings a report may have.
REPORT_SUFFIXES = (".html", ".htm")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Markup(str):
    """HTML already built from escaped parts: inserted as it is, never escaped again."""

    __slots__ = ()


def esc(value: object) -> Markup:
    """``value`` as text, with ``& < > " '`` escaped (a Markup passes through)."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def number(value: float | int | None, digits: int = 3, *, percent: bool = False) -> str:
    """A number for a table: thousands separators, ``digits`` decimals, "n/a" if missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if percent:
        return f"{100 * float(value):.{digits}f}%"
    return f"{float(value):,.{digits}f}"


def check_report_path(path: Path, flag: str = "--report") -> Path:
    """Fail with one line unless an HTML report can be written to ``path``.

    Called before a run starts, so a typo costs seconds, not the run.

    Parameters
    ----------
    path : pathlib.Path
        The report's destination.
    flag : str, default="--report"
        How the destination is named in the message.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    soc_anomaly.errors.SocAnomalyError
        If the name does not end in ``.html`` or ``.htm``, the path is a
        folder, or its folder is missing or not writable.
    """
    path = Path(path)
    if path.is_dir():
        raise ParameterError(f"{flag} {path} is a folder; expected a file name like report.html")
    if path.suffix.lower() not in REPORT_SUFFIXES:
        raise ParameterError(
            f"{flag} {path} does not end in .html or .htm; expected a file name like report.html"
        )
    folder = path.parent
    if not folder.is_dir():
        raise ParameterError(f"{flag} folder {folder} does not exist; expected an existing folder")
    check_writable_dir(folder, what=f"{flag} folder", create=False)
    return path


def write_page(text: str, path: Path) -> Path:
    """Write a page to ``path`` atomically (UTF-8); a failure leaves no partial file."""
    return write_via(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))


def table(
    headers: Sequence[object],
    rows: Iterable[Sequence[object]],
    *,
    numeric: Iterable[int] = (),
    nowrap: Iterable[int] = (),
    caption: object | None = None,
    row_headers: bool = False,
) -> Markup:
    """An HTML table; cells are escaped unless they are :class:`Markup`.

    Parameters
    ----------
    headers : sequence
        Column headings.
    rows : iterable of sequences
        The cells, one sequence per row.
    numeric : iterable of int, default=()
        Columns aligned right (numbers); they never wrap.
    nowrap : iterable of int, default=()
        Other columns kept on one line (times, identifiers).
    caption : object, optional
        Shown under the table.
    row_headers : bool, default=False
        The first cell of each row names the row (``<th scope="row">``).
    """
    right, whole = set(numeric), set(nowrap)

    def attrs(j: int) -> str:
        return ' class="num"' if j in right else ' class="nowrap"' if j in whole else ""

    head = "".join(f'<th scope="col"{attrs(j)}>{esc(h)}</th>' for j, h in enumerate(headers))
    body = []
    for row in rows:
        cells = []
        for j, cell in enumerate(row):
            tag = "th" if row_headers and j == 0 else "td"
            scope = ' scope="row"' if tag == "th" else ""
            cells.append(f"<{tag}{scope}{attrs(j)}>{_cell(cell)}</{tag}>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    cap = f'<p class="caption">{esc(caption)}</p>' if caption is not None else ""
    return Markup(
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>{cap}"
    )


def _cell(value: object) -> Markup:
    # Counts read better with thousands separators; everything else as given.
    if isinstance(value, int) and not isinstance(value, bool):
        return Markup(f"{value:,}")
    return esc(value)


def definition_list(items: Iterable[tuple[object, object]]) -> Markup:
    """Label/value pairs as a two-column list."""
    parts = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items)
    return Markup(f'<dl class="facts">{parts}</dl>')


def figure_from_bytes(png: bytes, caption: object, alt: object, anchor: str) -> Markup:
    """A figure with ``png`` embedded as a data URI, and its caption."""
    data = base64.b64encode(png).decode("ascii")
    return Markup(
        f'<figure id="{esc(anchor)}"><img src="data:image/png;base64,{data}" '
        f'alt="{esc(alt)}" loading="eager"><figcaption>{esc(caption)}</figcaption></figure>'
    )


def figure_from_file(path: Path, caption: object, anchor: str) -> Markup:
    """The PNG at ``path`` embedded as a figure, or a note saying why it could not be.

    A figure that cannot be read does not cost the rest of the report: the
    note names the file and the reason.
    """
    path = Path(path)
    try:
        png = path.read_bytes()
    except OSError as exc:
        return Markup(
            f'<p class="note" id="{esc(anchor)}">Figure {esc(path.name)} could not be read '
            f"({esc(exc.strerror or exc)}).</p>"
        )
    if not png.startswith(_PNG_MAGIC):
        return Markup(
            f'<p class="note" id="{esc(anchor)}">Figure {esc(path.name)} is not a PNG file; '
            "left out.</p>"
        )
    return figure_from_bytes(png, caption, alt=caption, anchor=anchor)


@dataclass(frozen=True)
class Section:
    """One titled part of a report, listed in the table of contents.

    Attributes
    ----------
    anchor : str
        The ``id`` the table of contents links to.
    title : str
        Heading text.
    body : Markup
        The section's HTML.
    """

    anchor: str
    title: str
    body: Markup


def page(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    """A complete HTML document: the first section, the table of contents, the rest.

    The first section is the summary: it comes before the contents so the
    page opens on the answer.
    """
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    toc = "".join(f'<li><a href="#{esc(s.anchor)}">{esc(s.title)}</a></li>' for s in sections)
    blocks = [
        f'<section id="{esc(s.anchor)}"><h2>{esc(s.title)}</h2>{s.body}</section>' for s in sections
    ]
    nav = f'<nav aria-label="Contents"><h2>Contents</h2><ol>{toc}</ol></nav>'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # Nothing may be fetched: no scripts, no remote images, no forms, no fonts.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">"
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body><main>"
        f'<header><h1>{esc(title)}</h1><p class="meta">{esc(subtitle)}</p></header>'
        f"{blocks[0] if blocks else ''}{nav}{''.join(blocks[1:])}"
        f"<footer>Written by soc-anomaly {esc(__version__)} on {esc(stamp)}. "
        "Self-contained: opens offline, loads nothing.</footer>"
        "</main></body></html>\n"
    )


_CSS = """
:root{--fg:#1d2330;--muted:#5b6472;--line:#d9dde3;--zebra:#f6f7f9;--accent:#1f5fa8;
--warn:#fff6d6;--warnline:#e3c55b;--bad:#b3261e;--good:#1e7b34}
*{box-sizing:border-box}
html{font-size:15px}
body{margin:0;background:#eef0f3;color:var(--fg);
font-family:"Segoe UI",system-ui,-apple-system,"Helvetica Neue","DejaVu Sans",Arial,sans-serif;
line-height:1.45}
main{max-width:1120px;margin:0 auto;padding:1.5rem 2rem 3rem;background:#fff;
box-shadow:0 0 0 1px var(--line)}
header{border-bottom:3px solid var(--accent);margin-bottom:1rem}
h1{font-size:1.7rem;margin:.2rem 0 .2rem}
h2{font-size:1.3rem;margin:2rem 0 .6rem;padding-bottom:.2rem;border-bottom:1px solid var(--line)}
h3{font-size:1.05rem;margin:1.4rem 0 .4rem}
.meta,.caption,footer,figcaption{color:var(--muted);font-size:.9rem}
.caption{margin:.3rem 0 1rem}
nav{background:var(--zebra);border:1px solid var(--line);border-radius:6px;
padding:.2rem 1.2rem .6rem;margin:1.5rem 0}
nav h2{border:0;margin:.6rem 0 .2rem;font-size:1.05rem}
nav ol{margin:0;padding-left:1.4rem;columns:2}
a{color:var(--accent)}
.table-wrap{overflow-x:auto;margin:.4rem 0}
table{border-collapse:collapse;font-size:.9rem;min-width:40%}
th,td{border:1px solid var(--line);padding:.3rem .55rem;text-align:left;vertical-align:top}
thead th{background:#e8ecf2}
tbody tr:nth-child(even){background:var(--zebra)}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.nowrap{white-space:nowrap}
td ul{margin:0;padding-left:1.1rem}
table.incidents tbody tr:nth-child(even){background:none}
table.incidents tbody:nth-of-type(even){background:var(--zebra)}
table.incidents tr.detail td{border-top:0;font-size:.85rem}
table.incidents tr:not(.detail) td{border-bottom:0}
ol.features{columns:3;margin:.4rem 0}
.tag{display:inline-block;padding:0 .45rem;border-radius:9px;font-size:.8rem;font-weight:600}
.tag.attack{background:#fde3e1;color:var(--bad)}
.tag.normal{background:#e2f3e6;color:var(--good)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:.5rem 0}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0;overflow-wrap:anywhere}
.headline{font-size:1.1rem;background:#eaf2fb;border-left:4px solid var(--accent);
padding:.6rem .9rem;margin:.8rem 0}
.note{background:var(--warn);border-left:4px solid var(--warnline);padding:.5rem .8rem}
figure{margin:1.2rem 0;padding:.6rem;border:1px solid var(--line);border-radius:6px}
figure img{display:block;max-width:100%;height:auto;margin:0 auto}
figcaption{margin-top:.4rem;text-align:center}
pre.terminal{font:12px/1.15 "DejaVu Sans Mono",Menlo,Consolas,monospace;padding:.8rem;
overflow-x:auto;border:1px solid var(--line);border-radius:6px}
footer{margin-top:3rem;border-top:1px solid var(--line);padding-top:.6rem}
@media print{body{background:#fff}main{box-shadow:none;max-width:none}nav{display:none}
figure,table{break-inside:avoid}}
"""
