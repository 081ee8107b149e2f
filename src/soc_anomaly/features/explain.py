"""Sentences an analyst can read, from an event, its features and the fitted baselines.

Each feature's :attr:`FeatureInfo.template` is filled with fields computed
here from the raw event (its country, device, addresses), the fitted tables
(the user's median bytes, usual destinations a day, the department's users)
and, when the full event table is given as ``history``, context that only it
holds (the previous logon's city, the rhythm of a beacon).
"""

from __future__ import annotations

import json
from string import Formatter
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from soc_anomaly.errors import DataError
from soc_anomaly.features.catalog import (
    CONTEXT_FEATURES,
    FAMILIES,
    FEATURES,
    FLAG_FEATURES,
    FeatureSentence,
)
from soc_anomaly.features.columns import TEXT_COLUMNS, Events, read_events
from soc_anomaly.features.compute import sequence_context_at, user_rows
from soc_anomaly.features.deviation import FLAG_DEVIATION, MIN_DEVIATION, deviations
from soc_anomaly.features.entity_keys import ACCOUNT, KIND_NAMES, entity_of
from soc_anomaly.features.history import hour_weekday
from soc_anomaly.features.lstm_features import LSTM_FEATURES, has_lstm
from soc_anomaly.features.peers import department_codes
from soc_anomaly.features.sequence_features import DEPTH
from soc_anomaly.features.travel import previous_login
from soc_anomaly.sequences.vocabulary import ACTIONS

if TYPE_CHECKING:
    from soc_anomaly.features.transformer import EntityFeatures

__all__ = [
    "entity_words",
    "explain_rows",
    "feature_deviations",
    "format_bytes",
    "format_duration",
    "quote",
]

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_NAMES = list(FEATURES)
_FLAG_COLS = np.array([n in FLAG_FEATURES for n in _NAMES])
_CONTEXT_COLS = np.array([n in CONTEXT_FEATURES for n in _NAMES])
_SPEED, _NEW_PLACE = _NAMES.index("travel_speed_kmh"), _NAMES.index("new_place_speed_kmh")
_FAMILY = {name: k for k, family in enumerate(FAMILIES) for name in family}
#: Sentence fields that quote a raw text column, and the features whose sentence quotes each.
_QUOTED = {
    "entity": "user",
    "country": "src_country",
    "device": "device_id",
    "src_ip": "src_ip",
    "dst_host": "dst_host",
}
_QUOTING = {
    field: np.array(
        [
            j
            for j, name in enumerate(_NAMES)
            if field in {f for _, f, _, _ in Formatter().parse(FEATURES[name].template)}
        ],
        dtype=np.int64,
    )
    for field in _QUOTED
}


def quote(value: object) -> str:
    r"""An event value as it appears in a sentence: in double quotes, escaped as JSON does.

    Values are data an attacker can type; quoted, a value cannot end the
    sentence that names it or forge another one (``"; "`` or a line break stays
    inside the quotes). Quotes, backslashes, control and other invisible
    characters (bidirectional overrides, zero-width spaces, separators) are
    escaped (``\"``, ``\n``, ``\u202e``), so what is read is what the value holds.

    Examples
    --------
    >>> print(quote("10.0.0.1"))
    "10.0.0.1"
    >>> print(quote('1.2.3.4; the account "root" has no history\n'))
    "1.2.3.4; the account \"root\" has no history\n"
    """
    text = json.dumps(str(value), ensure_ascii=False)
    if text.isprintable():
        return text
    # ensure_ascii=True gives JSON's own escape (a surrogate pair beyond U+FFFF).
    return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in text)


def format_bytes(n: float) -> str:
    """``3.2 GB``, ``540 MB``, ``12 KB``, ``800 B`` (decimal units)."""
    # Amounts recovered from logarithms land a hair under round numbers
    # (999,999.9999 for a megabyte): round to whole bytes first.
    n = float(round(n))
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        # The unit whose rounded value stays under 1,000 ("1.0 MB", not "1,000 KB").
        if n >= size or (n >= size / 1e3 and round(n / (size / 1e3)) >= 1000):
            v = n / size
            return f"{v:,.1f} {unit}" if v < 9.95 else f"{v:,.0f} {unit}"
    return f"{n:,.0f} B"


def format_duration(hours: float) -> str:
    """``40 s``, ``25 min``, ``3.5 h``, ``2.1 days``."""
    if hours < 1 / 60:
        return f"{hours * 3600:,.0f} s"
    if hours < 1.5:
        return f"{hours * 60:,.0f} min"
    if hours < 48:
        return f"{hours:,.1f} h"
    return f"{hours / 24:,.1f} days"


def _ratio(r: float) -> str:
    return f"{r:,.1f}" if r < 10 else f"{r:,.0f}"


def feature_deviations(est: EntityFeatures, values: np.ndarray) -> np.ndarray:
    """Deviation of each feature value (rows: events, columns: :data:`FEATURES`)."""
    sketch = est.deviation_sketch_.copy()
    # new_place_speed_kmh is 0 on every training event; its speed is judged as a speed.
    sketch[_NEW_PLACE] = sketch[_SPEED]
    dev = deviations(values, sketch)
    dev[dev < MIN_DEVIATION] = 0.0
    moved = values[:, _NEW_PLACE] > 0
    # A hair above the plain speed, so the more telling sentence wins their family.
    new_place = np.maximum(dev[:, _NEW_PLACE], FLAG_DEVIATION) + 0.01
    dev[:, _NEW_PLACE] = np.where(moved, new_place, 0.0)
    dev[:, _FLAG_COLS] = np.where(values[:, _FLAG_COLS] > 0, FLAG_DEVIATION, 0.0)
    dev[:, _CONTEXT_COLS] = 0.0
    return dev


def _history_context(
    history: pd.DataFrame | None, X: pd.DataFrame, min_travel_km: float
) -> tuple[list[Any], Events | None, np.ndarray | None]:
    """The previous logon's city per row of ``X`` and ``history``'s events and positions."""
    none: list[Any] = [None] * len(X)
    if history is None:
        return none, None, None
    if not history.index.is_unique:
        raise DataError("history must have a unique index; got repeated index labels")
    where = history.index.get_indexer(X.index)
    if (where < 0).any():
        raise DataError("history must hold every explained row (by index label); some are absent")
    evh = read_events(history)
    # Positions of history's rows in time order, and back.
    rank = np.arange(len(evh)) if evh.order is None else np.argsort(evh.order, kind="stable")
    pos = rank[where]
    travel = previous_login(
        evh.codes["user"], evh.time, evh.lat, evh.lon, evh.is_auth, min_travel_km
    )
    prev = travel.prev[pos]
    cities = none
    if "src_city" in history.columns:
        prev_rows = prev if evh.order is None else evh.order[np.maximum(prev, 0)]
        city = history["src_city"].to_numpy(dtype=object)[prev_rows]
        cities = [
            c if p >= 0 and isinstance(c, str) else None for c, p in zip(city, prev, strict=True)
        ]
    return cities, evh, pos


def _rhythm_text(mean_s: float, cv: float, intervals: int) -> str:
    """`` (every 15 min, varying by 8% over the last 8)``, or ``""`` with too few intervals."""
    if intervals < 2 or mean_s <= 0:
        return ""
    return (
        f" (every {format_duration(mean_s / 3600.0)}, varying by {cv:.0%} "
        f"over the last {intervals})"
    )


def _rhythm(evh: Events, pos: int, user: str, dst: str, n_intervals: int) -> str:
    """`` (every 15 min, varying by 8% over the last 8)`` from the history, or ``""``."""
    try:
        u = evh.categories["user"].get_loc(user)
        d = evh.categories["dst_host"].get_loc(dst)
    except KeyError:
        return ""
    mask = (evh.codes["user"][: pos + 1] == u) & (evh.codes["dst_host"][: pos + 1] == d)
    mask &= evh.is_net[: pos + 1]
    times = evh.time[: pos + 1][mask][-(n_intervals + 1) :] / 1000.0
    gaps = np.diff(times)
    if len(gaps) < 2 or gaps.mean() <= 0:
        return ""
    cv = gaps.std() / gaps.mean()
    every = format_duration(gaps.mean() / 3600.0)
    return f" (every {every}, varying by {cv:.0%} over the last {len(gaps)})"


def _sequence_words(seq: dict[str, np.ndarray], i: int, bits: float) -> dict[str, Any]:
    """The fields of a sequence sentence: the action, what came before, the odds."""
    action, after, run = (int(seq[k][i]) for k in ("action", "after_action", "after_run"))
    before = ACTIONS[after].times(run) if after >= 0 else "the start of its history"
    # Runs longer than the carried history are "at least" that long.
    if after >= 0 and run >= DEPTH and run > 1:
        before = f"at least {before}"
    return {"action": ACTIONS[action].text, "after": before, "odds": 2.0 ** min(bits, 1000.0)}


def entity_words(key: str) -> dict[str, str]:
    """How a sentence names the entity of a baseline, from its key (``entity_keys``).

    ``who`` ("this user", or ``source host "WS-12"``), ``whose`` (its
    possessive) and ``entity`` (``the account "alice"``, or as ``who``).
    """
    kind, value = entity_of(key)
    if kind == ACCOUNT:
        return {"who": "this user", "whose": "this user's", "entity": f"the account {quote(value)}"}
    who = f"{KIND_NAMES[kind]} {quote(value)}"
    return {"who": who, "whose": f"{who}'s", "entity": who}


def _strings(ev: Events, name: str) -> np.ndarray:
    cats = np.append(ev.categories[name].to_numpy(dtype=object), None)
    return ev.restore(cats[ev.codes[name]])


def explain_rows(
    est: EntityFeatures,
    X: pd.DataFrame,
    features: pd.DataFrame,
    top: int,
    history: pd.DataFrame | None,
    context_columns: pd.DataFrame | None = None,
) -> list[list[FeatureSentence]]:
    """See :meth:`EntityFeatures.explain`."""
    if len(features) != len(X):
        raise DataError(f"got {len(features)} feature rows for {len(X)} events; expected one each")
    missing = [n for n in _NAMES if n not in features.columns]
    if missing:
        raise DataError(f"features are missing column(s) {', '.join(missing)}; expected FEATURES")
    values = features[_NAMES].to_numpy(dtype=np.float64)
    dev = feature_deviations(est, values)
    ev = read_events(X)
    text = {name: _strings(ev, name) for name in TEXT_COLUMNS}
    hour, weekday = (ev.restore(a) for a in hour_weekday(ev))
    row = ev.restore(user_rows(est, ev))
    tables, peers = est.user_tables_, est.peers_
    group = ev.restore(department_codes(peers, ev.fitted_codes("user", peers.members)))
    dst = ev.restore(ev.fitted_codes("dst_host", est.vocab_["dst_host"]))
    known_dst = np.array([h is not None for h in text["dst_host"]], dtype=bool)
    _, dst_users, group_size = peers.rarity(group, dst, len(est.vocab_["dst_host"]), known_dst)
    # A sentence never names an unknown value: a feature quoting one gives no reason.
    for field, column in _QUOTED.items():
        unknown = np.array([v is None for v in text[column]], dtype=bool)
        if unknown.any():
            dev[np.ix_(unknown, _QUOTING[field])] = 0.0
    bytes_in, bytes_out = ev.restore(ev.bytes_in), ev.restore(ev.bytes_out)
    if context_columns is not None:
        cities = list(context_columns["prev_login_city"].to_numpy(dtype=object))
        evh, hpos = None, None
        rhythm = [
            _rhythm_text(m, c, int(k))
            for m, c, k in zip(
                context_columns["beacon_mean_s"].to_numpy(dtype=float),
                context_columns["beacon_cv"].to_numpy(dtype=float),
                context_columns["beacon_intervals"].to_numpy(),
                strict=True,
            )
        ]
    else:
        cities, evh, hpos = _history_context(history, X, est.min_travel_km)
        rhythm = None
    if context_columns is not None and "action" in context_columns.columns:
        seq = {k: context_columns[k].to_numpy() for k in ("action", "after_action", "after_run")}
    elif evh is not None:
        seq = sequence_context_at(est, evh, hpos)
    else:
        # Without the history, the events' own sequence (each entity's rows of X).
        rank = np.arange(len(ev)) if ev.order is None else np.argsort(ev.order, kind="stable")
        seq = sequence_context_at(est, ev, rank)

    # The lstm detector's featuriser: its own columns explain its score first.
    lstm = None
    if has_lstm(est) and all(c in features.columns for c in LSTM_FEATURES):
        lstm = features[list(LSTM_FEATURES)].to_numpy(dtype=np.float64)
    out: list[list[FeatureSentence]] = []
    for i in range(len(X)):
        order = np.argsort(-dev[i], kind="stable")
        chosen, families = [], set()
        for j in order:
            family = _FAMILY.get(_NAMES[j], _NAMES[j])
            if len(chosen) == top or dev[i, j] <= 0:
                break
            if family not in families:
                chosen.append(j)
                families.add(family)
        sentences = []
        for j in chosen:
            name, v = _NAMES[j], float(values[i, j])
            dept = peers.departments[group[i]] if group[i] < peers.population else None
            # Event values are quoted (a sentence a value cannot end or forge).
            fields: dict[str, Any] = {
                "value": v,
                **entity_words(text["user"][i]),
                "country": quote(text["src_country"][i]),
                "device": quote(text["device_id"][i]),
                "src_ip": quote(text["src_ip"][i]),
                "dst_host": quote(text["dst_host"][i]),
                "hour": int(hour[i]),
                "weekday": _WEEKDAYS[int(weekday[i])],
                "odds": 10.0 ** min(v, 300.0),
                "dept": dept or "population",
                "users": int(dst_users[i]),
                "peers": f"{int(group_size[i]):,} {dept + ' ' if dept else ''}users",
                "where": f"{quote(cities[i])}, " if cities[i] else "",
                "ago": format_duration(float(values[i, _NAMES.index("hours_since_prev_login")])),
                "rhythm": "",
                "s": "" if v == 1 else "s",
                "es": "" if v == 1 else "es",
            }
            r = int(row[i])
            if name in ("bytes_in_z", "bytes_out_z", "dept_bytes_out_z"):
                raw = bytes_in[i] if name == "bytes_in_z" else bytes_out[i]
                loc = (
                    peers.bytes_out_loc[group[i]]
                    if name == "dept_bytes_out_z"
                    else tables[f"{name[:-2]}_loc"][r]
                )
                fields["ratio"] = _ratio(float(np.exp(np.log1p(raw) - loc)))
                fields["amount"] = format_bytes(float(raw))
            elif name == "bytes_out_24h_ratio":
                median = float(tables["out24_median"][r])
                fields["ratio"] = _ratio(10.0**v)
                fields["amount"] = format_bytes(10.0 ** (v + np.log10(median + 1.0)) - 1.0)
            elif name == "new_dst_bytes_out_24h":
                fields["amount"] = format_bytes(10.0**v - 1.0)
            elif name == "daily_dst_hosts_ratio":
                usual = float(tables["daily_dst_usual"][r])
                fields["usual"] = usual
                fields["count"] = round(v * max(usual, 1.0))
            elif name in ("action_surprise", "window_surprise"):
                fields.update(_sequence_words(seq, i, v))
            elif name == "beacon_regularity" and rhythm is not None:
                fields["rhythm"] = rhythm[i]
            elif name == "beacon_regularity" and evh is not None:
                fields["rhythm"] = _rhythm(
                    evh, int(hpos[i]), text["user"][i], text["dst_host"][i], est.beacon_intervals
                )
            sentence = FEATURES[name].template.format(**fields)
            sentences.append(FeatureSentence(name, v, float(dev[i, j]), sentence))
        if lstm is not None:
            sentences = [_lstm_sentence(seq, i, *lstm[i]), *sentences][:top]
        out.append(sentences)
    return out


def _lstm_sentence(seq: dict[str, np.ndarray], i: int, bits: float, rank: float) -> FeatureSentence:
    """What the next-action LSTM made of the event's action (its rank among its guesses)."""
    words = _sequence_words(seq, i, bits)
    text = (
        f"{words['action']} after {words['after']}: the next-action LSTM ranked it "
        f"{int(rank)} of {len(ACTIONS)} (1 in {words['odds']:,.0f} by its estimate)"
    )
    return FeatureSentence(LSTM_FEATURES[0], float(bits), float(bits), text)
