"""The seed scenario's per-row features, computed from raw enterprise events.

The seed detectors read eight columns of one session each
(:data:`soc_anomaly.data.schema.FEATURE_COLS`). :class:`SeedColumns` computes
the seven of them that a raw event of the enterprise world can give, so the
same detectors can be compared on the world with and without per-entity
features:

``hour``
    Local hour of the event (``time`` shifted by ``timezone_offset``).
``geo_distance``
    Great-circle km between a logon's source and the user's home: the place
    the user logged in from most often in the training window. An account with
    no logon in the training window is measured from the nearest place the
    organisation usually logs in from (at least 1% of its training logons).
    Connections carry no location: 0.
``bytes_in``, ``bytes_out``
    Of a connection; 0 for a logon.
``failed_logins``, ``successful_logins``
    1 for a failed or successful logon, else 0.
``device_trust_score``
    1 when the event comes from a managed company host (``src_host`` is
    known), else 0.

``user_risk_score`` has no raw counterpart (it is a property of the seed's
user catalog) and is left out. Every value is a property of the one row, or of
the user's home: nothing here looks at windows of events.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from soc_anomaly.data.schema import FEATURE_COLS
from soc_anomaly.errors import DataError
from soc_anomaly.features.columns import epoch_ms, text_index, utc_offsets
from soc_anomaly.scenarios.geo import haversine_km

__all__ = ["SEED_COLUMNS", "SEED_REQUIRED_COLUMNS", "SeedColumns"]

#: Output columns, in order: the seed's features but ``user_risk_score``.
SEED_COLUMNS: tuple[str, ...] = tuple(c for c in FEATURE_COLS if c != "user_risk_score")
#: Raw columns :class:`SeedColumns` reads.
SEED_REQUIRED_COLUMNS: tuple[str, ...] = (
    "time",
    "timezone_offset",
    "class_uid",
    "user",
    "src_host",
    "src_lat",
    "src_lon",
    "status",
    "bytes_in",
    "bytes_out",
)
_AUTH = 3002
_HOUR_MS = 3_600_000
#: A place counts as one the organisation "usually logs in from" above this share.
_COMMON_PLACE_SHARE = 0.01


def _positions(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Position in ``index`` of each value as text (-1 if absent or null).

    One lookup per distinct value: a categorical column costs no string work.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    # Object strings, not np.asarray(...).astype(str): that costs distinct x longest x 4 bytes.
    found = index.get_indexer(text_index(uniques))
    return np.append(found, -1)[codes]


def _require(X: pd.DataFrame) -> None:
    missing = [c for c in SEED_REQUIRED_COLUMNS if c not in X.columns]
    if missing:
        raise DataError(
            f"the events lack column(s) {', '.join(missing)}; the seed features need the raw "
            f"enterprise columns {', '.join(SEED_REQUIRED_COLUMNS)}"
        )


class SeedColumns(TransformerMixin, BaseEstimator):
    """Compute the seed's per-row features from raw enterprise events.

    ``fit`` learns each user's home (the most frequent logon location in the
    training window); ``transform`` returns :data:`SEED_COLUMNS` for any events.

    Attributes
    ----------
    home_users_ : numpy.ndarray of str
        The users seen logging on during training, sorted.
    home_lat_, home_lon_ : numpy.ndarray of float64
        Latitude and longitude of each one's home.
    common_places_ : numpy.ndarray of shape (n_places, 2)
        Latitude and longitude of the places the organisation usually logs in
        from; accounts without a home are measured from the nearest one.
    """

    def fit(self, X: pd.DataFrame, y: object = None) -> SeedColumns:
        """Learn each user's home from the training window's logons.

        Parameters
        ----------
        X : pandas.DataFrame
            Raw events of the training window.
        y : ignored

        Returns
        -------
        SeedColumns
            This transformer.
        """
        _require(X)
        logons = X.loc[(X["class_uid"] == _AUTH).to_numpy() & X["src_lat"].notna().to_numpy()]
        places = pd.DataFrame(
            {
                "user": logons["user"].astype(str).to_numpy(),
                "lat": logons["src_lat"].to_numpy(dtype=float).round(3),
                "lon": logons["src_lon"].to_numpy(dtype=float).round(3),
            }
        )
        counts = places.groupby(["user", "lat", "lon"], sort=True).size().rename("n").reset_index()
        # Most frequent place per user; ties go to the first in sorted order, so
        # the result does not depend on row order.
        top = counts.sort_values(["user", "n"], ascending=[True, False], kind="stable")
        homes = top.drop_duplicates("user")
        # Plain arrays, not a DataFrame: a model file holds no pandas objects.
        self.home_users_ = homes["user"].to_numpy(dtype=str)
        self.home_lat_ = homes["lat"].to_numpy(dtype=float)
        self.home_lon_ = homes["lon"].to_numpy(dtype=float)
        share = places.groupby(["lat", "lon"]).size() / max(len(places), 1)
        common = share[share >= _COMMON_PLACE_SHARE]
        if common.empty:
            common = share.nlargest(1)
        self.common_places_ = np.array(common.index.tolist(), dtype=float).reshape(-1, 2)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """The seed's features of each event.

        Parameters
        ----------
        X : pandas.DataFrame
            Raw events.

        Returns
        -------
        pandas.DataFrame
            :data:`SEED_COLUMNS`, float64 and finite, indexed like ``X``.
        """
        check_is_fitted(self, "home_users_")
        _require(X)
        auth = (X["class_uid"] == _AUTH).to_numpy()
        local_ms = epoch_ms(X["time"]) + utc_offsets(X["timezone_offset"]) * 60_000
        hour = (local_ms // _HOUR_MS) % 24
        lat = X["src_lat"].to_numpy(dtype=float)
        lon = X["src_lon"].to_numpy(dtype=float)
        at = _positions(X["user"], pd.Index(self.home_users_.astype(object)))
        # A trailing NaN is the home of every user without one.
        home_lat = np.append(self.home_lat_, np.nan)[at]
        home_lon = np.append(self.home_lon_, np.nan)[at]
        located = auth & np.isfinite(lat)
        distance = np.zeros(len(X))
        known = located & np.isfinite(home_lat)
        distance[known] = haversine_km(lat[known], lon[known], home_lat[known], home_lon[known])
        homeless = located & ~np.isfinite(home_lat)
        if homeless.any():
            places = self.common_places_
            to_each = haversine_km(
                lat[homeless, None], lon[homeless, None], places[None, :, 0], places[None, :, 1]
            )
            distance[homeless] = to_each.min(axis=1)
        failed = _positions(X["status"], pd.Index(["Failure"])) == 0
        succeeded = _positions(X["status"], pd.Index(["Success"])) == 0
        frame = pd.DataFrame(
            {
                "hour": hour.astype(float),
                "geo_distance": distance,
                "bytes_in": np.nan_to_num(X["bytes_in"].to_numpy(dtype=float)),
                "bytes_out": np.nan_to_num(X["bytes_out"].to_numpy(dtype=float)),
                "failed_logins": (auth & failed).astype(float),
                "successful_logins": (auth & succeeded).astype(float),
                "device_trust_score": X["src_host"].notna().to_numpy().astype(float),
            },
            index=X.index,
        )
        return frame

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Names of the output columns."""
        return np.array(SEED_COLUMNS, dtype=object)
