"""The look every figure shares, and how figures are saved.

Figures are built on :class:`matplotlib.figure.Figure` directly rather than
through ``pyplot``: no GUI backend is ever touched, nothing global is left
open, and plotting works the same in a terminal, a test or a server. Each
figure is saved atomically at 150 dpi or more.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from soc_anomaly.data.io import atomic_write

__all__ = [
    "ANOMALY_COLOR",
    "MODEL_PALETTE",
    "NORMAL_COLOR",
    "PLOT_DPI",
    "figure_style",
    "grouped_bars",
    "panel_grid",
    "save_figure",
    "slug",
]

PLOT_DPI = 150
NORMAL_COLOR = "#2ca02c"
ANOMALY_COLOR = "#d62728"
MODEL_PALETTE = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def slug(name: str) -> str:
    """File-name-safe lower-case form of a model name (``One Class`` -> ``one_class``)."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


@contextmanager
def figure_style() -> Iterator[None]:
    """Seaborn's white grid and notebook context, for one figure."""
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=1.05):
        yield


def save_figure(fig: Figure, path: Path) -> Path:
    """Lay out ``fig`` and write it to ``path`` as a PNG, atomically."""
    path = Path(path)
    fig.tight_layout()
    with atomic_write(path) as tmp:
        # The temporary name ends in .tmp, so say the format explicitly.
        fig.savefig(tmp, dpi=PLOT_DPI, format="png", bbox_inches="tight")
    return path


def grouped_bars(ax: Any, frame: pd.DataFrame, *, horizontal: bool, label_fmt: str) -> np.ndarray:
    """One bar per (row, column) of ``frame``, grouped by row, one colour per column.

    Returns the group positions, for the tick labels.
    """
    n = len(frame.columns)
    size = 0.8 / n
    pos = np.arange(len(frame.index))
    for i, model in enumerate(frame.columns):
        style = {
            "label": model,
            "color": MODEL_PALETTE[i % len(MODEL_PALETTE)],
            "edgecolor": "black",
            "linewidth": 0.5,
        }
        if horizontal:
            # The first model's bar sits on top within each group.
            bars = ax.barh(pos + ((n - 1) / 2 - i) * size, frame[model].to_numpy(), size, **style)
            ax.bar_label(bars, fmt=label_fmt, fontsize=8, padding=2)
        else:
            bars = ax.bar(pos + (i - (n - 1) / 2) * size, frame[model].to_numpy(), size, **style)
            ax.bar_label(bars, fmt=label_fmt, fontsize=8, padding=2, rotation=90)
    return pos


def panel_grid(n: int, width: float, height: float) -> tuple[Figure, np.ndarray]:
    """A figure with ``n`` panels, at most three a row; unused panels hidden."""
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(width * cols, height * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]
