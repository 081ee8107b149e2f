"""The seed scenario's normal sessions, as columns the attack injectors edit in place."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from soc_anomaly.scenarios.geo import offset_km
from soc_anomaly.scenarios.seed.cities import COUNTRIES

__all__ = ["SIMULATED_DAYS", "START_DATE", "EventColumns", "normal_columns"]

#: Sessions start within this many days after ``START_DATE``.
SIMULATED_DAYS = 30
START_DATE = np.datetime64("2026-01-05T00:00:00", "s")


@dataclass
class EventColumns:
    """Event columns as numpy arrays, edited in place by the attack injectors."""

    user: np.ndarray
    seconds: np.ndarray
    hour: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    country: np.ndarray
    bytes_in: np.ndarray
    bytes_out: np.ndarray
    failed: np.ndarray
    success: np.ndarray
    trust: np.ndarray


def normal_columns(
    users: pd.DataFrame, events_per_user: int, rng: np.random.Generator
) -> EventColumns:
    """``events_per_user`` benign sessions for every user of the catalog."""
    n_users = len(users)
    n = n_users * events_per_user
    user = np.repeat(np.arange(n_users, dtype=np.int32), events_per_user)
    typical = users["typical_login_hour"].to_numpy()[user]
    # Sessions start around the user's usual login time.
    hour = np.floor(typical + rng.normal(0.0, 1.4, n)).astype(np.int64) % 24
    day = rng.integers(0, SIMULATED_DAYS, n)
    seconds = day * 86400 + hour * 3600 + rng.integers(0, 3600, n)

    # Almost always from home (a few km); a small share roams within the region.
    roaming = rng.random(n) < 0.015
    distance = np.where(roaming, rng.uniform(30.0, 600.0, n), rng.exponential(3.0, n))
    lat, lon = offset_km(
        users["home_lat"].to_numpy()[user],
        users["home_lon"].to_numpy()[user],
        distance,
        rng.uniform(0.0, 2.0 * np.pi, n),
    )
    country = np.searchsorted(COUNTRIES, users["home_country"].to_numpy()).astype(np.int16)[user]

    bytes_in = users["baseline_bytes_in"].to_numpy()[user] * rng.lognormal(0.0, 0.45, n)
    bytes_out = users["baseline_bytes_out"].to_numpy()[user] * rng.lognormal(0.0, 0.45, n)

    # Mostly successful logins; typos cause occasional failures, riskier users
    # a few more; now and then a user gives up without succeeding.
    risk = users["risk_score"].to_numpy()[user]
    failed = rng.poisson(0.05 + 0.15 * risk, n)
    gave_up = rng.random(n) < 0.015
    failed = np.where(gave_up, np.maximum(failed, 1), failed)
    success = (~gave_up).astype(np.int64)

    # Managed devices score high; a few sessions come from a new device.
    new_device = rng.random(n) < 0.04
    trust = np.where(new_device, rng.beta(6.0, 4.0, n), rng.beta(20.0, 1.5, n))

    return EventColumns(
        user=user,
        seconds=seconds,
        hour=hour,
        lat=lat,
        lon=lon,
        country=country,
        bytes_in=bytes_in,
        bytes_out=bytes_out,
        failed=failed.astype(np.int64),
        success=success,
        trust=trust,
    )
