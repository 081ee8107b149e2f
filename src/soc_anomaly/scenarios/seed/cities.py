"""The seed scenario's map: office cities, where users live, and session sources."""

from __future__ import annotations

import numpy as np

__all__ = [
    "CITIES",
    "CITY_COUNTRY",
    "CITY_COUNTRY_CODE",
    "CITY_LAT",
    "CITY_LON",
    "COUNTRIES",
    "N_OFFICES",
    "OFFICE_WEIGHTS",
]

# (city, ISO country code, latitude, longitude). The first block are the
# organisation's offices, where users live; the whole list is where sessions
# can come from.
CITIES: tuple[tuple[str, str, float, float], ...] = (
    ("New York", "US", 40.7128, -74.0060),
    ("London", "GB", 51.5074, -0.1278),
    ("Frankfurt", "DE", 50.1109, 8.6821),
    ("Singapore", "SG", 1.3521, 103.8198),
    ("Toronto", "CA", 43.6532, -79.3832),
    ("Sydney", "AU", -33.8688, 151.2093),
    ("Sao Paulo", "BR", -23.5505, -46.6333),
    ("Lagos", "NG", 6.5244, 3.3792),
    ("Moscow", "RU", 55.7558, 37.6173),
    ("Beijing", "CN", 39.9042, 116.4074),
    ("Mumbai", "IN", 19.0760, 72.8777),
    ("Tokyo", "JP", 35.6762, 139.6503),
    ("Johannesburg", "ZA", -26.2041, 28.0473),
    ("Mexico City", "MX", 19.4326, -99.1332),
    ("Dubai", "AE", 25.2048, 55.2708),
    ("Seoul", "KR", 37.5665, 126.9780),
    ("Buenos Aires", "AR", -34.6037, -58.3816),
    ("Cairo", "EG", 30.0444, 31.2357),
    ("Jakarta", "ID", -6.2088, 106.8456),
    ("Istanbul", "TR", 41.0082, 28.9784),
)
#: The first ``N_OFFICES`` cities are offices, staffed in these shares.
N_OFFICES = 6
OFFICE_WEIGHTS = np.array([0.30, 0.22, 0.16, 0.12, 0.12, 0.08])
CITY_COUNTRY = np.array([c[1] for c in CITIES])
#: Country codes sessions can come from; events keep them as categorical codes.
COUNTRIES: tuple[str, ...] = tuple(sorted(set(CITY_COUNTRY)))
CITY_COUNTRY_CODE = np.searchsorted(COUNTRIES, CITY_COUNTRY).astype(np.int16)
CITY_LAT = np.array([c[2] for c in CITIES])
CITY_LON = np.array([c[3] for c in CITIES])
