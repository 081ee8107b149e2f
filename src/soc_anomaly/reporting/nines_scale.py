"""The "nines" axis: scores and percentiles near 100 spread out evenly.

On it 90, 99, 99.9 and 99.99 are equally spaced (``-log10(1 - v/100)``), so
the thresholds and alerts that crowd against 100 on a linear axis can be read.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.ticker import FixedLocator, NullLocator

__all__ = ["MAX_NINES", "nines", "set_nines_scale"]

#: Deepest "nine" a nines axis shows: 99.9999; scores beyond sit at its edge.
MAX_NINES = 6.0


def nines(values: Any) -> np.ndarray:
    """``-log10(1 - v / 100)`` of values in [0, 100]: 90 -> 1, 99 -> 2, 99.9 -> 3.

    Values are clipped to [0, 100 - 10**(2 - MAX_NINES)], so a score that
    rounds to 100 lands at the deepest nine instead of at infinity.
    """
    v = np.clip(np.asarray(values, dtype=float), 0.0, 100.0)
    return -np.log10(np.maximum(1.0 - v / 100.0, 10.0**-MAX_NINES))


def _from_nines(x: Any) -> np.ndarray:
    return 100.0 * (1.0 - 10.0 ** -np.asarray(x, dtype=float))


def _axis_nines(values: Any) -> np.ndarray:
    # The axis itself reaches one nine deeper than the data, so that points
    # at the deepest nine are not cut in half by the edge.
    v = np.clip(np.asarray(values, dtype=float), 0.0, 100.0)
    return -np.log10(np.maximum(1.0 - v / 100.0, 10.0 ** -(MAX_NINES + 1)))


def set_nines_scale(ax: Any, axis: str, low: float, high: float, pad: float = 0.0) -> None:
    """Draw ``axis`` ("x" or "y") of ``ax`` on the nines scale, from ``low`` to ``high``.

    The data stay in their own units (scores, percentiles in [0, 100]); ticks
    sit at 0, 50, 90, 95, 99, 99.5, 99.9, 99.99, ... within the range, and
    the axis runs ``pad`` nines past ``high``.
    """
    lo_n, hi_n = float(nines(low)), float(nines(high))
    # Halfway ticks (50, 95, 99.5) only when the axis spans few nines: on a
    # long axis they would crowd the labels of 0, 90 and 99.
    candidates = [0.0, 90.0, 99.0] if hi_n - lo_n > 2.5 else [0.0, 50.0, 90.0, 95.0, 99.0, 99.5]
    candidates += [float(_from_nines(k)) for k in range(3, int(MAX_NINES) + 1)]
    ticks = [t for t in candidates if lo_n - 1e-9 <= nines(t) <= hi_n + 1e-9]
    labels = [f"{t:.10g}" for t in ticks]
    setter = ax.set_xscale if axis == "x" else ax.set_yscale
    setter("function", functions=(_axis_nines, _from_nines))
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(FixedLocator(ticks))
    target.set_minor_locator(NullLocator())
    (ax.set_xticks if axis == "x" else ax.set_yticks)(ticks, labels)
    top = float(_from_nines(hi_n + pad)) if pad else high
    (ax.set_xlim if axis == "x" else ax.set_ylim)(low, top)
