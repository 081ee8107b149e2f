"""The feature catalog: every feature's name, unit, meaning and sentence, in output order.

Every feature is oriented so that a larger value is more suspicious; the
explanation of an event ranks features by how far into the upper tail of
their own training distribution the event's values lie (see
:mod:`soc_anomaly.features.deviation`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CONTEXT_FEATURES",
    "FAMILIES",
    "FEATURES",
    "FLAG_FEATURES",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "SEQUENCE_FEATURES",
    "FeatureInfo",
    "FeatureSentence",
]

#: Raw event columns :meth:`EntityFeatures.fit` and ``transform`` read. ``time`` may be
#: a datetime column (any unit, with or without a time zone, taken as UTC) or integer
#: epoch milliseconds; text columns may be categoricals or plain strings. ``src_city``
#: is optional: :meth:`EntityFeatures.explain` names the previous login's city with it.
#: ``user`` may be null on a network event: its baselines are then its source endpoint's,
#: ``src_host`` or else ``src_ip`` (:mod:`soc_anomaly.features.entity_keys`); ``src_host``
#: is read for that alone, and may be absent (unknown).
REQUIRED_COLUMNS: tuple[str, ...] = (
    "time",
    "timezone_offset",
    "class_uid",
    "user",
    "src_host",
    "src_ip",
    "src_country",
    "src_lat",
    "src_lon",
    "device_id",
    "dst_host",
    "status",
    "status_detail",
    "bytes_in",
    "bytes_out",
    "direction",
)


@dataclass(frozen=True)
class FeatureInfo:
    """One feature of :class:`~soc_anomaly.features.EntityFeatures`.

    Attributes
    ----------
    name : str
        Column name in the transform output.
    unit : str
        Unit of the value, e.g. ``"km/h"``, ``"count"``, ``"robust z"``, ``"0/1"``.
    description : str
        One line, for documentation and tables.
    template : str
        The sentence an explanation fills in (``str.format`` fields named in braces;
        :mod:`soc_anomaly.features.explain` supplies them).
    """

    name: str
    unit: str
    description: str
    template: str


@dataclass(frozen=True)
class FeatureSentence:
    """One reason an event stands out, as :meth:`EntityFeatures.explain` gives it.

    Attributes
    ----------
    feature : str
        Feature name (a key of :data:`FEATURES`).
    value : float
        The event's value of the feature.
    deviation : float
        How unusual the value is, >= 0 (the ordering key; see
        :mod:`soc_anomaly.features.deviation`).
    text : str
        The filled-in template, e.g. ``"2,340 km/h from the previous login (London, 25 min
        earlier)"``.
    """

    feature: str
    value: float
    deviation: float
    text: str


def _f(name: str, unit: str, description: str, template: str) -> FeatureInfo:
    return FeatureInfo(name, unit, description, template)


_CATALOG: tuple[FeatureInfo, ...] = (
    # --- against the user's own training history -------------------------------------
    _f(
        "hour_rarity",
        "-log10 p",
        "rarity of the event's local hour among the user's training events (smoothed)",
        "active at {hour:02d}:00 local time, an hour with 1 in {odds:,.0f} of {whose} events",
    ),
    _f(
        "weekday_rarity",
        "-log10 p",
        "rarity of the event's local weekday among the user's training events (smoothed)",
        "active on a {weekday}, a day with 1 in {odds:,.0f} of {whose} events",
    ),
    _f(
        "new_country",
        "0/1",
        "logon from a country the user never logged on from in training",
        "first logon from {country} for {who}",
    ),
    _f(
        "new_device",
        "0/1",
        "device the user never used in training",
        "first event from this device ({device}) for {who}",
    ),
    _f(
        "new_src_ip",
        "0/1",
        "source address the user never used in training",
        "first event from {src_ip} for {who}",
    ),
    _f(
        "new_dst_host",
        "0/1",
        "destination the user never logged on to or connected to in training",
        "first contact with {dst_host} for {who}",
    ),
    _f(
        "new_user",
        "0/1",
        "account with no event in training (its baselines are the population's)",
        "{entity} has no history in the training window",
    ),
    _f(
        "bytes_in_z",
        "robust z",
        "log bytes received against the user's median and MAD (connections; 0 for logons)",
        "{ratio}x {whose} median bytes received per connection ({amount})",
    ),
    _f(
        "bytes_out_z",
        "robust z",
        "log bytes sent against the user's median and MAD (connections; 0 for logons)",
        "{ratio}x {whose} median bytes sent per connection ({amount})",
    ),
    _f(
        "daily_dst_hosts_ratio",
        "x usual",
        "distinct destinations of the user so far on this local day, over the user's "
        "median per active day",
        "{count:,} distinct destinations so far today, {value:,.1f}x {whose} usual "
        "{usual:,.0f} a day",
    ),
    # --- travel -------------------------------------------------------------------------
    _f(
        "travel_speed_kmh",
        "km/h",
        "great-circle speed from the user's previous logon with a location "
        "(0 under the minimum distance)",
        "{value:,.0f} km/h from the previous login ({where}{ago} earlier)",
    ),
    _f(
        "new_place_speed_kmh",
        "km/h",
        "travel_speed_kmh when the logon is over the minimum distance from every place "
        "the user logged on from in training (else 0)",
        "{value:,.0f} km/h from the previous login ({where}{ago} earlier) to a place {who} "
        "never logged on from",
    ),
    _f(
        "hours_since_prev_login",
        "h",
        "hours since the user's previous logon with a location (0 when there is none)",
        "{value:,.1f} h since the previous login",
    ),
    # --- causal sliding windows -----------------------------------------------------------
    _f(
        "user_failures_10m",
        "count",
        "failed logons of the user in the last 10 minutes",
        "{value:,.0f} failed logon{s} for {who} in the last 10 minutes",
    ),
    _f(
        "user_failures_1h",
        "count",
        "failed logons of the user in the last hour",
        "{value:,.0f} failed logon{s} for {who} in the last hour",
    ),
    _f(
        "user_failures_24h",
        "count",
        "failed logons of the user in the last 24 hours (a slow guessing run hides in hours)",
        "{value:,.0f} failed logon{s} for {who} in the last 24 hours",
    ),
    _f(
        "ip_failures_10m",
        "count",
        "failed logons from the source address in the last 10 minutes",
        "{value:,.0f} failed logon{s} from {src_ip} in the last 10 minutes",
    ),
    _f(
        "ip_failures_1h",
        "count",
        "failed logons from the source address in the last hour",
        "{value:,.0f} failed logon{s} from {src_ip} in the last hour",
    ),
    _f(
        "ip_failed_users_1h",
        "count",
        "distinct accounts with a failed logon from the source address in the last hour",
        "{value:,.0f} user{s} tried from {src_ip} and failed in the last hour",
    ),
    _f(
        "ip_failed_users_24h",
        "count",
        "distinct accounts with a failed logon from the source address in the last 24 hours",
        "{value:,.0f} user{s} tried from {src_ip} and failed in the last 24 hours",
    ),
    _f(
        "user_mfa_denials_1h",
        "count",
        "MFA pushes denied or timed out for the user in the last hour",
        "{value:,.0f} MFA push{es} denied or unanswered for {who} in the last hour",
    ),
    _f(
        "user_mfa_denials_24h",
        "count",
        "MFA pushes denied or timed out for the user in the last 24 hours",
        "{value:,.0f} MFA push{es} denied or unanswered for {who} in the last 24 hours",
    ),
    _f(
        "bytes_out_24h_ratio",
        "log10 ratio",
        "log10 of the user's outbound bytes over the last 24 hours over the user's "
        "training median of the same sum",
        "{ratio}x {whose} usual outbound bytes over 24 hours ({amount} sent)",
    ),
    _f(
        "new_dst_hosts_24h",
        "count",
        "distinct destinations new to the user (never contacted in training) in the last 24 hours",
        "{value:,.0f} destination{s} {who} never contacted before, in the last 24 hours",
    ),
    _f(
        "new_dst_bytes_out_24h",
        "log10 bytes",
        "log10 of 1 + the user's outbound bytes to destinations new to the user over the "
        "last 24 hours",
        "{amount} sent in the last 24 hours to destinations {who} never used before",
    ),
    _f(
        "beacon_regularity",
        "intervals / CV",
        "intervals among the last connections of the user to the destination over their "
        "coefficient of variation (0 under the minimum count)",
        "connections to {dst_host} at near-constant intervals{rhythm}",
    ),
    # --- against peers --------------------------------------------------------------------
    _f(
        "dept_dst_rarity",
        "-log10 p",
        "rarity of the destination among the users of the user's department in training",
        "{dst_host} is contacted by {users} of the {peers} in training",
    ),
    _f(
        "dept_bytes_out_z",
        "robust z",
        "log bytes sent against the department's median and MAD (connections; 0 for logons)",
        "{ratio}x the {dept} median bytes sent per connection ({amount})",
    ),
    # --- against the entity's own sequence of actions (soc_anomaly.sequences) ---------------
    _f(
        "action_surprise",
        "bits",
        "-log2 of the probability of the event's action given the entity's last three "
        "actions (per-entity n-gram with back-off to the population)",
        "{action} right after {after}: a 1 in {odds:,.0f} step for {who}",
    ),
    _f(
        "window_surprise",
        "bits",
        "the action surprises of the entity's last three actions, summed (-log2 of the "
        "window's probability)",
        "{action} after {after}: a 1 in {odds:,.0f} run of three actions for {who}",
    ),
)

#: Every feature, in output column order.
FEATURES: dict[str, FeatureInfo] = {info.name: info for info in _CATALOG}

#: 0/1 features; a set flag deviates by a fixed amount (see ``deviation``).
FLAG_FEATURES: frozenset[str] = frozenset(n for n, i in FEATURES.items() if i.unit == "0/1")

#: Features that only give context to another one and are never a reason alone.
CONTEXT_FEATURES: frozenset[str] = frozenset({"hours_since_prev_login"})

#: Features that say the same thing over different windows or baselines: an
#: explanation keeps only the most deviant of each family.
FAMILIES: tuple[tuple[str, ...], ...] = (
    ("travel_speed_kmh", "new_place_speed_kmh"),
    ("user_failures_10m", "user_failures_1h", "user_failures_24h"),
    ("user_mfa_denials_1h", "user_mfa_denials_24h"),
    ("new_dst_host", "new_dst_hosts_24h"),
    ("ip_failures_10m", "ip_failures_1h"),
    ("ip_failed_users_1h", "ip_failed_users_24h"),
    ("bytes_out_z", "dept_bytes_out_z"),
    ("action_surprise", "window_surprise"),
)

#: Features the sequence model gives (:mod:`soc_anomaly.features.sequence_features`).
SEQUENCE_FEATURES: tuple[str, ...] = ("action_surprise", "window_surprise")

#: Raw event columns read when present: ``src_city`` names the previous logon's city in
#: explanations; ``logon_type`` and ``is_mfa`` refine a logon's action.
OPTIONAL_COLUMNS: tuple[str, ...] = ("src_city", "logon_type", "is_mfa")
