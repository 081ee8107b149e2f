"""The seed scenario's user catalog: risk, working hours, traffic baselines, home."""

from __future__ import annotations

import numpy as np
import pandas as pd

from soc_anomaly.scenarios.geo import offset_km
from soc_anomaly.scenarios.seed.cities import (
    CITIES,
    CITY_COUNTRY,
    CITY_LAT,
    CITY_LON,
    N_OFFICES,
    OFFICE_WEIGHTS,
)

__all__ = ["HIGH_RISK_SHARE", "NIGHT_SHIFT_SHARE", "user_catalog"]

#: Share of high-risk users in the catalog ("about 10%").
HIGH_RISK_SHARE = 0.10
#: Share of users who work a night shift (a SOC runs round the clock).
NIGHT_SHIFT_SHARE = 0.06


def user_catalog(n_users: int, rng: np.random.Generator) -> pd.DataFrame:
    """Draw ``n_users`` users (columns :data:`soc_anomaly.data.schema.USER_COLUMNS`)."""
    high = rng.random(n_users) < HIGH_RISK_SHARE
    risk = np.where(high, rng.beta(6.0, 2.0, n_users), rng.beta(2.0, 9.0, n_users))
    night = rng.random(n_users) < NIGHT_SHIFT_SHARE
    start = np.where(night, rng.integers(20, 23, n_users), rng.integers(7, 11, n_users))
    typical = (start + rng.uniform(0.0, 1.5, n_users)) % 24.0
    office = rng.choice(N_OFFICES, size=n_users, p=OFFICE_WEIGHTS)
    # Users live around their office, not on top of it.
    home_lat, home_lon = offset_km(
        CITY_LAT[office],
        CITY_LON[office],
        rng.uniform(0.0, 40.0, n_users),
        rng.uniform(0.0, 2.0 * np.pi, n_users),
    )
    return pd.DataFrame(
        {
            "user_id": [f"user_{i:04d}" for i in range(n_users)],
            "risk_score": np.round(risk, 4),
            "is_high_risk": high,
            "night_shift": night,
            "typical_login_hour": np.round(typical, 2),
            "work_start_hour": start.astype(np.int64),
            "work_end_hour": ((start + 9) % 24).astype(np.int64),
            "baseline_bytes_in": np.round(rng.lognormal(np.log(8e6), 0.6, n_users)),
            "baseline_bytes_out": np.round(rng.lognormal(np.log(1.5e6), 0.6, n_users)),
            "home_city": np.array([c[0] for c in CITIES])[office],
            "home_country": CITY_COUNTRY[office],
            "home_lat": np.round(home_lat, 5),
            "home_lon": np.round(home_lon, 5),
        }
    )
