"""Where events come from: cities with their time zones and ISP ranges, and the
company's VPN egress points.

Addresses use documentation ranges for the company's own egress and plausible
public prefixes per country for home ISPs, hotels and attackers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from soc_anomaly.scenarios.geo import haversine_km

__all__ = [
    "ATTACKER_CITIES",
    "CITIES",
    "CITY_KM",
    "CITY_LAT",
    "CITY_LON",
    "CITY_TZ",
    "N_OFFICES",
    "OFFICE_WEIGHTS",
    "TRAVEL_CITIES",
    "VPN_EGRESS",
    "City",
    "public_ips",
    "random_public_ips",
]


@dataclass(frozen=True)
class City:
    """A place events can come from.

    Attributes
    ----------
    name, country : str
        City name and ISO 3166 country code.
    lat, lon : float
        Coordinates in degrees.
    tz_offset_min : int
        Minutes east of UTC (standard time; the simulated weeks are in January).
    isp_prefixes : tuple of int
        First octets of consumer ISP addresses in that country.
    """

    name: str
    country: str
    lat: float
    lon: float
    tz_offset_min: int
    isp_prefixes: tuple[int, ...]


#: Offices first (users live and work there), then places people travel to and
#: attackers operate from.
CITIES: tuple[City, ...] = (
    City("New York", "US", 40.7128, -74.0060, -300, (24, 68, 73, 98)),
    City("London", "GB", 51.5074, -0.1278, 0, (81, 86, 90)),
    City("Frankfurt", "DE", 50.1109, 8.6821, 60, (84, 91, 93)),
    City("Singapore", "SG", 1.3521, 103.8198, 480, (116, 118, 175)),
    City("Toronto", "CA", 43.6532, -79.3832, -300, (99, 142, 174)),
    City("Bangalore", "IN", 12.9716, 77.5946, 330, (49, 106, 117)),
    City("Chicago", "US", 41.8781, -87.6298, -360, (24, 67, 76)),
    City("San Francisco", "US", 37.7749, -122.4194, -480, (67, 76, 108)),
    City("Paris", "FR", 48.8566, 2.3522, 60, (82, 90, 92)),
    City("Amsterdam", "NL", 52.3676, 4.9041, 60, (77, 83, 145)),
    City("Madrid", "ES", 40.4168, -3.7038, 60, (79, 83, 88)),
    City("Tokyo", "JP", 35.6762, 139.6503, 540, (110, 126, 153)),
    City("Sydney", "AU", -33.8688, 151.2093, 600, (101, 110, 124)),
    City("Sao Paulo", "BR", -23.5505, -46.6333, -180, (177, 179, 187)),
    City("Dubai", "AE", 25.2048, 55.2708, 240, (5, 94, 213)),
    City("Mumbai", "IN", 19.0760, 72.8777, 330, (49, 103, 117)),
    City("Lagos", "NG", 6.5244, 3.3792, 60, (41, 102, 105)),
    City("Moscow", "RU", 55.7558, 37.6173, 180, (5, 31, 95)),
    City("Kyiv", "UA", 50.4501, 30.5234, 120, (31, 46, 176)),
    City("Bucharest", "RO", 44.4268, 26.1025, 120, (5, 79, 86)),
    City("Hanoi", "VN", 21.0278, 105.8342, 420, (14, 27, 113)),
    City("Beijing", "CN", 39.9042, 116.4074, 480, (36, 58, 111)),
)
#: How many of :data:`CITIES` are offices, and the share of staff at each.
N_OFFICES = 6
OFFICE_WEIGHTS = np.array([0.30, 0.22, 0.16, 0.12, 0.10, 0.10])
#: Cities an attacker typically operates from (indices into CITIES).
ATTACKER_CITIES = np.array([16, 17, 18, 19, 20, 21])
#: Cities staff travel to on business.
TRAVEL_CITIES = np.arange(0, 16)
CITY_LAT = np.array([c.lat for c in CITIES])
CITY_LON = np.array([c.lon for c in CITIES])
CITY_TZ = np.array([c.tz_offset_min for c in CITIES], dtype=np.int64)
#: Great-circle km between every pair of cities.
CITY_KM = haversine_km(CITY_LAT[:, None], CITY_LON[:, None], CITY_LAT[None, :], CITY_LON[None, :])

#: Corporate VPN egress points: (city index, address).
VPN_EGRESS: tuple[tuple[int, str], ...] = (
    (0, "198.51.100.10"),
    (1, "198.51.100.20"),
    (2, "198.51.100.30"),
    (3, "198.51.100.40"),
    (11, "198.51.100.50"),
    (9, "198.51.100.60"),
)


def public_ips(first: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random addresses whose first octets are ``first`` (last octet never 0 or 255)."""
    rest = rng.integers(0, 256, (len(first), 3))
    rest[:, 2] = np.clip(rest[:, 2], 1, 254)
    return np.array([f"{a}.{b}.{c}.{d}" for a, (b, c, d) in zip(first, rest, strict=True)])


def random_public_ips(city: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Consumer-ISP-looking addresses in the countries of ``city`` (indices)."""
    city = np.asarray(city)
    pick = rng.integers(0, 1 << 30, len(city))
    first = np.array(
        [
            CITIES[c].isp_prefixes[p % len(CITIES[c].isp_prefixes)]
            for c, p in zip(city, pick, strict=True)
        ],
        dtype=np.int64,
    )
    return public_ips(first, rng)
