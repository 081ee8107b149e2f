"""What an attack scenario is, and the context its injector works in.

An :class:`AttackScenario` keeps an attack's metadata (its ATT&CK techniques,
step by step, what it looks like and which signal reveals it) together with
its injector. The injector receives a :class:`CampaignSpec` (who, when, how
loud, its own random stream) and an :class:`AttackContext` (the organisation,
the calendar, what each user normally does, the normal range of every raw
field) and returns the campaign's events with their ``step`` set. The world
fills in ``label``, ``campaign_id``, ``attack_type`` and ``mitre_technique``
from the step, so an injector cannot mislabel its events.

Intensities
-----------
``blatant``
    Seed-like extremes: one event alone is far outside anything normal.
``moderate``
    Clearly unusual for the population, but not absurd.
``subtle``
    Every raw numeric field of every event (see
    :data:`~soc_anomaly.scenarios.enterprise.schema.SUBTLE_FIELDS`) lies within
    the 1st-99th percentile of the normal events of its class; the campaign is
    unusual only against the victim's own history, its peers, or a window of
    related events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from soc_anomaly.scenarios.enterprise.entities import Organisation
from soc_anomaly.scenarios.enterprise.normal import HOUR_MS, Calendar
from soc_anomaly.scenarios.enterprise.places import (
    ATTACKER_CITIES,
    CITIES,
    CITY_LAT,
    CITY_LON,
    random_public_ips,
)
from soc_anomaly.scenarios.enterprise.schema import (
    AUTH_CLASS_UID,
    NETWORK_CLASS_UID,
    EventBatch,
    Vocabulary,
)

__all__ = [
    "ATTACK_VERSION",
    "INTENSITIES",
    "AttackContext",
    "AttackScenario",
    "CampaignSpec",
    "Technique",
    "UserHistory",
]

#: The MITRE ATT&CK Enterprise release whose technique ids and names the scenarios use.
ATTACK_VERSION = "16.1"
#: Intensities a campaign can have; ``mixed`` (the default) cycles through them.
INTENSITIES: tuple[str, ...] = ("blatant", "moderate", "subtle")


@dataclass(frozen=True)
class Technique:
    """A MITRE ATT&CK technique.

    Attributes
    ----------
    id : str
        Technique or sub-technique id, e.g. ``"T1110.003"``.
    name : str
        Its name in ATT&CK.
    tactic : str
        The tactic it serves in this scenario.
    """

    id: str
    name: str
    tactic: str


@dataclass(frozen=True)
class CampaignSpec:
    """One campaign the world asks an injector to produce.

    Attributes
    ----------
    campaign_id : str
        E.g. ``"C007"``.
    scenario : str
        Scenario name.
    intensity : str
        One of :data:`INTENSITIES`.
    start_ms : int
        When the campaign starts (UTC ms).
    end_ms : int
        The latest moment its events may have: ``AttackScenario.span_days``
        after the start, or the end of the calendar if that comes first.
        Events outside the calendar are dropped.
    victim : int
        Position of the primary victim in ``org.users``.
    rng : numpy.random.Generator
        The campaign's own stream, so campaigns do not shift one another.
    """

    campaign_id: str
    scenario: str
    intensity: str
    start_ms: int
    end_ms: int
    victim: int
    rng: np.random.Generator


class UserHistory:
    """What each user did before the attacks: logons and connections, by user and time.

    Built from the normal and benign events; injectors use it to make attack
    events that look like, or deliberately unlike, the victim's own habits.
    """

    def __init__(self, events: EventBatch) -> None:
        auth = (events["class_uid"] == AUTH_CLASS_UID) & (events["status"] == 0)
        order = np.lexsort((events["time"][auth], events["user"][auth]))
        self._auth = {
            k: events[k][auth][order]
            for k in (
                "user",
                "time",
                "src_city",
                "src_ip",
                "src_lat",
                "src_lon",
                "device_id",
                "timezone_offset",
            )
        }
        net = events["class_uid"] == NETWORK_CLASS_UID
        order = np.lexsort((events["time"][net], events["user"][net]))
        self._net = {
            k: events[k][net][order]
            for k in ("user", "time", "dst_host", "dst_port", "bytes_out", "timezone_offset")
        }
        self._auth_bounds = np.searchsorted(self._auth["user"], np.arange(events["user"].max() + 2))
        self._net_bounds = np.searchsorted(self._net["user"], np.arange(events["user"].max() + 2))

    def logons(self, user: int) -> dict[str, np.ndarray]:
        """The user's successful logons in time order (columns as in the event table)."""
        lo, hi = self._auth_bounds[user], self._auth_bounds[user + 1]
        return {k: v[lo:hi] for k, v in self._auth.items()}

    def connections(self, user: int) -> dict[str, np.ndarray]:
        """The user's network connections in time order."""
        lo, hi = self._net_bounds[user], self._net_bounds[user + 1]
        return {k: v[lo:hi] for k, v in self._net.items()}

    def local_hours(self, user: int) -> np.ndarray:
        """Local hour of day of each of the user's logons and connections."""
        parts = []
        for d in (self.logons(user), self.connections(user)):
            local = d["time"] + d["timezone_offset"].astype(np.int64) * 60_000
            parts.append((local // HOUR_MS) % 24)
        return np.concatenate(parts)


@dataclass
class AttackContext:
    """Everything an injector may read, and the vocabularies it may extend.

    Attributes
    ----------
    org : Organisation
        Users, devices, servers and external sites.
    cal : Calendar
        The simulated period.
    vocab : dict of str to Vocabulary
        The world's vocabularies (new strings such as attacker addresses are added here).
    history : UserHistory
        Normal behaviour per user.
    bounds : mapping of (int, str) to (float, float)
        The 1st and 99th percentile of each raw field over the normal events of
        a class, keyed by ``(class_uid, field)`` (fields of
        :data:`~soc_anomaly.scenarios.enterprise.schema.SUBTLE_FIELDS`).
    """

    org: Organisation
    cal: Calendar
    vocab: dict[str, Vocabulary]
    history: UserHistory
    bounds: Mapping[tuple[int, str], tuple[float, float]]

    # -- helpers shared by the injectors ---------------------------------------------

    def user_row(self, user: int) -> pd.Series:
        """The victim's row of ``org.users``."""
        return self.org.users.iloc[int(user)]

    def computer(self, user: int) -> pd.Series:
        """The user's first computer (laptop or desktop) from ``org.devices``."""
        dev = self.org.devices
        return dev[(dev["user"] == user) & (dev["kind"] != "phone")].iloc[0]

    def attacker_ips(
        self, n: int, rng: np.random.Generator, cities: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``n`` attacker addresses and the city (index into CITIES) of each.

        By default from :data:`ATTACKER_CITIES` (hosting ranges abroad); pass
        ``cities`` to place them elsewhere (a subtle attacker uses a proxy in
        the victim's own country).
        """
        pool = ATTACKER_CITIES if cities is None else np.asarray(cities)
        city = pool[rng.integers(0, len(pool), n)]
        return random_public_ips(city, rng), city

    def local_time(self, user: int, day_ms: int, local_hour: np.ndarray) -> np.ndarray:
        """UTC ms of ``local_hour`` (float hours) on the local day containing ``day_ms``."""
        tz = int(self.user_row(user)["tz_offset_min"])
        local_midnight = ((day_ms + tz * 60_000) // (24 * HOUR_MS)) * 24 * HOUR_MS - tz * 60_000
        return local_midnight + (np.asarray(local_hour, float) * HOUR_MS).astype(np.int64)

    def within(self, class_uid: int, field: str, values: np.ndarray) -> np.ndarray:
        """``values`` clipped into the normal 1st-99th percentile range of ``field``."""
        lo, hi = self.bounds[(class_uid, field)]
        return np.clip(values, lo, hi)

    def auth(
        self,
        user: int | np.ndarray,
        time_ms: np.ndarray,
        *,
        step: int | np.ndarray,
        city: np.ndarray | int,
        src_ip: np.ndarray | str,
        **columns: object,
    ) -> EventBatch:
        """Authentication events against ``user`` from ``src_ip`` in ``city``.

        Fills the location columns from the city table, the user's time zone,
        and defaults a logon to the identity provider over the network; any
        column can be overridden through ``columns``.
        """
        n = len(time_ms)
        users = np.broadcast_to(np.asarray(user), (n,)).astype(np.int64)
        city = np.broadcast_to(np.asarray(city), (n,)).astype(np.int64)
        values: dict[str, object] = {
            "time": np.asarray(time_ms, np.int64),
            "timezone_offset": self.org.users["tz_offset_min"].to_numpy()[users],
            "class_uid": AUTH_CLASS_UID,
            "user": users,
            "src_ip": src_ip,
            "src_city": np.array([CITIES[c].name for c in city]),
            "src_country": np.array([CITIES[c].country for c in city]),
            "src_lat": CITY_LAT[city],
            "src_lon": CITY_LON[city],
            "dst_host": "sso.corp.example",
            "dst_ip": self._server_ip("sso.corp.example"),
            "dst_port": 443,
            "logon_type": "Network",
            "is_mfa": 0,
            "status": "Success",
            "step": step,
        }
        values.update(columns)
        return EventBatch.build(n, self.vocab, **values)

    def net(
        self,
        user: int,
        time_ms: np.ndarray,
        *,
        step: int | np.ndarray,
        dst_host: np.ndarray | str,
        dst_ip: np.ndarray | str,
        dst_port: np.ndarray | int,
        bytes_out: np.ndarray,
        bytes_in: np.ndarray,
        outbound: bool | np.ndarray,
        **columns: object,
    ) -> EventBatch:
        """Connections from the user's computer; packets and duration follow from bytes
        unless given."""
        n = len(time_ms)
        comp = self.computer(user)
        bytes_out = np.asarray(bytes_out, np.int64)
        bytes_in = np.asarray(bytes_in, np.int64)
        outbound = np.broadcast_to(np.asarray(outbound), (n,))
        values: dict[str, object] = {
            "time": np.asarray(time_ms, np.int64),
            "timezone_offset": int(self.user_row(user)["tz_offset_min"]),
            "class_uid": NETWORK_CLASS_UID,
            "user": int(user),
            "src_ip": comp["ip"],
            "src_host": comp["hostname"],
            "device_id": comp["device_id"],
            "dst_host": dst_host,
            "dst_ip": dst_ip,
            "dst_port": dst_port,
            "status": "Success",
            "bytes_out": bytes_out,
            "bytes_in": bytes_in,
            "packets": (bytes_in + bytes_out) // 1300 + 6,
            "duration_ms": np.maximum(50, (bytes_in + bytes_out) // 200),
            "direction": np.where(outbound, "Outbound", "Lateral"),
            "step": step,
        }
        values.update(columns)
        return EventBatch.build(n, self.vocab, **values)

    def _server_ip(self, host: str) -> str:
        servers = self.org.servers
        return str(servers.loc[servers["host"] == host, "ip"].iloc[0])


Injector = Callable[[CampaignSpec, AttackContext], EventBatch]


@dataclass(frozen=True)
class AttackScenario:
    """One attack scenario: its ATT&CK metadata and its injector, in one place.

    Attributes
    ----------
    name : str
        Value of the ``attack_type`` column.
    title : str
        Short human name.
    techniques : tuple of Technique
        The technique of each step: step ``i`` (1-based) is ``techniques[i - 1]``.
    description : str
        What the campaign's events look like.
    signal : str
        Which signal should reveal it.
    span_days : mapping of str to float
        How long a campaign lasts at each intensity, in days (for scheduling).
    max_events : mapping of str to int
        An upper bound of its events at each intensity (for the room check).
    inject : callable
        ``inject(spec, ctx) -> EventBatch`` with ``step`` set on every event.
    """

    name: str
    title: str
    techniques: tuple[Technique, ...]
    description: str
    signal: str
    span_days: Mapping[str, float]
    max_events: Mapping[str, int]
    inject: Injector
