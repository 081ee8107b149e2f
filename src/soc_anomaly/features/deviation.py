"""How unusual a feature value is, on one scale for every feature.

The deviation of a value is the -log10 of the share of training events whose
value of the same feature is at least as large (its upper-tail probability),
read off a sketch of upper quantiles kept at fit time and interpolated
between them: 2 for a value exceeded by 1% of training events, 3 by 0.1%,
log10 of the number of training events at the largest, plus up to
:data:`MAX_EXTRA` (the log of how far beyond, in units of the top decade's
spread) for a value beyond all of them. Values outside the top 10%
(deviation under :data:`MIN_DEVIATION`) deviate by 0. It is comparable across features
because every one is measured in the same currency, rarity in training, and
every feature is oriented so that larger is more suspicious.

Exceptions: a 0/1 flag that is set deviates by :data:`FLAG_DEVIATION`
(flags are 0 on every training event by construction, so the tail would call
every set flag maximally rare); ``new_place_speed_kmh``, also 0 on every
training event by construction, deviates by the larger of
:data:`FLAG_DEVIATION` and the speed's deviation among all training logons
(``travel_speed_kmh``); context features
(:data:`~soc_anomaly.features.catalog.CONTEXT_FEATURES`) never deviate.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FLAG_DEVIATION", "LEVELS", "MAX_EXTRA", "MIN_DEVIATION", "deviations", "tail_sketch"]

#: -log10 upper-tail probabilities at which quantiles are kept (1 down to 1e-7).
LEVELS = np.round(np.arange(0, 71) / 10.0, 1)
#: Deviation of a set 0/1 flag: as rare as 1 training event in 1,000.
FLAG_DEVIATION = 3.0
#: Most a value beyond every training value adds to the largest level.
MAX_EXTRA = 2.0
#: Deviations below this (values not in the top 10% of training) are set to 0:
#: they are no reason to look at an event.
MIN_DEVIATION = 1.0


def tail_sketch(values: np.ndarray) -> np.ndarray:
    """Upper quantiles of each column of ``values`` (rows are training events).

    Returns an array (n_columns, len(LEVELS)); levels finer than the sample can
    resolve (tail probability below 1 / n) are +inf.
    """
    n, k = values.shape
    sketch = np.full((k, len(LEVELS)), np.inf)
    if n == 0:
        return sketch
    usable = LEVELS <= np.log10(n) + 1e-9
    probs = 1.0 - 10.0 ** -LEVELS[usable]
    sketch[:, usable] = np.quantile(values, probs, axis=0, method="linear").T
    return sketch


def deviations(values: np.ndarray, sketch: np.ndarray) -> np.ndarray:
    """Deviation of each value (rows: events, columns: features) against ``sketch``."""
    out = np.zeros(values.shape)
    for j in range(values.shape[1]):
        q = sketch[j]
        v = values[:, j]
        # Index of the last quantile strictly below the value (-1: none is).
        below = np.searchsorted(q, v, side="left") - 1
        dev = np.where(below >= 0, LEVELS[np.maximum(below, 0)], 0.0)
        nxt = np.minimum(below + 1, len(q) - 1)
        lo, hi = q[np.maximum(below, 0)], q[nxt]
        step = (below >= 0) & (nxt > below) & np.isfinite(hi) & (hi > lo)
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(step, (v - lo) / np.where(step, hi - lo, 1.0), 0.0)
        dev = dev + np.clip(frac, 0.0, 1.0) * np.where(step, LEVELS[nxt] - dev, 0.0)
        # Beyond the largest training value: grow with the log of how far beyond, in
        # units of the last decade's spread, so extremes are ordered but bounded.
        last = int(np.isfinite(q).sum()) - 1
        spread = q[last] - q[max(last - 10, 0)] if last >= 0 else 0.0
        if spread > 0:
            beyond = (below == last) & (v > q[last])
            extra = np.log10(1.0 + np.maximum(v - q[last], 0.0) / spread)
            dev = np.where(beyond, dev + np.minimum(extra, MAX_EXTRA), dev)
        out[:, j] = dev
    return out
