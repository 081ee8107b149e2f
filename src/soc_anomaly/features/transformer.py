"""The scikit-learn transformer from raw enterprise events to per-entity features."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from soc_anomaly.errors import DataError, check_positive_int, check_range
from soc_anomaly.features.carry import StreamContext, carry_state, join
from soc_anomaly.features.catalog import FEATURES, FeatureSentence
from soc_anomaly.features.columns import TEXT_COLUMNS, read_events
from soc_anomaly.features.compute import assemble, causal_aggregates
from soc_anomaly.features.deviation import tail_sketch
from soc_anomaly.features.explain import explain_rows
from soc_anomaly.features.history import fit_user_tables, pair_keys
from soc_anomaly.features.lstm_features import LSTM_FEATURES, has_lstm, with_lstm_rows
from soc_anomaly.features.peers import fit_peer_tables
from soc_anomaly.features.sequence_features import fit_sequences, sequence_context
from soc_anomaly.features.travel import fit_places

__all__ = ["EntityFeatures"]


class EntityFeatures(TransformerMixin, BaseEstimator):
    """Named numeric features of each raw event, against its user's history, peers and windows.

    ``fit`` learns baselines from the training window's events (the caller passes
    normal events only): each user's hour and weekday profile, the countries,
    devices, source addresses and destinations the user had, the user's typical
    bytes per connection, outbound bytes per 24 hours and destinations per day,
    and per department the destinations its users contact and their bytes per
    connection. ``transform`` reads each event against those baselines and adds
    causal sliding-window aggregates computed from the events passed to it
    (failed logons, failing accounts per address, MFA denials, outbound bytes
    over 24 hours, travel speed, connection regularity). :data:`FEATURES` lists
    every output column with its unit; every feature is oriented so that larger
    is more suspicious (except ``hours_since_prev_login``, context for the speed).

    Causal means an event's value depends only on the events at or before it in
    time order (row order breaks ties), so the transform of the first ``k``
    events equals the first ``k`` rows of the transform of all of them.

    "User" means the entity an event's baselines are kept for: its account, or
    for a network event without one (a flow log) its source host, else its
    source address (:mod:`soc_anomaly.features.entity_keys`; ``vocab_["user"]``
    holds their keys). Explanations name a source endpoint as such.

    A user with no event in the training window is no error: the user gets the
    population's baselines (hour and weekday profile, bytes, destinations per
    day), its first-seen flags are set only for values nobody had in training,
    ``new_user`` is 1, and its peers are its department when the ``users``
    table given to ``fit`` names it, else the whole population. Users with fewer
    than ``min_history`` training connections (active days) get the population's
    byte (daily destination) baselines too.

    Parameters
    ----------
    prior_weight : float, default=10.0
        Pseudo-events of the population's hour and weekday profile mixed into each
        user's, so a user with little history is not called rare at every new hour.
    min_history : int, default=5
        Least connections, outbound connections or active days for a user's own
        byte, 24-hour byte or daily-destination baseline (and connections for a
        department's byte baseline).
    min_travel_km : float, default=100.0
        Logons closer than this to the previous one give speed 0: addresses of one
        metropolitan area geolocate tens of kilometres apart.
    beacon_intervals : int, default=8
        Intervals between a user's consecutive connections to one destination that
        ``beacon_regularity`` looks at (the most recent ones).
    min_beacon_intervals : int, default=4
        Fewer intervals than this and ``beacon_regularity`` is 0.
    lstm : bool, default=False
        Also train the next-action LSTM of the ``lstm`` detector (needs
        PyTorch, the ``[deep]`` extra) and add its :data:`LSTM_FEATURES`
        (``lstm_surprise``, ``lstm_rank``) after :data:`FEATURES`
        (:mod:`soc_anomaly.features.lstm_features`).
    random_state : int, default=0
        Seeds the LSTM's training.

    Attributes
    ----------
    vocab_ : dict of str to ndarray of str
        Training values of ``user``, ``src_ip``, ``device_id``, ``dst_host`` and
        ``src_country``; the fitted tables are indexed by position in these. Every
        fitted attribute is a number, a string, a numpy array or a plain container
        of them (the peer tables a dataclass of arrays), so a model file needs no
        pandas objects.
    seen_ : dict of str to ndarray
        Sorted (user, value) pair keys seen in training, per first-seen column.
    user_tables_ : dict of str to ndarray
        Per-user baselines, one row per training user and a last population row.
    peers_ : PeerTables
        Department baselines.
    places_ : tuple of ndarray
        Each user's training logon places (offsets per user, latitudes, longitudes).
    deviation_sketch_ : ndarray of shape (n_features, n_levels)
        Upper quantiles of each feature over the training events (for ``explain``).
    n_training_events_ : int
        Events ``fit`` saw.

    Examples
    --------
    >>> from soc_anomaly.scenarios import generate_world
    >>> w = generate_world(n_users=120, days=14, campaigns=20, random_state=7)
    >>> train = w.events[(w.events["time"] < w.attack_start) & (w.events["label"] == 0)]
    >>> fe = EntityFeatures().fit(train, users=w.users)
    >>> feats = fe.transform(w.events)
    >>> list(feats.columns) == list(FEATURES)
    True
    """

    # A featuriser saved before these parameters existed reads them from the class.
    lstm: bool = False
    random_state: int | None = 0

    def __init__(
        self,
        prior_weight: float = 10.0,
        min_history: int = 5,
        min_travel_km: float = 100.0,
        beacon_intervals: int = 8,
        min_beacon_intervals: int = 4,
        lstm: bool = False,
        random_state: int = 0,
    ) -> None:
        self.prior_weight = prior_weight
        self.min_history = min_history
        self.min_travel_km = min_travel_km
        self.beacon_intervals = beacon_intervals
        self.min_beacon_intervals = min_beacon_intervals
        self.lstm = lstm
        self.random_state = random_state

    def _check_params(self) -> None:
        check_range("prior_weight", self.prior_weight, 0.0, np.inf, low_inclusive=True)
        check_positive_int("min_history", self.min_history)
        check_range("min_travel_km", self.min_travel_km, 0.0, np.inf, low_inclusive=True)
        check_positive_int("beacon_intervals", self.beacon_intervals)
        check_positive_int("min_beacon_intervals", self.min_beacon_intervals)
        if self.lstm:
            from soc_anomaly.sequences.torch_check import require_torch

            require_torch()

    def _aggregates(self, ev, prior=None, own=None):
        return causal_aggregates(
            ev, self.min_travel_km, self.beacon_intervals, self.min_beacon_intervals, prior, own
        )

    def fit(self, X: pd.DataFrame, y: object = None, users: pd.DataFrame | None = None):
        """Learn per-user and per-department baselines from training events.

        Parameters
        ----------
        X : DataFrame
            Raw events of the training window (:data:`REQUIRED_COLUMNS`), normal
            events only.
        y : ignored
            Present for scikit-learn's API.
        users : DataFrame or None, default=None
            The world's users table (``user``, ``department``) for peer baselines;
            without it every user's peers are the whole population.

        Returns
        -------
        EntityFeatures
            ``self``, fitted.

        Raises
        ------
        soc_anomaly.errors.DataError
            If a required column is missing or has an unusable type, or ``X`` is empty.
        """
        self._check_params()
        ev = read_events(X)
        if len(ev) == 0:
            raise DataError("events to fit on are empty; expected the training window's events")
        vocab: dict[str, np.ndarray] = {}
        codes: dict[str, np.ndarray] = {}
        for name in TEXT_COLUMNS:
            local = ev.codes[name]
            used = np.unique(local[local >= 0])
            vocab[name] = np.asarray(ev.categories[name][used], dtype=str)
            codes[name] = ev.fitted_codes(name, vocab[name])
        user = codes["user"]
        n_users = len(vocab["user"])
        seen = {}
        for name in ("src_country", "device_id", "src_ip", "dst_host"):
            ok = codes[name] >= 0
            seen[name] = np.unique(pair_keys(user[ok], codes[name][ok], len(vocab[name])))
        agg = self._aggregates(ev)
        self.user_tables_ = fit_user_tables(
            ev, user, n_users, agg.out24, agg.daily, self.prior_weight, self.min_history
        )
        self.peers_ = fit_peer_tables(
            users,
            vocab["user"],
            user,
            codes["dst_host"],
            len(vocab["dst_host"]),
            np.log1p(ev.bytes_out),
            ev.is_net,
            self.min_history,
        )
        self.places_ = fit_places(user, ev.lat, ev.lon, ev.is_auth, n_users)
        self.vocab_ = vocab
        self.seen_ = seen
        self.n_training_events_ = len(ev)
        fit_sequences(self, X, ev)
        # A refit starts without the old sketch: assemble reads it for unknown values.
        self.__dict__.pop("deviation_sketch_", None)
        self.deviation_sketch_ = tail_sketch(assemble(self, ev, agg).T)
        if (ev.codes["dst_host"] < 0).any() or (ev.is_net & ~ev.direction_known).any():
            # Unknown destinations and directions in training take the training median,
            # as they will when scored: a second pass with the first pass's sketch.
            self.deviation_sketch_ = tail_sketch(assemble(self, ev, agg).T)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Features of each event.

        Parameters
        ----------
        X : DataFrame
            Raw events (:data:`REQUIRED_COLUMNS`), any period; windows look only at
            these events, at or before each one.

        Returns
        -------
        DataFrame
            Same index and row order as ``X``, columns ``list(FEATURES)``, float64,
            all finite.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If called before ``fit``.
        soc_anomaly.errors.DataError
            If a required column is missing or has an unusable type.
        """
        check_is_fitted(self, "deviation_sketch_")
        ev = read_events(X)
        seq: dict = {}
        values = assemble(self, ev, self._aggregates(ev), out=seq)
        values = ev.restore(with_lstm_rows(self, values, ev, None, seq["sequences"]))
        # The array is ours alone: no need for pandas to copy it.
        columns = list(self.get_feature_names_out())
        return pd.DataFrame(values.T, index=X.index, columns=columns, copy=False)

    def transform_stream(
        self, X: pd.DataFrame, context: StreamContext | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame, StreamContext]:
        """Features of a chunk of a stream, read after what the stream carried.

        Parameters
        ----------
        X : DataFrame
            The chunk's raw events (:data:`REQUIRED_COLUMNS`), all at or after
            the events of earlier chunks.
        context : StreamContext or None
            What the stream carried (:func:`soc_anomaly.features.carry.next_context`);
            None at the start of a stream.

        Returns
        -------
        features : DataFrame
            As :meth:`transform` of the whole stream would give for these rows
            (indexed like ``X``).
        context_columns : DataFrame
            What :meth:`explain` says beside the values, indexed like ``X``:
            ``prev_login_city`` (the previous logon's city, or None),
            ``beacon_mean_s``, ``beacon_cv`` and ``beacon_intervals`` (the
            interval statistics behind ``beacon_regularity``), ``action``,
            ``after_action`` and ``after_run`` (the event's action, the entity's
            previous one and how many times in a row it came: the sequence
            sentences).
        next_context : StreamContext
            What the stream carries into its next chunk
            (:func:`soc_anomaly.features.carry.next_context` of ``context`` and ``X``).
        """
        check_is_fitted(self, "deviation_sketch_")
        combined = join(context, X)
        ev = read_events(combined)
        first = len(combined) - len(X)
        own = np.arange(len(combined)) >= first
        if ev.order is not None:
            own = own[ev.order]
        prior = None if context is None else context.beacons
        agg = self._aggregates(ev, prior, own if prior is not None else None)
        mine = np.flatnonzero(own)
        seq: dict = {}
        before = None if context is None else context.sequences
        values = assemble(self, ev, agg, mine, before, seq)
        values = with_lstm_rows(self, values, ev, mine, seq["sequences"])
        if ev.order is not None:
            # Time order -> the chunk's row order (otherwise its rows are the last, in order).
            in_order = np.empty_like(values)
            in_order[:, ev.order[mine] - first] = values
            values = in_order
        names = list(self.get_feature_names_out())
        features = pd.DataFrame(values.T, index=X.index, columns=names, copy=False)
        prev = agg.travel.prev
        city = None
        if "src_city" in combined.columns:
            rows = prev if ev.order is None else ev.order[np.maximum(prev, 0)]
            names = combined["src_city"].astype(object).to_numpy()[rows]
            city = np.where(prev >= 0, names, None)
        extra = {
            "prev_login_city": city if city is not None else np.full(len(ev), None),
            "beacon_mean_s": agg.beacon_mean_s,
            "beacon_cv": agg.beacon_cv,
            "beacon_intervals": agg.beacon_count,
        }
        columns = pd.DataFrame(
            {k: ev.restore(np.asarray(v))[first:] for k, v in extra.items()}, index=X.index
        )
        # The sequence context is of the chunk's own events (time order): to row order.
        at = np.arange(len(mine)) if ev.order is None else ev.order[mine] - first
        for name, v in sequence_context(seq["sequences"].actions, seq["sequences"].history).items():
            placed = np.empty_like(v)
            placed[at] = v
            columns[name] = placed
        # The next chunk's state, from the events just read (no second pass over them).
        carried = carry_state(
            context, combined, ev, mine, self.beacon_intervals, seq["sequences"].state
        )
        return features, columns, carried

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """The output column names as an object array: ``list(FEATURES)``, then
        :data:`LSTM_FEATURES` when fitted with ``lstm=True``."""
        extra = list(LSTM_FEATURES) if has_lstm(self) else []
        return np.asarray([*FEATURES, *extra], dtype=object)

    def explain(
        self,
        X: pd.DataFrame,
        features: pd.DataFrame,
        top: int = 5,
        history: pd.DataFrame | None = None,
        context_columns: pd.DataFrame | None = None,
    ) -> list[list[FeatureSentence]]:
        """Sentences saying why each event stands out, most deviant feature first.

        Parameters
        ----------
        X : DataFrame
            Raw events to explain (typically ``events.loc[rows]`` for a few rows).
        features : DataFrame
            Their rows of :meth:`transform`'s output (``feats.loc[rows]``), aligned
            with ``X`` by position.
        top : int, default=5
            Most sentences per event.
        history : DataFrame or None, default=None
            The full event table ``X``'s rows were taken from (same index labels).
            With it, a travel sentence names the previous logon's city and a
            regularity sentence the mean interval; without it they say less.
        context_columns : DataFrame or None, default=None
            The second output of :meth:`transform_stream` for these rows,
            aligned by position: says the same as ``history`` without reading it.

        Returns
        -------
        list of list of FeatureSentence
            One list per row of ``X``: at most ``top`` sentences for the features
            whose deviation is above 0, largest deviation first (ties in catalog
            order). See :mod:`soc_anomaly.features.deviation` for the scale.
        """
        check_is_fitted(self, "deviation_sketch_")
        return explain_rows(self, X, features, top, history, context_columns)
