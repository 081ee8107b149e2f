"""The look every figure shares, and how figures are saved.

Figures are built on :class:`matplotlib.figure.Figure` directly rather than
through ``pyplot``: no GUI backend is ever touched, nothing global is left
open, and plotting works the same in a terminal, a test or a server. Each
figure is saved atomically at :data:`PLOT_DPI`.

Three rules keep figures readable from one detector to eighteen:

* every detector has one :class:`DetectorStyle` for the whole run, from
  :func:`detector_styles`: a colour of Paul Tol's colour-blind-safe "muted"
  set, and a line style and marker that tell apart detectors sharing a colour;
* panels go in a grid of at most :data:`MAX_PANEL_COLUMNS` columns
  (:func:`panel_grid`), and no figure is larger than :data:`MAX_FIGURE_INCHES`
  on either side (:func:`fit_figsize`);
* scores and percentiles near 100, where thresholds live, are drawn on a
  "nines" axis (:func:`set_nines_scale`): 90, 99, 99.9 equally spaced.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from soc_anomaly.data.io import atomic_write

__all__ = [
    "ANOMALY_COLOR",
    "BENIGN_COLOR",
    "FALSE_ALERT_COLOR",
    "MAX_FIGURE_INCHES",
    "MAX_PANEL_COLUMNS",
    "MISSED_COLOR",
    "MODEL_PALETTE",
    "NORMAL_COLOR",
    "PLOT_DPI",
    "RULE_STYLES",
    "DetectorStyle",
    "annotated_heatmap",
    "detector_styles",
    "figure_style",
    "fit_figsize",
    "grouped_bars",
    "legend_beside",
    "mark_panel",
    "panel_grid",
    "rule_handle",
    "rule_style",
    "save_figure",
    "slug",
]

PLOT_DPI = 150
#: Largest side of any figure, in inches: 3,750 pixels at :data:`PLOT_DPI`,
#: leaving room for a legend drawn outside the axes under 4,000.
MAX_FIGURE_INCHES = 25.0
#: Panels a row of a grid holds at most.
MAX_PANEL_COLUMNS = 4

#: Paul Tol's "muted" qualitative scheme, in his order: nine colours that stay
#: distinct with every common colour-vision deficiency and on white.
MODEL_PALETTE = (
    "#CC6677",  # rose
    "#332288",  # indigo
    "#DDCC77",  # sand
    "#117733",  # green
    "#88CCEE",  # cyan
    "#882255",  # wine
    "#44AA99",  # teal
    "#999933",  # olive
    "#AA4499",  # purple
)
#: Line styles and markers that tell apart detectors of one colour.
_LINE_STYLES: tuple[Any, ...] = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 2)))
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")

# The truth and alert colours are Okabe and Ito's, which no detector uses:
# normal traffic is the grey background, attacks are vermillion.
NORMAL_COLOR = "#9E9E9E"
ANOMALY_COLOR = "#D55E00"
#: Alerts on normal events.
FALSE_ALERT_COLOR = "#0072B2"
#: Attacks that did not alert (drawn with an ``x`` as well).
MISSED_COLOR = "#000000"
#: Benign oddities: unusual but legitimate events (drawn with a diamond as well).
BENIGN_COLOR = "#CC79A7"

#: Marker and line style of each threshold rule, the same in every figure.
RULE_STYLES: dict[str, tuple[str, Any]] = {
    "normal_percentile": ("o", "--"),
    "evaluated_percentile": ("s", ":"),
    "fbeta": ("^", "-."),
    "alert_budget": ("D", (0, (6, 2, 1, 2, 1, 2))),
}


def rule_style(rule: str) -> tuple[str, Any]:
    """Marker and line style of a threshold rule (a plain one for an unknown rule)."""
    return RULE_STYLES.get(rule, ("P", (0, (3, 1, 1, 1))))


def rule_handle(rule: str, label: str, *, marker: bool) -> Line2D:
    """A legend entry of a threshold rule: its line style, or its marker."""
    m, ls = rule_style(rule)
    if marker:
        return Line2D(
            [], [], color="black", marker=m, linestyle="none", markerfacecolor="white", label=label
        )
    return Line2D([], [], color="black", linestyle=ls, linewidth=1.3, label=label)


@dataclass(frozen=True)
class DetectorStyle:
    """How one detector is drawn in every figure of a run.

    Attributes
    ----------
    color : str
        Hex colour.
    linestyle : str or tuple
        Matplotlib line style.
    marker : str
        Matplotlib marker.
    """

    color: str
    linestyle: Any
    marker: str


def detector_styles(
    names: Sequence[str], families: Sequence[str] | None = None
) -> dict[str, DetectorStyle]:
    """One distinct style per detector of a run, in the run's order.

    Parameters
    ----------
    names : sequence of str
        The run's detector names (``ModelResult.name``), in result order.
    families : sequence of str, optional
        One key per name; names of one family share a colour and differ in
        line style and marker (the same detector on the ``seed`` and
        ``entity`` feature sets, say). Default: every name its own family.

    Returns
    -------
    dict of str to DetectorStyle
        No two names share both colour and line style. Families take the
        colours of :data:`MODEL_PALETTE` in order of first appearance; past
        nine families the colours repeat with the next line styles.
    """
    keys = list(names) if families is None else list(families)
    if len(keys) != len(names):
        raise ValueError(f"{len(names)} names but {len(keys)} families; expected one each")
    order = list(dict.fromkeys(keys))
    members: dict[str, int] = {}
    per_family = max(Counter(keys).values(), default=1)
    styles: dict[str, DetectorStyle] = {}
    n_colors = len(MODEL_PALETTE)
    for name, key in zip(names, keys, strict=True):
        f = order.index(key)
        k = members.get(key, 0)
        members[key] = k + 1
        # (colour, style) is unique: the colour fixes f mod 9, the style the
        # wrap-around f // 9 and the member k.
        s = (f // n_colors) * per_family + k
        styles[name] = DetectorStyle(
            color=MODEL_PALETTE[f % n_colors],
            linestyle=_LINE_STYLES[s % len(_LINE_STYLES)],
            marker=_MARKERS[s % len(_MARKERS)],
        )
    return styles


def mark_panel(ax: Any, style: DetectorStyle) -> None:
    """Band the top edge of a detector's panel in the detector's colour.

    Titles stay black: text in the palette's light colours (sand, cyan) would
    be hard to read, a thick band is not.
    """
    spine = ax.spines["top"]
    spine.set_visible(True)
    spine.set_color(style.color)
    spine.set_linewidth(5)
    spine.set_gid("detector-band")


def slug(name: str) -> str:
    """File-name-safe lower-case form of a model name (``One Class`` -> ``one_class``)."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


@contextmanager
def figure_style() -> Iterator[None]:
    """Seaborn's white grid and notebook context, for one figure."""
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=1.05):
        yield


def save_figure(fig: Figure, path: Path, *, crop: bool | None = None) -> Path:
    """Lay out ``fig`` and write it to ``path`` as a PNG at :data:`PLOT_DPI`, atomically.

    A figure not laid out yet (:func:`legend_beside` lays out) gets a tight
    layout. ``crop`` grows or trims the saved area to what is drawn, which a
    legend anchored outside the axes needs; by default only a figure not laid
    out yet that has an axes legend is cropped.

    Every other figure is drawn once and encoded as RGB: ``savefig`` would
    draw it twice (once to lay it out, once to render) and encode an alpha
    channel that is opaque everywhere, a quarter to a third more time.
    """
    path = Path(path)
    laid_out = fig.get_layout_engine() is not None
    if not laid_out:
        fig.tight_layout()
    if crop is None:
        crop = not laid_out and any(ax.get_legend() is not None for ax in fig.axes)
    with atomic_write(path) as tmp:
        if crop:
            # The temporary name ends in .tmp, so say the format explicitly.
            fig.savefig(tmp, dpi=PLOT_DPI, format="png", bbox_inches="tight")
        else:
            fig.set_dpi(PLOT_DPI)
            canvas = FigureCanvasAgg(fig)
            canvas.draw()
            rgb = np.asarray(canvas.buffer_rgba())[..., :3]
            Image.fromarray(rgb).save(tmp, format="PNG", dpi=(PLOT_DPI, PLOT_DPI))
    return path


def legend_beside(
    fig: Figure,
    handles: Sequence[Any] | None = None,
    *,
    side: str = "below",
    ncols: int = 1,
    fontsize: float = 9,
    title: str | None = None,
) -> None:
    """Lay ``fig`` out tightly with one figure legend below or right of its panels.

    The legend's size is measured, and the tight layout leaves exactly that
    strip free: the legend never covers a panel, however many detectors it
    lists. (A constrained layout does the same but costs half the drawing
    time of a figure.)

    Parameters
    ----------
    fig : Figure
        A figure whose panels are drawn.
    handles : sequence, optional
        Legend entries; default those of the first axes.
    side : {"below", "right"}
        Where the legend goes.
    ncols : int
        Columns of the legend.
    fontsize : float
        Font size of the legend.
    title : str, optional
        Legend title.
    """
    if handles is None:
        handles = fig.axes[0].get_legend_handles_labels()[0]
    below = side == "below"
    legend = fig.legend(
        handles=handles,
        loc="lower center" if below else "upper right",
        bbox_to_anchor=(0.5, 0.0) if below else (1.0, 1.0),
        ncols=ncols,
        fontsize=fontsize,
        title=title,
    )
    renderer = FigureCanvasAgg(fig).get_renderer()
    box = legend.get_window_extent(renderer)
    gap = 0.08 * fig.dpi  # inches of air between panels and legend
    if below:
        rect = (0.0, (box.height + gap) / fig.bbox.height, 1.0, 1.0)
    else:
        rect = (0.0, 0.0, 1.0 - (box.width + gap) / fig.bbox.width, 1.0)
    fig.tight_layout(rect=rect)


def fit_figsize(width: float, height: float) -> tuple[float, float]:
    """``(width, height)`` in inches, scaled down evenly to fit :data:`MAX_FIGURE_INCHES`."""
    scale = min(1.0, MAX_FIGURE_INCHES / max(width, height))
    return width * scale, height * scale


def panel_grid(
    n: int,
    width: float,
    height: float,
    *,
    max_cols: int = MAX_PANEL_COLUMNS,
    **subplot_kw: Any,
) -> tuple[Figure, np.ndarray]:
    """A figure of ``n`` panels of ``width`` x ``height`` inches, unused panels hidden.

    Parameters
    ----------
    n : int
        Panels drawn.
    width, height : float
        Size of one panel; all panels shrink evenly when the grid would
        exceed :data:`MAX_FIGURE_INCHES`.
    max_cols : int
        Panels a row holds at most.
    **subplot_kw
        Passed to :meth:`Figure.subplots` (``sharex``, ``sharey``).

    Returns
    -------
    (Figure, numpy.ndarray)
        The figure and its first ``n`` axes, row by row.
    """
    cols = max(1, min(n, max_cols))
    rows = int(np.ceil(max(n, 1) / cols))
    fig = Figure(figsize=fit_figsize(width * cols, height * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False, **subplot_kw)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def grouped_bars(
    ax: Any,
    frame: pd.DataFrame,
    *,
    horizontal: bool,
    label_fmt: str,
    colors: Mapping[str, str] | None = None,
) -> np.ndarray:
    """One bar per (row, column) of ``frame``, grouped by row, one colour per column.

    ``colors`` maps columns to colours (default: :data:`MODEL_PALETTE` in
    order). Returns the group positions, for the tick labels.
    """
    n = len(frame.columns)
    size = 0.8 / n
    pos = np.arange(len(frame.index))
    for i, model in enumerate(frame.columns):
        color = (colors or {}).get(model, MODEL_PALETTE[i % len(MODEL_PALETTE)])
        style = {"label": model, "color": color, "edgecolor": "black", "linewidth": 0.5}
        if horizontal:
            # The first model's bar sits on top within each group.
            bars = ax.barh(pos + ((n - 1) / 2 - i) * size, frame[model].to_numpy(), size, **style)
            ax.bar_label(bars, fmt=label_fmt, fontsize=8, padding=2)
        else:
            bars = ax.bar(pos + (i - (n - 1) / 2) * size, frame[model].to_numpy(), size, **style)
            ax.bar_label(bars, fmt=label_fmt, fontsize=8, padding=2, rotation=90)
        for bar in bars:
            bar.set_gid(str(model))
    return pos


def annotated_heatmap(
    ax: Any,
    frame: pd.DataFrame,
    *,
    fmt: str,
    cmap: str,
    cbar_label: str,
    vmin: float | None = None,
    vmax: float | None = None,
) -> None:
    """``frame`` as a heatmap with each cell's value written in it (blank for NaN).

    The form of a table of many detectors: a number per cell reads better than
    a bar per cell once there are more than a handful of bars a group.
    """
    cells = frame.shape[0] * frame.shape[1]
    sns.heatmap(
        frame,
        annot=True,
        fmt=fmt,
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        linewidths=1,
        linecolor="white",
        cbar_kws={"label": cbar_label},
        annot_kws={"fontsize": 9 if cells <= 150 else 7},
        ax=ax,
    )
    ax.tick_params(axis="y", rotation=0)
